"""Conversations with the built skill through the simulator's own Simulator, every response checked by check_response."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import pytest

from skill.alexa.builder import build_skill
from skill.simulator.driver import Exchange, Simulator, in_process
from skill.simulator.envelopes import Session, SlotValue

TAG = re.compile(r"<[^>]+>")


@dataclass
class Said:
    """One response, as the simulator read it."""

    exchange: Exchange

    @property
    def raw(self) -> dict[str, Any]:
        return self.exchange.response

    @property
    def ssml(self) -> str:
        return self.exchange.ssml

    @property
    def text(self) -> str:
        """The speech's SSML with its tags removed and white space folded."""
        return re.sub(r"\s+", " ", TAG.sub(" ", self.ssml)).strip()

    @property
    def reprompt(self) -> str | None:
        return self.exchange.reprompt

    @property
    def ends(self) -> bool:
        return self.exchange.end_session

    @property
    def state(self) -> dict[str, Any]:
        return (self.raw.get("sessionAttributes") or {}).get("player") or {}


SKILL = build_skill()
USERS = itertools.count(1)


class Conversation:
    """One user on one device, talking to the skill in process through a Simulator that sends intents as given."""

    def __init__(self, skill=SKILL, locale: str = "en-US", user_id: str | None = None) -> None:
        counter = itertools.count(1)
        # A user of its own unless a test means to come back as the same person.
        user_id = user_id or f"amzn1.ask.account.test-{next(USERS)}"
        session = Session(locale=locale, user_id=user_id, ids=lambda: f"{user_id}-{next(counter)}")
        self.simulator = Simulator(in_process(skill), session)
        self.last: Said | None = None

    @property
    def session(self) -> Session:
        return self.simulator.session

    def send(self, envelope: dict[str, Any]) -> Said:
        """Send an envelope made by the test."""
        return self._heard(self.simulator.send(envelope))

    def launch(self) -> Said:
        return self._heard(self.simulator.launch())

    def say(self, intent: str, **slots: SlotValue | str) -> Said:
        filled = {k: v if isinstance(v, SlotValue) else SlotValue(v) for k, v in slots.items()}
        return self._heard(self.simulator.intent(intent, filled))

    def _heard(self, exchange: Exchange) -> Said:
        """The response, which must pass every check the simulator makes (check_response)."""
        assert not exchange.warnings, exchange.warnings
        body = exchange.response.get("response") or {}
        for speech in (body.get("outputSpeech"), (body.get("reprompt") or {}).get("outputSpeech")):
            assert not speech or "ssml" in speech, "Said reads SSML speech only"
        self.last = Said(exchange)
        return self.last

    def begin(self, routine_id: str) -> Said:
        """Open the skill, start a routine and say yes to its safety notes; the first step's answer."""
        self.launch()
        said = self.say("StartRoutineIntent", routine=routine(routine_id))
        assert self.last.state.get("awaiting") == "safety" and "safety" in said.text.lower()
        return self.say("AMAZON.YesIntent")

    def next_steps(self, count: int) -> Said:
        """Hear each answer out, then say next, `count` times; the last answer."""
        for _ in range(count):
            self.listen()
            said = self.say("AMAZON.NextIntent")
        return said

    def wait(self, seconds: float) -> None:
        self.session.advance(seconds)

    def listen(self) -> None:
        """Let the whole last response play out, and a moment more."""
        assert self.last is not None
        self.wait(self.heard_seconds() + 2)

    def heard_seconds(self) -> float:
        assert self.last is not None
        last = self.last.state.get("last")
        return (last["marks"][0] + 1.5) if last else 3.0


def routine(id_: str, value: str | None = None) -> SlotValue:
    return SlotValue(value or id_.replace("-", " "), id_, "ROUTINE")


def area(id_: str) -> SlotValue:
    return SlotValue(id_.replace("_", " "), id_, "BODY_AREA")


def equipment(id_: str) -> SlotValue:
    return SlotValue(id_.replace("_", " "), id_, "EQUIPMENT")


@pytest.fixture
def talk() -> Conversation:
    return Conversation()
