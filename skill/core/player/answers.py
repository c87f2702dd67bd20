"""Answers that keep the place (time left, which step) and settings (pace, words, voice, chimes)."""

from __future__ import annotations

from collections.abc import Callable

from skill.core.phrases import Voice
from skill.core.planner import (
    Verbosity,
    clamp_speech_rate,
)
from skill.core.player.core import PlayerCore
from skill.core.player.state import (
    Awaiting,
    PlayerState,
    Reply,
)
from skill.core.program import Program, clamp_pace
from skill.core.timeline import Position

PACE_STEP = 1.25
SPEECH_STEP = 1.1
"""Each "talk slower" divides the speaking rate by this, each "talk faster" multiplies it."""


class Answers(PlayerCore):
    """Informational cut-ins and setting changes."""

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
        program = self.state_program(state, voice)
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
        program = self.state_program(state, voice)
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
            step_id = self.state_program(state, voice).routine.steps[position.step].id
            state.seen = [s for s in state.seen if s != step_id]
        reply = Reply().say(voice.say(f"player.{change}" if changed else f"player.{change}_limit"))
        if position is None:
            return self.finished(state, voice, reply)
        return self.narrate(state, voice, position, now, reply)
