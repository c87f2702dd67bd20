"""What the coach remembers: favourites, progress, forgetting."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from skill.core.dialogue.base import Conversation, DialogueError, Heard
from skill.core.player import Awaiting, Reply
from skill.storage.weeks import week_summary, weekly_streak

log = logging.getLogger("backcoach.skill")


class Remembering(Conversation):
    """What the coach remembers: favourites, progress, forgetting."""


    def on_add_favourite(self, slots: Mapping[str, Heard]) -> Reply:
        """Add the current (or last) routine to the favourites; said only once the store has it."""
        self._needs_memory()
        routine_id = self.state.routine or self.memory.record.last_routine
        routine = self.library.get(routine_id) if routine_id else None
        if routine is None:
            raise DialogueError("memory.nothing_to_favourite")
        self.memory.record.add_favourite(routine.id)
        held = self._hold()
        key = "memory.favourite_added" if self._persist() else "memory.save_failed"
        return self._close(Reply().say(self.voice.say(key, title=routine.title)), held)

    def on_progress(self, slots: Mapping[str, Heard]) -> Reply:
        """A short weekly recap: sessions this week and last week, never a scolding."""
        self._needs_memory()
        voice = self.voice
        this_week, last_week = week_summary(self.memory.record, self.now)
        streak = weekly_streak(self.memory.record, self.now)
        reply = Reply().say(voice.say("memory.progress", this_week=voice.count(this_week, "session"),
                                      last_week=voice.count(last_week, "session")))
        if streak >= 2:
            reply.say(voice.say("memory.streak", weeks=streak))
        reply.say(voice.say("memory.encourage"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return reply

    def on_forget(self, slots: Mapping[str, Heard]) -> Reply:
        """Delete my data: asks to confirm first."""
        self._needs_memory()
        self.state.awaiting = Awaiting.FORGET
        reply = Reply().say(self.voice.say("memory.forget_confirm"))
        reply.reprompt = self.voice.say("memory.forget_reprompt")
        return reply
