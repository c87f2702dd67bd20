"""Planner and timeline properties: timing adds up and cues land where they should."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.core.phrases import Voice
from skill.core.planner import Planner, PlanOptions, Verbosity
from skill.core.program import Program, fit
from skill.core.routines import MOVE_SECONDS, Breath, Kind, Move, Routine, Step
from skill.core.limits import MAX_BREAK_MS, MAX_SSML_CHARS
from skill.core.ssml import chunk, speak
from skill.core.timeline import Position, SegmentKind, SpeechRate


@st.composite
def steps(draw, index: int = 0) -> Step:
    kind = draw(st.sampled_from(list(Kind)))
    fields: dict = {
        "id": f"s{index}",
        "name": f"step {index}",
        "kind": kind,
        "say": draw(st.sampled_from(["Lie down and breathe.", "Press the ball into the wall, slowly, with care."])),
        "short": "Again.",
        "source": "test",
        "per_side": draw(st.booleans()),
        "sets": draw(st.integers(1, 3)),
        "rest": draw(st.sampled_from([0, 10, 30])),
        "optional": index > 0 and draw(st.booleans()),
        "move": draw(st.sampled_from(list(Move)[1:] if kind is Kind.TRANSITION else list(Move))),
    }
    if fields["per_side"]:
        fields |= {"switch": "Now the other side.", "switch_move": draw(st.sampled_from(list(Move)))}
    if kind is Kind.REPS:
        fields |= {"reps": draw(st.integers(1, 12)), "tempo": draw(st.sampled_from([2.0, 3.5, 5.0, 12.0]))}
    else:
        low, high = {Kind.HOLD: (10, 120), Kind.ROLL: (20, 120), Kind.BREATHE: (20, 120), Kind.TRANSITION: (2, 30)}[kind]
        if kind is Kind.TRANSITION:
            low = MOVE_SECONDS[fields["move"]]
        fields["seconds"] = draw(st.integers(low, high))
    if kind is Kind.BREATHE:
        fields["breath"] = Breath(inhale=4, exhale=6)
    return Step(**fields)


@st.composite
def routines(draw) -> Routine:
    count = draw(st.integers(1, 5))
    return _routine(
        id="generated", title="Generated", summary="A generated routine.", areas=["neck"], equipment=["none"],
        level="gentle", sources=["test"], steps=[draw(steps(i)) for i in range(count)],
    )


def _routine(**fields) -> Routine:
    """A routine validated and converted the way the loader does it."""
    return msgspec.convert(fields, Routine)


def _planner(book, seed: int = 3, verbosity: Verbosity = Verbosity.FULL) -> Planner:
    return Planner(Voice(book, random.Random(seed)), PlanOptions(verbosity))


FAST = settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(routine=routines(), seed=st.integers(0, 1000), verbosity=st.sampled_from(list(Verbosity)))
def test_segments_are_contiguous_and_add_up(book, routine, seed, verbosity):
    timeline = _planner(book, seed, verbosity).compile(Program.of(routine), intro=True)
    clock = 0.0
    for segment in timeline.segments:
        assert abs(segment.start - clock) < 0.01
        assert segment.duration > 0
        clock = segment.end
    assert abs(timeline.duration - sum(s.duration for s in timeline.segments)) < 0.05
    assert abs(sum(timeline.step_duration(i) for i in timeline.steps) + timeline.step_duration(-1) - timeline.duration) < 0.05


@FAST
@given(routine=routines(), seed=st.integers(0, 1000))
def test_cues_fall_where_they_should(book, routine, seed):
    timeline = _planner(book, seed).compile(Program.of(routine))
    for phase in timeline.phases:
        step = routine.steps[phase.step]
        inside = [s for s in timeline.segments if s.step == phase.step and s.phase == phase.index and s.kind is SegmentKind.SPEECH]
        by_cue = {}
        for segment in inside:
            by_cue.setdefault(segment.cue, []).append(segment)
        end = phase.active_start + phase.active
        if step.kind in (Kind.HOLD, Kind.ROLL):
            if phase.active >= 20:
                assert abs(by_cue["halfway"][0].start - (phase.active_start + phase.active / 2)) < 0.01
            else:
                assert "halfway" not in by_cue
            if phase.active >= 30:
                assert abs(by_cue["ten_left"][0].start - (end - 10)) < 0.01
            else:
                assert "ten_left" not in by_cue
            countdown = by_cue["countdown"]
            assert [c.text for c in countdown] == ["3.", "2.", "1."]
            assert [round(end - c.start, 2) for c in countdown] == [3.0, 2.0, 1.0]
            assert abs(by_cue["release"][0].start - end) < 0.01
        if step.kind is Kind.REPS:
            counts = by_cue["count"]
            assert len(counts) == step.reps
            assert [round(c.start - phase.active_start, 2) for c in counts] == [round(i * step.tempo, 2) for i in range(step.reps)]


@FAST
@given(routine=routines())
def test_sides_alternate_left_then_right(book, routine):
    timeline = _planner(book).compile(Program.of(routine))
    for index in timeline.steps:
        step = routine.steps[index]
        sides = [p.side for p in timeline.phases if p.step == index]
        expected = (["left", "right"] if step.per_side else [None]) * step.sets
        assert sides == expected
        switches = [s for s in timeline.step_segments(index) if s.cue == "switch_sides"]
        assert len(switches) == (step.sets if step.per_side else 0)


BREAK = re.compile(r'<break time="(\d+)ms"/>')


def _rendered_seconds(body: str, rate: SpeechRate) -> float:
    silence = sum(int(ms) for ms in BREAK.findall(body)) / 1000
    text = BREAK.sub(" ", body)
    return silence + sum(rate.seconds(part) for part in text.split("  ") if part.strip())


def test_a_chunk_at_the_limit_counts_the_speak_wrapper(book):
    long = Step(id="l", name="long", kind=Kind.HOLD, seconds=120, say="Hold it. " * 120, short="Hold.", source="t")
    routine = _routine(id="big", title="Big", summary="x", areas=["neck"], equipment=["none"], level="gentle",
                       sources=["t"], steps=[msgspec.structs.replace(long, id=f"l{i}") for i in range(12)])
    timeline = _planner(book).compile(Program.of(routine))
    for budget in (2000, 4000, MAX_SSML_CHARS):
        assert all(len(speak(p.body)) <= budget for p in chunk(timeline, budget))


@FAST
@given(routine=routines(), seed=st.integers(0, 100))
def test_ssml_chunks_are_valid_within_limits_and_keep_the_timing(book, routine, seed):
    planner = _planner(book, seed)
    timeline = planner.compile(Program.of(routine), intro=True)
    parts = chunk(timeline)
    assert [s for c in parts for s in c.steps] == [-1, *timeline.steps]
    for part in parts:
        document = speak(part.body)
        assert len(document) <= MAX_SSML_CHARS
        ET.fromstring(document)
        assert all(int(ms) <= MAX_BREAK_MS for ms in BREAK.findall(document))
        assert abs(_rendered_seconds(part.body, planner.options.rate) - part.duration) <= 0.03 * part.duration + 0.5


def test_long_hold_is_chained_breaks_with_cues_between(book):
    routine = _routine(
        id="long", title="Long", summary="x", areas=["neck"], equipment=["none"], level="gentle", sources=["t"],
        steps=[{"id": "h", "name": "hold", "kind": "hold", "seconds": 60, "say": "Hold.", "short": "Hold.", "source": "t"}],
    )
    document = speak(chunk(_planner(book).compile(Program.of(routine)))[0].body)
    assert "Halfway" in document or "half" in document
    assert document.count("<break") >= 6
    assert max(int(ms) for ms in BREAK.findall(document)) <= MAX_BREAK_MS


def test_small_budget_splits_at_step_boundaries(book, library):
    planner = _planner(book)
    timeline = planner.compile(Program.of(library.get("neck-and-shoulders")))
    parts = chunk(timeline, budget=1500)
    assert len(parts) > 1
    assert [s for p in parts for s in p.steps] == list(timeline.steps)
    for part in parts:
        assert len(speak(part.body)) <= 1500


def test_full_instruction_first_then_short(book, library):
    routine = library.get("neck-and-shoulders")
    planner = _planner(book)
    first = planner.compile(Program.of(routine), [3])
    again = planner.compile(Program.of(routine), [3], seen=frozenset({"ear-to-shoulder"}))
    assert first.segments[0].text == routine.steps[3].say
    assert again.segments[0].text == routine.steps[3].short


def test_quiet_keeps_only_essential_cues(book, library):
    routine = library.get("neck-and-shoulders")
    timeline = _planner(book, verbosity=Verbosity.QUIET).compile(Program.of(routine))
    cues = {s.cue for s in timeline.segments if s.kind is SegmentKind.SPEECH}
    assert {"halfway", "ten_left", "breathing", "dose"}.isdisjoint(cues)
    assert {"countdown", "switch_sides", "count", "release"} <= cues
    assert all(s.text != step.say for step in routine.steps for s in timeline.segments)


def test_pace_stretches_holds_within_safe_bounds(library):
    routine = library.get("neck-and-shoulders")
    hold = routine.step_index("ear-to-shoulder")
    assert Program.of(routine, 1.5).doses[hold].seconds == 30
    assert Program.of(routine, 0.75).doses[hold].seconds == routine.steps[hold].floor_seconds
    assert Program.of(routine, 9).pace == 1.5
    assert Program.of(routine, float("nan")).pace == 1.0
    reps = routine.step_index("nod")
    assert Program.of(routine, 1.5).doses[reps].tempo == 7.5


@given(minutes=st.integers(2, 12))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_time_budget_drops_optional_first_and_respects_safe_minimums(book, library, minutes):
    planner = _planner(book)
    for routine in library:
        full = Program.of(routine)
        fitted = fit(full, minutes * 60, planner.measure)
        measured = planner.measure(fitted)
        if measured > minutes * 60:
            # Over budget only when nothing more can be removed safely.
            assert all(routine.steps[i].optional is False for i in fitted.included)
        for index in fitted.included:
            dose, step = fitted.doses[index], routine.steps[index]
            if dose.seconds is not None and step.kind is not Kind.TRANSITION:
                assert dose.seconds >= step.floor_seconds
        if fitted.dropped:
            assert all(routine.steps[routine.step_index(d)].optional for d in fitted.dropped)
        assert measured <= planner.measure(full)


def test_voice_never_repeats_a_phrase_twice_in_a_row(book):
    voice = Voice(book, random.Random(1))
    picks = [voice.say("cue.halfway") for _ in range(200)]
    assert all(a != b for a, b in zip(picks, picks[1:], strict=False))
    assert len(set(picks)) == len(book.variants("cue.halfway"))


def test_same_seed_same_words(book, library):
    routine = library.get("neck-and-shoulders")
    one = _planner(book, 11).compile(Program.of(routine))
    two = _planner(book, 11).compile(Program.of(routine))
    assert one == two


def test_resume_continues_with_the_remaining_hold(book, library):
    routine = library.get("neck-and-shoulders")
    index = routine.step_index("ear-to-shoulder")
    timeline = _planner(book).compile(Program.of(routine), [index], resume=Position(index, 1, 12.0))
    assert timeline.segments[0].cue == "resume"
    assert [p.side for p in timeline.phases] == ["right"]
    assert timeline.phases[0].active == 8.0


def test_locate_maps_elapsed_time_back_to_a_position(book, library):
    routine = library.get("neck-and-shoulders")
    index = routine.step_index("ear-to-shoulder")
    timeline = _planner(book).compile(Program.of(routine), [index, index + 1])
    left, right = timeline.phases[:2]
    assert timeline.locate(0.5) == Position(index, 0, 0.0)
    assert timeline.locate(left.active_start + 7) == Position(index, 0, 7.0)
    assert timeline.locate(right.active_start + 19.5) == Position(index, 1, 19.5)
    assert timeline.locate(right.end + 0.1) == Position(index + 1, 0, 0.0)
    assert timeline.locate(timeline.duration + 1) is None
    assert timeline.locate(-3) == Position(index, 0, 0.0)


def test_intro_speaks_title_and_length(book, library):
    routine = library.get("neck-and-shoulders")
    timeline = _planner(book).compile(Program.of(routine), intro=True)
    assert routine.title in timeline.segments[0].text
    assert "minutes" in timeline.segments[0].text
    assert timeline.segments[-1].cue == "routine_done"
