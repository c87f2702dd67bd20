"""What the command-line modules share: the routine library, finding a routine by id, the locale option."""

from __future__ import annotations

import sys

from skill.core.routines import Library, Routine, RoutineError, load_library

LOCALE_HELP = "en-US (default), en-GB, en-CA, en-AU or en-IN"


def library() -> Library:
    """The routine library, or exit with what is wrong with its data."""
    try:
        return load_library()
    except RoutineError as exc:
        sys.exit(f"backcoach: the routine data is broken:\n{exc}")


def find_routine(routine_id: str) -> Routine | None:
    """The routine with this id, or None after telling the user which ids exist."""
    routines = library()
    routine = routines.get(routine_id)
    if routine is None:
        print(f"backcoach: no routine '{routine_id}'. Known: {', '.join(r.id for r in routines)}", file=sys.stderr)
    return routine
