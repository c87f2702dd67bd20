"""Reads SSML back into what a listener hears: text at a speaking rate, and silences."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from skill.core.sounds import by_src
from skill.core.timeline import SpeechRate
from skill.simulator.checks import break_seconds

STRENGTH = {"none": 0.0, "x-weak": 0.15, "weak": 0.35, "medium": 0.75, "strong": 1.0, "x-strong": 1.5}
RATE_WORDS = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "fast": 1.25, "x-fast": 1.5}
EMPHASIS = {"strong": 0.85, "moderate": 0.92, "none": 1.0, "reduced": 1.1}
PAUSE_AFTER = {"p": 0.75, "s": 0.35}
ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth", "6": "sixth", "7": "seventh",
            "8": "eighth", "9": "ninth", "10": "tenth"}


@dataclass(frozen=True, slots=True)
class Speech:
    """Words to say, at a rate relative to normal (0.8 is slower)."""

    text: str
    rate: float = 1.0

    def seconds(self, estimate: SpeechRate) -> float:
        """Estimated seconds to say it."""
        return estimate.seconds(self.text) / self.rate


@dataclass(frozen=True, slots=True)
class Silence:
    """A pause of a number of seconds."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Chime:
    """A sound from Amazon's library, played locally as a generated tone of the same length."""

    src: str
    seconds: float
    tone: tuple[float, ...]


Piece = Speech | Silence | Chime


def _say_as(kind: str, text: str) -> str:
    kind = kind.lower()
    if kind in ("digits", "telephone"):
        return " ".join(ch for ch in text if not ch.isspace())
    if kind in ("characters", "spell-out"):
        return " ".join(ch for ch in text if ch.isalnum())
    if kind == "ordinal":
        return ORDINALS.get(text.strip(), text)
    if kind == "expletive":
        return "beep"
    return text


def _rate(value: str | None) -> float:
    if not value:
        return 1.0
    value = value.strip().lower()
    if value in RATE_WORDS:
        return RATE_WORDS[value]
    match = re.fullmatch(r"(\d+(?:\.\d+)?)%", value)
    return max(0.2, min(4.0, float(match.group(1)) / 100)) if match else 1.0


def _local(tag: str) -> str:
    return tag.split("}")[-1].replace("amazon_", "")


class _Reader:
    def __init__(self) -> None:
        self.pieces: list[Piece] = []

    def text(self, text: str | None, rate: float) -> None:
        if text and text.strip():
            clean = re.sub(r"\s+", " ", text).strip()
            last = self.pieces[-1] if self.pieces else None
            if isinstance(last, Speech) and last.rate == rate:
                self.pieces[-1] = Speech(f"{last.text} {clean}", rate)
            else:
                self.pieces.append(Speech(clean, rate))

    def silence(self, seconds: float) -> None:
        if seconds <= 0:
            return
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, Silence):
            self.pieces[-1] = Silence(round(last.seconds + seconds, 3))
        else:
            self.pieces.append(Silence(round(seconds, 3)))

    def walk(self, element: ET.Element, rate: float) -> None:
        tag = _local(element.tag)
        if tag == "break":
            seconds = break_seconds(element.attrib.get("time"))
            self.silence(seconds if seconds is not None else STRENGTH.get(element.attrib.get("strength", "medium"), 0.75))
        elif tag == "audio":
            sound = by_src(element.attrib.get("src", ""))
            if sound is not None:  # a known chime plays as its local tone; other recorded audio cannot
                self.pieces.append(Chime(sound.src, sound.seconds, sound.tone))
        elif tag == "say-as":
            self.text(_say_as(element.attrib.get("interpret-as", ""), "".join(element.itertext())), rate)
        elif tag == "sub":
            self.text(element.attrib.get("alias") or "".join(element.itertext()), rate)
        else:
            inner = rate
            if tag == "prosody":
                inner = rate * _rate(element.attrib.get("rate"))
            elif tag == "emphasis":
                inner = rate * EMPHASIS.get(element.attrib.get("level", "moderate"), 0.92)
            self.text(element.text, inner)
            for child in element:
                self.walk(child, inner)
                self.text(child.tail, inner)
            self.silence(PAUSE_AFTER.get(tag, 0.0))


def read(ssml: str) -> list[Piece]:
    """What an SSML document sounds like, as speech and silence pieces (tags it cannot voice are dropped)."""
    if not ssml.strip():
        return []
    source = re.sub(r"<(/?)amazon:", r"<\1amazon_", ssml)
    if not source.lstrip().startswith("<speak"):
        source = f"<speak>{source}</speak>"
    try:
        root = ET.fromstring(source)
    except ET.ParseError:
        return [Speech(re.sub(r"<[^>]+>", " ", ssml).strip())] if ssml.strip() else []
    reader = _Reader()
    reader.walk(root, 1.0)
    return reader.pieces


def plain_text(pieces: list[Piece]) -> str:
    """The words only."""
    return " ".join(p.text for p in pieces if isinstance(p, Speech))


def seconds(pieces: list[Piece], estimate: SpeechRate) -> float:
    """Estimated seconds to hear all of it."""
    return sum(p.seconds if isinstance(p, (Silence, Chime)) else p.seconds(estimate) for p in pieces)
