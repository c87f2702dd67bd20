"""Checks every response against Alexa's limits and SSML rules; returns warnings, never raises."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

MAX_SPEECH_CHARS = 8000
MAX_RESPONSE_BYTES = 24 * 1024
MAX_BREAK_SECONDS = 10.0
SUPPORTED_TAGS = frozenset(
    {"speak", "break", "say-as", "prosody", "emphasis", "audio", "p", "s", "phoneme", "sub", "w", "lang", "voice",
     "amazon:effect", "amazon:emotion", "amazon:domain"}
)
_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


def break_seconds(value: str | None) -> float | None:
    """Seconds in a break's time attribute ("500ms", "2s"); None when unreadable."""
    match = _TIME.match((value or "").strip())
    if not match:
        return None
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def _tag(element: ET.Element) -> str:
    tag = element.tag
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}")
        return ("amazon:" if "amazon" in namespace else "") + local
    return tag


def check_ssml(ssml: str, where: str) -> list[str]:
    """Problems with one SSML document: well-formedness, tags, break lengths, size."""
    problems = []
    if len(ssml) > MAX_SPEECH_CHARS:
        problems.append(f"{where}: {len(ssml)} characters of SSML, over the {MAX_SPEECH_CHARS} limit")
    try:
        root = ET.fromstring(re.sub(r"<(/?)amazon:", r"<\1amazon_", ssml))
    except ET.ParseError as exc:
        return [*problems, f"{where}: SSML is not well formed ({exc})"]
    if root.tag != "speak":
        problems.append(f"{where}: SSML must be wrapped in <speak>")
    for element in root.iter():
        tag = _tag(element).replace("amazon_", "amazon:")
        if tag not in SUPPORTED_TAGS:
            problems.append(f"{where}: unsupported SSML tag <{tag}>")
        if tag == "break" and "time" in element.attrib:
            seconds = break_seconds(element.attrib["time"])
            if seconds is None:
                problems.append(f"{where}: unreadable break time {element.attrib['time']!r}")
            elif seconds > MAX_BREAK_SECONDS:
                problems.append(f"{where}: break of {seconds:g}s, over the {MAX_BREAK_SECONDS:g}s limit")
    return problems


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
        elif len(speech.get("text", "")) > MAX_SPEECH_CHARS:
            problems.append(f"{where}: text over {MAX_SPEECH_CHARS} characters")
    if response.get("shouldEndSession") is False and not response.get("reprompt"):
        problems.append("session kept open without a reprompt")
    return problems
