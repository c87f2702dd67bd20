"""Cutting in with the wake word mid-narration: the skill finds the spot from the timeline."""

from __future__ import annotations

import pytest

from skill.core.player import Settings
from tests.alexa.conftest import Conversation

DELAY = Settings().start_delay


def _narrating_ear_to_shoulder(talk: Conversation) -> dict:
    """Start neck-and-shoulders and navigate to the per-side hold; returns its phases."""
    talk.begin("neck-and-shoulders")
    talk.next_steps(3)
    state = talk.last.state
    assert state["step"] == 3
    return state["last"]["marks"][2]


def _phase(marks, index):
    step, idx, side, set_, start, active_start, active, end = marks[index]
    return {"start": start, "active_start": active_start, "active": active, "end": end, "side": side}


@pytest.mark.parametrize("into_hold", [2, 9, 15])
def test_pause_mid_hold_keeps_the_seconds_done_and_resume_gives_the_rest(into_hold):
    talk = Conversation()
    left = _phase(_narrating_ear_to_shoulder(talk), 0)
    moment = int(left["active_start"] + into_hold + DELAY) + 1
    talk.wait(moment)
    said = talk.say("AMAZON.PauseIntent")
    state = talk.last.state
    done = moment - DELAY - left["active_start"]
    assert state["paused"] and state["step"] == 3 and state["phase"] == 0
    assert state["elapsed"] == pytest.approx(done, abs=0.01)
    assert "step 4" in said.text and f"{int(round((left['active'] - done) / 5) * 5 or 5)} seconds" in said.text
    talk.wait(30)  # a pause lasts as long as it likes
    said = talk.say("AMAZON.ResumeIntent")
    phases = talk.last.state["last"]["marks"][2]
    assert _phase(phases, 0)["active"] == pytest.approx(left["active"] - done, abs=0.01)
    assert [p[2] for p in phases] == ["left", "right"]
    assert "where you left off" in said.text.lower() or "back to it" in said.text.lower()


def test_two_pauses_in_one_hold_keep_all_the_seconds_done_and_repeat_no_cue():
    talk = Conversation()
    left = _phase(_narrating_ear_to_shoulder(talk), 0)
    first = int(left["active_start"] + 8 + DELAY) + 1
    talk.wait(first)
    talk.say("AMAZON.PauseIntent")
    done = talk.last.state["elapsed"]
    talk.say("AMAZON.ResumeIntent")
    resumed = _phase(talk.last.state["last"]["marks"][2], 0)
    talk.wait(int(resumed["active_start"] + 6 + DELAY) + 1)
    talk.say("AMAZON.PauseIntent")
    state = talk.last.state
    assert (state["step"], state["phase"]) == (3, 0)
    later = state["elapsed"]
    assert later == pytest.approx(done + (int(resumed["active_start"] + 6 + DELAY) + 1 - DELAY - resumed["active_start"]), abs=0.01)
    said = talk.say("AMAZON.ResumeIntent")
    rest = _phase(talk.last.state["last"]["marks"][2], 0)
    assert rest["active"] == pytest.approx(left["active"] - later, abs=0.01)
    # Past halfway on the left side, only the right side still says "half".
    assert later > left["active"] / 2 and said.text.lower().count("half") == 1


def test_pause_on_the_second_side():
    talk = Conversation()
    marks = _narrating_ear_to_shoulder(talk)
    right = _phase(marks, 1)
    talk.wait(int(right["active_start"] + 5 + DELAY) + 1)
    talk.say("AMAZON.PauseIntent")
    state = talk.last.state
    assert (state["step"], state["phase"]) == (3, 1)
    talk.say("AMAZON.ResumeIntent")
    phases = talk.last.state["last"]["marks"][2]
    assert [p[2] for p in phases] == ["right"]


def test_pause_during_the_instruction_restarts_the_step():
    talk = Conversation()
    _narrating_ear_to_shoulder(talk)
    talk.wait(3)
    talk.say("AMAZON.PauseIntent")
    state = talk.last.state
    assert (state["step"], state["phase"], state["elapsed"]) == (3, 0, 0.0)


def test_pause_after_the_narration_ended_waits_at_the_next_step():
    talk = Conversation()
    _narrating_ear_to_shoulder(talk)
    talk.listen()
    talk.say("AMAZON.PauseIntent")
    assert talk.last.state["step"] == 4


def test_next_on_the_first_side_goes_to_the_second_side():
    talk = Conversation()
    left = _phase(_narrating_ear_to_shoulder(talk), 0)
    assert left["side"] == "left"
    talk.wait(int(left["active_start"]) + 4)
    said = talk.say("AMAZON.NextIntent")
    state = talk.last.state
    assert (state["step"], state["phase"], state["elapsed"]) == (3, 1, 0.0)
    # Straight to the second side: its switch cue first, not the first side's instruction again.
    assert any(word in said.text.lower()[:40] for word in ("other", "switch")) and "left side" not in said.text.lower()


def test_next_on_the_second_side_goes_to_the_following_step():
    talk = Conversation()
    right = _phase(_narrating_ear_to_shoulder(talk), 1)
    talk.wait(int(right["active_start"]) + 4)
    talk.say("AMAZON.NextIntent")
    assert talk.last.state["step"] == 4


def test_skip_mid_step_skips_both_sides_to_the_following_step():
    talk = Conversation()
    left = _phase(_narrating_ear_to_shoulder(talk), 0)
    talk.wait(int(left["active_start"]) + 4)
    talk.say("SkipIntent")
    assert talk.last.state["step"] == 4


def test_what_was_that_mid_step_repeats_that_step_in_full(library):
    talk = Conversation()
    left = _phase(_narrating_ear_to_shoulder(talk), 0)
    talk.wait(int(left["active_start"]) + 4)
    said = talk.say("AMAZON.RepeatIntent")
    assert talk.last.state["step"] == 3
    assert library.get("neck-and-shoulders").steps[3].say in said.text


def test_slower_mid_hold_resumes_there_with_the_new_pace():
    talk = Conversation()
    left = _phase(_narrating_ear_to_shoulder(talk), 0)
    talk.wait(int(left["active_start"] + 6 + DELAY) + 1)
    talk.say("SlowerIntent")
    state = talk.last.state
    assert state["pace"] == 1.25 and state["step"] == 3
    resumed = _phase(state["last"]["marks"][2], 0)
    # 20 s hold at pace 1.25 is 25 s; about 7 s were done.
    assert resumed["active"] == pytest.approx(25 - state["elapsed"], abs=0.01)


def test_speaking_rate_estimate_is_configurable():
    from skill.alexa.builder import build_skill
    from skill.core.timeline import SpeechRate

    slow = Conversation(skill=build_skill(settings=Settings(rate=SpeechRate(words_per_second=1.5))))
    fast = Conversation()
    slow_marks = _narrating_ear_to_shoulder(slow)
    fast_marks = _narrating_ear_to_shoulder(fast)
    assert _phase(slow_marks, 0)["active_start"] > _phase(fast_marks, 0)["active_start"]
