"""SSML renderer: timelines to Alexa speech within its limits (skill.core.limits), and the SSML checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from skill.core.limits import MAX_AUDIO_SECONDS, MAX_AUDIO_TAGS, MAX_BREAK_MS, MAX_SSML_CHARS
from skill.core.sounds import SOUNDBANK, by_src
from skill.core.timeline import Segment, SegmentKind, Timeline

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

CHIME_PRIORITY = ("chime_switch", "chime_begin", "chime_release")
"""Which chimes keep their sound when a response has more than MAX_AUDIO_TAGS; the rest become silence."""


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


def audible(segments: list[Segment], limit: int = MAX_AUDIO_TAGS) -> set[int]:
    """Indexes of the audio segments that play as chimes: switch first, then begin, then release, in time order."""
    chimes = [i for i, s in enumerate(segments) if s.kind is SegmentKind.AUDIO]
    rank = {cue: n for n, cue in enumerate(CHIME_PRIORITY)}
    chosen = sorted(chimes, key=lambda i: (rank.get(segments[i].cue, len(rank)), i))[:limit]
    total, kept = 0.0, set()
    for i in chosen:
        if total + segments[i].duration <= MAX_AUDIO_SECONDS:
            kept.add(i)
            total += segments[i].duration
    return kept


def render_segments(segments: Iterable[Segment]) -> str:
    """SSML body (without <speak>) for a run of segments.

    Speech at a rate other than 100 % is wrapped in <prosody rate>, one element per run of the
    same rate. Chimes beyond Alexa's audio allowance become silence of the same length, so the
    timing holds either way.
    """
    segments = list(segments)
    playing = audible(segments)
    parts: list[str] = []
    rate = 100
    for n, segment in enumerate(segments):
        if segment.kind is SegmentKind.SPEECH and segment.rate != rate:
            if rate != 100:
                parts.append("</prosody>")
            if segment.rate != 100:
                parts.append(f'<prosody rate="{segment.rate}%">')
            rate = segment.rate
        if segment.kind is SegmentKind.SPEECH:
            parts.append(text(segment.text))
        elif segment.kind is SegmentKind.AUDIO and n in playing:
            parts.append(f'<audio src="{text(segment.text)}"/>')
        else:
            parts.append(breaks(segment.duration))
    if rate != 100:
        parts.append("</prosody>")
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
NOT_EVERY_LOCALE = frozenset({"amazon:emotion", "amazon:domain", "lang", "voice"})
"""Tags Alexa supports only in some locales or voices: the skill ships en-US, en-GB, en-CA, en-AU and en-IN."""
PROSODY_WORDS = {
    "rate": {"x-slow", "slow", "medium", "fast", "x-fast"},
    "pitch": {"x-low", "low", "medium", "high", "x-high"},
    "volume": {"silent", "x-soft", "soft", "medium", "loud", "x-loud"},
}
_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_SIGNED_PERCENT = re.compile(r"^[+-]\d+(?:\.\d+)?%$")
_DECIBELS = re.compile(r"^[+-]\d+(?:\.\d+)?dB$")


def _prosody_problem(name: str, value: str) -> str | None:
    """Why a <prosody> attribute value is not one Alexa takes, or None."""
    value = value.strip()
    if name not in PROSODY_WORDS:
        return f"unsupported <prosody> attribute {name!r}"
    if value in PROSODY_WORDS[name]:
        return None
    if name == "rate":
        match = _PERCENT.match(value)
        if match and float(match.group(1)) >= 20:
            return None
        return f"<prosody rate={value!r}> is not a rate word or a percentage of at least 20%"
    if name == "pitch" and _SIGNED_PERCENT.match(value):
        return None
    if name == "volume" and _DECIBELS.match(value):
        return None
    return f"<prosody {name}={value!r}> is not a value Alexa takes"


def _audio_problem(src: str) -> str | None:
    """Why an <audio> source would not play, or None for a chime Amazon hosts."""
    if src.startswith(SOUNDBANK):
        return None if by_src(src) else f"<audio src={src!r}> is not one of the chimes in data/sounds.yaml"
    if src.startswith("https://"):
        return f"<audio src={src!r}> is not from Amazon's sound library: the skill would have to host it"
    return f"<audio src={src!r}> must be an Amazon soundbank URL (or https)"


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
    audio_tags, audio_seconds = 0, 0.0
    for element in root.iter():
        tag = _tag(element).replace("amazon_", "amazon:")
        if tag not in SUPPORTED_TAGS:
            problems.append(f"{where}: unsupported SSML tag <{tag}>")
        elif tag in NOT_EVERY_LOCALE:
            problems.append(f"{where}: <{tag}> is not supported in every locale the skill ships")
        if tag == "prosody":
            problems += [f"{where}: {p}" for n, v in element.attrib.items() if (p := _prosody_problem(n, v))]
        if tag == "audio":
            audio_tags += 1
            src = element.attrib.get("src", "")
            problem = _audio_problem(src)
            if problem:
                problems.append(f"{where}: {problem}")
            known = by_src(src)
            audio_seconds += known.seconds if known else 0.0
        if tag == "break" and "time" in element.attrib:
            seconds = break_seconds(element.attrib["time"])
            if seconds is None:
                problems.append(f"{where}: unreadable break time {element.attrib['time']!r}")
            elif seconds > (MAX_BREAK_MS / 1000):
                problems.append(f"{where}: break of {seconds:g}s, over the {(MAX_BREAK_MS / 1000):g}s limit")
    if audio_tags > MAX_AUDIO_TAGS:
        problems.append(f"{where}: {audio_tags} <audio> tags, over the {MAX_AUDIO_TAGS} a response may play")
    if audio_seconds > MAX_AUDIO_SECONDS:
        problems.append(f"{where}: {audio_seconds:g}s of audio, over the {MAX_AUDIO_SECONDS:g}s limit")
    return problems
