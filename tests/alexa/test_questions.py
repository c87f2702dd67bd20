"""Quick questions inside the skill: answers, follow-ups, offered routines, red flags, declines."""

from __future__ import annotations

import logging

from skill.core.faq import default_matcher
from skill.core.phrases import Phrasebook
from skill.simulator.envelopes import SlotValue
from tests.alexa.conftest import Conversation


def _entry(entry_id: str):
    return next(e for e in default_matcher().entries if e.id == entry_id)


def ask(talk: Conversation, question: str):
    return talk.say("QuestionIntent", query=SlotValue(question))


def test_a_question_gets_its_short_answer_and_the_session_stays_open(talk):
    talk.launch()
    said = ask(talk, "should I use ice or heat")
    match = default_matcher().match("should I use ice or heat")
    assert match.entry.answer in said.text
    assert not said.ends and said.reprompt


def test_tell_me_more_gives_the_follow_up(talk):
    talk.launch()
    ask(talk, "what is the best massage for upper back pain")
    entry = default_matcher().match("what is the best massage for upper back pain").entry
    assert entry.more
    said = talk.say("TellMeMoreIntent")
    assert entry.more in said.text


def test_tell_me_more_with_nothing_asked(talk):
    talk.launch()
    said = talk.say("TellMeMoreIntent")
    assert any(v in said.text for v in Phrasebook.load("en-US").variants("faq.no_more")) and not said.ends


def test_start_that_routine_starts_the_offered_one(talk, library):
    talk.launch()
    said = ask(talk, "how do I use a tennis ball on a knot")
    offered = talk.last.state["offer"]
    assert offered and library.get(offered).title in said.text
    talk.say("StartRoutineIntent")
    assert talk.last.state["routine"] == offered


def test_red_flag_answer_comes_first_whatever_else_matched(talk):
    talk.launch()
    for statement in ("my legs are numb", "I have chest pain", "my back hurts after a fall",
                      "I have back pain and a fever, should I use heat"):
        said = ask(talk, statement)
        urgent = default_matcher().match(statement).urgent
        assert urgent is not None, statement
        assert said.text.startswith(urgent.answer), said.text


def test_unknown_question_suggests_two_it_can_answer_and_logs_the_miss(talk, caplog):
    talk.launch()
    with caplog.at_level(logging.INFO, logger="backcoach.skill"):
        said = ask(talk, "can I massage my sciatic nerve with a frozen bottle while pregnant with twins on a boat")
    if "don't know" in said.text or "not one I can answer" in said.text:
        offered = [e for e in default_matcher().suggestions() if e.questions[0] in said.text]
        assert len(offered) == 2
        assert any("question not answered" in r.message for r in caplog.records)
    assert not said.ends


def test_out_of_scope_is_declined_politely(talk):
    talk.launch()
    for question in ("what's the weather", "who won the football", "play some music"):
        said = ask(talk, question)
        assert "massage" in said.text and ("outside" in said.text or "only know" in said.text)
        assert not said.ends


def test_named_topic(talk):
    talk.launch()
    said = talk.say("TopicIntent", topic=SlotValue("shiatsu", "shiatsu", "TOPIC"))
    assert _entry("shiatsu-massage").answer in said.text


def test_question_mid_routine_pauses_and_resume_continues_where_it_was(talk):
    talk.begin("desk-break")
    talk.listen()
    talk.say("AMAZON.NextIntent")
    step = talk.last.state["step"]
    talk.wait(3)
    said = ask(talk, "how often should I take stretch breaks")
    assert "resume" in said.text
    state = talk.last.state
    assert state["paused"] and state["step"] == step and state["routine"] == "desk-break"
    talk.say("AMAZON.ResumeIntent")
    assert talk.last.state["step"] == step and not talk.last.state["paused"]
