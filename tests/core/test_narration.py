"""Narration a person can follow with eyes closed (issue 16): second sides, time to move, a breath
after each release, no repeated or colliding phrases, short safety for returning users, calm
delivery, chimes, speaking rate apart from pace, and routines that close gently."""

from __future__ import annotations

import random
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.core.phrases import Voice
from skill.core.planner import LEAD_IN, RELEASE_BREATH, Planner, PlanOptions, Verbosity
from skill.core.player import Awaiting, Player, PlayerState, Reply
from skill.core.program import Program
from skill.core.routines import MOVE_SECONDS, Equipment, Kind, Move, RoutineError, load_routine, swap_problems
from skill.core.sounds import Chime, load_sounds
from skill.core.ssml import MAX_AUDIO_TAGS, check_ssml, chunk, speak
from skill.core.timeline import Position, SegmentKind, Timeline

ROUTINES = [
    "bedtime-wind-down", "chest-and-shoulder-opener", "desk-break", "foam-roller-upper-back", "lower-back-relief",
    "morning-back-wake-up", "neck-and-shoulders", "neck-range-of-motion", "reverse-presses", "spine-decompression",
    "upper-back-tennis-ball",
]
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _planner(book, seed: int = 0, **options) -> Planner:
    return Planner(Voice(book, random.Random(seed)), PlanOptions(**options))


# ----- routine data: second sides and transitions ----------------------------------------------

ROUTINE_HEAD = """
id: broken
title: Broken
summary: A test routine.
areas: [neck]
equipment: [none]
level: gentle
sources: [test]
steps:
"""


def _load(tmp_path: Path, steps: str, head: str = ROUTINE_HEAD):
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent(head) + textwrap.indent(textwrap.dedent(steps), "  "))
    return load_routine(path)


FIGURE_FOUR = """
- id: figure-four
  name: figure four
  kind: hold
  seconds: 30
  per_side: true
  say: Cross your left ankle over your right knee and let the left knee fall open.
  short: Ankle over knee.
  source: test
"""


def test_a_per_side_step_needs_its_second_side_instruction(tmp_path):
    with pytest.raises(RoutineError, match="step 1 'figure-four', field 'switch': per-side steps need 'switch'"):
        _load(tmp_path, FIGURE_FOUR)
    routine = _load(tmp_path, FIGURE_FOUR + "  switch: Now cross your right ankle over your left knee.\n")
    assert routine.steps[0].switch.startswith("Now cross your right ankle")


@pytest.mark.parametrize(
    ("switch", "wrong"),
    [
        ("Now cross your left ankle over your right knee.", "left ankle"),
        ("Now the other side, right knee over left ankle.", "left ankle"),
        ("Now the other way round.", "must name one too"),
    ],
)
def test_left_and_right_must_be_swapped_in_the_second_side(tmp_path, switch, wrong):
    with pytest.raises(RoutineError, match=re.escape(wrong)):
        _load(tmp_path, FIGURE_FOUR + f"  switch: {switch}\n")


def test_swap_check_reads_body_parts_and_directions():
    assert swap_problems("Turn your chest to the left, right hand on your left knee.",
                         "Turn to the right, left hand on your right knee.") == []
    assert swap_problems("Lean gently to the right.", "Lean gently to the right.") == ["right direction"]
    assert swap_problems("Reach your left arm over.", "Reach your left arm over again.") == ["left arm"]


def test_only_per_side_steps_carry_a_switch(tmp_path):
    steps = FIGURE_FOUR.replace("  per_side: true\n", "") + "  switch: Other side.\n"
    with pytest.raises(RoutineError, match="only per-side steps have a second-side instruction"):
        _load(tmp_path, steps)


TRANSITION = """
- id: roll-off
  name: off the roller
  kind: transition
  seconds: {seconds}
  say: Roll off the roller.
  short: Roll off.
  source: test
"""


@pytest.mark.parametrize(("move", "seconds", "ok"), [
    ("floor", 4, False), ("floor", 5, True), ("ball", 9, False), ("ball", 10, True),
    ("roller", 11, False), ("roller", 12, True), ("standing", 5, True),
])
def test_a_transition_lasts_at_least_what_its_kind_of_move_needs(tmp_path, move, seconds, ok):
    steps = TRANSITION.format(seconds=seconds) + f"  move: {move}\n"
    if ok:
        assert _load(tmp_path, steps).steps[0].seconds == seconds
    else:
        with pytest.raises(RoutineError, match=f"too short for a {move} move; allow at least {MOVE_SECONDS[Move(move)]}"):
            _load(tmp_path, steps)


def test_a_transition_must_say_how_the_body_moves(tmp_path):
    with pytest.raises(RoutineError, match="field 'move': a transition must say how the body moves"):
        _load(tmp_path, TRANSITION.format(seconds=10))
    with pytest.raises(RoutineError, match="use one of: in_place, standing, floor, ball, roller"):
        _load(tmp_path, TRANSITION.format(seconds=10) + "  move: hop\n")


def test_floor_moves_get_at_least_five_seconds_and_rollers_and_balls_more():
    assert MOVE_SECONDS[Move.FLOOR] >= 5
    assert MOVE_SECONDS[Move.ROLLER] > MOVE_SECONDS[Move.FLOOR]
    assert MOVE_SECONDS[Move.BALL] > MOVE_SECONDS[Move.FLOOR]


def test_safety_notes_need_a_one_line_reminder(tmp_path):
    head = ROUTINE_HEAD.replace("sources: [test]", "sources: [test]\nsafety: [Go gently.]")
    with pytest.raises(RoutineError, match="field 'reminder'"):
        _load(tmp_path, FIGURE_FOUR + "  switch: Now your right ankle over your left knee.\n", head)


def test_every_second_side_in_the_library_is_written_and_moves_the_ball_or_roller_honestly(library):
    for routine in library:
        for step in routine.steps:
            if step.per_side:
                assert step.switch and step.switch != step.say, (routine.id, step.id)
            if Equipment.TENNIS_BALL in routine.equipment and step.per_side and "ball" in step.say.lower():
                assert step.switch_move is Move.BALL, (routine.id, step.id)
            if step.kind is Kind.TRANSITION and "roller" in step.say.lower():
                assert step.move is Move.ROLLER, (routine.id, step.id)
            if step.kind is Kind.TRANSITION and re.search(r"\b(floor|lie|knees|roll onto)\b", step.say.lower()):
                assert step.move in (Move.FLOOR, Move.ROLLER), (routine.id, step.id)
        if routine.safety:
            assert routine.reminder and len(routine.reminder) < min(len(" ".join(routine.safety)), 120) + 1


# ----- planner: time to move, a breath after release, pace and speaking rate -------------------


def _after(segments, index):
    return segments[index + 1] if index + 1 < len(segments) else None


@PROPERTY
@given(routine_id=st.sampled_from(ROUTINES), seed=st.integers(0, 50), pace=st.sampled_from([0.75, 1.0, 1.25, 1.5]),
       chimes=st.booleans(), speech_rate=st.sampled_from([0.8, 1.0, 1.25]), verbosity=st.sampled_from(list(Verbosity)))
def test_every_change_of_position_leaves_the_time_its_move_needs(book, library, routine_id, seed, pace, chimes,
                                                                    speech_rate, verbosity):
    routine = library.get(routine_id)
    program = Program.of(routine, pace)
    timeline = _planner(book, seed, verbosity=verbosity, chimes=chimes, speech_rate=speech_rate).compile(program)
    segments = timeline.segments
    for phase in timeline.phases:
        step = routine.steps[phase.step]
        if step.kind is Kind.TRANSITION:
            assert phase.active >= MOVE_SECONDS[step.move]
            continue
        move = step.switch_move if phase.side == "right" else (step.move if phase.index == 0 else Move.IN_PLACE)
        own = [s for s in segments if s.step == phase.step and s.phase == phase.index and s.start < phase.active_start]
        asked = [s for s in segments if s.step == phase.step and s.cue in ("instruction", "switch", "switch_sides", "side_first")
                 and s.end <= phase.active_start + 1e-6 and (s.phase in (-1, phase.index))]
        begins = [s for s in own if s.cue == "begin"]
        if not begins or not asked:
            continue
        window = begins[0].start - asked[-1].end
        assert window >= MOVE_SECONDS[move] - 1e-6, (routine_id, step.id, phase.side, window)


@PROPERTY
@given(routine_id=st.sampled_from(ROUTINES), seed=st.integers(0, 50), pace=st.sampled_from([0.75, 1.0, 1.5]),
       chimes=st.booleans())
def test_a_short_breath_follows_every_release(book, library, routine_id, seed, pace, chimes):
    timeline = _planner(book, seed, chimes=chimes).compile(Program.of(library.get(routine_id), pace))
    segments = timeline.segments
    releases = [i for i, s in enumerate(segments) if s.cue == "release"]
    assert releases
    for i in releases:
        following = _after(segments, i)
        assert following is not None and following.kind is SegmentKind.PAUSE
        assert following.duration >= RELEASE_BREATH * pace - 1e-6


def test_slower_scales_holds_lead_ins_rests_transitions_and_breaths_together(book, library):
    for routine in library:
        normal = _planner(book).compile(Program.of(routine, 1.0))
        slower = _planner(book).compile(Program.of(routine, 1.25))

        def silences(timeline: Timeline, cue: str) -> list[float]:
            return [s.duration for s in timeline.segments if s.kind is SegmentKind.PAUSE and s.cue == cue]

        for cue in ("lead_in", "breath", "rest"):
            before, after = silences(normal, cue), silences(slower, cue)
            assert len(before) == len(after)
            assert all(b2 >= b1 * 1.25 - 0.01 or b2 >= b1 for b1, b2 in zip(before, after, strict=True)), (routine.id, cue)
            assert sum(after) >= sum(before) * 1.2 or not before, (routine.id, cue)
        for one, two in zip(Program.of(routine, 1.0).doses, Program.of(routine, 1.25).doses, strict=True):
            if one.seconds is not None:
                assert two.seconds >= one.seconds
            if one.rest:
                assert two.rest == min(90, round(one.rest * 1.25))
        transitions = [i for i, s in enumerate(routine.steps) if s.kind is Kind.TRANSITION]
        assert all(Program.of(routine, 1.25).doses[i].seconds >= round(routine.steps[i].seconds * 1.25) for i in transitions)
        assert all(Program.of(routine, 0.75).doses[i].seconds >= MOVE_SECONDS[routine.steps[i].move] for i in transitions)
        quiet = [sum(s.duration for s in t.segments if s.kind is SegmentKind.PAUSE) for t in (normal, slower)]
        assert quiet[1] >= quiet[0] * 1.2, routine.id


def test_speaking_rate_changes_the_voice_and_never_the_holds(book, library):
    routine = library.get("neck-and-shoulders")
    normal = _planner(book).compile(Program.of(routine))
    slow = _planner(book, speech_rate=0.8).compile(Program.of(routine))
    assert [p.active for p in slow.phases] == [p.active for p in normal.phases]
    spoken = [(a, b) for a, b in zip(normal.segments, slow.segments, strict=True) if a.kind is SegmentKind.SPEECH]
    assert all(b.rate == 80 and abs(b.duration - a.duration / 0.8) < 0.01 for a, b in spoken)
    assert Program.of(routine, 1.0) == Program.of(routine, 1.0)  # the pace alone makes the program
    assert '<prosody rate="80%">' in render(slow)


def render(timeline: Timeline) -> str:
    return "".join(speak(c.body) for c in chunk(timeline))


def test_the_bedtime_wind_down_is_spoken_calmly_and_closes_gently(book, library):
    bedtime = library.get("bedtime-wind-down")
    assert bedtime.prosody_rate < 100 and bedtime.closing
    timeline = _planner(book).compile(Program.of(bedtime), intro=True)
    assert {s.rate for s in timeline.segments if s.kind is SegmentKind.SPEECH} == {bedtime.prosody_rate}
    assert timeline.segments[-1].text == bedtime.closing
    for part in chunk(timeline):
        ssml = speak(part.body)
        assert ssml.startswith(f'<speak><prosody rate="{bedtime.prosody_rate}%">')
        assert check_ssml(ssml, "bedtime") == []
    morning = _planner(book).compile(Program.of(library.get("morning-back-wake-up")))
    assert "<prosody" not in render(morning)


# ----- phrases: nothing said twice in a response, no cue colliding with a name ----------------

FUNCTION_WORDS = {"the", "a", "an", "your", "you", "you're", "to", "of", "on", "and", "for", "is", "it", "with", "at",
                  "in", "this", "that", "one", "say", "when", "or", "from", "here", "there", "s"}
RHYTHM = {"count", "countdown", "breath_in", "breath_out", "breathing", "get_ready", "begin", "release", "halfway",
          "ten_left", "set", "side_first", "switch_sides", "rest", "dose", "next_up"}
"""Cues that mark time and come round by design, each phase (the voice still varies their wording)."""
SENTENCE = re.compile(r"[^.!?]+[.!?]?")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in FUNCTION_WORDS}


def test_no_cue_phrasing_collides_with_a_name_it_introduces(book, library):
    templates = [t for key, ts in book.entries.items() for t in ts if "{name}" in t]
    assert templates
    for routine in library:
        for step in routine.steps:
            for template in templates:
                clash = _words(template.replace("{name}", "")) & _words(step.name)
                assert not clash, f"{template!r} with {step.name!r} ({routine.id}) repeats {clash}"


def _sentences(reply: Reply) -> list[tuple[str, str, int]]:
    """(cue, sentence, piece number) in the order spoken; sentences from the player have the cue 'say'."""
    out = []
    pieces = []
    for part in reply.parts:
        pieces += [(s.cue, s.text) for s in part.segments if s.kind is SegmentKind.SPEECH] if isinstance(part, Timeline) \
            else [("say", part)]
    for n, (cue, text) in enumerate(pieces):
        out += [(cue, m.strip(), n) for m in SENTENCE.findall(text) if m.strip()]
    return out


def repeated(reply: Reply) -> list[str]:
    """Phrases said twice in one response, and sentences in a row that open with the same two words."""
    said = _sentences(reply)
    problems = []
    seen: set[str] = set()
    for cue, sentence, _ in said:
        key = sentence.lower()
        if cue not in RHYTHM and key in seen and len(key.split()) > 2:
            problems.append(f"said twice: {sentence!r}")
        seen.add(key)
    for (_, one, a), (_, two, b) in zip(said, said[1:], strict=False):
        first, second = one.lower().split()[:2], two.lower().split()[:2]
        if a != b and len(first) == 2 and first == second:  # one instruction may well say "as you ..." twice
            problems.append(f"same opening: {one!r} then {two!r}")
    return problems


def _replies(player: Player, voice: Voice, routine, returning: bool) -> list[Reply]:
    """Every kind of response a routine gives: the start, the first step, hands-free, resume, restore."""
    state = PlayerState()
    replies = [player.start(state, voice, routine, None, 0.0, returning=returning)]
    first = player.program(voice, routine.id, 1.0, None, Verbosity.FULL)[0].included[0]
    replies.append(player.narrate(state, voice, Position(first), 0.0))
    replies.append(player.keep_going(state, voice, 1e6))
    index = next((i for i, s in enumerate(routine.steps) if s.per_side), first)
    replies.append(player.restore(PlayerState(), voice, routine.id, Position(index, 1, 5.0), 0.0))
    paused = PlayerState()
    player.restore(paused, voice, routine.id, Position(index), 0.0)
    player.pause(paused, voice, 3.0)
    replies.append(player.resume(paused, voice, 4.0))
    replies.append(player.adjust(paused, voice, 5.0, "talk_slower"))
    return replies


@pytest.mark.parametrize("routine_id", ROUTINES)
@pytest.mark.parametrize("returning", [False, True])
def test_no_phrase_is_said_twice_in_one_response(book, library, routine_id, returning):
    player = Player(library)
    for seed in range(4):
        voice = Voice(book, random.Random(seed))
        for reply in _replies(player, voice, library.get(routine_id), returning):
            assert repeated(reply) == []


def test_a_restored_routine_does_not_say_picking_up_twice(book, library):
    player = Player(library)
    for seed in range(10):
        voice = Voice(book, random.Random(seed))
        reply = player.restore(PlayerState(), voice, "foam-roller-upper-back", Position(1, 0, 10.0), 0.0)
        openings = [s.split()[0].lower() for _, s, _ in _sentences(reply)[:3]]
        assert openings.count("picking") <= 1 and openings.count("back") <= 1, openings


# ----- safety: the full notes once, then a one-line reminder ---------------------------------


@pytest.mark.parametrize("routine_id", ROUTINES)
def test_first_movement_cue_comes_within_the_budget(book, library, routine_id):
    player = Player(library)
    routine = library.get(routine_id)
    for seed in range(6):
        first = player.first_movement(Voice(book, random.Random(seed)), routine, returning=False)
        again = player.first_movement(Voice(book, random.Random(seed)), routine, returning=True)
        assert first <= 45.0, f"{routine_id}: {first:.1f}s for a first-timer"
        assert again <= 30.0, f"{routine_id}: {again:.1f}s for a returning user"


def test_returning_users_hear_a_reminder_and_how_to_hear_the_notes_in_full(book, library):
    player = Player(library)
    routine = library.get("foam-roller-upper-back")
    voice = Voice(book, random.Random(0))
    state = PlayerState()
    started = player.start(state, voice, routine, None, 0.0, returning=True)
    short = " ".join(p for p in started.parts if isinstance(p, str))
    assert routine.reminder in short and "safety notes" in short.lower()
    assert not any(note in short for note in routine.safety)
    assert started.asks is Awaiting.SAFETY
    full = player.safety_notes(state, voice, 1.0, begun=False)
    text = " ".join(p for p in full.parts if isinstance(p, str))
    assert all(note in text for note in routine.safety) and full.asks is Awaiting.SAFETY and full.reprompt
    first = " ".join(p for p in player.start(PlayerState(), voice, routine, None, 0.0).parts if isinstance(p, str))
    assert all(note in first for note in routine.safety) and routine.reminder not in first
    assert player.first_movement(voice, routine, returning=True) < player.first_movement(voice, routine, returning=False) - 10


def test_safety_notes_mid_routine_hold_the_place(book, library):
    player = Player(library)
    voice = Voice(book, random.Random(0))
    state = PlayerState()
    routine = library.get("upper-back-tennis-ball")
    player.start(state, voice, routine, None, 0.0)
    player.narrate(state, voice, Position(2), 0.0)
    reply = player.safety_notes(state, voice, 30.0)
    assert state.paused and reply.reprompt and all(note in reply.parts for note in routine.safety)
    assert player.safety_notes(PlayerState(), voice, 0.0).reprompt  # nothing chosen yet: says so and asks


# ----- chimes ----------------------------------------------------------------------------


@PROPERTY
@given(routine_id=st.sampled_from(ROUTINES), seed=st.integers(0, 30), budget=st.sampled_from([1500, 4000, 7800]))
def test_chimes_are_amazon_sounds_within_the_audio_allowance(book, library, routine_id, seed, budget):
    timeline = _planner(book, seed, chimes=True).compile(Program.of(library.get(routine_id)), intro=True)
    sounds = {s.src for s in load_sounds().values()}
    audio = [s for s in timeline.segments if s.kind is SegmentKind.AUDIO]
    assert audio and {s.text for s in audio} <= sounds
    assert {s.cue for s in audio} <= {f"chime_{c}" for c in Chime}
    total = 0.0
    for part in chunk(timeline, budget):
        ssml = speak(part.body)
        assert check_ssml(ssml, routine_id) == []
        assert ssml.count("<audio ") <= MAX_AUDIO_TAGS
        total += part.duration
    assert abs(total - timeline.duration) < 0.01  # a chime left out leaves its length as silence


def test_every_begin_gets_a_chime_and_chimes_off_means_none(book, library):
    routine = library.get("upper-back-tennis-ball")
    on = _planner(book, chimes=True).compile(Program.of(routine))
    begins = [i for i, s in enumerate(on.segments) if s.cue == "begin"]
    assert all(on.segments[i - 1].cue == "chime_begin" for i in begins)
    switches = [i for i, s in enumerate(on.segments) if s.cue == "switch_sides"]
    assert switches and all(on.segments[i - 1].cue == "chime_switch" for i in switches)
    off = _planner(book, chimes=False).compile(Program.of(routine))
    assert not [s for s in off.segments if s.kind is SegmentKind.AUDIO]
    assert "<audio" not in render(off)


def test_a_response_keeps_switch_chimes_first_when_there_are_too_many(book, library):
    routine = library.get("upper-back-tennis-ball")
    timeline = _planner(book, chimes=True).compile(Program.of(routine))
    body = chunk(timeline)[0].body
    assert body.count("<audio ") == MAX_AUDIO_TAGS
    switch = load_sounds()[Chime.SWITCH].src
    switches = sum(1 for s in timeline.segments if s.cue == "chime_switch")
    assert body.count(switch) == min(switches, MAX_AUDIO_TAGS)


# ----- settings: pace, speaking rate and chimes are separate ---------------------------------


def test_talk_slower_changes_the_voice_not_the_pace_and_stops_at_its_limit():
    state = PlayerState()
    assert Player.prefer(state, "talk_slower") and state.speech_rate < 1.0 and state.pace == 1.0
    while Player.prefer(state, "talk_slower"):
        pass
    assert state.speech_rate == 0.8
    assert Player.prefer(state, "talk_faster") and state.speech_rate > 0.8
    assert Player.prefer(state, "slower") and state.pace == 1.25 and state.speech_rate < 1.0
    assert Player.prefer(state, "chimes_off") and not state.chimes
    assert not Player.prefer(state, "chimes_off")
    assert Player.prefer(state, "chimes_on") and state.chimes
    with pytest.raises(ValueError):
        Player.prefer(state, "louder")


def test_adjusting_mid_routine_carries_on_with_the_new_setting(book, library):
    player = Player(library)
    voice = Voice(book, random.Random(0))
    state = PlayerState()
    player.start(state, voice, library.get("neck-and-shoulders"), None, 0.0)
    player.narrate(state, voice, Position(1), 0.0)
    reply = player.adjust(state, voice, 5.0, "chimes_off")
    timeline = next(p for p in reply.parts if isinstance(p, Timeline))
    assert not [s for s in timeline.segments if s.kind is SegmentKind.AUDIO]
    reply = player.adjust(state, voice, 6.0, "talk_slower")
    timeline = next(p for p in reply.parts if isinstance(p, Timeline))
    assert {s.rate for s in timeline.segments if s.kind is SegmentKind.SPEECH} == {91}


def test_the_last_step_of_a_closing_routine_says_goodnight_and_ends(book, library):
    player = Player(library)
    voice = Voice(book, random.Random(0))
    state = PlayerState()
    bedtime = library.get("bedtime-wind-down")
    player.start(state, voice, bedtime, None, 0.0)
    reply = player.narrate(state, voice, Position(len(bedtime.steps) - 1), 0.0)
    timeline = reply.parts[-1]
    assert isinstance(timeline, Timeline) and timeline.segments[-1].text == bedtime.closing
    assert reply.end and reply.reprompt is None and reply.asks is None
    other = PlayerState()
    desk = library.get("desk-break")
    player.start(other, voice, desk, None, 0.0)
    reply = player.narrate(other, voice, Position(len(desk.steps) - 1), 0.0)
    assert not reply.end and reply.asks is Awaiting.ANOTHER


def test_lead_in_is_the_move_window_or_the_paced_lead_in(book, library):
    routine = library.get("upper-back-tennis-ball")
    timeline = _planner(book).compile(Program.of(routine, 1.5))
    lead_ins = [s.duration for s in timeline.segments if s.cue == "lead_in"]
    assert min(lead_ins) >= LEAD_IN * 1.5 - 1e-6
