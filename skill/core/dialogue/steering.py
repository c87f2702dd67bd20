"""Inside a routine: moving, pausing, asking where and how long, settings, the check-in."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from skill.core.dialogue.base import NOT_SAID, Conversation, DialogueError, Heard, heard
from skill.core.player import Awaiting, Reply
from skill.core.program import Program
from skill.core.routines import step_key, step_number
from skill.core.timeline import Position

log = logging.getLogger("backcoach.skill")


class Steering(Conversation):
    """Inside a routine: moving, pausing, asking where and how long, settings, the check-in."""


    def on_next(self, slots: Mapping[str, Heard]) -> Reply:
        """On to what comes next: the second side of a two-sided move, else the following step."""
        self._routine_only()
        if self.latest is Awaiting.SAFETY:
            return self.player.begin(self.state, self.voice, self.now)
        return self.player.next(self.state, self.voice, self.now, by_side=True)

    def on_skip(self, slots: Mapping[str, Heard]) -> Reply:
        """Leave this step, both sides of it, and go to the following one; a step named that is still
        to come is left to be skipped when it starts ("skip the chin tucks" during the nods)."""
        if self.latest is Awaiting.CHECK_IN:
            return self._another(Reply().say(self.voice.say("skill.no_then")))  # "skip" the check-in: nothing changes
        self._routine_only()
        if self.latest is Awaiting.SAFETY:
            return self.player.begin(self.state, self.voice, self.now)
        spoken, key = slots.get("step", NOT_SAID)
        position, _ = self.player.here(self.state, self.now)
        if (spoken or key) and position is not None:
            # The step named is the one under way, or the one up next when the narration has ended.
            program = self.player.state_program(self.state, self.voice)
            wanted = key or step_key(spoken or "")
            named = _included(program, wanted)
            if named is None:
                return self._waiting(Reply().say(self.voice.say("player.no_such_step", name=heard(spoken or wanted.replace("-", " ")))))
            name = program.routine.steps[named].name
            if named > position.step:
                return self._waiting(Reply().say(self.voice.say("player.skip_later", name=name)))
            if named < position.step:
                return self._waiting(Reply().say(self.voice.say("player.skip_done", name=name)))
            return self.player.narrate(self.state, self.voice, Position(named + 1), self.now)
        return self.player.next(self.state, self.voice, self.now)

    def _waiting(self, reply: Reply) -> Reply:
        """A reply that moves nothing on: how to carry on from a hold, or what to say next."""
        if self._hold():
            reply.say(self.voice.say("player.resume_hint"))
            reply.reprompt = self.voice.say("player.paused_reprompt")
        else:
            reply.reprompt = self.voice.say("skill.what_next_reprompt")
        return reply

    def on_go_to(self, slots: Mapping[str, Heard]) -> Reply:
        """Jump to a step of this routine by its name ("go to child's pose") or its number ("go to step three")."""
        self._routine_only()
        spoken, key = slots.get("step", NOT_SAID)
        said_number = slots.get("number", NOT_SAID)[0]
        # Numbered as the coach says them: "step three of eight" counts the steps this run includes.
        program = self.player.state_program(self.state, self.voice)
        number = step_number(said_number or "") or step_number(spoken or "", named=True)
        if number is not None:
            found = program.included[number - 1] if 0 < number <= len(program.included) else None
        else:
            wanted = key or step_key(spoken or "")
            found = _included(program, wanted)
        if found is None:
            if number is not None:
                missing = self.voice.say("player.no_such_step_number", number=number, count=len(program.included))
            elif not spoken:  # a number Alexa could not read ("?"), or nothing at all
                missing = self.voice.say("player.which_step")
            else:
                missing = self.voice.say("player.no_such_step", name=heard(spoken or wanted.replace("-", " ")))
            return self._waiting(Reply().say(missing))
        return self.player.narrate(self.state, self.voice, Position(found), self.now)

    def on_previous(self, slots: Mapping[str, Heard]) -> Reply:
        """Back one step."""
        return self.player.previous(self.state, self.voice, self.now)

    def on_start_over(self, slots: Mapping[str, Heard]) -> Reply:
        """Back to the first step."""
        return self.player.start_over(self.state, self.voice, self.now)

    def on_pause(self, slots: Mapping[str, Heard]) -> Reply:
        """Stop where the user is and wait, keeping the seconds done."""
        return self.player.pause(self.state, self.voice, self.now)

    def on_resume(self, slots: Mapping[str, Heard]) -> Reply:
        """Carry on from where the user paused or cut in, or pick up a routine saved earlier."""
        if self.in_routine:
            if self.latest is Awaiting.SAFETY:
                return self.player.begin(self.state, self.voice, self.now)
            return self.player.resume(self.state, self.voice, self.now)
        restored = self._restore_saved()
        if restored is None:
            raise DialogueError("skill.no_routine")
        return restored

    def on_repeat(self, slots: Mapping[str, Heard]) -> Reply:
        """The current step again inside a routine, else the last thing asked, word for word."""
        if self.in_routine and self.latest is not Awaiting.SAFETY:
            return self.player.repeat(self.state, self.voice, self.now)
        if (said := self.last_said()) is not None:
            return Reply(replay=said)
        raise DialogueError("skill.nothing_to_repeat")

    def on_keep_going(self, slots: Mapping[str, Heard]) -> Reply:
        """Hands-free: as many steps per response as fit (remembered for a routine not yet chosen)."""
        if not self.in_routine:
            self.state.handsfree = True
            return self._offer_all(Reply().say(self.voice.say("skill.handsfree_later")))
        if self.latest is Awaiting.SAFETY:
            self.state.handsfree = True
            return self.player.begin(self.state, self.voice, self.now, Reply().say(self.voice.say("player.handsfree_on")))
        return self.player.keep_going(self.state, self.voice, self.now)

    def on_time_left(self, slots: Mapping[str, Heard]) -> Reply:
        """Seconds left in this hold and minutes in the routine, then carry on (an offered routine: its length)."""
        if not self.in_routine and (pending := self._pending()) is not None:
            return self._about(pending)
        if not self.in_routine and self.latest is Awaiting.CHOICE and len(self.state.listed) > 1:
            return self._lengths()
        self._routine_only()
        if self.latest is Awaiting.SAFETY:
            return self._about_chosen()
        return self.player.time_left(self.state, self.voice, self.now)

    def on_where(self, slots: Mapping[str, Heard]) -> Reply:
        """Which step this is and what comes next, then carry on (an offered routine: what it is)."""
        if not self.in_routine and (pending := self._pending()) is not None:
            return self._about(pending)
        self._routine_only()
        if self.latest is Awaiting.SAFETY:
            return self._about_chosen()
        return self.player.where(self.state, self.voice, self.now)

    def _lengths(self) -> Reply:
        """"How long is it" just after a list: how long each listed routine takes, then which one."""
        voice, length = self.voice, self.player.length(self.voice)
        listed = [r for r in (self.library.get(i) for i in self.state.listed) if r is not None]
        each = [voice.say("skill.routine_length", title=r.title, minutes=voice.duration(length(r))) for r in listed]
        reply = Reply().say(voice.join(each) + ".").say(voice.say("skill.which"))
        reply.reprompt = voice.say("skill.which_reprompt")
        self.state.awaiting = Awaiting.CHOICE
        return reply

    def _about_chosen(self) -> Reply:
        """A question about the routine chosen but not begun: answer, and ask the safety question again."""
        routine = self.library.get(self.state.routine or "")
        if routine is None:
            raise DialogueError("skill.no_routine")
        reply = self._about(routine)
        reply.parts[-1] = self.voice.say("player.safety_ask")
        reply.reprompt = self.voice.say("player.safety_reprompt")
        self.state.awaiting, self.state.offer = Awaiting.SAFETY, None
        return reply

    def _adjust(self, change: str) -> Reply:
        self._routine_only()
        return self.player.adjust(self.state, self.voice, self.now, change)

    def _prefer(self, change: str) -> Reply:
        """A setting that also holds outside a routine: the speaking rate and the chimes (remembered)."""
        if self.in_routine and not self._not_begun():
            return self.player.adjust(self.state, self.voice, self.now, change)
        changed = self.player.prefer(self.state, change)
        reply = Reply().say(self.voice.say(f"player.{change}" if changed else f"player.{change}_limit"))
        return self._close(reply, held=False)

    def on_talk_slower(self, slots: Mapping[str, Heard]) -> Reply:
        """A slower speaking voice, separate from the pace of the holds."""
        return self._prefer("talk_slower")

    def on_talk_faster(self, slots: Mapping[str, Heard]) -> Reply:
        """A quicker speaking voice, separate from the pace of the holds."""
        return self._prefer("talk_faster")

    def on_chimes_off(self, slots: Mapping[str, Heard]) -> Reply:
        """No chimes from now on."""
        return self._prefer("chimes_off")

    def on_chimes_on(self, slots: Mapping[str, Heard]) -> Reply:
        """Chimes again for begin, switch sides and release."""
        return self._prefer("chimes_on")

    def on_feeling(self, slots: Mapping[str, Heard]) -> Reply:
        """How it felt: "too easy" lengthens the holds, "too much" shortens them, within the safe range.

        Remembered as a preference (the pace), never as health information."""
        spoken, feeling_id = slots.get("feeling", NOT_SAID)
        if spoken and not feeling_id:
            # Words that resolved to no feeling may tell a warning sign ("it felt tingly in both legs").
            match = self.faq.match(spoken)
            if match.urgent is not None:
                return self._answer(match, spoken)
        feeling = feeling_id or "right"
        if feeling == "right" and self.latest is not Awaiting.CHECK_IN:
            return self.on_yes(slots)  # "pretty good" answers whatever was asked, like a yes
        change = {"easy": "slower", "hard": "faster"}.get(feeling)
        if change and self.in_routine and self.latest is not Awaiting.CHECK_IN and not self._not_begun():
            return self._adjust(change)  # mid-routine: from this hold on
        changed = self.player.prefer(self.state, change) if change else True
        reply = Reply().say(self.voice.say(f"player.felt_{feeling}" if changed else f"player.felt_{feeling}_limit"))
        return self._another(reply)

    def _another(self, reply: Reply) -> Reply:
        """After the routine: offer another one."""
        reply.say(self.voice.say("player.another"))
        reply.reprompt = self.voice.say("player.another_reprompt")
        reply.asks = Awaiting.ANOTHER
        return reply

    def on_safety_notes(self, slots: Mapping[str, Heard]) -> Reply:
        """The chosen routine's safety notes in full; before it starts, ask to begin again."""
        self._routine_only()
        return self.player.safety_notes(self.state, self.voice, self.now, begun=not self._not_begun())

    def on_slower(self, slots: Mapping[str, Heard]) -> Reply:
        """Slower: longer holds and a slower tempo."""
        return self._adjust("slower")

    def on_faster(self, slots: Mapping[str, Heard]) -> Reply:
        """Faster: shorter holds and a quicker tempo, never below the safe minimum."""
        return self._adjust("faster")

    def on_shorter(self, slots: Mapping[str, Heard]) -> Reply:
        """Fewer words: short reminders, then essential cues only."""
        return self._adjust("shorter")

    def on_detail(self, slots: Mapping[str, Heard]) -> Reply:
        """Full instructions again."""
        return self._adjust("detail")


def _included(program: Program, key: str) -> int | None:
    """The index of the step this run includes that goes by the key, if any."""
    return next((i for i in program.included if step_key(program.routine.steps[i].name) == key), None)
