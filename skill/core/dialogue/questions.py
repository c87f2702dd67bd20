"""Questions and statements: red flags first, then the best answer, or an honest decline."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from skill.core.dialogue.base import NOT_SAID, Conversation, Heard
from skill.core.player import Reply

if TYPE_CHECKING:
    from skill.core.faq import Match

log = logging.getLogger("backcoach.skill")


class Questions(Conversation):
    """Questions and statements: red flags first, then the best answer, or an honest decline."""


    def on_question(self, slots: Mapping[str, Heard]) -> Reply:
        """A free-form question: the best quick answer, an honest "don't know", or a polite decline."""
        asked = slots.get("query", NOT_SAID)[0] or ""
        return self._answer(self.faq.match(asked), asked)

    def on_statement(self, slots: Mapping[str, Heard]) -> Reply:
        """Something said about the body ("I fell and my back hurts"): red flags first, then the best answer."""
        said = slots.get("statement", NOT_SAID)[0] or ""
        return self._answer(self.faq.match(said), said, statement=True)

    def on_topic(self, slots: Mapping[str, Heard]) -> Reply:
        """A named topic such as shiatsu: the words said are checked for red flags, the topic picks the answer."""
        spoken, topic_id = slots.get("topic", NOT_SAID)
        spoken = spoken or ""
        said = self.faq.match(spoken)
        match = said if said.urgent is not None or not topic_id else self.faq.match(topic_id.replace("_", " "))
        return self._answer(match if match.entry is not None else said, spoken)

    def on_tell_more(self, slots: Mapping[str, Heard]) -> Reply:
        """The longer follow-up of the last answer."""
        entry = next((e for e in self.faq.entries if e.id == self.state.answer), None)
        held = self._hold()
        reply = Reply().say(entry.more if entry is not None and entry.more else self.voice.say("faq.no_more"))
        return self._close(reply, held, anything_else=True)

    def _answer(self, match: Match, asked: str, statement: bool = False) -> Reply:
        """Urgent advice first when a red flag is touched, then the best answer, or decline.

        Mid-routine, a red flag ends the routine, and a statement that something hurts ("ouch,
        that pinches") stops the hold with safety advice instead of an answer."""
        voice, state = self.voice, self.state
        held = self._hold()
        reply = Reply()
        if held and match.urgent is not None:
            # A red flag mid-routine ends the routine: nothing to resume, help comes first.
            state.routine, state.answer = None, match.urgent.id
            self.memory.record.resume = None
            reply.say(match.urgent.answer).say(voice.say("safety.routine_ended"))
            reply.reprompt = voice.say("skill.what_next_reprompt")
            return reply
        if held and statement and self.faq.discomfort(asked):
            # Something hurts mid-hold: stop, say what to do, offer a way on; never "say resume" now.
            reply.say(voice.say("safety.discomfort")).say(voice.say("safety.discomfort_options"))
            reply.reprompt = voice.say("safety.discomfort_reprompt")
            return reply
        if match.urgent is not None:
            reply.say(match.urgent.answer)
        entry = match.entry
        if entry is not None and entry is not match.urgent and not (match.urgent is not None and entry.declines):
            reply.say(entry.answer)  # after urgent advice, a refusal ("I can't weigh up surgery") says nothing more
        if entry is None and match.urgent is None:
            log.info("question not answered: %r (%s)", asked, match.why)
            if (pending := self._pending()) is not None and _about_it(asked):
                return self._about(pending)  # "what does it involve", just after an offer
            if held and self.faq.in_domain(asked) and (routine := self.library.get(state.routine or "")):
                # Mid-routine, a question no entry answers is most likely about the move itself.
                reply.say(voice.say("player.this_step", instruction=routine.steps[state.step].say))
            elif self.faq.in_domain(asked):
                first, second = voice.rng.sample(self.faq.suggestions(), 2)
                reply.say(voice.say("faq.unknown", first=first.questions[0], second=second.questions[0]))
            else:
                reply.say(voice.say("faq.out_of_scope"))
        shown = entry or match.urgent
        state.answer = shown.id if shown is not None else None
        if shown is not None and shown.more:
            reply.say(voice.say("faq.more_hint"))
        offered = next((r for r in (self.library.get(i) for i in (shown.routines if shown else ())) if r is not None), None)
        if offered is not None and not self.in_routine:
            state.offer = offered.id
            reply.say(voice.say("faq.offer_routine", title=offered.title))
        return self._close(reply, held, anything_else=True)


POINTING = frozenset({"it", "that", "this", "one", "routine"})
"""Words by which a short question points at the routine just offered ("what does it involve")."""
ABOUT = frozenset(
    ["what", "what's", "whats", "how", "is", "does", "do", "it's", "its", "involve", "involves", "include", "includes", "entail", "need", "needs", "take", "takes", "like", "about", "hard", "easy", "gentle", "difficult", "tough", "intense", "long", "work", "works", "on", "for", "me", "i", "me", "my", "a", "the", "in", "of", "be"]
)
"""The other words such a question may use; anything else ("what time is it in new york") is a new subject."""


def _about_it(asked: str) -> bool:
    """Whether an unanswered question is about the routine just offered rather than something new."""
    words = re.findall(r"[a-z']+", asked.lower())
    return 0 < len(words) <= 7 and not POINTING.isdisjoint(words) and all(w in ABOUT or w in POINTING for w in words)
