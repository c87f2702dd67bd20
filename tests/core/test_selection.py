"""Choosing a routine from a request: names, areas, equipment and lengths."""

from __future__ import annotations

from skill.core.routines import Area, Equipment, load_library
from skill.core.selection import Request, choose, duration_seconds


def _lengths(**seconds: float):
    return lambda routine: seconds.get(routine.id.replace("-", "_"), 600.0)


def test_a_requested_length_picks_the_routine_closest_to_it_not_the_one_furthest_over():
    library = load_library()
    # 8 minutes asked: 8:05 is closer than 8:26, though both fit within the slack.
    length = _lengths(chest_and_shoulder_opener=506.0, reverse_presses=485.0, spine_decompression=700.0)
    choice = choose(library, Request(seconds=480.0), length)
    assert choice.routine is not None and choice.routine.id == "reverse-presses"
    assert choice.budget is None


def test_a_length_no_routine_meets_fits_the_shortest_one_to_the_budget():
    library = load_library()
    choice = choose(library, Request(seconds=60.0), lambda r: 300.0 + len(r.steps))
    assert choice.routine is not None and choice.budget == 60.0


def test_area_and_equipment_narrow_the_candidates():
    library = load_library()
    choice = choose(library, Request(area=Area.UPPER_BACK, equipment=Equipment.FOAM_ROLLER), lambda r: 500.0)
    assert choice.routine is not None and choice.routine.id == "foam-roller-upper-back"
    several = choose(library, Request(area=Area.NECK), lambda r: 500.0)
    assert several.routine is None and len(several.candidates) >= 2


def test_iso_durations_are_read_as_seconds():
    """AMAZON.DURATION values, weeks included; months and years have no fixed length."""
    assert duration_seconds("PT5M") == 300.0
    assert duration_seconds("pt1h30m") == 5400.0
    assert duration_seconds("PT1.5M") == 90.0
    assert duration_seconds("P1W") == 7 * 86400.0
    assert duration_seconds("P1DT2H") == 93600.0
    for unreadable in (None, "", "P", "PT", "PT0S", "-PT5M", "P1M", "P1Y", "five minutes", "P99999999999D"):
        assert duration_seconds(unreadable) is None, unreadable
