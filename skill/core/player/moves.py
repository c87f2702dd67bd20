"""Moving through a routine: next (by side), back, repeat, start over, pause, resume, hands-free, stop."""

from __future__ import annotations

from skill.core.phrases import Voice
from skill.core.player.core import PlayerCore
from skill.core.player.state import (
    PlayerState,
    Reply,
)
from skill.core.timeline import Position


class Moves(PlayerCore):
    """Commands that move the listener's place."""

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
        program = self.state_program(state, voice)
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
        program = self.state_program(state, voice)
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
        program = self.state_program(state, voice)
        earlier = program.preceding(self.current(state, voice, now))
        reply = Reply()
        if earlier is None:
            reply.say(voice.say("player.first_step"))
            earlier = program.included[0]
        return self.narrate(state, voice, Position(earlier), now, reply)

    def repeat(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Say the current step again from its start, with the full instruction."""
        program = self.state_program(state, voice)
        index = self.current(state, voice, now)
        step_id = program.routine.steps[index].id
        state.seen = [s for s in state.seen if s != step_id]
        return self.narrate(state, voice, Position(index), now)

    def start_over(self, state: PlayerState, voice: Voice, now: float) -> Reply:
        """Back to the first step."""
        program = self.state_program(state, voice)
        reply = Reply().say(voice.say("player.start_over"))
        return self.narrate(state, voice, Position(program.included[0]), now, reply)

    def hold(self, state: PlayerState, voice: Voice, now: float) -> Position | None:
        """Stop the narration where the listener is and remember the spot (None: no routine running)."""
        if state.routine is None:
            return None
        position, _ = self.here(state, now)
        if position is None:
            return None
        program = self.state_program(state, voice)
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
        program = self.state_program(state, voice)
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
        program = self.state_program(state, voice)
        step = program.routine.steps[position.step]
        number = program.included.index(position.step) + 1
        return voice.say("player.stopped_at", number=number, name=step.name, title=program.routine.title)
