"""Routines: validated routines loaded once from data/routines/*.yaml, by concern in this package.

`terms` holds the vocabulary of a routine file and the dose limits, `sides` reads left and right in
an instruction, `model` the routine and step structs with their checks, and `library` reads the
files into a library looked up by id.
"""

from skill.core.routines.library import Library, RoutineError, load_library, load_routine, step_key, step_number
from skill.core.routines.model import Breath, Routine, Step
from skill.core.routines.sides import BODY_PARTS, SIDE_WORDS, side_pairs, swap_problems
from skill.core.routines.terms import (
    DEFAULT_CUES,
    DEFAULT_MIN,
    DOSE_LIMITS,
    ELSEWHERE,
    MOVE_SECONDS,
    Area,
    Cue,
    Equipment,
    Kind,
    Level,
    Move,
)

__all__ = [
    "BODY_PARTS", "DEFAULT_CUES", "DEFAULT_MIN", "DOSE_LIMITS", "ELSEWHERE", "MOVE_SECONDS", "SIDE_WORDS", "Area", "Breath", "Cue",
    "Equipment", "Kind", "Level", "Library", "Move", "Routine", "RoutineError", "Step", "load_library", "load_routine",
    "side_pairs", "step_key", "step_number", "swap_problems",
]
