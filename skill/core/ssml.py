"""SSML renderer: timelines to Alexa speech within its limits (breaks of 10 s, 8,000 characters)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

from skill.core.timeline import Segment, SegmentKind, Timeline

MAX_BREAK_MS = 10_000
MAX_SSML_CHARS = 8_000


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
