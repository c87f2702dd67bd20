"""The player's core: programs, where the listener is, and narrating from a place."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache

from skill.core.phrases import Phrasebook, Voice
from skill.core.planner import (
    Planner,
    PlanOptions,
    Verbosity,
)
from skill.core.player.state import (
    MAX_BUDGET,
    MIN_BUDGET,
    Awaiting,
    Last,
    PlayerState,
    Reply,
    Settings,
)
from skill.core.program import Program, fit
from skill.core.routines import Library, Routine
from skill.core.ssml import chunk
from skill.core.timeline import Marks, Position, SegmentKind, Timeline

ANSWER_SECONDS = 2.0
"""Seconds a listener takes to answer a yes-or-no question and for Alexa to notice they have finished."""
MOVEMENT_CUES = frozenset({"instruction", "resume"})
"""Timeline cues that tell the listener how to move."""


class PlayerCore:
    """Programs, the listener's place, and narration; the commands build on these."""

    def __init__(self, library: Library, settings: Settings | None = None) -> None:
        self.library = library
        self.settings = settings or Settings()
        self._program = lru_cache(maxsize=512)(self._make_program)

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

    def state_program(self, state: PlayerState, voice: Voice) -> Program:
        """The program of the routine under way, planned as it is narrated to this listener."""
        if state.routine is None:
            raise ValueError("no routine is in progress")
        return self.program(voice, state.routine, state.pace, state.budget, state.verbosity, self.options(state))[0]

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
            reply = self.narrate(state, voice, Position(self.state_program(state, voice).included[0]), 0.0)
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
        program = self.state_program(state, voice)
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
        first = self.state_program(state, voice).included[0]
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
