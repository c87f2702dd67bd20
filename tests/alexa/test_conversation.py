"""Whole conversations through the built skill with real request envelopes."""

from __future__ import annotations

import pytest

from skill.simulator.envelopes import SlotValue
from tests.alexa.conftest import Conversation, area, equipment, routine


def test_launch_greets_disclaims_offers_and_explains_questions(talk):
    said = talk.launch()
    assert "Back Coach" in said.text
    assert "not medical advice" in said.text
    assert "Neck and shoulder release" in said.text and "Desk break" in said.text
    assert "ask me" in said.text.lower()
    assert not said.ends and said.reprompt


def test_yes_after_launch_starts_the_offered_routine(talk):
    talk.launch()
    said = talk.say("AMAZON.YesIntent")
    assert "Neck and shoulder release" in said.text
    assert "safety" in said.text.lower()
    said = talk.say("AMAZON.YesIntent")
    assert "Sit tall" in said.text
    assert "Next up" in said.text or "Next is" in said.text or "Coming up" in said.text


def test_choose_by_name(talk):
    talk.launch()
    said = talk.say("StartRoutineIntent", routine=routine("reverse-presses"))
    assert "Reverse presses" in said.text or "reverse presses" in said.text.lower()
    assert talk.last.state["routine"] == "reverse-presses"


def test_choose_by_body_area_asks_when_several_fit(talk):
    talk.launch()
    said = talk.say("StartRoutineIntent", area=area("neck"))
    assert talk.last.state["routine"] is None
    assert "Neck range of motion" in said.text and "Neck and shoulder release" in said.text
    assert not said.ends and said.reprompt


def test_choose_by_equipment_starts_the_only_fit(talk):
    talk.launch()
    talk.say("StartRoutineIntent", equipment=equipment("tennis_ball"))
    assert talk.last.state["routine"] == "upper-back-tennis-ball"


def test_choose_by_length_picks_the_closest_fit(talk):
    talk.launch()
    said = talk.say("StartRoutineIntent", duration=SlotValue("PT5M"))
    assert talk.last.state["routine"] in {"desk-break", "neck-range-of-motion"}
    assert "about 5 minutes" in said.text


def test_combination_of_area_length_fits_a_budget(talk, library):
    talk.launch()
    said = talk.say("StartRoutineIntent", area=area("lower_back"), duration=SlotValue("PT4M"))
    state = talk.last.state
    assert "lower_back" in library.get(state["routine"]).areas
    assert state["budget"] == 240
    assert "fits your time" in said.text or "fit your time" in said.text


def test_unknown_routine_name_is_named_and_the_list_offered(talk):
    talk.launch()
    said = talk.say("StartRoutineIntent", routine=SlotValue("yoga flow", None, "ROUTINE"))
    assert "yoga flow" in said.text
    assert "Desk break" in said.text
    assert not said.ends


def test_list_on_request(talk, library):
    talk.launch()
    said = talk.say("ListRoutinesIntent")
    for r in library:
        assert r.title in said.text
    assert not said.ends


def test_safety_notes_come_first_and_no_declines(talk):
    talk.launch()
    said = talk.say("StartRoutineIntent", routine=routine("foam-roller-upper-back"))
    assert talk.last.state["awaiting"] == "safety"
    assert said.text.rstrip().endswith("?")
    said = talk.say("AMAZON.NoIntent")
    assert talk.last.state["routine"] is None
    assert not said.ends


def test_every_step_names_the_next_and_asks(talk, library):
    talk.begin("desk-break")
    steps = library.get("desk-break").steps
    said = talk.last
    assert steps[1].name in said.text
    assert said.reprompt and len(said.reprompt.split()) <= 14


@pytest.mark.parametrize("word", ["AMAZON.NextIntent", "AMAZON.YesIntent", "SkipIntent"])
def test_whole_routine_by_saying_only_next(talk, library, word):
    talk.begin("neck-range-of-motion")
    total = len(library.get("neck-range-of-motion").steps)
    for _ in range(total - 1):
        talk.listen()
        said = talk.say(word)
    assert "routine" in said.text.lower() and ("done" in said.text or "completes" in said.text)
    # The first routine finished today ends with the check-in, which a no declines, ending the session.
    assert talk.last.state["awaiting"] == "check_in"
    said = talk.say("AMAZON.NoIntent")
    assert said.ends


def test_whole_routine_hands_free_by_saying_keep_going(talk, library):
    talk.begin("upper-back-tennis-ball")
    said = talk.say("KeepGoingIntent")
    responses = 1
    while talk.last.state["awaiting"] not in ("another", "check_in"):
        talk.listen()
        said = talk.say("KeepGoingIntent")
        responses += 1
        assert responses < 10
    assert "Well done" in said.text or "Nice work" in said.text
    # Several whole steps per response: fewer responses than steps.
    assert responses < len(library.get("upper-back-tennis-ball").steps)


def test_previous_repeat_and_start_over(talk, library):
    talk.begin("desk-break")
    steps = library.get("desk-break").steps
    talk.listen()
    talk.say("AMAZON.NextIntent")  # step 2
    talk.listen()
    said = talk.say("AMAZON.RepeatIntent")
    assert steps[1].say in said.text
    talk.listen()
    said = talk.say("AMAZON.PreviousIntent")  # step 2 was just heard: back to step 1
    assert talk.last.state["step"] == 0
    assert said.text.startswith(steps[0].short)
    talk.listen()
    said = talk.say("AMAZON.PreviousIntent")
    assert "first step" in said.text
    assert talk.last.state["step"] == 0
    said = talk.say("AMAZON.StartOverIntent")
    assert talk.last.state["step"] == 0


def test_where_am_i_and_time_left(talk, library):
    talk.begin("desk-break")
    talk.listen()
    talk.say("AMAZON.NextIntent")
    talk.wait(2)
    said = talk.say("WhereAmIIntent")
    assert "step 2 of" in said.text
    # An informational cut-in answers, then the narration carries on from the cut-in in the same response.
    assert talk.last.state["paused"] is False and talk.last.state["step"] == 1
    assert "resume" not in said.text.lower()
    talk.wait(2)
    said = talk.say("TimeLeftIntent")
    assert "minute" in said.text or "seconds" in said.text
    assert talk.last.state["paused"] is False and "resume" not in said.text.lower()
    talk.say("AMAZON.PauseIntent")
    said = talk.say("TimeLeftIntent")
    assert talk.last.state["paused"] is True and "resume" in said.text.lower()


def test_pace_and_verbosity_commands(talk, library):
    talk.begin("neck-and-shoulders")
    talk.listen()
    said = talk.say("SlowerIntent")
    assert talk.last.state["pace"] == 1.25 and "slowest" not in said.text
    # 1.25 to 1.5 (1.5625 clamped) is still a step, not "already the slowest"...
    said = talk.say("SlowerIntent")
    assert talk.last.state["pace"] == 1.5 and "slowest" not in said.text
    # ... only a request that changes nothing is at the limit.
    said = talk.say("SlowerIntent")
    assert talk.last.state["pace"] == 1.5
    assert "slowest" in said.text
    talk.say("FasterIntent")
    assert talk.last.state["pace"] == 1.2
    talk.say("ShorterIntent")
    assert talk.last.state["verbosity"] == "short"
    talk.say("ShorterIntent")
    assert talk.last.state["verbosity"] == "quiet"
    said = talk.say("MoreDetailIntent")
    assert talk.last.state["verbosity"] == "full"
    step = library.get("neck-and-shoulders").steps[talk.last.state["step"]]
    assert step.say in said.text


@pytest.mark.parametrize(
    "intent",
    ["AMAZON.NextIntent", "AMAZON.PreviousIntent", "AMAZON.StartOverIntent", "AMAZON.PauseIntent",
     "AMAZON.ResumeIntent", "SkipIntent", "TimeLeftIntent", "WhereAmIIntent", "SlowerIntent",
     "FasterIntent", "ShorterIntent", "MoreDetailIntent"],
)
def test_routine_commands_outside_a_routine_explain_and_stay_open(talk, intent):
    talk.launch()
    talk.say("AMAZON.NoIntent")  # nothing offered any more
    said = talk.say(intent)
    assert "routine" in said.text.lower()
    assert not said.ends and said.reprompt


@pytest.mark.parametrize("intent", ["TimeLeftIntent", "WhereAmIIntent"])
def test_asking_about_an_offered_routine_describes_it_and_offers_it_again(talk, library, intent):
    talk.launch()
    offered = library.get(talk.last.state["offer"])
    said = talk.say(intent)
    assert offered.title in said.text and "minutes" in said.text
    assert talk.last.state["awaiting"] == "offer"
    said = talk.say("AMAZON.YesIntent")
    assert talk.last.state["routine"] == offered.id


def test_help_outside_and_inside(talk):
    talk.launch()
    said = talk.say("AMAZON.HelpIntent")
    assert "not medical advice" in said.text and not said.ends
    talk.begin("desk-break")
    said = talk.say("AMAZON.HelpIntent")
    assert "next" in said.text and "resume" in said.text
    assert talk.last.state["paused"] is True and not said.ends


@pytest.mark.parametrize("intent", ["AMAZON.StopIntent", "AMAZON.CancelIntent"])
def test_stop_and_cancel_end_and_say_where(talk, intent, library):
    talk.begin("desk-break")
    talk.listen()
    talk.say("AMAZON.NextIntent")
    said = talk.say(intent)
    assert said.ends
    assert "step 2" in said.text


def test_stop_outside_a_routine_just_ends(talk):
    talk.launch()
    assert talk.say("AMAZON.StopIntent").ends


def test_fallback_keeps_session_and_routine(talk):
    talk.launch()
    said = talk.say("AMAZON.FallbackIntent")
    assert not said.ends and "help" in said.text
    talk.begin("desk-break")
    said = talk.say("AMAZON.FallbackIntent")
    assert not said.ends and "resume" in said.text
    assert talk.last.state["routine"] == "desk-break"


def test_navigate_home_leaves_the_routine(talk):
    talk.begin("desk-break")
    said = talk.say("AMAZON.NavigateHomeIntent")
    assert talk.last.state["routine"] is None and not said.ends


def test_session_ended_gets_no_speech(talk):
    talk.launch()
    said = talk.send(talk.session.ended("EXCEEDED_MAX_REPROMPTS"))
    assert said.ssml == "" and "reprompt" not in (said.raw.get("response") or {})


def test_unknown_request_type_and_intent_are_handled(talk):
    talk.launch()
    said = talk.send(talk.session.envelope({"type": "Alexa.Presentation.APL.UserEvent"}))
    assert said.ssml == ""
    talk.launch()
    said = talk.say("SomethingNewIntent")
    assert not said.ends and said.reprompt


def test_repeat_outside_a_routine_repeats_the_last_speech(talk):
    first = talk.launch()
    again = talk.say("AMAZON.RepeatIntent")
    assert again.ssml == first.ssml and not again.ends


@pytest.mark.parametrize(
    ("attributes", "explanation"),
    [
        ({"player": "garbage"}, "couldn't read"),
        ({"player": {"v": 1, "routine": "desk-break", "step": "three"}}, "couldn't read"),
        ({"player": {"v": 99}}, "couldn't read"),
        ({"player": {"v": 1, "routine": "retired-routine", "step": 1}}, "isn't available"),
        ({"player": {"v": 1, "routine": "desk-break", "step": 40}}, "has changed"),
        ({"player": {"v": 1, "routine": "desk-break", "pace": 99}}, "couldn't read"),
        ({"player": {"v": 1, "routine": "desk-break", "last": {"sent_at": 1, "marks": [1, [[50, 0, 1]], []], "after": None}}}, "has changed"),
    ],
)
def test_tampered_or_stale_state_resets_with_a_short_explanation(talk, attributes, explanation):
    talk.launch()
    talk.session.attributes = attributes
    said = talk.say("AMAZON.NextIntent")
    assert explanation in said.text
    assert not said.ends
    assert talk.last.state["routine"] is None


def test_other_locales_answer(library):
    for locale in ("en-GB", "en-CA", "en-AU", "en-IN", "fr-FR"):
        talk = Conversation(locale=locale)
        said = talk.launch()
        assert "Back Coach" in said.text


def test_talk_slower_slows_every_sentence_not_only_the_narration(talk):
    talk.launch()
    said = talk.say("TalkSlowerIntent")
    ssml = said.raw["response"]["outputSpeech"]["ssml"]
    rate = round(talk.last.state["speech_rate"] * 100)
    assert rate < 100 and f'<prosody rate="{rate}%">' in ssml
    assert f'<prosody rate="{rate}%">' in said.raw["response"]["reprompt"]["outputSpeech"]["ssml"]
    said = talk.say("ListRoutinesIntent")
    assert f'<prosody rate="{rate}%">' in said.raw["response"]["outputSpeech"]["ssml"]


def test_repeat_after_a_misunderstanding_says_the_last_question_again_not_the_apology(talk):
    launched = talk.launch()
    talk.say("AMAZON.FallbackIntent")
    said = talk.say("AMAZON.RepeatIntent")
    assert said.text == launched.text and talk.last.state["awaiting"] == "offer"
