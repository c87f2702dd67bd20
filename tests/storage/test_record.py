"""The record: validation, no health data, migration from v1, week summaries."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import msgspec
import pytest
from msgspec import ValidationError

from skill.storage import (
    CorruptRecord,
    MemoryRecord,
    NewerVersion,
    Resume,
    migrate,
    week_summary,
    weekly_streak,
)
from skill.storage.record import MAX_FAVOURITES, MAX_SESSIONS, checked

UTC = dt.UTC


def ts(*args: int, tz: dt.tzinfo = UTC) -> float:
    return dt.datetime(*args, tzinfo=tz).timestamp()


# ---------------------------------------------------------------------------- validation


def test_fresh_record_defaults() -> None:
    r = MemoryRecord()
    assert (r.v, r.resume, r.pace, r.verbosity) == (3, None, 1.0, "full")
    assert (r.favourites, r.last_routine, r.sessions) == ([], None, [])
    assert (r.disclaimer_heard, r.revision) == (False, 0)


@pytest.mark.parametrize("pace", [0.75, 1.0, 1.5])
def test_pace_in_range(pace: float) -> None:
    assert MemoryRecord(pace=pace).pace == pace


@pytest.mark.parametrize("pace", [0.74, 1.51, 0, -1, float("nan"), float("inf")])
def test_pace_out_of_range_rejected(pace: float) -> None:
    with pytest.raises(ValidationError):
        msgspec.convert({"pace": pace}, MemoryRecord)
    with pytest.raises(ValidationError):
        checked(MemoryRecord(pace=pace))


def test_assigned_values_are_validated_by_checked() -> None:
    r = MemoryRecord()
    r.pace = 3.0
    with pytest.raises(ValidationError):
        checked(r)
    r.pace = 1.0
    r.verbosity = "loud"  # type: ignore[assignment]
    with pytest.raises(ValidationError):
        checked(r)
    r.verbosity = "quiet"
    assert (checked(r).pace, checked(r).verbosity) == (1.0, "quiet")


@pytest.mark.parametrize(
    "field",
    ["pain_level", "pain", "symptoms", "injury", "notes", "health", "areas", "diagnosis"],
)
def test_no_health_fields_possible(field: str) -> None:
    with pytest.raises(ValidationError, match="Object contains unknown field"):
        msgspec.convert({field: 7}, MemoryRecord)
    with pytest.raises(ValidationError):
        msgspec.convert({"v": 2, field: "lower back, 8/10"}, MemoryRecord)
    with pytest.raises(TypeError, match="Unexpected keyword argument"):
        MemoryRecord(**{field: 7})
    r = MemoryRecord()
    with pytest.raises(AttributeError):
        setattr(r, field, 7)
    with pytest.raises((AttributeError, TypeError)):
        object.__setattr__(r, field, 7)
    assert field not in r.to_json()
    # a record built without validation (Struct __init__ checks no constraints) cannot carry
    # it in a known field either: it is never serialised once checked
    sneaky = MemoryRecord(last_routine=f"{field} lower back, 8/10")
    with pytest.raises(ValidationError):
        checked(sneaky)


def test_resume_rejects_extra_fields() -> None:
    with pytest.raises(ValidationError):
        msgspec.convert({"routine_id": "desk-break", "step_index": 1, "saved_at": 1.0, "pain": 3}, Resume)
    with pytest.raises(TypeError):
        Resume(routine_id="desk-break", step_index=1, saved_at=1.0, pain=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "text", ["My lower back hurts a lot", "desk break", "Desk-Break", "", "x" * 65, "desk-break\n"]
)
def test_routine_ids_cannot_carry_free_text(text: str) -> None:
    with pytest.raises(ValidationError):
        checked(MemoryRecord(favourites=[text]))
    with pytest.raises(ValidationError):
        checked(MemoryRecord(last_routine=text))
    with pytest.raises(ValidationError):
        checked(MemoryRecord(resume=Resume(routine_id=text, step_index=0, saved_at=0)))
    with pytest.raises(ValidationError):
        msgspec.convert({"routine_id": text, "step_index": 0, "saved_at": 0}, Resume)


def test_resume_fields() -> None:
    r = Resume(routine_id="desk-break", step_index=3, phase_index=1, elapsed_seconds=42.5, saved_at=1e9)
    assert checked(MemoryRecord(resume=r)).resume == r
    with pytest.raises(ValidationError):
        checked(MemoryRecord(resume=Resume(routine_id="desk-break", step_index=-1, saved_at=0)))
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            msgspec.convert({"routine_id": "desk-break", "step_index": 0, "saved_at": bad}, Resume)


def test_favourites_unique_and_bounded() -> None:
    assert MemoryRecord(favourites=["a", "b", "a"]).favourites == ["a", "b"]
    ids = [f"r{i}" for i in range(MAX_FAVOURITES)]
    assert MemoryRecord(favourites=ids).favourites == ids
    assert msgspec.convert({"favourites": [*ids, ids[0]]}, MemoryRecord).favourites == ids
    with pytest.raises(ValidationError):
        msgspec.convert({"favourites": [*ids, "one-more"]}, MemoryRecord)
    with pytest.raises(ValueError):
        MemoryRecord(favourites=[*ids, "one-more"])


def test_add_favourite_moves_to_end_and_caps() -> None:
    r = MemoryRecord()
    for i in range(25):
        r.add_favourite(f"r{i}")
    assert len(r.favourites) == MAX_FAVOURITES and r.favourites[0] == "r5"
    r.add_favourite("r5")
    assert r.favourites[-1] == "r5" and len(r.favourites) == MAX_FAVOURITES
    r.remove_favourite("r5")
    assert "r5" not in r.favourites


def test_sessions_sorted_capped_and_pruned() -> None:
    r = MemoryRecord(sessions=[3.0, 1.0, 2.0])
    assert r.sessions == [1.0, 2.0, 3.0]
    many = MemoryRecord(sessions=[float(i) for i in range(250)])
    assert len(many.sessions) == MAX_SESSIONS and many.sessions[0] == 50.0
    now = ts(2026, 3, 1)
    r = MemoryRecord(sessions=[now - 61 * 86400, now - 59 * 86400, now])
    r.prune()
    assert r.sessions == [now - 59 * 86400, now]
    long_ago = MemoryRecord(sessions=[ts(2020, 1, 1)])
    long_ago.prune()  # the window ends at the newest session, not at the wall clock
    assert long_ago.sessions == [ts(2020, 1, 1)]
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            checked(MemoryRecord(sessions=[bad]))


def test_in_place_append_is_caught_by_checked() -> None:
    r = MemoryRecord()
    r.favourites.extend(f"r{i}" for i in range(MAX_FAVOURITES + 1))  # nothing checks in-place changes
    with pytest.raises(ValidationError):
        checked(r)


def test_version_field_is_current_only() -> None:
    with pytest.raises(ValidationError):
        msgspec.convert({"v": 1}, MemoryRecord)
    with pytest.raises(ValueError):
        MemoryRecord(v=1)


# ------------------------------------------------------------------------------ migration


V1_FULL = {
    "v": 1,
    "pace": 2.0,
    "verbose": False,
    "favorites": ["desk-break", "neck-and-shoulders", "desk-break", "Not A Slug!"],
    "last": "neck-and-shoulders",
    "resume": {"routine": "desk-break", "step": 2, "elapsed": 31.5, "at": 1700000000},
    "disclaimer": True,
    "history": [1700000000, 1699990000],
}


def test_migrate_v1_full() -> None:
    r = migrate(json.dumps(V1_FULL))
    assert r.v == 3
    assert r.pace == 1.5  # clamped
    assert r.verbosity == "short"
    assert r.favourites == ["neck-and-shoulders", "desk-break"]  # deduped, newest last
    assert r.last_routine == "neck-and-shoulders"
    assert r.resume == Resume(
        routine_id="desk-break", step_index=2, phase_index=0, elapsed_seconds=31.5, saved_at=1700000000
    )
    assert r.disclaimer_heard is True
    assert r.sessions == [1699990000.0, 1700000000.0]


def test_migrate_v1_minimal_and_bytes_and_dict() -> None:
    for raw in ({"v": 1}, '{"v": 1}', b'{"v": 1}'):
        r = migrate(raw)
        assert r == MemoryRecord()


def test_migrate_v1_limits() -> None:
    r = migrate({"v": 1, "pace": 0.1, "favorites": [f"r{i}" for i in range(30)],
                 "resume": {"routine": "BAD ID", "step": 1}})
    assert r.pace == 0.75
    assert r.favourites == [f"r{i}" for i in range(10, 30)]
    assert r.resume is None


def test_migrate_v2_round_trip() -> None:
    r = MemoryRecord(pace=1.25, verbosity="quiet", favourites=["desk-break"], sessions=[5.0],
                     resume=Resume(routine_id="desk-break", step_index=1, saved_at=9.0),
                     last_routine="desk-break", disclaimer_heard=True, revision=4)
    assert migrate(r.to_json()) == r


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe\x00garbage",
        "not json",
        "",
        "[]",
        "null",
        "42",
        '{"v": "2"}',
        '{"v": true}',
        '{"v": 0}',
        '{"v": 2.0}',
        '{"pace": 1.0}',
        '{"v": 2, "pace": 9}',
        '{"v": 2, "pain_level": 8}',
        '{"v": 1, "pain": "lower back"}',
        '{"v": 1, "favorites": "desk-break"}',
        '{"v": 1, "history": [-5]}',
        '{"v": 1, "history": [Infinity]}',
        '{"v": 1, "pace": NaN}',
        '{"v": 1, "resume": {"routine": "desk-break", "step": 1, "at": Infinity}}',
        '{"v": 2, "sessions": [Infinity]}',
        '{"v": 2, "resume": {"routine_id": "desk-break", "step_index": 1, "saved_at": Infinity}}',
        "[" * 100_000,
        None,
        12,
    ],
)
def test_unreadable_bodies_raise_corrupt(raw: object) -> None:
    with pytest.raises(CorruptRecord):
        migrate(raw)


def test_newer_version_is_its_own_kind_of_corrupt() -> None:
    with pytest.raises(NewerVersion):
        migrate('{"v": 4, "whatever": true}')
    assert issubclass(NewerVersion, CorruptRecord)


# ------------------------------------------------------------------------- week summaries


def test_week_summary_counts_iso_weeks() -> None:
    # Wednesday 2026-03-11; ISO week runs Monday 03-09 .. Sunday 03-15
    now = ts(2026, 3, 11, 12)
    sessions = [
        ts(2026, 3, 9, 0, 0),      # Monday 00:00, this week
        ts(2026, 3, 10, 7), ts(2026, 3, 10, 19),  # two on one day both count
        ts(2026, 3, 8, 23, 59),    # Sunday, last week
        ts(2026, 3, 2, 0, 0),      # Monday, last week
        ts(2026, 3, 1, 23, 59),    # two weeks ago
        ts(2026, 3, 16, 8),        # next week (clock skew): not counted
    ]
    assert week_summary(MemoryRecord(sessions=sessions), now) == (3, 2)
    assert week_summary(MemoryRecord(), now) == (0, 0)


def test_week_summary_across_year_boundary() -> None:
    # 2027-01-04 is the Monday of ISO week 1 of 2027; 2026-12-31 is in ISO week 53 of 2026
    now = ts(2027, 1, 5)
    r = MemoryRecord(sessions=[ts(2026, 12, 28), ts(2026, 12, 31), ts(2027, 1, 3), ts(2027, 1, 4)])
    assert week_summary(r, now) == (1, 3)


def test_week_summary_uses_the_users_timezone() -> None:
    la = ZoneInfo("America/Los_Angeles")
    session = ts(2026, 3, 9, 3)  # Monday 03:00 UTC = Sunday evening in Los Angeles
    now = dt.datetime(2026, 3, 11, 12, tzinfo=la)
    r = MemoryRecord(sessions=[session])
    assert week_summary(r, now, UTC) == (1, 0)
    assert week_summary(r, now, la) == (0, 1)
    assert week_summary(r, dt.datetime(2026, 3, 11, 12), la) == (0, 1)  # naive = in tz


def test_weekly_streak_is_forgiving() -> None:
    now = ts(2026, 3, 9, 8)  # Monday morning, nothing yet this week
    weeks_back = lambda n: ts(2026, 3, 4) - 7 * 86400 * n
    r = MemoryRecord(sessions=[weeks_back(0), weeks_back(1), weeks_back(2), weeks_back(4)])
    assert weekly_streak(r, now) == 3  # last week counts while this week is still open
    r.add_session(now)
    assert weekly_streak(r, now) == 4
    assert weekly_streak(MemoryRecord(sessions=[weeks_back(3)]), now) == 0
    assert weekly_streak(MemoryRecord(), now) == 0


def test_narration_preferences_have_bounds_and_defaults() -> None:
    r = MemoryRecord()
    assert (r.chimes, r.speech_rate, r.safety_heard) == (True, 1.0, [])
    for rate in (0.79, 1.26, float("nan"), float("inf")):
        with pytest.raises(ValidationError):
            msgspec.convert({"speech_rate": rate}, MemoryRecord)
    with pytest.raises(ValidationError):
        msgspec.convert({"chimes": "yes"}, MemoryRecord)
    with pytest.raises(ValidationError):
        msgspec.convert({"safety_heard": ["my sore back!"]}, MemoryRecord)  # ids only, never free text
    with pytest.raises(ValidationError):
        msgspec.convert({"safety_heard": [f"r{i}" for i in range(51)]}, MemoryRecord)
    assert msgspec.convert({"safety_heard": ["desk-break", "desk-break"]}, MemoryRecord).safety_heard == ["desk-break"]


def test_safety_heard_remembers_routines_newest_last_and_at_most_fifty() -> None:
    r = MemoryRecord()
    assert not r.has_heard_safety("desk-break")
    for i in range(55):
        r.heard_safety(f"r{i}")
    r.heard_safety("r10")
    assert r.has_heard_safety("r10") and not r.has_heard_safety("r3")
    assert len(r.safety_heard) == 50 and r.safety_heard[-1] == "r10"
    assert checked(r) == r


def test_a_version_2_record_loads_with_the_new_preferences_at_their_defaults() -> None:
    body = ('{"v": 2, "pace": 1.25, "verbosity": "short", "favourites": ["desk-break"], "last_routine": null,'
            ' "sessions": [5.0], "disclaimer_heard": true, "revision": 3, "resume": null}')
    r = migrate(body)
    assert (r.v, r.pace, r.verbosity, r.favourites, r.revision) == (3, 1.25, "short", ["desk-break"], 3)
    assert (r.chimes, r.speech_rate, r.safety_heard) == (True, 1.0, [])
    with pytest.raises(CorruptRecord):
        migrate('{"v": 2, "chimes": false}')  # v2 never had it
    r.chimes, r.speech_rate = False, 0.9
    r.heard_safety("desk-break")
    assert migrate(r.to_json()) == r
