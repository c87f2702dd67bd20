"""Player: the pure state machine behind a routine conversation (no Alexa types here)."""

from __future__ import annotations

import random
from collections.abc import Callable
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

import msgspec
import msgspec.json
from msgspec import Meta

from skill.core.phrases import Phrasebook, Voice
from skill.core.planner import (
    SPEECH_RATE_MAX,
    SPEECH_RATE_MIN,
    Planner,
    PlanOptions,
    Verbosity,
    clamp_speech_rate,
)
from skill.core.program import PACE_MAX, PACE_MIN, Program, clamp_pace, fit
from skill.core.routines import Library, Routine
from skill.core.ssml import MAX_SSML_CHARS, chunk
from skill.core.timeline import Marks, Position, SegmentKind, SpeechRate, Timeline

STATE_VERSION = 1
PACE_STEP = 1.25
SPEECH_STEP = 1.1
"""Each "talk slower" divides the speaking rate by this, each "talk faster" multiplies it."""
ANSWER_SECONDS = 2.0
"""Seconds a listener takes to answer a yes-or-no question and for Alexa to notice they have finished."""
MOVEMENT_CUES = frozenset({"instruction", "resume"})
"""Timeline cues that tell the listener how to move."""
RESPONSE_RESERVE = 1200
MIN_BUDGET, MAX_BUDGET = 60.0, 3600.0
"""Seconds a requested routine length may be, once chosen."""
"""SSML characters kept free in a response for what is said around the narration."""


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


class Player:
    """Moves through a routine in response to commands; every method returns a Reply."""

    def __init__(self, library: Library, settings: Settings | None = None) -> None:
        self.library = library
        self.settings = settings or Settings()
        self._program = lru_cache(maxsize=512)(self._make_program)

    # ----- programs -------------------------------------------------------------------

    def options(self, state: PlayerState) -> PlanOptions:
        """How this listener's narration is planned: verbosity, chimes and speaking rate from the state."""
        return PlanOptions(state.verbosity, self.settings.rate, state.chimes, state.speech_rate)

    def planner(
        self, voice: Voice, verbosity: Verbosity = Verbosity.FULL, options: PlanOptions | None = None
    ) -> Planner:
        """A planner speaking with this voice (with `options`, verbosity is taken from them)."""
        return Planner(voice, options or PlanOptions(verbosity, self.settings.rate))

    def length(self, voice: Voice) -> Callable[[Routine], float]:
        """Planned seconds of a routine as written, narrated with a new listener's settings (chimes on)."""
        options = self.options(PlayerState())
        return lambda routine: self.program(voice, routine.id, 1.0, None, Verbosity.FULL, options)[1]

    def program(
        self,
        voice: Voice,
        routine_id: str,
        pace: float,
        budget: float | None,
        verbosity: Verbosity,
        options: PlanOptions | None = None,
    ) -> tuple[Program, float]:
        """The routine's program at a pace and budget, with its planned seconds (cached)."""
        options = options or PlanOptions(verbosity, self.settings.rate)
        return self._program(voice.book, routine_id, pace, budget, options)

    def _make_program(
        self, book: Phrasebook, routine_id: str, pace: float, budget: float | None, options: PlanOptions
    ) -> tuple[Program, float]:
        routine = self.library.get(routine_id)
        if routine is None:  # callers pass ids restore() has checked; say so rather than fail later
            raise KeyError(f"unknown routine {routine_id!r}")
        measurer = Planner(Voice(book, random.Random(0)), options)
        program = Program.of(routine, pace)
        if budget:
            program = fit(program, budget, measurer.measure)
        return program, measurer.measure(program)

    def _state_program(self, state: PlayerState, voice: Voice) -> Program:
        if state.routine is None:
            raise ValueError("no routine is in progress")
        return self.program(voice, state.routine, state.pace, state.budget, state.verbosity, self.options(state))[0]

    # ----- where the listener is ------------------------------------------------------

    def here(self, state: PlayerState, now: float) -> tuple[Position | None, bool]:
        """The listener's position now, and whether they cut into the narration to get here.

        A paused routine stays where it was paused. Otherwise the request's timestamp, the
        last response's send time and its timeline tell how much of it was heard.
        """
        stored = Position(state.step, state.phase, state.elapsed)
        if state.paused or state.last is None:
            return stored, False
        marks = Marks.from_list(list(state.last.marks))
        heard = now - state.last.sent_at - self.settings.start_delay
        located = marks.locate(heard)
        if located is None:
            return (Position(state.last.after) if state.last.after is not None else None), False
        if (located.step, located.phase) == (state.step, state.phase) and state.elapsed:
            # The narration resumed this phase part way: its timeline counts from there.
            located = Position(located.step, located.phase, round(state.elapsed + located.elapsed, 3))
        # Steps queued after the cut-in were never heard: their full instructions are still owed.
        unheard = {program_step for program_step, _, _ in state.last.marks[1] if program_step > located.step}
        if unheard and state.routine is not None and (routine := self.library.get(state.routine)) is not None:
            ids = {routine.steps[i].id for i in unheard if i < len(routine.steps)}
            state.seen = [s for s in state.seen if s not in ids]
        return located, True

    # ----- narration ------------------------------------------------------------------

    def start(
        self,
        state: PlayerState,
        voice: Voice,
        routine: Routine,
        budget: float | None,
        now: float,
        *,
        returning: bool = False,
    ) -> Reply:
        """Begin a routine: safety notes first (and wait for a yes), else straight into step one.

        A `returning` listener, who has heard this routine's full notes before, hears its one-line
        reminder and how to hear the notes in full; a first-timer hears them all.
        """
        state.routine = routine.id
        # The state keeps budgets of one minute to an hour: "a 30 second routine" is as short as it gets.
        state.budget = None if budget is None else min(max(budget, MIN_BUDGET), MAX_BUDGET)
        state.step, state.phase, state.elapsed = 0, 0, 0.0
        state.paused = False
        state.seen = []
        state.last = None
        state.offer = None
        program, seconds = self.program(voice, routine.id, state.pace, budget, state.verbosity, self.options(state))
        intro = voice.say("cue.routine_intro", title=routine.title, minutes=voice.duration(seconds))
        reply = Reply().say(intro)
        if program.dropped:
            reply.say(voice.say("player.shortened"))
        if routine.safety:
            full = [voice.say("player.safety_intro"), *routine.safety]
            brief = [voice.say("player.safety_reminder", reminder=routine.reminder), voice.say("player.safety_more")]
            # A routine whose notes are one short line already says them in full: the reminder would be longer.
            if returning and routine.reminder and self._seconds(brief) < self._seconds(full):
                reply.parts.extend(brief)
                reprompt = voice.say("player.safety_full_reprompt")
            else:
                reply.parts.extend(full)
                reprompt = voice.say("player.safety_reprompt")
            reply.say(voice.say("player.safety_ask"))
            reply.reprompt = reprompt
            reply.asks = Awaiting.SAFETY
            return reply
        return self.narrate(state, voice, Position(program.included[0]), now, reply)

    def safety_notes(self, state: PlayerState, voice: Voice, now: float, *, begun: bool = True) -> Reply:
        """The chosen routine's safety notes in full ("safety notes"): before it starts, then ask to begin;
        mid-routine, the narration waits where the listener is."""
        routine = self.library.get(state.routine) if state.routine else None
        if routine is None:
            reply = Reply().say(voice.say("skill.no_routine"))
            reply.reprompt = voice.say("skill.what_next_reprompt")
            return reply
        reply = Reply().say(voice.say("player.safety_intro") if routine.safety else voice.say("player.safety_none"))
        for note in routine.safety:
            reply.say(note)
        if not begun:
            reply.say(voice.say("player.safety_ask"))
            reply.reprompt = voice.say("player.safety_reprompt")
            reply.asks = Awaiting.SAFETY
            return reply
        if self.hold(state, voice, now) is None:
            return self.finished(state, voice, reply)
        reply.say(voice.say("player.resume_hint"))
        reply.reprompt = voice.say("player.resume_reprompt")
        return reply

    def first_movement(self, voice: Voice, routine: Routine, *, returning: bool, chimes: bool = True) -> float:
        """Seconds from the start of the answer to choosing a routine until the first movement cue begins.

        When the safety notes end in a question, the listener hears all of it, answers yes
        (ANSWER_SECONDS), and Alexa starts the narration after its start delay.
        """
        state = PlayerState(chimes=chimes)
        reply = self.start(state, voice, routine, None, 0.0, returning=returning)
        seconds = self.settings.start_delay
        if reply.asks is Awaiting.SAFETY:
            seconds += self.spoken(reply) + ANSWER_SECONDS + self.settings.start_delay
            reply = self.narrate(state, voice, Position(self._state_program(state, voice).included[0]), 0.0)
        for part in reply.parts:
            if isinstance(part, Timeline):
                cue = next((s for s in part.segments if s.cue in MOVEMENT_CUES and s.kind is SegmentKind.SPEECH), None)
                if cue is not None:
                    return round(seconds + cue.start, 3)
                seconds += part.duration
            else:
                seconds += self.settings.rate.seconds(part)
        raise ValueError(f"routine {routine.id!r} has no movement cue")

    def _seconds(self, sentences: list[str]) -> float:
        return sum(self.settings.rate.seconds(t) for t in sentences)

    def spoken(self, reply: Reply) -> float:
        """Planned seconds to say a whole reply: its sentences at the normal rate and its narration as planned."""
        rate = self.settings.rate
        return round(sum(p.duration if isinstance(p, Timeline) else rate.seconds(p) for p in reply.parts), 3)

    def narrate(
        self,
        state: PlayerState,
        voice: Voice,
        position: Position | None,
        now: float,
        reply: Reply | None = None,
        *,
        resume_cue: bool = True,
    ) -> Reply:
        """Narrate from a position: one step, or as many whole steps as fit in hands-free mode.

        A routine with a `closing` line ends on it and closes the session instead of offering another.
        """
        reply = reply or Reply()
        program = self._state_program(state, voice)
        index = None if position is None else program.following(position.step)
        if index is None:
            return self.finished(state, voice, reply)
        resume = position if index == position.step and (position.phase or position.elapsed) else None
        planner = self.planner(voice, options=self.options(state))
        steps = [index]
        if state.handsfree:
            ahead = planner.compile(
                program, program.included[program.included.index(index) :], seen=frozenset(state.seen), resume=resume,
                resume_cue=resume_cue,
            )
            steps = list(chunk(ahead, self.settings.budget)[0].steps)
        after = program.following(steps[-1] + 1)
        closing = after is None and program.routine.closing is not None
        timeline = planner.compile(
            program, steps, seen=frozenset(state.seen), resume=resume, tail=closing, resume_cue=resume_cue
        )
        state.step = index
        state.phase = resume.phase if resume else 0
        state.elapsed = resume.elapsed if resume else 0.0
        state.paused = False
        state.seen = list(dict.fromkeys([*state.seen, *(program.routine.steps[i].id for i in steps)]))[-100:]
        state.last = Last(sent_at=now, marks=timeline.marks().to_list(), after=after)
        reply.parts.append(timeline)
        if closing:
            reply.end = True
            reply.reprompt = None
            return reply
        if after is None:
            reply.say(voice.say("player.routine_complete"))
            reply.reprompt = voice.say("player.another_reprompt")
            reply.asks = Awaiting.ANOTHER
            return reply
        name = program.routine.steps[after].name
        reply.say(voice.say("player.handsfree_prompt" if state.handsfree else "player.next_prompt", name=name))
        reply.reprompt = voice.say("player.next_reprompt", name=name)
        reply.asks = Awaiting.CONTINUE
        return reply

    def begin(self, state: PlayerState, voice: Voice, now: float, reply: Reply | None = None) -> Reply:
        """Narrate the first step of the chosen routine (after its safety notes)."""
        first = self._state_program(state, voice).included[0]
        return self.narrate(state, voice, Position(first), now, reply)

    def finished(self, state: PlayerState, voice: Voice, reply: Reply | None = None) -> Reply:
        """The routine has nothing left: say so and offer another."""
        reply = reply or Reply()
        reply.say(voice.say("player.already_done"))
        reply.reprompt = voice.say("player.another_reprompt")
        reply.asks = Awaiting.ANOTHER
        state.last = None
        if state.routine is not None and (routine := self.library.get(state.routine)) is not None:
            # Past the last step: "next" again must not narrate the last response's steps once more.
            state.step, state.phase, state.elapsed, state.paused = len(routine.steps), 0, 0.0, False
        return reply

    # ----- commands -------------------------------------------------------------------

    def next(self, state: PlayerState, voice: Voice, now: float, by_side: bool = False) -> Reply:
        """Go to the step after the one being narrated (or the one up next when it ended).

        `by_side`: on the first side of a two-sided move, go to its second side instead."""
        position, interrupted = self.here(state, now)
        if position is not None and (interrupted or state.paused):
            other = self._other_side(state, voice, position) if by_side else None
            position = other or Position(position.step + 1)
        return self.narrate(state, voice, position, now)

    def _other_side(self, state: PlayerState, voice: Voice, position: Position) -> Position | None:
        """The start of the second side when the listener is on the first side of a move."""
        program = self._state_program(state, voice)
        if position.step >= len(program.routine.steps) or not program.routine.steps[position.step].per_side:
            return None
        dose = program.doses[position.step]
        sets = dose.sets if dose is not None else 1
        sides = [side for _ in range(sets) for side in ("left", "right")]
        if position.phase < len(sides) and sides[position.phase] == "left":
            return Position(position.step, position.phase + 1)
        return None

    def current(self, state: PlayerState, voice: Voice, now: float) -> int:
        """The step being heard, or (when the narration ended) the last step heard."""
        program = self._state_program(state, voice)
        position, interrupted = self.here(state, now)
        if (interrupted or state.paused) and position is not None:
            index = program.following(position.step)
        elif state.last is not None and state.last.after is not None:
            index = program.preceding(state.last.after)
        elif state.last is not None:
            index = program.included[-1]
        else:
            index = program.following(state.step)
        return program.included[-1] if index is None else index

    def previous(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Go back to the step before the current one."""
        program = self._state_program(state, voice)
        earlier = program.preceding(self.current(state, voice, now))
        reply = Reply()
        if earlier is None:
            reply.say(voice.say("player.first_step"))
            earlier = program.included[0]
        return self.narrate(state, voice, Position(earlier), now, reply)

    def repeat(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Say the current step again from its start, with the full instruction."""
        program = self._state_program(state, voice)
        index = self.current(state, voice, now)
        step_id = program.routine.steps[index].id
        state.seen = [s for s in state.seen if s != step_id]
        return self.narrate(state, voice, Position(index), now)

    def start_over(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Back to the first step."""
        program = self._state_program(state, voice)
        reply = Reply().say(voice.say("player.start_over"))
        return self.narrate(state, voice, Position(program.included[0]), now, reply)

    def hold(self, state: PlayerState, voice: Voice, now: float) -> Position | None:
        """Stop the narration where the listener is and remember the spot (None: no routine running)."""
        if state.routine is None:
            return None
        position, _ = self.here(state, now)
        if position is None:
            return None
        program = self._state_program(state, voice)
        index = program.following(position.step)
        if index is None:
            return None
        if index != position.step:
            position = Position(index)
        state.step, state.phase, state.elapsed = position.step, position.phase, position.elapsed
        state.paused = True
        state.last = None
        return position

    def pause(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Pause where the listener is; say where and how to resume."""
        position = self.hold(state, voice, now)
        if position is None:
            return self.finished(state, voice)
        reply = Reply().say(self._where(state, voice, position, "player.paused"))
        reply.say(voice.say("player.resume_hint"))
        reply.reprompt = voice.say("player.paused_reprompt")
        return reply

    def restore(self, state: PlayerState, voice: Voice, routine_id: str, position: Position, now: float) -> Reply:
        """Pick up a routine saved in an earlier session, at the saved position."""
        routine = self.library.get(routine_id)
        if routine is None:  # saved_resume offers only routines that exist
            raise KeyError(f"unknown routine {routine_id!r}")
        state.routine, state.budget, state.seen, state.last = routine.id, None, [], None
        program = self._state_program(state, voice)
        index = program.following(position.step)
        if index is None:
            return self.finished(state, voice)
        phases = (2 if routine.steps[index].per_side else 1) * (program.doses[index].sets if program.doses[index] else 1)
        if index != position.step or position.phase >= phases:
            position = Position(index)
        reply = Reply().say(voice.say("player.restored", title=routine.title, number=program.included.index(index) + 1))
        return self.narrate(state, voice, position, now, reply, resume_cue=False)

    def resume(self, state: PlayerState, voice: Voice, now: float, reply: Reply | None = None) -> Reply:
        """Carry on from where the listener was."""
        position, _ = self.here(state, now)
        return self.narrate(state, voice, position, now, reply)

    def time_left(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Seconds left in this hold and minutes in the routine; then the narration carries on."""

        def say(program: Program, position: Position, carrying_on: bool) -> list[str]:
            planner = self.planner(voice, options=self.options(state))
            rest = planner.compile(program, [i for i in program.included if i >= position.step], resume=position)
            number, count = program.included.index(position.step) + 1, len(program.included)
            here = self._left_in_phase(program, position, voice)
            overall = voice.say("player.time_left", left=voice.duration(rest.duration), number=number, count=count)
            return [here, overall] if here else [overall]

        return self._inform(state, voice, now, say)

    def where(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Which step this is, how long it has left and what comes after; then the narration carries on."""

        def say(program: Program, position: Position, carrying_on: bool) -> list[str]:
            # Narration that carries on says the step's instruction itself: not twice.
            parts = [self._where(state, voice, position, "player.where_named" if carrying_on else "player.where")]
            after = program.following(position.step + 1)
            if after is not None:
                parts.append(voice.say("player.after_this", name=program.routine.steps[after].name))
            return parts

        return self._inform(state, voice, now, say)

    def _inform(
        self, state: PlayerState, voice: Voice, now: float, say: Callable[[Program, Position, bool], list[str]]
    ) -> Reply:
        """Answer an informational cut-in without losing the place.

        Cutting into narration answers and carries on from the very point of the cut-in, in
        the same response, so hands stay free. A paused routine stays paused; between steps
        the coach still waits for "next"."""
        program = self._state_program(state, voice)
        position, running = self.here(state, now)
        index = None if position is None else program.following(position.step)
        if position is None or index is None:
            return self.finished(state, voice)
        if index != position.step:
            position = Position(index)
        reply = Reply()
        for part in say(program, position, running):
            reply.say(part)
        if running:
            return self.narrate(state, voice, position, now, reply)
        if state.paused:
            reply.say(voice.say("player.resume_hint"))
            reply.reprompt = voice.say("player.paused_reprompt")
            return reply
        name = program.routine.steps[position.step].name
        reply.say(voice.say("player.next_when_ready", name=name))
        reply.reprompt = voice.say("player.next_reprompt", name=name)
        reply.asks = Awaiting.CONTINUE
        return reply

    def _left_in_phase(self, program: Program, position: Position, voice: Voice) -> str | None:
        """"About 35 seconds left on this one" inside a timed hold, else None."""
        dose = program.doses[position.step]
        if dose is None or not position.elapsed:
            return None
        return voice.say("player.left_in_phase", left=voice.duration(max(dose.active() - position.elapsed, 0)))

    def _where(self, state: PlayerState, voice: Voice, position: Position, key: str) -> str:
        program = self._state_program(state, voice)
        step = program.routine.steps[position.step]
        number = program.included.index(position.step) + 1
        text = voice.say(key, number=number, count=len(program.included), name=step.name, short=step.short)
        left = self._left_in_phase(program, position, voice)
        return f"{text} {left}" if left else text

    @staticmethod
    def prefer(state: PlayerState, change: str) -> bool:
        """Apply one setting change to the state; False when it was already at its limit.

        Changes: slower and faster (the pace of holds, lead-ins, rests and transitions together),
        shorter and detail (how much is said), talk_slower and talk_faster (the speaking rate),
        chimes_off and chimes_on.
        """
        before = (state.pace, state.verbosity, state.speech_rate, state.chimes)
        if change == "slower":
            state.pace = clamp_pace(state.pace * PACE_STEP)
        elif change == "faster":
            state.pace = clamp_pace(state.pace / PACE_STEP)
        elif change == "shorter":
            state.verbosity = Verbosity.SHORT if state.verbosity is Verbosity.FULL else Verbosity.QUIET
        elif change == "detail":
            state.verbosity = Verbosity.FULL
            return True
        elif change == "talk_slower":
            state.speech_rate = clamp_speech_rate(state.speech_rate / SPEECH_STEP)
        elif change == "talk_faster":
            state.speech_rate = clamp_speech_rate(state.speech_rate * SPEECH_STEP)
        elif change in ("chimes_off", "chimes_on"):
            state.chimes = change == "chimes_on"
        else:
            raise ValueError(f"unknown setting change {change!r}")
        # Only a change that changed nothing is at its limit: 1.25 to 1.5 is a step, not "already the slowest".
        return (state.pace, state.verbosity, state.speech_rate, state.chimes) != before

    def adjust(self, state: PlayerState, voice: Voice, now: float, change: str) -> Reply:
        """A setting change (see `prefer`): say so and carry on from here."""
        position = self.hold(state, voice, now)
        changed = self.prefer(state, change)
        if change == "detail" and position is not None:
            step_id = self._state_program(state, voice).routine.steps[position.step].id
            state.seen = [s for s in state.seen if s != step_id]
        reply = Reply().say(voice.say(f"player.{change}" if changed else f"player.{change}_limit"))
        if position is None:
            return self.finished(state, voice, reply)
        return self.narrate(state, voice, position, now, reply)

    def keep_going(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Hands-free: narrate as many whole steps per response as fit."""
        position, _ = self.here(state, now)
        state.handsfree = True
        if position is None:
            return self.finished(state, voice)
        return self.narrate(state, voice, position, now, Reply().say(voice.say("player.handsfree_on")))

    def stop(self, state: PlayerState, voice: Voice, now: float) -> str | None:
        """Where the listener stopped, to say as the session ends (None when not mid-routine)."""
        position = self.hold(state, voice, now)
        if position is None:
            return None
        program = self._state_program(state, voice)
        step = program.routine.steps[position.step]
        number = program.included.index(position.step) + 1
        return voice.say("player.stopped_at", number=number, name=step.name, title=program.routine.title)
