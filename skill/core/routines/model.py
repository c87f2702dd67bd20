"""Routine model: routines and their steps as frozen structs, checked for safe doses and swapped sides when read."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from skill.core.routines.sides import side_pairs, swap_problems
from skill.core.routines.terms import (
    DEFAULT_CUES,
    DEFAULT_MIN,
    DOSE_LIMITS,
    MOVE_SECONDS,
    Area,
    Cue,
    Equipment,
    Kind,
    Level,
    Move,
)
from skill.core.schema import Slug, Text


def _field(name: str, message: str) -> ValueError:
    """An error from a whole-record check that names the field it concerns."""
    return ValueError(f"[{name}] {message}")


class _Frozen(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class Breath(_Frozen, kw_only=True):
    """Seconds for one breath in and one breath out."""

    inhale: Annotated[float, Meta(ge=2, le=8)]
    exhale: Annotated[float, Meta(ge=2, le=10)]


class Step(_Frozen, kw_only=True):
    """One exercise inside a routine, with its dose and the cues to speak."""

    id: Slug
    name: Text
    """Short spoken name, used in "next up: ..." and "you are on ..."."""
    kind: Kind
    say: Text
    """Full instruction, spoken the first time the step is met."""
    short: Text
    """Short instruction, spoken when the step comes round again."""
    seconds: int | None = None
    """Active time per side and set for hold, roll, breathe and transition steps."""
    min_seconds: int | None = None
    """Shortest the active time may become when a routine is fitted to a time budget."""
    reps: Annotated[int, Meta(ge=1, le=30)] | None = None
    tempo: Annotated[float, Meta(ge=1, le=15)] | None = None
    """Seconds per repetition for reps steps."""
    breath: Breath | None = None
    """Breathing rhythm for breathe steps (and breathing cues on long holds)."""
    per_side: bool = False
    """Do the left side, then switch and do the right."""
    switch: Text | None = None
    """The second side's own short instruction, left and right swapped (per-side steps need one)."""
    move: Move = Move.IN_PLACE
    """How the body moves to get into this step; the planner leaves at least MOVE_SECONDS for it."""
    switch_move: Move = Move.IN_PLACE
    """How the body moves from the first side to the second (per-side steps)."""
    sets: Annotated[int, Meta(ge=1, le=3)] = 1
    rest: Annotated[int, Meta(ge=0, le=90)] = 0
    """Seconds of rest between sets."""
    cues: tuple[Cue, ...] | None = None
    """Cues to speak; omitted means the defaults for the kind."""
    optional: bool = False
    """May be dropped to fit a time budget."""
    source: Text
    """Where the facts and dose of this step come from."""

    @property
    def active_cues(self) -> frozenset[Cue]:
        """The cues this step speaks."""
        return frozenset(DEFAULT_CUES[self.kind] if self.cues is None else self.cues)

    @property
    def floor_seconds(self) -> int:
        """The safe minimum active time for this step."""
        if self.seconds is None:
            return 0
        low = self.min_seconds if self.min_seconds is not None else DEFAULT_MIN[self.kind]
        return min(self.seconds, max(low, DOSE_LIMITS[self.kind][0]))

    def __post_init__(self) -> None:
        self._check_sides()
        if self.kind is Kind.REPS:
            if self.reps is None or self.tempo is None:
                raise _field("reps", "reps steps need both 'reps' and 'tempo'")
            if self.seconds is not None:
                raise _field("seconds", "reps steps take 'reps' and 'tempo', not 'seconds'")
            return
        if self.seconds is None:
            raise _field("seconds", f"{self.kind} steps need 'seconds'")
        if self.reps is not None or self.tempo is not None:
            raise _field("reps", f"{self.kind} steps take 'seconds', not 'reps' or 'tempo'")
        low, high = DOSE_LIMITS[self.kind]
        if not low <= self.seconds <= high:
            raise _field("seconds", f"{self.seconds} is outside the safe range {low} to {high} for a {self.kind}")
        if self.min_seconds is not None and not low <= self.min_seconds <= self.seconds:
            raise _field("min_seconds", f"must be between {low} and 'seconds' ({self.seconds})")
        if self.kind is Kind.BREATHE and self.breath is None:
            raise _field("breath", "breathe steps need 'breath' with 'inhale' and 'exhale'")
        if self.kind is Kind.TRANSITION:
            if self.move is Move.IN_PLACE:
                raise _field("move", f"a transition must say how the body moves: one of {', '.join(list(Move)[1:])}")
            least = MOVE_SECONDS[self.move]
            if self.seconds < least:
                raise _field("seconds", f"{self.seconds} is too short for a {self.move} move; allow at least {least}")

    def _check_sides(self) -> None:
        """Per-side steps carry a second-side instruction with left and right swapped; others carry none."""
        if not self.per_side:
            if self.switch is not None:
                raise _field("switch", "only per-side steps have a second-side instruction")
            if self.switch_move is not Move.IN_PLACE:
                raise _field("switch_move", "only per-side steps switch sides")
            return
        if self.switch is None:
            raise _field("switch", "per-side steps need 'switch': the instruction for the second side")
        if side_pairs(self.say) and not side_pairs(self.switch):
            raise _field("switch", "'say' names a side, so the second side's instruction must name one too")
        wrong = swap_problems(self.say, self.switch)
        if wrong:
            raise _field("switch", f"left and right are not swapped from 'say': {', '.join(wrong)}")


class Routine(_Frozen, kw_only=True):
    """A named sequence of steps with what it needs and who it suits."""

    id: Slug
    title: Text
    synonyms: tuple[Text, ...] = ()
    """Other names people use for it; they feed the interaction model's slot type."""
    summary: Text
    areas: Annotated[tuple[Area, ...], Meta(min_length=1)]
    equipment: Annotated[tuple[Equipment, ...], Meta(min_length=1)]
    level: Level
    safety: tuple[Text, ...] = ()
    """Notes spoken before the routine starts; the user confirms before going on."""
    reminder: Text | None = None
    """One-line safety reminder for someone who has heard the full notes before (needed with safety notes)."""
    prosody_rate: Annotated[int, Meta(ge=70, le=100)] = 100
    """Speaking rate for the narration, in percent of normal; below 100 for a calm, unhurried delivery."""
    closing: Text | None = None
    """A gentle last line after the final step; the session then ends instead of offering another routine."""
    steps: Annotated[tuple[Step, ...], Meta(min_length=1)]
    sources: Annotated[tuple[Text, ...], Meta(min_length=1)]

    def __post_init__(self) -> None:
        ids = [step.id for step in self.steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise _field("steps", f"step ids must be unique; repeated: {', '.join(duplicates)}")
        if Equipment.NONE in self.equipment and len(self.equipment) > 1:
            raise _field("equipment", "'none' cannot be combined with other equipment")
        if all(step.optional for step in self.steps):
            raise _field("steps", "at least one step must not be optional")
        if self.safety and self.reminder is None:
            raise _field("reminder", "a routine with safety notes needs a one-line 'reminder' for returning users")

    def step_index(self, step_id: str) -> int:
        """Position of the step with this id."""
        return next(i for i, step in enumerate(self.steps) if step.id == step_id)
