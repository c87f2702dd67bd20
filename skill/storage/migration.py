"""Reading stored bodies of every known version into the current record.

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

import json
import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, ValidationError

from skill.core.schema import SLUG_PATTERN
from skill.core.settings import PACE_MAX, PACE_MIN, Verbosity

from .errors import CorruptRecord, NewerVersion
from .record import (
    CURRENT_VERSION,
    FINITE_MAX,
    MAX_FAVOURITES,
    MAX_SESSIONS,
    MemoryRecord,
    Resume,
    Seconds,
)


class _ResumeV1(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    routine: str
    step: Annotated[int, Meta(ge=0)]
    elapsed: Seconds = 0.0
    at: Seconds = 0.0


class _RecordV1(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    v: Literal[1]
    pace: Annotated[float, Meta(ge=-FINITE_MAX, le=FINITE_MAX)] = 1.0
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
