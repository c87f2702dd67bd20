"""Interceptors: localisation and state before each request; saving state and logging after."""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Response

from skill.alexa.turn import (
    KEEP_LAST_SPEECH,
    LAST_SPEECH_KEY,
    MAX_REPEATABLE,
    STATE_KEY,
    Turn,
    request_time,
    session_attributes,
)
from skill.core.limits import MAX_RESPONSE_BYTES
from skill.core.memory import Memory
from skill.core.phrases import Phrasebook, Voice
from skill.core.planner import clamp_speech_rate
from skill.core.player import Player, restore
from skill.core.program import clamp_pace
from skill.core.settings import Verbosity

if TYPE_CHECKING:
    from skill.core.faq import Matcher

log = logging.getLogger("backcoach.skill")
LOCALE = re.compile(r"[a-z]{2}-[A-Z]{2}")


def _locale(handler_input: HandlerInput) -> str:
    locale = getattr(handler_input.request_envelope.request, "locale", None)
    return locale if isinstance(locale, str) and LOCALE.fullmatch(locale) else "en-US"


def _repeatable(value: object) -> bool:
    """Whether a stored last speech has the shape and size Repeat can use."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("speech"), str)
        and isinstance(value.get("reprompt"), str)
        and len(value["speech"]) + len(value["reprompt"]) <= 2 * MAX_REPEATABLE
    )


class TurnInterceptor(AbstractRequestInterceptor):
    """Attaches the turn: the locale's voice, the restored player state and the request time."""

    def __init__(self, player: Player, faq_source: Callable[[], Matcher]) -> None:
        self.player = player
        self.faq_source = faq_source

    def process(self, handler_input: HandlerInput) -> None:
        envelope = handler_input.request_envelope
        request_id = getattr(envelope.request, "request_id", None) or ""
        voice = Voice(Phrasebook.load(_locale(handler_input)), random.Random(request_id))
        attributes = handler_input.attributes_manager
        session = session_attributes(handler_input)
        for key in [k for k in session if k not in (STATE_KEY, LAST_SPEECH_KEY)]:
            del session[key]  # only our own keys travel back, so nothing can bloat a response
        if not _repeatable(session.get(LAST_SPEECH_KEY)):
            session.pop(LAST_SPEECH_KEY, None)
        state, reset = restore(session.get(STATE_KEY), self.player.library)
        if reset is not None:
            log.warning("stored state reset (%s)", reset)
            session.pop(LAST_SPEECH_KEY, None)  # it belongs to the state that was dropped
        memory = attributes.request_attributes.get("memory") or Memory()
        now = request_time(handler_input)
        if getattr(envelope.session, "new", False):
            if STATE_KEY not in session and memory.available:
                state.pace = clamp_pace(memory.record.pace)
                state.verbosity = Verbosity(memory.record.verbosity)
                state.chimes = memory.record.chimes
                state.speech_rate = clamp_speech_rate(memory.record.speech_rate)
            memory.record.add_session(now)
        attributes.request_attributes["turn"] = Turn(
            state=state, voice=voice, player=self.player, faq_source=self.faq_source, now=now, memory=memory, reset=reset
        )


class SaveStateInterceptor(AbstractResponseInterceptor):
    """Writes the player state back into the session attributes."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        turn = handler_input.attributes_manager.request_attributes.get("turn")
        if turn is not None:
            session_attributes(handler_input)[STATE_KEY] = turn.state.to_json()


def _inner(ssml: str | None) -> str:
    return re.sub(r"^\s*<speak>|</speak>\s*$", "", ssml or "")


class RememberSpeechInterceptor(AbstractResponseInterceptor):
    """Keeps the last short answer in the session so Repeat can say it again word for word.

    Routine narration is replanned by the player instead, so long speech is not stored.
    """

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if response is None or response.output_speech is None:
            return
        if handler_input.attributes_manager.request_attributes.get(KEEP_LAST_SPEECH):
            return
        speech = _inner(getattr(response.output_speech, "ssml", None))
        reprompt = response.reprompt.output_speech if response.reprompt else None
        session_attributes(handler_input)[LAST_SPEECH_KEY] = (
            {"speech": speech, "reprompt": _inner(getattr(reprompt, "ssml", None))}
            if len(speech) <= MAX_REPEATABLE
            else None
        )


ENVELOPE_OVERHEAD = 1024
"""Bytes a response envelope needs besides its speech and session attributes (generous)."""


class ResponseSizeInterceptor(AbstractResponseInterceptor):
    """Keeps a response under Alexa's 24 KB: drops the speech kept for Repeat, then the last
    narration's timing, never the position in the routine."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if response is None:
            return
        session = session_attributes(handler_input)

        def size() -> int:
            speech = len(getattr(response.output_speech, "ssml", "") or "") if response.output_speech else 0
            reprompt = response.reprompt.output_speech if response.reprompt else None
            speech += len(getattr(reprompt, "ssml", "") or "") if reprompt else 0
            return len(json.dumps(session).encode("utf-8")) + speech + ENVELOPE_OVERHEAD

        if size() <= MAX_RESPONSE_BYTES:
            return
        session.pop(LAST_SPEECH_KEY, None)
        state = session.get(STATE_KEY)
        if size() > MAX_RESPONSE_BYTES and isinstance(state, dict):
            state["last"], state["seen"] = None, []
        log.warning("response trimmed to %d bytes to stay under Alexa's limit", size())


class RequestLogInterceptor(AbstractRequestInterceptor):
    """Logs each request's type and intent."""

    def process(self, handler_input: HandlerInput) -> None:
        request = handler_input.request_envelope.request
        intent = request.intent.name if isinstance(request, IntentRequest) and request.intent else None
        log.info("request %s %s", getattr(request, "object_type", type(request).__name__), intent or "")


class ResponseLogInterceptor(AbstractResponseInterceptor):
    """Logs whether each response keeps the session open and how long its speech is."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        speech = getattr(getattr(response, "output_speech", None), "ssml", "") if response else ""
        log.info(
            "response end_session=%s speech_chars=%d",
            getattr(response, "should_end_session", None),
            len(speech or ""),
        )
