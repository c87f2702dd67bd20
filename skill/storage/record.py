"""The per-user memory record: what Back Coach remembers between sessions.

The record is deliberately small and holds *no health data*: no pain scores, no body areas,
no symptoms, no free text. Unknown fields are rejected (``forbid_unknown_fields``), so nothing
can be smuggled in by a handler that sets a new key. What it holds:

* ``resume``      – where an interrupted routine stopped (routine id, step, phase, seconds done);
* ``pace``        – speech/timing pace multiplier, within ``settings.PACE_MIN .. PACE_MAX``;
* ``verbosity``   – a ``settings.Verbosity``: "full", "short" or "quiet" coaching;
* ``favourites``  – up to 20 routine ids, unique, oldest first;
* ``last_routine``– the routine played most recently;
* ``sessions``    – start times (epoch seconds) of recent sessions, the last 60 days, at most 200;
* ``disclaimer_heard`` – whether the one-time safety disclaimer has been played;
* ``chimes``      – whether narration plays chimes at begin, switch sides and release (v3);
* ``speech_rate`` – how fast the coach talks, within ``settings.SPEECH_RATE_MIN .. SPEECH_RATE_MAX``
  of normal, separate from pace (v3);
* ``safety_heard``– up to 50 routine ids whose full safety notes the user has heard, so a returning
  user hears the one-line reminder instead (v3);
* ``revision``    – optimistic concurrency counter owned by the store (0 = never stored).

Stored bodies carry a version ``v``. :func:`migrate` reads any known version (currently 1, 2 and 3)
and raises :class:`CorruptRecord` for anything it cannot read. Version 2 is version 3 without
``chimes``, ``speech_rate`` and ``safety_heard``, which take their defaults. Version 3 exists so that
an older release meeting a record with those fields leaves it alone (:class:`NewerVersion`) instead
of quarantining it as unreadable.

Version 1 (the first release) stored this shape::

    {"v": 1,
     "pace": 1.0,                      # 0.5 .. 2.0 were accepted; clamped to PACE_MIN .. PACE_MAX now
     "verbose": true,                  # true -> verbosity "full", false -> "short"
     "favorites": ["desk-break"],      # US spelling, unbounded, could repeat
     "last": "desk-break",             # or null
     "resume": {"routine": "desk-break", "step": 2, "elapsed": 31.5, "at": 1700000000},
     "disclaimer": true,
     "history": [1699990000, 1700000000]}   # session start times, epoch seconds

Every v1 key except ``v`` is optional. v1 had no phases (``phase_index`` becomes 0) and no
revision counter (the store supplies it).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from typing import Annotated, Any, Literal

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
_FINITE_MAX = sys.float_info.max
Seconds = Annotated[float, Meta(ge=0, le=_FINITE_MAX)]


# --------------------------------------------------------------------------------------- errors


class StorageError(Exception):
    """The store could not do what was asked: storage down, locked too long, disk full, ...

    Never carries a half-written record: a failed write leaves the stored record as it was.
    """


class LockTimeout(StorageError):
    """The store stayed locked for its whole timeout; retrying would only wait as long again."""


class Conflict(StorageError):
    """Someone else wrote the record between our read and our write (revision mismatch)."""


class CorruptRecord(ValueError):
    """A stored body that cannot be read as any known record version."""


class NewerVersion(CorruptRecord):
    """A body written by a newer release (``v`` above :data:`CURRENT_VERSION`).

    It is not garbage, just not ours to read: stores refuse to touch it (they raise
    :class:`StorageError`) instead of quarantining and overwriting it.
    """


# -------------------------------------------------------------------------------------- record


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

    def prune(self, now: float) -> None:
        """Drop sessions older than 60 days before ``now`` (and keep at most 200)."""
        cutoff = now - SESSION_WINDOW_SECONDS
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


# ----------------------------------------------------------------------------------- migration


class _ResumeV1(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    routine: str
    step: Annotated[int, Meta(ge=0)]
    elapsed: Seconds = 0.0
    at: Seconds = 0.0


class _RecordV1(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    v: Literal[1]
    pace: Annotated[float, Meta(ge=-_FINITE_MAX, le=_FINITE_MAX)] = 1.0
    verbose: bool = True
    favorites: list[str] = msgspec.field(default_factory=list)
    last: str | None = None
    resume: _ResumeV1 | None = None
    disclaimer: bool = False
    history: list[Seconds] = msgspec.field(default_factory=list)


def _is_slug(value: str) -> bool:
    return len(value) <= 64 and re.fullmatch(SLUG_PATTERN, value) is not None


def _from_v1(raw: dict[str, Any]) -> MemoryRecord:
    old = msgspec.convert(raw, _RecordV1)
    favourites: list[str] = []
    for fav in old.favorites:  # keep the most recently added occurrence order, newest last
        if _is_slug(fav):
            if fav in favourites:
                favourites.remove(fav)
            favourites.append(fav)
    resume = None
    if old.resume is not None and _is_slug(old.resume.routine):
        resume = Resume(
            routine_id=old.resume.routine,
            step_index=min(old.resume.step, 999),
            phase_index=0,
            elapsed_seconds=min(old.resume.elapsed, 86400.0),
            saved_at=old.resume.at,
        )
    return MemoryRecord(
        resume=resume,
        pace=min(max(old.pace, PACE_MIN), PACE_MAX),
        verbosity=Verbosity.FULL if old.verbose else Verbosity.SHORT,
        favourites=favourites[-MAX_FAVOURITES:],
        last_routine=old.last if old.last is not None and _is_slug(old.last) else None,
        sessions=sorted(old.history)[-MAX_SESSIONS:],
        disclaimer_heard=old.disclaimer,
    )


def migrate(raw: Any) -> MemoryRecord:
    """Read a stored body of any known version and return a current :class:`MemoryRecord`.

    ``raw`` may be the JSON text (``str``/``bytes``) or the decoded ``dict``. Raises
    :class:`CorruptRecord` for anything unreadable, :class:`NewerVersion` for a body from a
    newer release. The returned record's ``revision`` comes from the body when present (v2);
    stores overwrite it with their own authoritative counter.
    """
    data = raw
    try:
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = bytes(data).decode("utf-8")
        if isinstance(data, str):
            data = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CorruptRecord(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CorruptRecord(f"body is a {type(data).__name__}, not an object")
    version = data.get("v")
    if isinstance(version, bool) or not isinstance(version, int):
        raise CorruptRecord(f"body has no integer version 'v' (got {version!r})")
    try:
        if version == 1:
            return _from_v1(data)
        if version == 2:
            if {"chimes", "speech_rate", "safety_heard"} & data.keys():
                raise CorruptRecord("v2 body has fields that only v3 has")
            return msgspec.convert({**data, "v": CURRENT_VERSION}, MemoryRecord)
        if version == CURRENT_VERSION:
            return msgspec.convert(data, MemoryRecord)
    except ValidationError as exc:
        raise CorruptRecord(f"v{version} body does not validate: {exc}") from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise CorruptRecord(f"v{version} body is unreadable: {exc}") from None
    if version > CURRENT_VERSION:
        raise NewerVersion(f"body is version {version}; this release reads up to {CURRENT_VERSION}")
    raise CorruptRecord(f"unknown record version {version}")


# ----------------------------------------------------------------------------- week summaries


def _local_date(ts: float, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def _as_datetime(now: float | dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(now, dt.datetime):
        return now if now.tzinfo is not None else now.replace(tzinfo=tz)
    return dt.datetime.fromtimestamp(now, tz)


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _sessions_by_week(record: MemoryRecord, tz: dt.tzinfo) -> dict[dt.date, int]:
    counts: dict[dt.date, int] = {}
    for ts in record.sessions:
        if not math.isfinite(ts):
            continue
        week = _monday(_local_date(ts, tz))
        counts[week] = counts.get(week, 0) + 1
    return counts


def week_summary(
    record: MemoryRecord, now: float | dt.datetime, tz: dt.tzinfo = dt.UTC
) -> tuple[int, int]:
    """``(sessions_this_week, sessions_last_week)`` by ISO week (Monday..Sunday) in ``tz``.

    A forgiving measure: it counts sessions per week and never asks for a daily chain.
    ``now`` is epoch seconds or a datetime (naive ones are taken to be in ``tz``).
    """
    this_week = _monday(_as_datetime(now, tz).astimezone(tz).date())
    counts = _sessions_by_week(record, tz)
    return counts.get(this_week, 0), counts.get(this_week - dt.timedelta(days=7), 0)


def weekly_streak(
    record: MemoryRecord, now: float | dt.datetime, tz: dt.tzinfo = dt.UTC
) -> int:
    """Consecutive ISO weeks with at least one session, ending this week — or last week, so a
    streak is not 'broken' on Monday morning before this week's first session."""
    this_week = _monday(_as_datetime(now, tz).astimezone(tz).date())
    counts = _sessions_by_week(record, tz)
    week = this_week if counts.get(this_week) else this_week - dt.timedelta(days=7)
    streak = 0
    while counts.get(week):
        streak += 1
        week -= dt.timedelta(days=7)
    return streak
