"""Timeline: a flat, timed list of speech and silence, with where each step's phases lie."""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

_WORD = re.compile(r"[\w']+")
_SENTENCE_END = re.compile(r"[.!?:;,]+(\s|$)")


class SpeechRate(msgspec.Struct, frozen=True):
    """Estimate of how long a voice takes to say a text; calibrate per voice."""

    words_per_second: float = 2.6
    sentence_pause: float = 0.3

    def seconds(self, text: str) -> float:
        """Estimated seconds to say the text."""
        words = len(_WORD.findall(text))
        sentences = len(_SENTENCE_END.findall(text))
        return round(words / self.words_per_second + sentences * self.sentence_pause, 3)


class SegmentKind(StrEnum):
    """A segment is something said, a silence, or a chime from Amazon's sound library."""

    SPEECH = "speech"
    PAUSE = "pause"
    AUDIO = "audio"


class Segment(msgspec.Struct, frozen=True):
    """One piece of the timeline, placed at its start offset in seconds."""

    kind: SegmentKind
    start: float
    duration: float
    step: int
    """Index of the routine step it belongs to; -1 for routine-level speech."""
    phase: int
    """Index of the phase (side and set) inside the step; -1 for step-level speech."""
    cue: str
    text: str = ""
    """Words for speech; the soundbank URL for audio."""
    rate: int = 100
    """Speaking rate of speech in percent of normal (rendered as <prosody rate>)."""

    @property
    def end(self) -> float:
        """Offset where the segment ends."""
        return self.start + self.duration


class Phase(msgspec.Struct, frozen=True):
    """One side of one set of a step, with its active window (the timed work itself)."""

    step: int
    index: int
    side: str | None
    set: int
    start: float
    active_start: float
    active: float
    end: float


class Position(msgspec.Struct, frozen=True):
    """A place in a routine: a step, a phase in it, and seconds of active time already done."""

    step: int
    phase: int = 0
    elapsed: float = 0.0


class Timeline(msgspec.Struct, frozen=True):
    """Segments in time order, the phases they cover, and the steps included."""

    segments: tuple[Segment, ...]
    phases: tuple[Phase, ...]
    steps: tuple[int, ...]

    @property
    def duration(self) -> float:
        """Total seconds from the first segment to the end of the last."""
        return self.segments[-1].end if self.segments else 0.0

    def step_segments(self, step: int) -> tuple[Segment, ...]:
        """The segments belonging to one step."""
        return tuple(s for s in self.segments if s.step == step)

    def step_duration(self, step: int) -> float:
        """Planned seconds for one step (speech plus silence)."""
        return sum(s.duration for s in self.step_segments(step))

    def marks(self) -> Marks:
        """The compact outline of this timeline needed to find a listener's place in it."""
        spans = []
        for step in self.steps:
            own = self.step_segments(step)
            spans.append((step, own[0].start, own[-1].end))
        return Marks(round(self.duration, 3), tuple(spans), self.phases)

    def locate(self, elapsed: float) -> Position | None:
        """Where a listener is after `elapsed` seconds of this timeline; None once it has ended."""
        return self.marks().locate(elapsed)


class Marks(msgspec.Struct, frozen=True):
    """Step spans and phases of a timeline: small enough to keep in a session."""

    duration: float
    spans: tuple[tuple[int, float, float], ...]
    phases: tuple[Phase, ...]

    def locate(self, elapsed: float) -> Position | None:
        """Where a listener is after `elapsed` seconds; None once it has all been heard.

        Inside a phase's active window the position keeps the seconds done; before it, the
        phase starts over; after the last phase of a step, the listener is at the next step.
        """
        if elapsed >= self.duration:
            return None
        elapsed = max(0.0, elapsed)
        for phase in self.phases:
            if phase.start <= elapsed < phase.end:
                if elapsed < phase.active_start:
                    return Position(phase.step, phase.index, 0.0)
                done = elapsed - phase.active_start
                if done < phase.active:
                    return Position(phase.step, phase.index, round(done, 3))
                later = [p for p in self.phases if p.step == phase.step and p.index > phase.index]
                return Position(phase.step, later[0].index) if later else Position(phase.step + 1)
        for step, start, end in self.spans:
            if start <= elapsed < end:
                started = any(p.step == step and p.start <= elapsed for p in self.phases)
                return Position(step + 1) if started else Position(step)
        return Position(self.spans[0][0]) if self.spans else None

    def to_list(self) -> list:
        """Plain lists for JSON."""
        return [self.duration, [list(s) for s in self.spans], [[getattr(p, f) for f in PHASE_FIELDS] for p in self.phases]]

    @staticmethod
    def from_list(data: list) -> Marks:
        """Rebuild from `to_list` output; raises ValueError or TypeError on malformed data."""
        duration, spans, phases = data
        return Marks(
            float(duration),
            tuple((int(s), float(a), float(b)) for s, a, b in spans),
            tuple(Phase(**dict(zip(PHASE_FIELDS, p, strict=True))) for p in phases),
        )


PHASE_FIELDS = ("step", "index", "side", "set", "start", "active_start", "active", "end")
