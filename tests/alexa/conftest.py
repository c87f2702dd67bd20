"""A conversation driver: real envelopes through the built skill, with every response checked."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from ask_sdk_model import ResponseEnvelope

from skill.alexa.builder import build_skill, invoke
from skill.core.limits import MAX_BREAK_MS, MAX_RESPONSE_BYTES, MAX_SSML_CHARS
from skill.simulator.checks import check_response
from skill.simulator.envelopes import Session, SlotValue

BREAK = re.compile(r'<break time="(\d+)ms"/>')
TAG = re.compile(r"<[^>]+>")


@dataclass
class Said:
    """One response, parsed."""

    raw: dict[str, Any]

    @property
    def ssml(self) -> str:
        return ((self.raw.get("response") or {}).get("outputSpeech") or {}).get("ssml", "")

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", TAG.sub(" ", self.ssml)).strip()

    @property
    def reprompt(self) -> str | None:
        reprompt = (self.raw.get("response") or {}).get("reprompt")
        if not reprompt:
            return None
        return TAG.sub("", reprompt["outputSpeech"]["ssml"]).strip()

    @property
    def ends(self) -> bool:
        return (self.raw.get("response") or {}).get("shouldEndSession") is not False

    @property
    def state(self) -> dict[str, Any]:
        return (self.raw.get("sessionAttributes") or {}).get("player") or {}

    def breaks(self) -> list[float]:
        return [int(ms) / 1000 for ms in BREAK.findall(self.ssml)]


def check_limits(raw: dict[str, Any]) -> None:
    """The certification limits every response must respect."""
    skill = SKILL
    envelope = skill.serializer.deserialize(json.dumps(raw), ResponseEnvelope)
    assert isinstance(envelope, ResponseEnvelope)
    assert len(json.dumps(raw).encode()) <= MAX_RESPONSE_BYTES
    response = raw.get("response") or {}
    for speech in (response.get("outputSpeech"), (response.get("reprompt") or {}).get("outputSpeech")):
        if speech:
            assert len(speech["ssml"]) <= MAX_SSML_CHARS
            assert all(int(ms) <= MAX_BREAK_MS for ms in BREAK.findall(speech["ssml"]))
            import xml.etree.ElementTree as ET

            ET.fromstring(speech["ssml"])
    if response.get("shouldEndSession") is False:
        assert response.get("reprompt"), "a response that keeps the session open must reprompt"
    # ... and everything the simulator checks on every response (SSML tags, audio, prosody, ...).
    assert not check_response(raw)


SKILL = build_skill()
USERS = itertools.count(1)


class Conversation:
    """Talks to the skill in-process as one user on one device."""

    def __init__(self, skill=SKILL, locale: str = "en-US", user_id: str | None = None) -> None:
        counter = itertools.count(1)
        self.skill = skill
        # A user of its own unless a test means to come back as the same person.
        user_id = user_id or f"amzn1.ask.account.test-{next(USERS)}"
        self.session = Session(locale=locale, user_id=user_id, ids=lambda: f"{user_id}-{next(counter)}")
        self.last: Said | None = None

    def send(self, envelope: dict[str, Any]) -> Said:
        raw = invoke(self.skill, envelope)
        check_limits(raw)
        self.session.receive(raw)
        self.last = Said(raw)
        return self.last

    def launch(self) -> Said:
        return self.send(self.session.launch())

    def say(self, intent: str, **slots: SlotValue | str) -> Said:
        filled = {k: v if isinstance(v, SlotValue) else SlotValue(v) for k, v in slots.items()}
        return self.send(self.session.intent(intent, filled))

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
