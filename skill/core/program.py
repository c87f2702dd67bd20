"""Program: a routine's concrete doses after pace and time budget are applied."""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec
from msgspec.structs import replace

from skill.core.routines import DOSE_LIMITS, MOVE_SECONDS, Kind, Routine, Step
from skill.core.settings import PACE_MAX, PACE_MIN

TEMPO_LIMITS = (1.0, 15.0)
MIN_REPS = 3
"""Reps are never cut below half the written count, nor below this."""
MAX_REST = 90
MAX_TRANSITION = 45
"""Longest a rest or a change of position may become at the slowest pace."""


class Dose(msgspec.Struct, frozen=True):
    """How much of a step to do: active seconds, or reps at a tempo, times sets."""

    seconds: int | None
    reps: int | None
    tempo: float | None
    sets: int
    rest: int

    @staticmethod
    def of(step: Step) -> Dose:
        """The dose written in the routine file."""
        return Dose(step.seconds, step.reps, step.tempo, step.sets, step.rest)

    def active(self) -> float:
        """Active seconds in one phase (one side of one set)."""
        if self.seconds is not None:
            return float(self.seconds)
        return (self.reps or 0) * (self.tempo or 0.0)


def clamp_pace(pace: float) -> float:
    """Keep a pace multiplier within the safe bounds."""
    if not math.isfinite(pace):
        return 1.0
    return round(min(PACE_MAX, max(PACE_MIN, pace)), 3)


def paced(step: Step, pace: float) -> Dose:
    """The step's dose with holds, tempo, rests and changes of position scaled by the pace, within safe limits.

    A change of position never gets less than its kind of move needs (MOVE_SECONDS), however quick the pace.
    """
    dose = replace(Dose.of(step), rest=min(MAX_REST, int(round(step.rest * pace))))
    if step.kind is Kind.REPS:
        low, high = TEMPO_LIMITS
        return replace(dose, tempo=round(min(high, max(low, (step.tempo or 1.0) * pace)), 2))
    if step.kind is Kind.TRANSITION:
        seconds = max(MOVE_SECONDS[step.move], int(round((step.seconds or 0) * pace)))
        return replace(dose, seconds=min(MAX_TRANSITION, seconds))
    low, high = DOSE_LIMITS[step.kind]
    seconds = int(round((step.seconds or 0) * pace))
    return replace(dose, seconds=min(high, max(low, step.floor_seconds if pace < 1 else low, seconds)))


class Program(msgspec.Struct, frozen=True):
    """A routine with a dose per step; None marks a step left out to fit a time budget."""

    routine: Routine
    doses: tuple[Dose | None, ...]
    pace: float = 1.0

    @staticmethod
    def of(routine: Routine, pace: float = 1.0) -> Program:
        """Every step of the routine at the given pace."""
        pace = clamp_pace(pace)
        return Program(routine, tuple(paced(s, pace) for s in routine.steps), pace)

    @property
    def included(self) -> tuple[int, ...]:
        """Indexes of the steps that will be done."""
        return tuple(i for i, d in enumerate(self.doses) if d is not None)

    @property
    def dropped(self) -> tuple[str, ...]:
        """Ids of the steps left out."""
        return tuple(s.id for s, d in zip(self.routine.steps, self.doses, strict=False) if d is None)

    def following(self, index: int) -> int | None:
        """The first included step at or after this index, or None past the end."""
        return next((i for i in self.included if i >= index), None)

    def preceding(self, index: int) -> int | None:
        """The last included step before this index, or None."""
        return next((i for i in reversed(self.included) if i < index), None)


def fit(program: Program, budget: float, measure: Callable[[Program], float]) -> Program:
    """Shrink a program toward a time budget in seconds: drop optional steps, cut sets, then shorten.

    Holds never go below their safe minimum, reps never below half; the result may stay over budget when the
    routine cannot safely be made that short. `measure` gives a program's planned seconds.
    """
    if measure(program) <= budget:
        return program
    doses = list(program.doses)
    steps = program.routine.steps
    for i in reversed(range(len(steps))):
        if steps[i].optional and doses[i] is not None:
            doses[i] = None
            if measure(replace(program, doses=tuple(doses))) <= budget:
                return replace(program, doses=tuple(doses))
    for i in sorted(program.included, key=lambda j: -(doses[j].sets if doses[j] else 0)):
        dose = doses[i]
        if dose is not None and dose.sets > 1:
            doses[i] = replace(dose, sets=1, rest=0)
            if measure(replace(program, doses=tuple(doses))) <= budget:
                return replace(program, doses=tuple(doses))
    base = tuple(doses)

    def shrunk(factor: float) -> Program:
        scaled: list[Dose | None] = []
        for step, dose in zip(steps, base, strict=False):
            if dose is None or step.kind is Kind.TRANSITION:
                scaled.append(dose)
            elif dose.reps is not None:
                floor = min(dose.reps, max(MIN_REPS, math.ceil(dose.reps / 2)))
                scaled.append(replace(dose, reps=max(floor, math.ceil(dose.reps * factor))))
            else:
                scaled.append(replace(dose, seconds=max(step.floor_seconds, int((dose.seconds or 0) * factor))))
        return replace(program, doses=tuple(scaled))

    low, high = 0.0, 1.0
    for _ in range(12):
        middle = (low + high) / 2
        if measure(shrunk(middle)) <= budget:
            low = middle
        else:
            high = middle
    return shrunk(low)
