"""Opening, leaving, help and misunderstandings."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from skill.core.dialogue.base import Conversation, Heard
from skill.core.player import Awaiting, Reply
from skill.core.suggested import suggested_questions

log = logging.getLogger("backcoach.skill")

FEATURED = ("neck-and-shoulders", "desk-break", "foam-roller-upper-back")
"""Routines the welcome offers first."""

class Session(Conversation):
    """Opening, leaving, help and misunderstandings."""


    def on_launch(self, slots: Mapping[str, Heard]) -> Reply:
        """Greet (the disclaimer on a first visit), offer a saved routine or a new one, explain questions."""
        voice, memory, library, state = self.voice, self.memory, self.library, self.state
        reply = Reply()
        if memory.corrupt:
            reply.say(voice.say("memory.corrupt"))
        saved = memory.saved_resume(library, self.now)
        routine = library.get(saved.routine_id) if saved is not None else None
        if saved is not None and routine is not None:
            reply.say(voice.say("memory.welcome_back", number=saved.step_index + 1, title=routine.title))
            reply.reprompt = voice.say("memory.welcome_back_reprompt")
            state.awaiting = Awaiting.SAVED
            return reply
        reply.say(voice.say("skill.welcome"))
        if not memory.record.disclaimer_heard:
            reply.say(voice.say("skill.disclaimer"))
            memory.record.disclaimer_heard = True
        featured = [r for r in (library.get(i) for i in FEATURED) if r is not None] or list(library.routines[:3])
        favourite = library.get(memory.record.favourites[-1]) if memory.record.favourites else None
        if favourite is not None:
            featured = [favourite, *[r for r in featured if r is not favourite]][:3]
        reply.say(voice.say("skill.launch_offer", routines=self._list(featured)))
        suggested = suggested_questions()
        if suggested:
            reply.say(voice.say("skill.launch_questions", question=voice.rng.choice(suggested)))
        reply.say(voice.say("skill.launch_ask", title=featured[0].title))
        reply.reprompt = voice.say("skill.launch_reprompt", title=featured[0].title)
        state.listed = [r.id for r in featured]
        state.awaiting = Awaiting.OFFER
        state.offer = featured[0].id
        return reply

    def on_ended(self, slots: Mapping[str, Heard]) -> Reply:
        """The session closed (the user went quiet, or left): keep the exact place for next time."""
        self._hold()
        return Reply(end=True)

    def on_stop(self, slots: Mapping[str, Heard]) -> Reply:
        """End the session, saying where the routine stopped."""
        reply = Reply(end=True)
        if self.in_routine and self.latest is Awaiting.SAFETY:
            self.state.routine = None  # chosen but never begun: there is no place to come back to
        elif self.in_routine:
            where = self.player.stop(self.state, self.voice, self.now)
            if where:
                reply.say(where)
        return reply.say(self.voice.say("skill.goodbye"))

    def on_home(self, slots: Mapping[str, Heard]) -> Reply:
        """Leave any routine and start afresh, with the session open."""
        self.player.stop(self.state, self.voice, self.now)
        self.state.routine = None
        return self._offer_all(Reply().say(self.voice.say("skill.home")))

    def on_help(self, slots: Mapping[str, Heard]) -> Reply:
        """Inside a routine: how to steer it, and that questions carry on; outside: what the skill does."""
        voice = self.voice
        if self._hold():
            reply = Reply().say(voice.say("skill.help_routine"))
            reply.reprompt = voice.say("player.paused_reprompt")
            return reply
        reply = Reply().say(voice.say("skill.help")).say(voice.say("skill.disclaimer")).say(voice.say("skill.help_ask"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return reply

    def on_fallback(self, slots: Mapping[str, Heard]) -> Reply:
        """Say what can be said, keeping the routine where it is and the last question open."""
        voice = self.voice
        if self._hold():
            reply = Reply(remember=False).say(voice.say("skill.fallback_routine"))
            reply.reprompt = voice.say("player.paused_reprompt")
            return reply
        reply = Reply(remember=False).say(voice.say("skill.fallback"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return reply
