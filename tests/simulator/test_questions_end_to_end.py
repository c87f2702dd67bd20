"""Questions end to end: every suggested question reaches its entry, in a routine too, and chest requests get a safety check first."""

from __future__ import annotations

import re

import pytest

from skill.core.faq import default_matcher
from skill.simulator.envelopes import Session
from skill.simulator.driver import Simulator, in_process

SUGGESTED = default_matcher().suggestions()


def _simulator(number: int) -> Simulator:
    counter = iter(range(10_000))
    return Simulator(in_process(), Session(ids=lambda: f"suggest-{number}-{next(counter)}"))


@pytest.mark.parametrize("entry", SUGGESTED, ids=[e.id for e in SUGGESTED])
def test_each_suggested_question_is_answered_by_its_entry(entry):
    simulator = _simulator(0)
    simulator.say("open back coach")
    exchange = simulator.say(entry.questions[0])[-1]
    assert exchange.answer == entry.id, (entry.questions[0], exchange.heard and exchange.heard.explain)


def test_the_question_the_launch_suggests_is_answered_by_the_entry_it_comes_from():
    seen = set()
    for number in range(40):
        launch = _simulator(number).say("open back coach")[-1]
        found = re.search(r"like: (.+?)\?", launch.speech)
        assert found, launch.speech
        seen.add(found.group(1))
    by_question = {e.questions[0]: e for e in SUGGESTED}
    assert seen <= set(by_question) and len(seen) >= 2
    for question in seen:
        simulator = _simulator(99)
        simulator.say("open back coach")
        assert simulator.say(question)[-1].answer == by_question[question].id


def test_a_question_mid_routine_gets_the_same_entry_as_outside_one():
    for entry in SUGGESTED:
        simulator = _simulator(1)
        simulator.say("open back coach")
        simulator.say("start the desk break")
        simulator.say("yes")
        exchange = simulator.say(entry.questions[0], wait=20)[-1]
        assert exchange.answer == entry.id, entry.questions[0]
        assert not exchange.end_session


def test_asking_for_the_chest_first_says_what_to_do_if_it_is_the_heart():
    simulator = _simulator(2)
    simulator.say("open back coach")
    said = simulator.say("something for my chest")[-1].speech
    assert said.startswith("One check first") and "emergency" in said
    other = _simulator(3)
    other.say("open back coach")
    assert "emergency" not in other.say("something for my neck")[-1].speech
    # A routine for the chest first, asked for by name, gets the same check; others do not.
    named = _simulator(4)
    named.say("open back coach")
    assert named.say("the chest opener please")[-1].speech.startswith("One check first")
    desk = _simulator(5)
    desk.say("open back coach")
    assert "emergency" not in desk.say("the desk break please")[-1].speech


def test_a_chest_first_routine_started_as_the_favourite_or_as_the_one_that_fits_gets_the_same_check():
    simulator = _simulator(6)
    simulator.say("open back coach")
    simulator.say("the chest opener please")
    simulator.say("add this to my favourites")
    simulator.say("stop")
    simulator.say("open back coach")
    assert simulator.say("start my favourite")[-1].speech.startswith("One check first")
    fit = _simulator(7)
    fit.say("open back coach")
    said = fit.say("a five minute wall stretch for my shoulders")[-1].speech
    assert said.startswith("One check first") and said.count("One check first") == 1, said


def test_an_answer_counts_only_on_the_turn_that_speaks_it():
    simulator = _simulator(4)
    simulator.say("open back coach")
    assert simulator.say("should I use ice or heat")[-1].answer == "ice-or-heat"
    assert simulator.say("list the routines")[-1].answer is None


@pytest.mark.parametrize(
    ("said", "flag"),
    [
        ("put the neck one on for me, oh and my chest has felt heavy since breakfast", "red-flag-chest-pain"),
        ("both my legs have gone numb since this morning so can we just do the lower back relief", "red-flag-both-legs"),
    ],
)
def test_a_routine_request_with_a_warning_sign_in_it_gets_urgent_advice(said, flag):
    simulator = _simulator(7)
    simulator.say("open back coach")
    exchange = simulator.say(said)[-1]
    answer = next(e.answer for e in default_matcher().entries if e.id == flag)
    assert exchange.speech.startswith(answer[:60]), (exchange.speech, exchange.heard and exchange.heard.explain)


@pytest.mark.parametrize("said", ["something for my calves", "my ankles are stiff, give me a routine",
                                  "put on a ten minute knee routine", "can you do a stretch for my wrists"])
def test_a_routine_asked_for_a_part_no_routine_works_on_is_declined(said):
    simulator = _simulator(7)
    simulator.say("open back coach")
    assert simulator.say(said)[-1].answer == "other-body-parts"


@pytest.mark.parametrize(("said", "routine"), [("start the lower back relief, the one with knees to chest", "lower-back-relief"),
                                               ("do the desk break with the wrist stretch", "desk-break")])
def test_a_step_that_names_such_a_part_still_starts_its_routine(said, routine):
    simulator = _simulator(8)
    simulator.say("open back coach")
    exchange = simulator.say(said)[-1]
    assert exchange.answer is None and exchange.heard.slots["routine"].id == routine, exchange.heard.explain
