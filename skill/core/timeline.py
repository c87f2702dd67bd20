"""Timeline: a flat, timed list of speech and silence, with where each step's phases lie."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class SpeechRate:
    """Estimate of how long a voice takes to say a text; calibrate per voice."""

    words_per_second: float = 2.6
    sentence_pause: float = 0.3

    def seconds(self, text: str) -> float:
        """Estimated seconds to say the text."""
        words = len(re.findall(r"[\w']+", text))
        sentences = len(re.findall(r"[.!?:;,]+(\s|$)", text))
        return round(words / self.words_per_second + sentences * self.sentence_pause, 3)


class SegmentKind(StrEnum):
    """A segment is either something said or a silence."""

    SPEECH = "speech"
    PAUSE = "pause"


@dataclass(frozen=True, slots=True)
class Segment:
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

    @property
    def end(self) -> float:
        """Offset where the segment ends."""
        return self.start + self.duration


@dataclass(frozen=True, slots=True)
class Phase:
    """One side of one set of a step, with its active window (the timed work itself)."""

    step: int
    index: int
    side: str | None
    set: int
    start: float
    active_start: float
    active: float
    end: float


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a routine: a step, a phase in it, and seconds of active time already done."""

    step: int
    phase: int = 0
    elapsed: float = 0.0


@dataclass(frozen=True, slots=True)
class Timeline:
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

    def remaining(self, position: Position) -> float:
        """Seconds of this timeline left from a position inside it."""
        phase = next((p for p in self.phases if p.step == position.step and p.index == position.phase), None)
        if phase is None:
            starts = [s.start for s in self.segments if s.step >= position.step]
            return self.duration - min(starts) if starts else 0.0
        return self.duration - phase.active_start - position.elapsed

    def locate(self, elapsed: float) -> Position | None:
        """Where a listener is after `elapsed` seconds of this timeline; None once it has ended."""
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
                if later:
                    return Position(phase.step, later[0].index, 0.0)
                return self._next_step_position(phase.step)
        segment = next(s for s in self.segments if s.start <= elapsed < s.end)
        step = segment.step
        started = [p for p in self.phases if p.step == step and p.start <= elapsed]
        if step >= 0 and started:
            return self._next_step_position(step)
        return Position(max(step, self.steps[0] if self.steps else 0), 0, 0.0)

    def _next_step_position(self, step: int) -> Position | None:
        later = [s for s in self.steps if s > step]
        return Position(later[0]) if later else Position(step + 1)
