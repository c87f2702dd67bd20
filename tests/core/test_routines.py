"""Routine files: the real library loads, and broken files say exactly what is wrong."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from skill.core.phrases import Voice
from skill.core.planner import Planner
from skill.core.program import Program
from skill.core.routines import Equipment, Kind, RoutineError, load_library, load_routine

SEED_TECHNIQUES = {
    "upper-back-tennis-ball": Equipment.TENNIS_BALL,
    "foam-roller-upper-back": Equipment.FOAM_ROLLER,
}
REQUIRED = {
    "upper-back-tennis-ball", "neck-and-shoulders", "foam-roller-upper-back", "reverse-presses",
    "neck-range-of-motion", "spine-decompression", "lower-back-relief", "desk-break",
    "chest-and-shoulder-opener", "bedtime-wind-down",
}


def test_library_has_every_required_routine(library):
    assert len(library) >= 10
    assert REQUIRED <= {r.id for r in library}


@pytest.mark.parametrize("routine_id", sorted(REQUIRED))
def test_each_routine_lasts_three_to_fifteen_minutes(library, book, routine_id):
    routine = library.get(routine_id)
    seconds = Planner(Voice(book, random.Random(0))).measure(Program.of(routine))
    assert 180 <= seconds <= 900, f"{routine_id} lasts {seconds:.0f}s"


def test_every_step_names_a_source_and_safe_dose(library):
    for routine in library:
        for step in routine.steps:
            assert step.source.strip()
            if step.kind is Kind.HOLD:
                assert 10 <= step.seconds <= 120


def test_seed_techniques_use_their_equipment(library):
    for routine_id, equipment in SEED_TECHNIQUES.items():
        assert equipment in library.get(routine_id).equipment
    presses = library.get("reverse-presses")
    assert any(s.kind is Kind.REPS and s.reps == 10 and s.sets == 3 for s in presses.steps)
    thumb = library.get("neck-and-shoulders").steps
    assert any(s.id == "thumb-walk" and 4 <= s.reps <= 5 for s in thumb)


def test_lower_back_routine_never_rolls_on_the_spine(library):
    routine = library.get("lower-back-relief")
    assert Equipment.FOAM_ROLLER not in routine.equipment
    for step in routine.steps:
        if step.kind is Kind.ROLL:
            assert "side of your spine" in step.say or "off your spine" in step.say, step.id


def test_desk_break_needs_only_a_chair(library):
    assert library.get("desk-break").equipment == (Equipment.CHAIR,)


GOOD_STEP = """
  - id: press
    name: the press
    kind: hold
    seconds: 30
    say: Press gently.
    short: Press.
    source: test
"""


def _write(tmp_path: Path, body: str, name: str = "broken") -> Path:
    path = tmp_path / f"{name}.yaml"
    header = f"""
id: {name}
title: Broken
summary: A test routine.
areas: [neck]
equipment: [none]
level: gentle
sources: [test]
steps:
"""
    path.write_text(textwrap.dedent(header) + textwrap.dedent(body))
    return path


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (GOOD_STEP.replace("seconds: 30", "seconds: 150"),
         "routine 'broken', step 1 'press', field 'seconds': 150 is outside the safe range 10 to 120"),
        (GOOD_STEP + GOOD_STEP.replace("id: press", "id: lift").replace("    source: test\n", ""),
         "routine 'broken', step 2 'lift', field 'source': required but missing"),
        (GOOD_STEP.replace("kind: hold", "kind: wiggle"),
         "routine 'broken', step 1 'press', field 'kind': Invalid enum value 'wiggle'; use one of: hold, reps, roll, breathe, transition"),
        (GOOD_STEP.replace("kind: hold", "kind: reps"),
         "routine 'broken', step 1 'press', field 'reps': reps steps need both 'reps' and 'tempo'"),
        (GOOD_STEP.replace("seconds: 30", "seconds: 30\n    sets: 5"),
         "routine 'broken', step 1 'press', field 'sets': Expected `int` <= 3"),
        (GOOD_STEP.replace("say: Press gently.", "say: ''"),
         "routine 'broken', step 1 'press', field 'say': Expected `str` of length >= 1"),
        (GOOD_STEP + GOOD_STEP, "field 'steps': step ids must be unique; repeated: press"),
    ],
)
def test_broken_file_names_file_routine_step_and_field(tmp_path, steps, expected):
    path = _write(tmp_path, steps)
    with pytest.raises(RoutineError) as caught:
        load_routine(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_breathe_step_without_rhythm_is_refused(tmp_path):
    path = _write(tmp_path, GOOD_STEP.replace("kind: hold", "kind: breathe"))
    with pytest.raises(RoutineError, match="breathe steps need 'breath'"):
        load_routine(path)


def test_id_must_match_file_name(tmp_path):
    path = _write(tmp_path, GOOD_STEP)
    renamed = path.rename(tmp_path / "other.yaml")
    with pytest.raises(RoutineError, match="must match the file name 'other'"):
        load_routine(renamed)


def test_unreadable_yaml_is_reported(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(RoutineError, match="cannot be read as YAML"):
        load_routine(path)


def test_empty_directory_is_reported(tmp_path):
    with pytest.raises(RoutineError, match="no routine files"):
        load_library(tmp_path)


def test_summaries_leave_the_length_to_the_planner(library):
    # The skill says how long a routine takes from the plan; a number here would drift.
    for routine in library:
        assert "minute" not in routine.summary.lower(), routine.id


@pytest.mark.parametrize(("said", "named", "number"), [
    ("3", False, 3), ("step four", False, 4), ("number 2", False, 2), ("3rd", False, 3), ("twelve", False, 12),
    ("2.5", False, None), ("child's pose", False, None), ("one knee to chest", False, None),
    ("step three", True, 3), ("the one", True, None), ("one", True, None), ("third", True, None),
])
def test_a_step_number_is_a_whole_number_and_in_a_name_only_after_step(said, named, number):
    from skill.core.routines import step_number

    assert step_number(said, named=named) == number
