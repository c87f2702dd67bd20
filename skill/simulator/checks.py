"""Checks every response against Alexa's limits and SSML rules; returns warnings, never raises."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from skill.core.limits import MAX_RESPONSE_BYTES, MAX_SSML_CHARS
from skill.core.ssml import break_seconds, check_ssml

__all__ = ["break_seconds", "check_response", "check_ssml"]


@cache
def _serializer() -> Any:
    """The ASK SDK's serializer, made once."""
    from ask_sdk_core.serialize import DefaultSerializer

    return DefaultSerializer()


def _model_problem(body: str) -> str | None:
    """Why a response's JSON does not read as the ASK SDK's ResponseEnvelope model, or None when it does."""
    from ask_sdk_model import ResponseEnvelope

    try:
        read = _serializer().deserialize(body, ResponseEnvelope)
    except Exception as exc:  # a check reports what it finds and never raises
        return f"response does not read as an ASK SDK ResponseEnvelope ({exc})"
    return None if isinstance(read, ResponseEnvelope) else "response does not read as an ASK SDK ResponseEnvelope"


def check_response(envelope: dict[str, Any]) -> list[str]:
    """Problems with a whole response envelope; an empty list means it is within every limit."""
    problems = []
    body = json.dumps(envelope)
    size = len(body.encode("utf-8"))
    if size > MAX_RESPONSE_BYTES:
        problems.append(f"response is {size} bytes, over the {MAX_RESPONSE_BYTES} byte limit")
    model = _model_problem(body)
    if model:
        problems.append(model)
    response = envelope.get("response")
    if not isinstance(response, dict):
        return [*problems, "response envelope has no 'response' object"]
    reprompt = response.get("reprompt")
    if reprompt is not None and not isinstance(reprompt, dict):
        problems.append("reprompt is not an object")
        reprompt = None
    for where, speech in (("outputSpeech", response.get("outputSpeech")), ("reprompt", (reprompt or {}).get("outputSpeech"))):
        if not speech:
            continue
        if not isinstance(speech, dict):
            problems.append(f"{where}: not an object")
            continue
        text = speech.get("ssml", "") if speech.get("type") == "SSML" else speech.get("text", "")
        if not isinstance(text, str):
            problems.append(f"{where}: speech is not a string")
        elif speech.get("type") == "SSML":
            problems += check_ssml(text, where)
        elif len(text) > MAX_SSML_CHARS:
            problems.append(f"{where}: text over {MAX_SSML_CHARS} characters")
    if response.get("shouldEndSession") is False and not response.get("reprompt"):
        problems.append("session kept open without a reprompt")
    return problems
