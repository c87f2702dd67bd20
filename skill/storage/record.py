"""The per-user memory record: what Back Coach remembers between sessions.

The record is deliberately small and holds *no health data*: no pain scores, no body areas,
no symptoms, no free text. Unknown fields are rejected (``forbid_unknown_fields``), so nothing
can be smuggled in by a handler that sets a new key. What it holds:

* ``resume``      – where an interrupted routine stopped (routine id, step, phase, seconds done);
* ``pace``        – speech/timing pace multiplier, within ``settings.PACE_MIN .. PACE_MAX``;
* ``verbosity``   – a ``settings.Verbosity``: "full", "short" or "quiet" coaching;
* ``favourites``  – up to 20 routine ids, unique, oldest first;
* ``last_routine``– the routine played most recently;
* ``sessions``    – start times (epoch seconds, the requests' own) of recent sessions: the 60 days up to the
  newest, at most 200;
* ``disclaimer_heard`` – whether the one-time safety disclaimer has been played;
* ``chimes``      – whether narration plays chimes at begin, switch sides and release (v3);
* ``speech_rate`` – how fast the coach talks, within ``settings.SPEECH_RATE_MIN .. SPEECH_RATE_MAX``
  of normal, separate from pace (v3);
* ``safety_heard``– up to 50 routine ids whose full safety notes the user has heard, so a returning
  user hears the one-line reminder instead (v3);
* ``revision``    – optimistic concurrency counter owned by the store (0 = never stored).

Stored bodies carry a version ``v``; reading older ones is ``migration``'s job, and the errors
stores raise are in ``errors``.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import msgspec
from msgspec import Meta, ValidationError

from skill.core.schema import SLUG_PATTERN
from skill.core.settings import PACE_MAX, PACE_MIN, SPEECH_RATE_MAX, SPEECH_RATE_MIN, Verbosity

CURRENT_VERSION = 3
MAX_SAFETY_HEARD = 50
MAX_FAVOURITES = 20
MAX_SESSIONS = 200
SESSION_WINDOW_DAYS = 60
SESSION_WINDOW_SECONDS = SESSION_WINDOW_DAYS * 86400.0

# Same shape as the routine ids in data/routines, bounded in length so that no field can carry
# free text.
RoutineId = Annotated[str, Meta(pattern=SLUG_PATTERN, min_length=1, max_length=64)]
# msgspec accepts inf and nan floats: a ge bound rejects nan, this le bound rejects inf.
FINITE_MAX = sys.float_info.max
Seconds = Annotated[float, Meta(ge=0, le=FINITE_MAX)]


class Resume(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Where an interrupted routine stopped."""

    routine_id: RoutineId
    step_index: Annotated[int, Meta(ge=0, le=999)]
    phase_index: Annotated[int, Meta(ge=0, le=999)] = 0
    elapsed_seconds: Annotated[float, Meta(ge=0, le=86400)] = 0.0
    saved_at: Seconds
    handsfree: bool = False
    """The routine ran hands-free: picking it up keeps the mode."""


def _unique(value: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        return value
    seen: set[Any] = set()
    out = []
    for item in value:
        key = item if isinstance(item, str) else id(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


class MemoryRecord(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One user's memory. Mutate freely inside ``Store.update`` change functions; the store
    re-validates the whole record before writing it."""

    v: int = CURRENT_VERSION
    resume: Resume | None = None
    pace: Annotated[float, Meta(ge=PACE_MIN, le=PACE_MAX)] = 1.0
    verbosity: Verbosity = Verbosity.FULL
    favourites: list[RoutineId] = msgspec.field(default_factory=list)
    last_routine: RoutineId | None = None
    sessions: list[Seconds] = msgspec.field(default_factory=list)
    disclaimer_heard: bool = False
    chimes: bool = True
    speech_rate: Annotated[float, Meta(ge=SPEECH_RATE_MIN, le=SPEECH_RATE_MAX)] = 1.0
    safety_heard: list[RoutineId] = msgspec.field(default_factory=list)
    checked_in: Seconds | None = None
    """When the coach last asked how a routine felt: it asks at most once a day."""
    revision: Annotated[int, Meta(ge=0)] = 0

    def __post_init__(self) -> None:
        if self.v != CURRENT_VERSION:
            raise ValueError(f"v must be {CURRENT_VERSION}; older bodies go through migrate()")
        # the limit applies after de-duplication, so no Meta(max_length) on the field
        self.favourites = _unique(self.favourites)
        if len(self.favourites) > MAX_FAVOURITES:
            raise ValueError(f"favourites holds at most {MAX_FAVOURITES} routine ids")
        self.sessions = sorted(self.sessions)[-MAX_SESSIONS:]
        self.safety_heard = _unique(self.safety_heard)
        if len(self.safety_heard) > MAX_SAFETY_HEARD:
            raise ValueError(f"safety_heard holds at most {MAX_SAFETY_HEARD} routine ids")

    # ---- small, pure-ish helpers for change functions -------------------------------------

    def add_favourite(self, routine_id: str) -> None:
        """Add (or move to the newest end) a favourite; the oldest drops off past 20."""
        favs = [f for f in self.favourites if f != routine_id] + [routine_id]
        self.favourites = favs[-MAX_FAVOURITES:]

    def remove_favourite(self, routine_id: str) -> None:
        self.favourites = [f for f in self.favourites if f != routine_id]

    def heard_safety(self, routine_id: str) -> None:
        """Remember that the user heard this routine's full safety notes (the oldest drops off past 50)."""
        heard = [r for r in self.safety_heard if r != routine_id] + [routine_id]
        self.safety_heard = heard[-MAX_SAFETY_HEARD:]

    def has_heard_safety(self, routine_id: str) -> bool:
        """Whether the user has heard this routine's full safety notes: a returning user for it."""
        return routine_id in self.safety_heard

    def add_session(self, started_at: float) -> None:
        """Record that a session started at ``started_at`` (epoch seconds)."""
        self.sessions = [*self.sessions, float(started_at)]

    def prune(self) -> None:
        """Drop sessions more than 60 days older than the newest one.

        Sessions are stamped with their request's time, so the window is measured in that time
        too: a server clock that disagrees with the requests' never drops a session just added.
        """
        if self.sessions:
            cutoff = max(self.sessions) - SESSION_WINDOW_SECONDS
            self.sessions = [s for s in self.sessions if s >= cutoff]

    def to_json(self) -> str:
        """Compact JSON body, as stored."""
        return json.dumps(msgspec.to_builtins(self), separators=(",", ":"), sort_keys=True)

    def content(self) -> dict[str, Any]:
        """Everything but the revision: what two records must share to be 'the same data'."""
        data = msgspec.to_builtins(self)
        del data["revision"]
        return data


def checked(record: MemoryRecord) -> MemoryRecord:
    """Re-validate a record that may have been assigned or mutated in place (msgspec checks
    nothing then) and return it as a new, deep copy. Raises msgspec's ValidationError (a
    ValueError) if invalid."""
    try:
        data = msgspec.to_builtins(record)
    except TypeError as exc:  # a value of no JSON-like type was assigned to a field
        raise ValidationError(str(exc)) from None
    return msgspec.convert(data, MemoryRecord)
