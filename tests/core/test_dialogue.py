"""The dialogue state machine, transition by transition, with no Alexa types."""

from __future__ import annotations

import random
from functools import cache

import pytest

from skill.core.dialogue import Dialogue, Event
from skill.core.faq import Matcher, load_entries
from skill.core.memory import Memory
from skill.core.phrases import Phrasebook, Voice
from skill.core.player import Awaiting, Player, PlayerState, Reply
from skill.core.routines import ELSEWHERE, load_library
from skill.core.timeline import Timeline
from skill.storage.record import Resume

T0 = 1_800_000_000.0


@cache
def _player() -> Player:
    return Player(load_library())


@cache
def _faq() -> Matcher:
    return Matcher(load_entries(routine_ids={r.id for r in _player().library}))


class Coach:
    """A user and the dialogue, one event at a time, with a clock that only moves when told."""

    def __init__(self, memory: Memory | None = None) -> None:
        self.state = PlayerState()
        self.memory = memory or Memory(available=True)
        self.now = T0
        self.persisted = 0

    def __call__(self, event: Event, wait: float = 0.0, **slots: str | tuple[str, str | None]) -> Reply:
        self.now += wait
        heard = {k: (v, v) if isinstance(v, str) else v for k, v in slots.items()}
        dialogue = Dialogue(self.state, Voice(Phrasebook.load("en-US"), random.Random(0)), _player(), _faq, self.now,
                            memory=self.memory, persist=self._persist)
        return dialogue.handle(event, heard)

    def _persist(self) -> bool:
        self.persisted += 1
        return True

    def heard_all(self, reply: Reply) -> None:
        """Let the whole reply play out (plus a second), as a listener would."""
        self.now += sum(p.duration for p in reply.parts if isinstance(p, Timeline)) + 2.0


def text(reply: Reply) -> str:
    return " ".join(p for p in reply.parts if isinstance(p, str))


def _started(routine: str = "neck-and-shoulders") -> tuple[Coach, Reply]:
    coach = Coach()
    coach(Event.LAUNCH)
    coach(Event.START, routine=routine)
    assert coach.state.awaiting is Awaiting.SAFETY
    return coach, coach(Event.YES)


def test_launch_offers_a_routine_and_yes_starts_it():
    coach = Coach()
    reply = coach(Event.LAUNCH)
    offered = coach.state.offer
    assert coach.state.awaiting is Awaiting.OFFER and offered and reply.reprompt
    coach(Event.YES)
    assert coach.state.routine == offered and coach.state.awaiting is Awaiting.SAFETY


def test_yes_answers_only_the_latest_question():
    coach = Coach()
    coach(Event.LAUNCH)
    coach(Event.LIST)
    assert coach.state.awaiting is Awaiting.CHOICE
    reply = coach(Event.YES)  # "yes" to "which one?" starts nothing offered earlier
    assert coach.state.routine is None and coach.state.awaiting is Awaiting.CHOICE
    assert "which" in text(reply).lower()


def test_any_other_event_clears_the_question_but_a_misunderstanding_keeps_it():
    coach = Coach()
    coach(Event.LAUNCH)
    coach(Event.FALLBACK)
    assert coach.state.awaiting is Awaiting.OFFER
    coach(Event.QUESTION, query=("how often should i stretch", None))
    assert coach.state.awaiting is None
    coach(Event.YES)
    assert coach.state.routine is None


def test_no_to_an_offer_withdraws_it():
    coach = Coach()
    coach(Event.LAUNCH)
    coach(Event.NO)
    assert coach.state.offer is None
    assert "routine" in text(coach(Event.TIME_LEFT)).lower()


def test_an_ordinal_picks_from_the_last_list_and_a_name_picks_the_only_fit():
    coach = Coach()
    coach(Event.LIST)
    listed = list(coach.state.listed)
    coach(Event.START, ordinal="2")
    assert coach.state.routine == listed[1]
    coach = Coach()
    coach(Event.START, area="neck")
    assert coach.state.awaiting is Awaiting.CHOICE and len(coach.state.listed) >= 2
    choices = [_player().library.get(i) for i in coach.state.listed]
    with_chair = [r for r in choices if "chair" in {e.value for e in r.equipment}]
    coach(Event.START, equipment="chair")
    assert len(with_chair) == 1 and coach.state.routine == with_chair[0].id
    coach = Coach()
    coach(Event.LIST)
    reply = coach(Event.START, ordinal="40")
    assert coach.state.routine is None and coach.state.awaiting is Awaiting.CHOICE and "number" in text(reply).lower()


def test_a_length_is_not_an_ordinal():
    coach = Coach()
    coach(Event.LIST)
    coach(Event.START, duration=("PT30S", None), ordinal="2")
    assert coach.state.budget == 60.0


def test_asking_about_the_chosen_routine_keeps_its_safety_question():
    coach = Coach()
    coach(Event.START, routine="desk-break")
    reply = coach(Event.TIME_LEFT)
    assert "Desk break" in text(reply) and coach.state.awaiting is Awaiting.SAFETY
    coach(Event.QUESTION, query=("how often should i stretch", None))
    assert coach.state.awaiting is Awaiting.SAFETY and not coach.state.paused
    coach(Event.YES)
    assert coach.state.last is not None and coach.state.awaiting is Awaiting.CONTINUE


def test_stop_at_the_safety_question_leaves_nothing_to_resume():
    coach = Coach()
    coach(Event.START, routine="desk-break")
    reply = coach(Event.STOP)
    assert reply.end and coach.state.routine is None


def _on_left_side(coach: Coach, reply: Reply) -> Timeline:
    """Step on to the two-sided hold of neck-and-shoulders and cut in on its left side."""
    while True:
        timeline = next(p for p in reply.parts if isinstance(p, Timeline))
        if any(phase.side == "left" for phase in timeline.phases):
            return timeline
        coach.heard_all(reply)
        reply = coach(Event.NEXT)


def test_next_on_the_first_side_goes_to_the_second_and_skip_leaves_the_step():
    coach, reply = _started()
    timeline = _on_left_side(coach, reply)
    left = next(p for p in timeline.phases if p.side == "left")
    step = left.step
    coach.now += 1.0 + left.active_start + 3
    coach(Event.NEXT)
    assert (coach.state.step, coach.state.phase) == (step, left.index + 1)
    coach.now += 5
    coach(Event.SKIP)
    assert coach.state.step > step


def test_pauses_keep_the_seconds_and_carry_on_resumes_the_step():
    coach, reply = _started()
    timeline = _on_left_side(coach, reply)
    left = next(p for p in timeline.phases if p.side == "left")
    coach.now += 1.0 + left.active_start + 4
    coach(Event.PAUSE)
    first = coach.state.elapsed
    assert coach.state.paused and first == pytest.approx(4, abs=0.01)
    resumed = coach(Event.YES, wait=30)  # "yes" or "carry on" after a pause resumes; it never skips
    assert coach.state.step == left.step and not coach.state.paused
    phase = next(p for p in next(p for p in resumed.parts if isinstance(p, Timeline)).phases)
    coach.now += 1.0 + phase.active_start + 5 - 30
    coach(Event.PAUSE, wait=30)
    assert coach.state.elapsed == pytest.approx(first + 5, abs=0.01)


def test_time_left_mid_hold_answers_and_carries_on_in_the_same_reply():
    coach, reply = _started()
    timeline = _on_left_side(coach, reply)
    left = next(p for p in timeline.phases if p.side == "left")
    coach.now += 1.0 + left.active_start + 6
    reply = coach(Event.TIME_LEFT)
    said = text(reply)
    assert "seconds" in said and "resume" not in said.lower()
    carried = [p for p in reply.parts if isinstance(p, Timeline)]
    assert carried and coach.state.elapsed == pytest.approx(6, abs=0.01) and not coach.state.paused


def test_where_between_steps_waits_for_next_and_next_still_goes_one_step():
    coach, reply = _started()
    coach.heard_all(reply)
    step = coach.state.last.after
    reply = coach(Event.WHERE)
    assert "next" in text(reply).lower() and coach.state.awaiting is Awaiting.CONTINUE
    coach(Event.NEXT)
    assert coach.state.step == step


def test_a_red_flag_mid_routine_ends_it_and_forgets_the_place():
    coach, reply = _started()
    coach.now += 3
    coach.memory.record.resume = Resume(routine_id="neck-and-shoulders", step_index=1, saved_at=T0)
    reply = coach(Event.STATEMENT, statement=("my arm is tingling and numb", None))
    assert coach.state.routine is None and coach.memory.record.resume is None
    assert "urgent" in text(reply).lower() and "resume" not in text(reply).lower()


def test_discomfort_mid_hold_stops_with_advice_and_never_says_resume():
    coach, reply = _started()
    coach.now += 3
    reply = coach(Event.STATEMENT, statement=("ouch that hurts", None))
    assert coach.state.paused and "resume" not in text(reply).lower()
    assert "stop" in text(reply).lower()


def test_reopening_after_a_timeout_offers_the_saved_place_and_keeps_hands_free():
    memory = Memory(available=True)
    memory.record.resume = Resume(routine_id="desk-break", step_index=2, phase_index=0, elapsed_seconds=7.0,
                                  saved_at=T0, handsfree=True)
    coach = Coach(memory)
    coach(Event.LAUNCH)
    assert coach.state.awaiting is Awaiting.SAVED
    coach(Event.YES)
    assert coach.state.routine == "desk-break" and coach.state.handsfree and coach.state.step == 2


def test_forget_asks_first_and_persists_before_confirming():
    coach = Coach()
    coach(Event.FORGET)
    assert coach.state.awaiting is Awaiting.FORGET and coach.persisted == 0
    reply = coach(Event.YES)
    assert coach.memory.forget and coach.persisted == 1 and reply.end


def test_commands_that_need_a_routine_say_so_and_keep_the_session():
    coach = Coach()
    for event in (Event.PAUSE, Event.PREVIOUS, Event.START_OVER, Event.SLOWER, Event.NEXT):
        reply = coach(event)
        assert not reply.end and reply.reprompt and "routine" in text(reply).lower()


def test_a_misunderstanding_is_never_what_repeat_says_again():
    coach = Coach()
    assert coach(Event.FALLBACK).remember is False
    assert coach(Event.LAUNCH).remember is True


def test_every_event_has_a_transition():
    assert all(hasattr(Dialogue, f"on_{event.value}") for event in Event)


def test_a_routine_chosen_but_never_begun_records_no_progress_even_mid_turn():
    from skill.core.memory import sync

    coach = Coach()
    coach(Event.START, routine="desk-break")
    coach.state.awaiting = None  # as it is while a handler saves mid-turn (the dialogue restores it after)
    sync(coach.memory, coach.state, coach.now)
    assert coach.memory.record.resume is None and coach.memory.record.last_routine is None
    coach(Event.YES)
    sync(coach.memory, coach.state, coach.now)
    assert coach.memory.record.resume is not None and coach.memory.record.last_routine == "desk-break"


def _finish(coach: Coach, routine: str = "neck-range-of-motion") -> Reply:
    coach(Event.START, routine=routine)
    coach(Event.YES)
    return coach(Event.KEEP_GOING)  # the whole of a short routine fits in one response


def test_a_finished_routine_asks_how_it_felt_once_a_day_and_the_answer_sets_the_next_pace():
    coach = Coach()
    reply = _finish(coach)
    assert coach.state.awaiting is Awaiting.CHECK_IN and "too easy" in text(reply)
    pace = coach.state.pace
    reply = coach(Event.FEELING, feeling="easy")
    assert coach.state.pace > pace and coach.state.awaiting is Awaiting.ANOTHER
    coach.heard_all(reply)
    coach.now += 600
    coach.state = PlayerState(pace=coach.state.pace)
    _finish(coach)
    assert coach.state.awaiting is Awaiting.ANOTHER  # asked already today
    coach.now += 86400
    coach.state = PlayerState(pace=coach.state.pace)
    _finish(coach)
    assert coach.state.awaiting is Awaiting.CHECK_IN
    before = coach.state.pace
    coach(Event.FEELING, feeling="hard")
    assert coach.state.pace < before


def test_the_check_in_can_be_skipped_and_changes_nothing():
    coach = Coach()
    _finish(coach)
    pace = coach.state.pace
    reply = coach(Event.SKIP)
    assert coach.state.pace == pace and coach.state.awaiting is Awaiting.ANOTHER and not reply.end


def test_no_check_in_without_memory():
    coach = Coach(Memory(available=False))
    _finish(coach)
    assert coach.state.awaiting is Awaiting.ANOTHER


def test_an_acknowledgement_mid_hold_carries_on_from_the_cut_in_and_never_skips():
    coach, reply = _started()
    timeline = _on_left_side(coach, reply)
    left = next(p for p in timeline.phases if p.side == "left")
    coach.now += 1.0 + left.active_start + 5
    coach(Event.YES)  # "got it", "ok", "I'm on the roller"
    assert (coach.state.step, coach.state.phase) == (left.step, left.index)
    assert coach.state.elapsed == pytest.approx(5, abs=0.01)


def test_next_after_the_end_never_plays_the_routine_again():
    coach = Coach()
    coach.heard_all(_finish(coach))
    for _ in range(3):
        reply = coach(Event.NEXT)
        assert not any(isinstance(p, Timeline) for p in reply.parts)
        assert coach.state.awaiting is Awaiting.ANOTHER


def test_how_long_after_a_list_gives_each_listed_routine_its_length_and_keeps_the_list():
    coach = Coach()
    coach(Event.START, area="neck")
    listed = [_player().library.get(i) for i in coach.state.listed]
    reply = coach(Event.TIME_LEFT)
    assert all(r.title in text(reply) for r in listed) and "minutes" in text(reply)
    assert coach.state.awaiting is Awaiting.CHOICE
    coach(Event.START, ordinal="1")
    assert coach.state.routine == listed[0].id


def test_steps_queued_hands_free_but_never_heard_keep_their_full_instructions():
    coach = Coach()
    coach(Event.START, routine="desk-break")
    coach(Event.YES)
    reply = coach(Event.KEEP_GOING)
    timeline = next(p for p in reply.parts if isinstance(p, Timeline))
    assert len(timeline.steps) > 2
    first = timeline.steps[0]
    coach.now += 1.0 + 2  # cut in two seconds into the first queued step
    coach(Event.PAUSE)
    queued = [_player().library.get("desk-break").steps[i].id for i in timeline.steps[1:]]
    assert not set(queued) & set(coach.state.seen)
    reply = coach(Event.RESUME)
    later = _player().library.get("desk-break").steps[timeline.steps[1]]
    assert coach.state.step == first and later.say in text(Reply(parts=[
        s.text for p in reply.parts if isinstance(p, Timeline) for s in p.segments if s.text]))


# An area is put to the answerer as the request it was in: "wrists" alone asks nothing.
@pytest.mark.parametrize(("slot", "declined", "unknown"), [("routine", "plantar fasciitis", "wibble wobble"), ("area", "wrists", "tummy")])
def test_unresolved_words_that_the_coach_declines_get_that_answer(slot, declined, unknown):
    coach = Coach()
    coach(Event.LAUNCH)
    reply = coach(Event.START, **{slot: (declined, None)})
    assert coach.state.answer == "other-body-parts" and coach.state.routine is None
    assert "physiotherapist" in text(reply)
    reply = coach(Event.START, **{slot: (unknown, None)})  # nothing it declines: it says so and offers what it has
    assert unknown in text(reply) and "physiotherapist" not in text(reply) and coach.state.routine is None


def _elsewhere_names() -> list[str]:
    import yaml

    from skill.interaction_model import SOURCE

    areas = yaml.safe_load(SOURCE.read_text())["slot_types"]["BODY_AREA"]
    value = next(v for v in areas if v["id"] == ELSEWHERE)
    return [value["value"], *value["synonyms"]]


@pytest.mark.parametrize("name", _elsewhere_names())
def test_each_part_no_routine_works_on_gets_the_answer_that_says_so(name):
    coach = Coach()
    coach(Event.LAUNCH)
    reply = coach(Event.START, area=(name, ELSEWHERE))
    assert coach.state.answer == "other-body-parts" and coach.state.routine is None, text(reply)


def test_a_step_number_goes_to_that_step_and_an_unread_one_asks_which():
    coach, _ = _started()
    coach(Event.GO_TO, number=("2", None))
    assert "step 2 of" in text(coach(Event.PAUSE, wait=3.0))
    assert "only has" in text(coach(Event.GO_TO, number=("40", None)))
    assert "which step" in text(coach(Event.GO_TO, number=("?", None))).lower()


def test_skipping_a_step_still_to_come_moves_nothing_and_says_when_to_skip_it():
    coach, _ = _started()
    here = coach.state.step
    reply = coach(Event.SKIP, wait=3, step=("chin tucks", "chin-tucks"))
    assert coach.state.step == here and "chin tucks" in text(reply).lower() and "skip" in text(reply).lower()
    coach(Event.SKIP, wait=1, step=("settling in", "settling-in"))  # the step under way: skipped
    assert coach.state.step > here
    done = coach(Event.SKIP, wait=1, step=("settling in", "settling-in"))  # already behind us
    assert "already" in text(done).lower() or "behind" in text(done).lower()


def test_skipping_the_step_up_next_moves_past_it():
    coach, reply = _started()
    coach.heard_all(reply)  # the narration ends: "next is slow nods, say next when you're ready"
    up_next = coach.state.last.after
    name = _player().library.get(coach.state.routine).steps[up_next].name
    coach(Event.SKIP, step=(name, None))
    assert coach.state.step > up_next


@pytest.mark.parametrize("place", ["shortest", "longest", "middle", "penultimate"])
def test_a_place_or_a_length_picks_from_the_list_just_given(place):
    coach = Coach()
    coach(Event.START, area="neck")
    listed = [_player().library.get(i) for i in coach.state.listed]
    assert len(listed) == 3
    length = _player().length(Voice(Phrasebook.load("en-US"), random.Random(0)))
    expected = {"shortest": min(listed, key=length), "longest": max(listed, key=length),
                "middle": listed[1], "penultimate": listed[-2]}[place]
    coach(Event.START, ordinal=place)
    assert coach.state.routine == expected.id


def test_the_middle_of_an_even_list_is_no_choice():
    coach = Coach()
    coach(Event.START, area="lower_back")
    assert len(coach.state.listed) == 4
    coach(Event.START, ordinal="middle")
    assert coach.state.routine is None and coach.state.awaiting is Awaiting.CHOICE



def test_a_length_picks_nothing_when_no_choice_is_asked():
    coach = Coach()
    coach(Event.START, area="neck")
    coach(Event.START, ordinal="1")
    started = coach.state.routine
    coach(Event.START, ordinal="shortest")  # "can i have a shorter one" mid-routine
    assert coach.state.routine == started


def test_urgent_advice_is_not_followed_by_a_refusal():
    coach = Coach()
    coach(Event.LAUNCH)
    reply = coach(Event.STATEMENT, statement=("since my back surgery i can't control my bladder", None))
    said = text(reply).lower()
    assert "urgent" in said and "weigh" not in said
