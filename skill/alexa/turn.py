"""Per-request context for handlers: the state, the voice, the clock, slots and the reply."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Response
from ask_sdk_model.slu.entityresolution import StatusCode

from skill.core.memory import Memory
from skill.core.phrases import Voice
from skill.core.player import Player, PlayerState, Reply, Reset
from skill.core.ssml import render_segments, text
from skill.core.timeline import Timeline

if TYPE_CHECKING:
    from skill.core.faq import Matcher

log = logging.getLogger("backcoach.skill")

STATE_KEY = "player"
LAST_SPEECH_KEY = "last_speech"
KEEP_LAST_SPEECH = "keep_last_speech"
"""Request attribute: this response is not what "repeat" should say again."""
MAX_REPEATABLE = 2000
"""Longest speech (SSML characters) kept for Repeat outside a routine; narration is replanned instead."""


class Turn(msgspec.Struct):
    """What a handler needs for one request; built by the request interceptors."""

    state: PlayerState
    voice: Voice
    player: Player
    faq_source: Callable[[], Matcher]
    now: float
    memory: Memory = msgspec.field(default_factory=Memory)
    reset: Reset | None = None

    @property
    def faq(self) -> Matcher:
        """The quick-answer matcher (built on first use when the skill was built lazily)."""
        return self.faq_source()

    @staticmethod
    def of(handler_input: HandlerInput) -> Turn:
        """The turn the interceptors attached to this request."""
        return handler_input.attributes_manager.request_attributes["turn"]


def session_attributes(handler_input: HandlerInput) -> dict[str, Any]:
    """The session's attributes; a request outside a session (some events) gets a throwaway dict."""
    if handler_input.request_envelope.session is None:
        return handler_input.attributes_manager.request_attributes.setdefault("no_session", {})
    return handler_input.attributes_manager.session_attributes


EARLIEST, LATEST = datetime(2015, 1, 1, tzinfo=UTC).timestamp(), datetime(2200, 1, 1, tzinfo=UTC).timestamp()
"""Request times outside these (year 1, year 9999) are not Alexa's clock: the skill uses its own."""


def request_time(handler_input: HandlerInput) -> float:
    """The request's timestamp in epoch seconds (now, when it carries none or an impossible one)."""
    stamp = getattr(handler_input.request_envelope.request, "timestamp", None)
    if isinstance(stamp, datetime):
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        try:
            seconds = stamp.timestamp()
        except (OverflowError, ValueError, OSError):
            seconds = None
        if seconds is not None and EARLIEST <= seconds <= LATEST:
            return seconds
    return datetime.now(UTC).timestamp()


def slot(handler_input: HandlerInput, name: str) -> tuple[str | None, str | None]:
    """A slot's spoken value and its resolved id (None when absent or unresolved)."""
    request = handler_input.request_envelope.request
    if not isinstance(request, IntentRequest) or request.intent is None or not request.intent.slots:
        return None, None
    found = request.intent.slots.get(name)
    if found is None or not found.value:
        return None, None
    resolved = None
    authorities = getattr(getattr(found, "resolutions", None), "resolutions_per_authority", None) or []
    for authority in authorities:
        status = getattr(getattr(authority, "status", None), "code", None)
        if status == StatusCode.ER_SUCCESS_MATCH and authority.values:
            resolved = authority.values[0].value.id
            break
    return str(found.value), resolved


def slots(handler_input: HandlerInput) -> dict[str, tuple[str | None, str | None]]:
    """Every slot of an intent request that was filled: its spoken value and resolved id."""
    request = handler_input.request_envelope.request
    if not isinstance(request, IntentRequest) or request.intent is None or not request.intent.slots:
        return {}
    heard = {name: slot(handler_input, name) for name in request.intent.slots}
    return {name: value for name, value in heard.items() if value[0]}


def ssml(parts: list[str | Timeline], rate: int = 100) -> str:
    """SSML body for a reply's parts: sentences escaped (at the listener's speaking `rate`, in
    percent), narration rendered with its breaks and its own prosody."""
    rendered = []
    for part in parts:
        rendered.append(render_segments(part.segments) if isinstance(part, Timeline) else _at(text(part), rate))
    return " ".join(p for p in rendered if p)


def _at(body: str, rate: int) -> str:
    return f'<prosody rate="{rate}%">{body}</prosody>' if body and rate != 100 else body


def respond(handler_input: HandlerInput, reply: Reply) -> Response:
    """Turn a reply into the response: speech, reprompt, and the session ending when nothing is asked."""
    turn = Turn.of(handler_input)
    if turn.reset is not None:
        reply.parts.insert(0, turn.voice.say(f"skill.reset.{turn.reset}"))
        turn.reset = None
    builder = handler_input.response_builder
    if not reply.remember:
        handler_input.attributes_manager.request_attributes[KEEP_LAST_SPEECH] = True
    if reply.replay is not None:
        speech, reprompt = reply.replay
        return builder.speak(speech).ask(reprompt or text(turn.voice.say("skill.what_next_reprompt"))).response
    rate = round(turn.state.speech_rate * 100)  # "talk slower" holds for every sentence, not only the narration
    body = ssml(reply.parts, rate)
    if body:
        builder.speak(body)
    if reply.reprompt and not reply.end:
        builder.ask(_at(text(reply.reprompt), rate))
    else:
        builder.set_should_end_session(True)
    return builder.response
