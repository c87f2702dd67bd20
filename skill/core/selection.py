"""Choosing a routine from what the user asked for: a name, a body area, equipment, a length."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import msgspec

from skill.core.routines import Area, Equipment, Library, Routine

LENGTH_SLACK = 1.15
"""A routine counts as fitting a requested length when it is at most this much longer."""


def duration_seconds(text: str | None) -> float | None:
    """Seconds in an ISO-8601 duration (PT5M, PT1H30M, P1W); None if absent, unreadable, not positive or in months."""
    if not text:
        return None
    import isodate  # here, not at the top: importing it costs a cold start about 9 ms

    try:
        duration = isodate.parse_duration(text.strip().upper())
    except (ValueError, ArithmeticError):  # ISO8601Error is a ValueError; OverflowError past timedelta
        return None
    if not isinstance(duration, timedelta):  # an isodate.Duration: months or years, of no fixed length
        return None
    total = duration.total_seconds()
    return total if total > 0 else None


class Request(msgspec.Struct, frozen=True):
    """What the user asked for; any field may be missing."""

    routine: str | None = None
    area: Area | None = None
    equipment: Equipment | None = None
    seconds: float | None = None

    @property
    def empty(self) -> bool:
        """Nothing usable was asked for."""
        return not (self.routine or self.area or self.equipment or self.seconds)


class Choice(msgspec.Struct, frozen=True):
    """The routine to start (with an optional time budget), or the candidates to ask about."""

    routine: Routine | None
    candidates: tuple[Routine, ...]
    budget: float | None = None


def _matches_area(routine: Routine, area: Area) -> bool:
    return area in routine.areas or (area is Area.FULL_BODY and len(routine.areas) >= 3)


def _matches_equipment(routine: Routine, equipment: Equipment) -> bool:
    if equipment is Equipment.NONE:
        return routine.equipment == (Equipment.NONE,)
    return equipment in routine.equipment


def choose(library: Library, request: Request, length: Callable[[Routine], float]) -> Choice:
    """Pick the routine that fits every criterion, or list the candidates when several or none fit.

    `length` gives a routine's planned seconds. A requested length that no routine meets
    as written is met by fitting the closest one to a time budget.
    """
    if request.routine:
        routine = library.get(request.routine)
        if routine is not None:
            return Choice(routine, (routine,), _budget(routine, request.seconds, length))
    candidates = [
        r
        for r in library
        if (request.area is None or _matches_area(r, request.area))
        and (request.equipment is None or _matches_equipment(r, request.equipment))
    ]
    if request.seconds and candidates:
        # A length makes the request decisive: the closest routine that fits, else the
        # shortest one fitted to the budget.
        within = [r for r in candidates if length(r) <= request.seconds * LENGTH_SLACK]
        if within:
            best = min(within, key=lambda r: abs(request.seconds - length(r)))
            return Choice(best, tuple(within), None)
        best = min(candidates, key=length)
        return Choice(best, (best,), request.seconds)
    if len(candidates) == 1:
        return Choice(candidates[0], tuple(candidates))
    return Choice(None, tuple(candidates))


def _budget(routine: Routine, seconds: float | None, length: Callable[[Routine], float]) -> float | None:
    if seconds is None or length(routine) <= seconds * LENGTH_SLACK:
        return None
    return seconds
