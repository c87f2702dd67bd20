"""The terms of a routine file (kinds of step, cues, areas, equipment, moves, levels) and the dose limits per kind."""

from __future__ import annotations

from enum import StrEnum


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


ELSEWHERE = "elsewhere"
"""The interaction model's area id for a body part no routine works on ("my knee")."""


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


class Level(StrEnum):
    """How demanding a routine is."""

    GENTLE = "gentle"
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"


MOVE_SECONDS: dict[Move, int] = {Move.IN_PLACE: 3, Move.STANDING: 5, Move.FLOOR: 5, Move.BALL: 10, Move.ROLLER: 12}
"""Least seconds between the words that ask for a move and the next thing the listener must do."""

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
