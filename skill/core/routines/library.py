"""Reading routine files: one validated routine per file, the library of all of them by id, and step names as ids."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import msgspec

from skill.core.datafiles import DATA_DIR, DataFileError, load_yaml
from skill.core.numbers import ORDINALS, parse_number
from skill.core.routines.model import Routine
from skill.core.routines.terms import Area, Cue, Equipment, Kind, Level, Move
from skill.core.schema import describe_error, stripped
from skill.core.words import words


class RoutineError(ValueError):
    """A routine file that cannot be used, with a message naming file, routine, step and field."""


_CHOICES: dict[str, type[StrEnum]] = {
    "kind": Kind, "move": Move, "switch_move": Move, "cues": Cue, "areas": Area, "equipment": Equipment, "level": Level
}


def _describe(path: Path, raw: Any, error: msgspec.ValidationError) -> str:
    loc, message = describe_error(error)
    names = [p for p in loc if isinstance(p, str)]
    if message.startswith("Invalid enum value") and names and names[-1] in _CHOICES:
        message += f"; use one of: {', '.join(_CHOICES[names[-1]])}"
    routine_id = raw.get("id", "?")
    parts = [f"{path}: routine '{routine_id}'"]
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        index = loc[1]
        steps = raw.get("steps")
        step_id = "?"
        if isinstance(steps, list) and index < len(steps) and isinstance(steps[index], dict):
            step_id = steps[index].get("id", "?")
        parts.append(f"step {index + 1} '{step_id}'")
        loc = loc[2:]
    parts.append(f"field '{'.'.join(str(p) for p in loc)}'")
    return ", ".join(parts) + f": {message}"


def step_key(name: str) -> str:
    """The id a step's name resolves to: its words without a leading article ("child's pose" -> childs-pose)."""
    words = re.sub(r"[^a-z ]+", "", name.lower().replace("-", " ")).split()
    return "-".join(words[1:] if words[:1] in (["the"], ["a"]) and len(words) > 1 else words)


def step_number(said: str, named: bool = False) -> int | None:
    """The whole number a step is called by: as Alexa sends AMAZON.NUMBER ("3"), or in a step's name
    (`named`) only after "step" or "number" ("step three", "number 2"); None otherwise."""
    said_words = words(said)
    if said_words[:1] == ["the"]:
        said_words = said_words[1:]
    if named:
        if said_words[:1] not in (["step"], ["number"]):
            return None
        said_words = said_words[1:]
    while said_words[:1] in (["step"], ["number"]):
        said_words = said_words[1:]
    if len(said_words) == 1 and said_words[0] in ORDINALS:
        return ORDINALS[said_words[0]]
    said_words = [re.sub(r"(?<=\d)(st|nd|rd|th)$", "", w) for w in said_words]  # "3rd"
    number = parse_number(said_words)
    return int(number) if number is not None and number.is_integer() else None


def load_routine(path: Path) -> Routine:
    """Read and validate one routine file."""
    try:
        raw = load_yaml(path)
    except DataFileError as exc:
        raise RoutineError(str(exc)) from exc
    if not isinstance(raw, dict):
        raise RoutineError(f"{path}: expected a mapping of routine fields at the top level")
    try:
        routine = msgspec.convert(stripped(raw), Routine)
    except msgspec.ValidationError as exc:
        raise RoutineError(_describe(path, raw, exc)) from exc
    if routine.id != path.stem:
        raise RoutineError(f"{path}: routine '{routine.id}', field 'id': must match the file name '{path.stem}'")
    return routine


class Library:
    """All routines, in a stable order, looked up by id."""

    def __init__(self, routines: list[Routine]) -> None:
        self.routines: tuple[Routine, ...] = tuple(routines)
        self._by_id = {r.id: r for r in routines}
        if len(self._by_id) != len(routines):
            raise RoutineError("routine ids must be unique across the library")

    def get(self, routine_id: str) -> Routine | None:
        """The routine with this id, or None."""
        return self._by_id.get(routine_id)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.routines)

    def __len__(self) -> int:
        return len(self.routines)


def load_library(directory: Path | None = None) -> Library:
    """Load every routine file in the directory (data/routines by default)."""
    directory = directory or DATA_DIR / "routines"
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RoutineError(f"{directory}: no routine files (*.yaml) found")
    return Library([load_routine(f) for f in files])
