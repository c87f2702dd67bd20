"""Routine model: validated routines loaded once from data/routines/*.yaml."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from skill.core.datafiles import DATA_DIR, DataFileError, load_yaml
from skill.core.schema import Slug, Text, describe_error, stripped


class Kind(StrEnum):
    """What the body does during a step."""

    HOLD = "hold"
    REPS = "reps"
    ROLL = "roll"
    BREATHE = "breathe"
    TRANSITION = "transition"


class Cue(StrEnum):
    """Optional timing cues a step may ask for."""

    GET_READY = "get_ready"
    HALFWAY = "halfway"
    TEN_LEFT = "ten_left"
    COUNTDOWN = "countdown"
    BREATHING = "breathing"
    COUNT = "count"


class Area(StrEnum):
    """Body areas a routine works on."""

    NECK = "neck"
    SHOULDERS = "shoulders"
    UPPER_BACK = "upper_back"
    MID_BACK = "mid_back"
    LOWER_BACK = "lower_back"
    CHEST = "chest"
    HIPS = "hips"
    FULL_BODY = "full_body"


class Equipment(StrEnum):
    """Things a routine needs at hand."""

    NONE = "none"
    TENNIS_BALL = "tennis_ball"
    FOAM_ROLLER = "foam_roller"
    WALL = "wall"
    CHAIR = "chair"


class Move(StrEnum):
    """How the body changes position before a step or between its sides; sets the least time allowed."""

    IN_PLACE = "in_place"
    """Turn the head, swap hands or lean the other way where you already are."""
    STANDING = "standing"
    """Stand up, sit down on a chair, step to a wall or turn around."""
    FLOOR = "floor"
    """Get down to or up from the floor, roll over, or change legs lying down."""
    BALL = "ball"
    """Move a ball to another spot or to the other side."""
    ROLLER = "roller"
    """Get on or off a foam roller, or move along it."""


MOVE_SECONDS: dict[Move, int] = {Move.IN_PLACE: 3, Move.STANDING: 5, Move.FLOOR: 5, Move.BALL: 10, Move.ROLLER: 12}
"""Least seconds between the words that ask for a move and the next thing the listener must do."""
SIDE_WORDS = {"left": "right", "right": "left"}
BODY_PARTS = frozenset(
    {"ankle", "knee", "foot", "leg", "thigh", "hip", "buttock", "arm", "forearm", "elbow", "wrist", "hand", "palm",
     "shoulder", "ear", "side", "blade", "heel", "toes", "fingers"}
)
_WORDS = re.compile(r"[a-z]+")


def side_pairs(text: str) -> dict[str, str]:
    """Which side each body part is on in a text ("left ankle" gives ankle: left); bare sides count as 'direction'.

    A part named on both sides in the same text is left out, since it says nothing about the swap.
    """
    words = _WORDS.findall(text.lower())
    found: dict[str, set[str]] = {}
    for i, word in enumerate(words):
        if word not in SIDE_WORDS:
            continue
        following = words[i + 1].rstrip("s") if i + 1 < len(words) else ""
        part = following if following in BODY_PARTS else "direction"
        found.setdefault(part, set()).add(word)
    return {part: next(iter(sides)) for part, sides in found.items() if len(sides) == 1}


def swap_problems(first: str, second: str) -> list[str]:
    """Body parts the second-side text leaves on the first side's side (empty when correctly swapped)."""
    before, after = side_pairs(first), side_pairs(second)
    return [f"{after[part]} {part}" for part in sorted(after) if part in before and after[part] == before[part]]


class Level(StrEnum):
    """How demanding a routine is."""

    GENTLE = "gentle"
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"


# Dose limits per kind, in seconds of active time per side and set (SOURCES.md:
# ACSM 2021 holds 10-30 s, up to 60 s for older adults, nothing over 120 s;
# foam rolling 30-120 s per set, PMC8998857; trigger point pressure 10 s to 2 min).
DOSE_LIMITS: dict[Kind, tuple[int, int]] = {
    Kind.HOLD: (10, 120),
    Kind.ROLL: (20, 120),
    Kind.BREATHE: (20, 300),
    Kind.TRANSITION: (2, 30),
}
DEFAULT_MIN: dict[Kind, int] = {Kind.HOLD: 15, Kind.ROLL: 30, Kind.BREATHE: 30, Kind.TRANSITION: 2}
DEFAULT_CUES: dict[Kind, tuple[Cue, ...]] = {
    Kind.HOLD: (Cue.GET_READY, Cue.HALFWAY, Cue.TEN_LEFT, Cue.COUNTDOWN, Cue.BREATHING),
    Kind.ROLL: (Cue.GET_READY, Cue.HALFWAY, Cue.TEN_LEFT, Cue.COUNTDOWN),
    Kind.REPS: (Cue.GET_READY, Cue.COUNT),
    Kind.BREATHE: (Cue.BREATHING,),
    Kind.TRANSITION: (),
}


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
