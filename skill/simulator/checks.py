"""Checks every response against Alexa's limits and SSML rules; returns warnings, never raises."""

from __future__ import annotations

import json
from typing import Any

from skill.core.limits import MAX_RESPONSE_BYTES, MAX_SSML_CHARS
from skill.core.ssml import break_seconds, check_ssml

__all__ = ["break_seconds", "check_response", "check_ssml"]


def check_response(envelope: dict[str, Any]) -> list[str]:
    """Problems with a whole response envelope; an empty list means it is within every limit."""
    problems = []
    size = len(json.dumps(envelope).encode("utf-8"))
    if size > MAX_RESPONSE_BYTES:
        problems.append(f"response is {size} bytes, over the {MAX_RESPONSE_BYTES} byte limit")
    response = envelope.get("response")
    if not isinstance(response, dict):
        return [*problems, "response envelope has no 'response' object"]
    for where, speech in (("outputSpeech", response.get("outputSpeech")),
                          ("reprompt", (response.get("reprompt") or {}).get("outputSpeech"))):
        if not speech:
            continue
        if speech.get("type") == "SSML":
            problems += check_ssml(speech.get("ssml", ""), where)
        elif len(speech.get("text", "")) > MAX_SSML_CHARS:
            problems.append(f"{where}: text over {MAX_SSML_CHARS} characters")
    if response.get("shouldEndSession") is False and not response.get("reprompt"):
        problems.append("session kept open without a reprompt")
    return problems
