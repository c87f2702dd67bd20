"""SSML renderer: timelines to Alexa speech within its limits (breaks of 10 s, 8,000 characters)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from skill.core.timeline import Segment, SegmentKind, Timeline

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

MAX_BREAK_MS = 10_000
MAX_SSML_CHARS = 8_000
MAX_RESPONSE_BYTES = 24 * 1024
"""Alexa's limits: one break, the speech of one response, and a whole response envelope."""


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def text(words: str) -> str:
    """Words made safe inside SSML: markup escaped, characters XML cannot carry removed."""
    return _NOT_XML.sub("", words).translate(_MARKUP)


def breaks(seconds: float) -> str:
    """Silence as chained <break> tags, none longer than Alexa's 10 s maximum."""
    remaining = int(round(seconds * 1000))
    tags = []
    while remaining > 0:
        chunk = min(remaining, MAX_BREAK_MS)
        tags.append(f'<break time="{chunk}ms"/>')
        remaining -= chunk
    return "".join(tags)


def render_segments(segments: Iterable[Segment]) -> str:
    """SSML body (without <speak>) for a run of segments."""
    parts = []
    for segment in segments:
        if segment.kind is SegmentKind.SPEECH:
            parts.append(text(segment.text))
        else:
            parts.append(breaks(segment.duration))
    return " ".join(p for p in parts if p)


def speak(*bodies: str) -> str:
    """Wrap SSML body parts in a <speak> element."""
    return "<speak>" + " ".join(b for b in bodies if b) + "</speak>"


class Chunk(msgspec.Struct, frozen=True):
    """A run of whole steps that fits in one response."""

    steps: tuple[int, ...]
    body: str
    start: float
    duration: float


def chunk(timeline: Timeline, budget: int = MAX_SSML_CHARS) -> list[Chunk]:
    """Cut a timeline at step boundaries into SSML documents of at most `budget` characters.

    A single step too long for the budget is cut at segment boundaries instead. The budget
    counts the <speak> wrapper too, so each wrapped chunk stays within it.
    """
    budget -= len(speak(""))
    groups: list[list[Segment]] = []
    for step in dict.fromkeys(s.step for s in timeline.segments):
        groups.append([s for s in timeline.segments if s.step == step])
    chunks: list[Chunk] = []
    current: list[Segment] = []
    current_steps: list[int] = []

    def flush() -> None:
        if current:
            chunks.append(_chunk(current, current_steps))
            current.clear()
            current_steps.clear()

    for group in groups:
        candidate = render_segments([*current, *group])
        if len(candidate) <= budget:
            current.extend(group)
            current_steps.append(group[0].step)
            continue
        flush()
        if len(render_segments(group)) <= budget:
            current.extend(group)
            current_steps.append(group[0].step)
            continue
        for segment in group:
            if current and len(render_segments([*current, segment])) > budget:
                flush()
            current.append(segment)
            if not current_steps:
                current_steps.append(segment.step)
    flush()
    return chunks


def _chunk(segments: list[Segment], steps: list[int]) -> Chunk:
    start = segments[0].start
    return Chunk(tuple(steps), render_segments(segments), start, segments[-1].end - start)


# ----- checking SSML (the simulator checks every response; Repeat checks what it replays) -----

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
    import xml.etree.ElementTree as ET  # only when checking: a cold start does not need it

    problems = []
    if len(ssml) > MAX_SSML_CHARS:
        problems.append(f"{where}: {len(ssml)} characters of SSML, over the {MAX_SSML_CHARS} limit")
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
            elif seconds > (MAX_BREAK_MS / 1000):
                problems.append(f"{where}: break of {seconds:g}s, over the {(MAX_BREAK_MS / 1000):g}s limit")
    return problems
