"""What the player remembers between turns (PlayerState), what it says (Reply), and reading stored state back safely."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec
import msgspec.json
from msgspec import Meta

from skill.core.planner import (
    SPEECH_RATE_MAX,
    SPEECH_RATE_MIN,
    Verbosity,
)
from skill.core.program import PACE_MAX, PACE_MIN
from skill.core.routines import Library
from skill.core.ssml import MAX_SSML_CHARS
from skill.core.timeline import Marks, SpeechRate, Timeline

STATE_VERSION = 1
RESPONSE_RESERVE = 1200
"""SSML characters kept free in a response for what is said around the narration."""
MIN_BUDGET, MAX_BUDGET = 60.0, 3600.0
"""Seconds a requested routine length may be, once chosen."""


class Awaiting(StrEnum):
    """What a "yes" or "no" answers."""

    SAFETY = "safety"
    CONTINUE = "continue"
    OFFER = "offer"
    ANOTHER = "another"
    SAVED = "saved"
    """Offered to pick up an unfinished routine from an earlier session."""
    FORGET = "forget"
    """Asked to confirm deleting the user's data."""
    CHOICE = "choice"
    """Listed routines and asked which one."""
    CHECK_IN = "check_in"
    """Asked how the routine just finished felt."""


Finite = Annotated[float, Meta(ge=-1e12, le=1e12)]
"""A stored time or offset: never NaN or infinite (they would make the next response invalid JSON)."""
Id = Annotated[str, Meta(max_length=80)]
"""A routine, step or entry id as the skill writes it; longer is not ours."""
MAX_MARKS = 200
"""More timeline marks than any response carries: a bigger `last` did not come from the skill."""


class Last(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The narration sent in the last response, and when it was sent."""

    sent_at: Finite
    marks: tuple[
        Finite,
        Annotated[tuple[tuple[int, Finite, Finite], ...], Meta(max_length=MAX_MARKS)],
        Annotated[
            tuple[tuple[int, int, Literal["left", "right"] | None, int, Finite, Finite, Finite, Finite], ...],
            Meta(max_length=MAX_MARKS),
        ],
    ]
    after: int | None
    """Step that follows the narration, or None when it reached the routine's end."""


class PlayerState(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything the player remembers between turns, stored in session attributes."""

    v: Literal[1] = STATE_VERSION
    routine: Id | None = None
    step: Annotated[int, Meta(ge=0)] = 0
    phase: Annotated[int, Meta(ge=0)] = 0
    elapsed: Annotated[float, Meta(ge=0, le=86400)] = 0.0
    pace: Annotated[float, Meta(ge=PACE_MIN, le=PACE_MAX)] = 1.0
    verbosity: Verbosity = Verbosity.FULL
    paused: bool = False
    handsfree: bool = False
    chimes: bool = True
    """Chimes from Amazon's sound library at begin, switch sides and release ("no chimes" turns them off)."""
    speech_rate: Annotated[float, Meta(ge=SPEECH_RATE_MIN, le=SPEECH_RATE_MAX)] = 1.0
    """How fast the coach talks ("talk slower"); the pace of the routine is separate."""
    budget: Annotated[float, Meta(ge=MIN_BUDGET, le=MAX_BUDGET)] | None = None
    seen: Annotated[list[Id], Meta(max_length=100)] = msgspec.field(default_factory=list)
    awaiting: Awaiting | None = None
    offer: Id | None = None
    """Routine offered for a "yes" or "start that routine"."""
    answer: Id | None = None
    """Id of the last quick answer, for "tell me more"."""
    listed: Annotated[list[Id], Meta(max_length=20)] = msgspec.field(default_factory=list)
    """Routines in the last list the coach gave, in the order said, for "the second one"."""
    last: Last | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form for session attributes (lists, never tuples); `restore` reads it back."""
        return msgspec.json.decode(msgspec.json.encode(self))


class Reset(StrEnum):
    """Why stored state could not be used."""

    MALFORMED = "malformed"
    UNKNOWN_ROUTINE = "unknown_routine"
    OUT_OF_RANGE = "out_of_range"


def restore(raw: Any, library: Library) -> tuple[PlayerState, Reset | None]:
    """Validate stored state against the schema and the library; reset safely when it does not fit."""
    if raw is None:
        return PlayerState(), None
    try:
        state = msgspec.convert(raw, PlayerState)
        if state.last is not None:
            Marks.from_list(list(state.last.marks))
    except (ValueError, TypeError):
        return PlayerState(), Reset.MALFORMED
    keep = {"pace": state.pace, "verbosity": state.verbosity, "chimes": state.chimes, "speech_rate": state.speech_rate}
    if state.routine is not None:
        routine = library.get(state.routine)
        if routine is None:
            return PlayerState(**keep), Reset.UNKNOWN_ROUTINE
        if state.step > len(routine.steps) or (state.last and state.last.after is not None and state.last.after >= len(routine.steps)):
            return PlayerState(**keep), Reset.OUT_OF_RANGE
        if state.last and any(s >= len(routine.steps) for s, _, _ in state.last.marks[1]):
            return PlayerState(**keep), Reset.OUT_OF_RANGE
    if state.offer is not None and library.get(state.offer) is None:
        state.offer = None
        state.awaiting = None
    state.listed = [i for i in state.listed if library.get(i) is not None]
    return state, None


class Reply(msgspec.Struct):
    """What to say: plain sentences and narration timelines, then a reprompt or the end."""

    parts: list[str | Timeline] = msgspec.field(default_factory=list)
    reprompt: str | None = None
    end: bool = False
    remember: bool = True
    """Whether "repeat" may say this again (a "didn't catch that" is never what the user wants again)."""
    replay: tuple[str, str] | None = None
    """SSML speech and reprompt sent earlier, to send again unchanged instead of `parts`."""
    asks: Awaiting | None = None
    """What the reply asks the user, for the dialogue to wait for (the player never sets it itself)."""

    def say(self, text: str) -> Reply:
        """Add a sentence."""
        self.parts.append(text)
        return self


class Settings(msgspec.Struct, frozen=True):
    """Tunable timing: how fast the voice speaks and how long Alexa takes to start speaking."""

    rate: SpeechRate = SpeechRate()
    start_delay: float = 1.0
    """Seconds between a request's timestamp and the start of the speech it answers."""
    budget: int = MAX_SSML_CHARS - RESPONSE_RESERVE
