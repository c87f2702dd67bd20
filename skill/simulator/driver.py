"""The simulated device: turns typed phrases into envelopes, carries the session, checks every response."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from skill.core.timeline import SpeechRate
from skill.simulator.checks import check_response
from skill.simulator.envelopes import Session, SlotValue
from skill.simulator.nlu import Understander, Understanding, understander
from skill.simulator.ssml_reader import Piece, plain_text, read, seconds

LISTEN_WINDOW = 8.0
"""Seconds the microphone stays open after speech, and again after the reprompt."""
ANSWER_DELAY = 1.0
"""Seconds a user takes to answer once the speech has ended, when no wait is given."""

Transport = Callable[[dict[str, Any]], dict[str, Any]]


class SimulatorError(RuntimeError):
    """The skill could not be reached or answered with something that is not a response."""


def in_process(skill: Any = None) -> Transport:
    """Call the skill in this process."""
    from skill.alexa.builder import default_skill, invoke

    target = skill or default_skill()
    return lambda envelope: invoke(target, envelope)


def over_http(url: str, timeout: float = 10.0) -> Transport:
    """POST envelopes to a running `backcoach serve` (or any skill endpoint)."""

    def send(envelope: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            url, data=json.dumps(envelope).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            raise SimulatorError(f"{url} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise SimulatorError(f"cannot reach {url}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise SimulatorError(f"{url} did not answer with JSON") from exc

    return send


@dataclass
class Exchange:
    """One request and its response, read the way a listener hears it."""

    heard: Understanding | None
    request: dict[str, Any]
    response: dict[str, Any]
    pieces: list[Piece]
    reprompt: str | None
    warnings: list[str]
    note: str | None = None

    @property
    def speech(self) -> str:
        """The words spoken, without markup."""
        return plain_text(self.pieces)

    @property
    def ssml(self) -> str:
        """The SSML of the spoken answer."""
        return _ssml(self.response.get("response"), "outputSpeech")

    @property
    def answer(self) -> str | None:
        """The id of the quick-answer entry this response spoke, if it spoke one.

        The skill remembers its last answer across turns (for "tell me more"), so an entry counts
        only when its answer is in this response's speech.
        """
        player = (self.response.get("sessionAttributes") or {}).get("player") or {}
        answer = player.get("answer")
        if not isinstance(answer, str) or self.heard is None:
            return None
        opening = _answer_openings().get(answer)
        return answer if opening is not None and opening in self.speech else None

    @property
    def end_session(self) -> bool:
        """Whether the skill ended the session."""
        return (self.response.get("response") or {}).get("shouldEndSession") is not False

    def summary(self) -> dict[str, Any]:
        """The `backcoach say --json` shape."""
        request = self.request.get("request", {})
        intent = request.get("intent") or {}
        slots = {
            name: {"value": s.get("value"), "id": _resolved_id(s)}
            for name, s in (intent.get("slots") or {}).items()
        }
        return {
            "request": {"type": request.get("type"), "intent": intent.get("name"), "slots": slots},
            "response": {"speech": self.speech, "ssml": self.ssml, "reprompt": self.reprompt, "end_session": self.end_session},
        }


@cache
def _answer_openings() -> dict[str, str]:
    """Entry id -> the start of its spoken answer, built once."""
    from skill.core.faq import default_matcher

    return {e.id: " ".join(e.answer.split())[:50] for e in default_matcher().entries}


def _resolved_id(slot: dict[str, Any]) -> str | None:
    for authority in (slot.get("resolutions") or {}).get("resolutionsPerAuthority", []):
        if authority.get("status", {}).get("code") == "ER_SUCCESS_MATCH" and authority.get("values"):
            return authority["values"][0]["value"]["id"]
    return None


@dataclass
class Simulator:
    """A device and a user: understands phrases locally and talks to the skill like Alexa would."""

    transport: Transport
    session: Session = field(default_factory=Session)
    estimate: SpeechRate = field(default_factory=SpeechRate)
    nlu: Understander | None = None
    """Understands typed phrases; the session's locale's model is loaded on the first `say`."""
    speech_seconds: float = 0.0
    """How long the last response takes to say (speech plus reprompt window bookkeeping)."""

    def say(self, text: str, wait: float | None = None) -> list[Exchange]:
        """The user says `text` after `wait` seconds (default: once the last answer has been heard).

        Returns the exchanges it caused: a timed-out session's SessionEndedRequest first when
        the user waited past the microphone windows, then the answer to the phrase.
        """
        exchanges: list[Exchange] = []
        elapsed = self.speech_seconds + ANSWER_DELAY if wait is None else max(0.0, wait)
        if self.session.open and elapsed > self.speech_seconds + 2 * LISTEN_WINDOW:
            self.session.advance(self.speech_seconds + 2 * LISTEN_WINDOW)
            elapsed -= self.speech_seconds + 2 * LISTEN_WINDOW
            exchanges.append(self._send(None, self.session.ended("EXCEEDED_MAX_REPROMPTS"), "no answer: the session timed out"))
        self.session.advance(elapsed)
        if self.nlu is None:
            self.nlu = understander(self.session.locale)
        heard = self.nlu.understand(text)
        note = None
        if heard.kind == "SessionEndedRequest":
            if not self.session.open:
                return [*exchanges]
            envelope = self.session.ended("USER_INITIATED")
        elif heard.kind == "LaunchRequest":
            if self.session.open:
                self.session.session_id = None
            envelope = self.session.launch()
        else:
            if not self.session.open and not heard.one_shot:
                note = "no session was open, so this went to the skill as 'ask back coach to ...'"
            envelope = self.session.intent(heard.intent or "AMAZON.FallbackIntent", heard.slots)
        exchanges.append(self._send(heard, envelope, note))
        return exchanges

    def launch(self) -> Exchange:
        """Send a LaunchRequest in the open session, or a new one when none is open (no phrase is understood)."""
        return self.send(self.session.launch())

    def intent(self, name: str, slots: dict[str, SlotValue] | None = None) -> Exchange:
        """Send an intent with the slots given, as Alexa's own understanding would fill them (no phrase is understood)."""
        return self.send(self.session.intent(name, slots))

    def send(self, envelope: dict[str, Any]) -> Exchange:
        """Send a request envelope made by the caller (any request type) and read and check the response."""
        return self._send(None, envelope, None)

    def _send(self, heard: Understanding | None, envelope: dict[str, Any], note: str | None) -> Exchange:
        response = self.transport(envelope)
        if not isinstance(response, dict):
            raise SimulatorError("the skill answered with something that is not a JSON object")
        warnings = check_response(response)
        self.session.receive(response)
        body = response.get("response")
        pieces = read(_ssml(body, "outputSpeech"))
        reprompt_pieces = read(_ssml(body.get("reprompt") if isinstance(body, dict) else None, "outputSpeech"))
        self.speech_seconds = seconds(pieces, self.estimate)
        reprompt = plain_text(reprompt_pieces) or None
        return Exchange(heard, envelope, response, pieces, reprompt, warnings, note)


def _ssml(container: Any, key: str) -> str:
    """The SSML of container[key], or "" when the response is not shaped so (check_response says why)."""
    speech = container.get(key) if isinstance(container, dict) else None
    ssml = speech.get("ssml") if isinstance(speech, dict) else None
    return ssml if isinstance(ssml, str) else ""
