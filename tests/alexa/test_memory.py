"""Memory across sessions: resume, preferences, favourites, a forgiving recap, forgetting, and failures."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from skill.alexa.builder import build_skill
from skill.core.phrases import Phrasebook
from skill.simulator.envelopes import SlotValue
from skill.storage import SqliteStore, StorageError
from tests.alexa.conftest import Conversation, routine

DAY = 86400


@pytest.fixture
def store(tmp_path):
    return SqliteStore(tmp_path / "memory.sqlite3")


@pytest.fixture
def skill(store):
    return build_skill(store=store)


def person(skill, user: str = "amzn1.ask.account.memory") -> Conversation:
    return Conversation(skill=skill, user_id=user)


def _reopen(talk: Conversation, after: float = DAY):
    talk.session.session_id = None
    talk.wait(after)
    return talk.launch()


def test_disclaimer_once_per_user(skill):
    talk = person(skill)
    assert "not medical advice" in talk.launch().text
    talk.say("AMAZON.StopIntent")
    assert "not medical advice" not in _reopen(talk).text
    other = person(skill, "amzn1.ask.account.someone-else")
    assert "not medical advice" in other.launch().text


def test_stop_mid_routine_and_resume_a_day_later_at_the_right_step(skill, store, library):
    talk = person(skill)
    talk.begin("desk-break")
    talk.next_steps(2)
    talk.listen()
    talk.say("AMAZON.StopIntent")
    record, _ = store.load(talk.session.user_id)
    assert record.resume.routine_id == "desk-break" and record.resume.step_index == 3
    said = _reopen(talk)
    assert "Welcome back" in said.text or "Good to have you back" in said.text
    assert "step 4 of Desk break" in said.text
    said = talk.say("AMAZON.ResumeIntent")
    assert talk.last.state["step"] == 3
    assert library.get("desk-break").steps[3].say in said.text or library.get("desk-break").steps[3].short in said.text


def test_resume_keeps_the_seconds_done_of_a_hold(skill, store):
    talk = person(skill)
    talk.begin("neck-and-shoulders")
    talk.next_steps(3)
    left = talk.last.state["last"]["marks"][2][0]
    talk.wait(int(left[5]) + 8)
    talk.send(talk.session.ended("USER_INITIATED"))
    resume = store.load(talk.session.user_id)[0].resume
    assert (resume.step_index, resume.phase_index) == (3, 0) and resume.elapsed_seconds > 4
    _reopen(talk)
    talk.say("AMAZON.YesIntent")
    phases = talk.last.state["last"]["marks"][2]
    assert phases[0][6] == pytest.approx(20 - resume.elapsed_seconds, abs=0.01)


def test_no_means_something_new_and_the_saved_spot_is_dropped(skill, store):
    talk = person(skill)
    talk.begin("desk-break")
    talk.say("AMAZON.StopIntent")
    _reopen(talk)
    said = talk.say("AMAZON.NoIntent")
    assert "Desk break" in said.text and not said.ends
    assert store.load(talk.session.user_id)[0].resume is None


def test_an_old_unfinished_routine_is_not_offered(skill):
    talk = person(skill)
    talk.begin("desk-break")
    talk.say("AMAZON.StopIntent")
    assert "step" not in _reopen(talk, 8 * DAY).text


def test_finishing_a_routine_clears_the_saved_spot(skill, store):
    talk = person(skill)
    talk.begin("neck-range-of-motion")
    talk.say("KeepGoingIntent")
    while talk.last.state["awaiting"] != "another":
        talk.listen()
        talk.say("KeepGoingIntent")
    talk.say("AMAZON.NoIntent")
    record = store.load(talk.session.user_id)[0]
    assert record.resume is None and record.last_routine == "neck-range-of-motion"


def test_pace_and_verbosity_are_remembered(skill):
    talk = person(skill)
    talk.begin("desk-break")
    talk.say("SlowerIntent")
    talk.say("ShorterIntent")
    talk.say("AMAZON.StopIntent")
    _reopen(talk)
    state = talk.last.state
    assert state["pace"] == 1.25 and state["verbosity"] == "short"


def test_favourites_and_the_same_as_yesterday(skill):
    talk = person(skill)
    talk.launch()
    said = talk.say("AddFavouriteIntent")
    assert "Start a routine first" in said.text
    talk.say("StartRoutineIntent", routine=routine("reverse-presses"))
    talk.say("AMAZON.YesIntent")
    said = talk.say("AddFavouriteIntent")
    assert "Reverse presses" in said.text and "favorites" in said.text
    talk.say("AMAZON.StopIntent")
    said = _reopen(talk)
    assert said.text.count("Reverse presses") >= 1
    talk.say("StartFavouriteIntent")
    assert talk.last.state["routine"] == "reverse-presses"
    talk.say("StartRoutineIntent", routine=routine("desk-break"))
    talk.say("AMAZON.YesIntent")
    talk.say("AMAZON.StopIntent")
    _reopen(talk)
    talk.say("AMAZON.NoIntent")
    talk.say("StartLastRoutineIntent")
    assert talk.last.state["routine"] == "desk-break"


def test_british_spelling_for_en_gb(skill):
    talk = Conversation(skill=skill, locale="en-GB", user_id="amzn1.ask.account.uk")
    talk.begin("desk-break")
    assert "favourites" in talk.say("AddFavouriteIntent").text


def test_weekly_recap_counts_sessions_and_never_scolds(skill):
    talk = person(skill)
    for day in range(3):
        _reopen(talk, DAY)
        talk.say("AMAZON.StopIntent")
    talk.session.session_id = None
    talk.wait(DAY)
    said = talk.say("ProgressIntent")
    # Opened Monday to Thursday (the clock starts on Sunday 22 November): four this week, none before.
    assert _progress(said.text) == ("4 sessions", "0 sessions")
    assert not any(word in said.text.lower() for word in ("missed", "only", "lazy", "should have", "failed"))
    lonely = person(skill, "amzn1.ask.account.new-person")
    said = lonely.say("ProgressIntent")
    # A first visit this week is one session, and the count agrees with its noun.
    assert _progress(said.text) == ("1 session", "0 sessions")


def _progress(text: str) -> tuple[str, str] | None:
    """The (this week, last week) counts a memory.progress phrasing says, whichever phrasing it is."""
    for variant in Phrasebook.load("en-US").variants("memory.progress"):
        pattern = re.escape(variant).replace(r"\{this_week\}", "(?P<this>.+?)").replace(r"\{last_week\}", "(?P<last>.+?)")
        found = re.search(pattern, text)
        if found:
            return found["this"], found["last"]
    return None


def test_forget_me_asks_first_then_deletes(skill, store):
    talk = person(skill)
    talk.launch()
    said = talk.say("ForgetMeIntent")
    assert "Are you sure" in said.text and not said.ends
    said = talk.say("AMAZON.NoIntent")
    assert any(v in said.text for v in Phrasebook.load("en-US").variants("memory.kept"))
    assert store.load(talk.session.user_id)[0].disclaimer_heard
    talk.say("ForgetMeIntent")
    said = talk.say("AMAZON.YesIntent")
    assert said.ends and "deleted" in said.text
    record, _ = store.load(talk.session.user_id)
    assert record.revision == 0 and not record.disclaimer_heard
    assert "not medical advice" in _reopen(talk).text


class DownStore:
    """A store whose every call fails, like a locked or vanished database."""

    def load(self, user_id):
        raise StorageError("database is locked")

    save = update = delete = load


def test_storage_down_the_skill_still_answers_without_memory():
    talk = Conversation(skill=build_skill(store=DownStore()))
    said = talk.launch()
    assert "not medical advice" in said.text and not said.ends
    talk.say("StartRoutineIntent", routine=routine("desk-break"))
    said = talk.say("AMAZON.YesIntent")
    assert "chair" in said.text.lower()
    said = talk.say("ProgressIntent")
    assert "can't reach my memory" in said.text and not said.ends
    assert talk.say("AMAZON.StopIntent").ends


def test_without_a_store_the_skill_runs_without_memory():
    talk = Conversation(skill=build_skill(store=None))
    for _ in range(2):
        assert "not medical advice" in talk.launch().text
        talk.say("StartRoutineIntent", routine=routine("desk-break"))
        assert "chair" in talk.say("AMAZON.YesIntent").text.lower()
        assert "can't reach my memory" in talk.say("StartFavouriteIntent").text
        talk.say("AMAZON.StopIntent")


def test_a_corrupt_record_is_kept_aside_and_the_user_starts_fresh(skill, store, tmp_path):
    talk = person(skill)
    talk.launch()
    talk.say("AMAZON.StopIntent")
    with sqlite3.connect(tmp_path / "memory.sqlite3") as db:
        db.execute("UPDATE records SET body = ? WHERE user_id = ?", ("{garbage", talk.session.user_id))
    said = _reopen(talk)
    assert "couldn't read what I remembered" in said.text
    with sqlite3.connect(tmp_path / "memory.sqlite3") as db:
        kept = db.execute("SELECT body FROM quarantine WHERE user_id = ?", (talk.session.user_id,)).fetchall()
    assert ("{garbage",) in kept


def test_no_health_information_is_stored(skill, tmp_path):
    talk = person(skill)
    talk.launch()
    talk.say("QuestionIntent", query=SlotValue("my legs are numb and I have chest pain"))
    talk.say("AMAZON.StopIntent")
    with sqlite3.connect(tmp_path / "memory.sqlite3") as db:
        bodies = [json.loads(b) for (b,) in db.execute("SELECT body FROM records")]
    text = json.dumps(bodies).lower()
    assert "numb" not in text and "chest" not in text and "pain" not in text
    assert set(bodies[0]) <= {"v", "resume", "pace", "verbosity", "favourites", "last_routine", "sessions",
                              "disclaimer_heard", "chimes", "speech_rate", "safety_heard", "checked_in", "revision"}


class ReadOnlyStore:
    """Reads work, every write fails: a full disk or a read-only database."""

    def __init__(self, inner):
        self.inner = inner

    def load(self, user_id):
        return self.inner.load(user_id)

    def save(self, *args, **kwargs):
        raise StorageError("attempt to write a readonly database")

    update = delete = save


def test_a_save_that_fails_is_never_confirmed_and_nothing_else_changes(tmp_path):
    store = SqliteStore(tmp_path / "memory.sqlite3")
    user = "amzn1.ask.account.read-only"
    talk = Conversation(skill=build_skill(store=store), user_id=user)
    talk.launch()
    talk.say("StartRoutineIntent", routine=routine("desk-break"))
    talk.say("AMAZON.StopIntent")
    before, _ = store.load(user)
    failing = Conversation(skill=build_skill(store=ReadOnlyStore(store)), user_id=user)
    failing.launch()
    failing.say("StartRoutineIntent", routine=routine("desk-break"))
    said = failing.say("AddFavouriteIntent")
    assert "couldn't save" in said.text and "added" not in said.text and not said.ends
    failing.say("ForgetMeIntent")
    said = failing.say("AMAZON.YesIntent")
    assert "couldn't delete" in said.text and "deleted everything" not in said.text
    after, _ = store.load(user)
    assert after == before and not after.favourites


def test_narration_preferences_and_heard_safety_notes_are_remembered(skill, store):
    talk = person(skill, "amzn1.ask.account.narration")
    talk.begin("foam-roller-upper-back")  # chosen, notes heard in full, yes
    assert "<audio" in talk.next_steps(1).ssml  # a new listener hears chimes
    record, _ = store.load(talk.session.user_id)
    assert record.has_heard_safety("foam-roller-upper-back") and not record.has_heard_safety("desk-break")
    assert (record.chimes, record.speech_rate) == (True, 1.0)
    talk.say("AMAZON.StopIntent")

    def change(r):
        r.chimes, r.speech_rate = False, 0.9

    store.update(talk.session.user_id, change)
    _reopen(talk)
    assert (talk.last.state["chimes"], talk.last.state["speech_rate"]) == (False, 0.9)
    talk.begin("foam-roller-upper-back")
    said = talk.next_steps(1)
    assert "<audio" not in said.ssml and '<prosody rate="90%">' in said.ssml
