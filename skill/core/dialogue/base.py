"""The dialogue's shared part: the events, and the turn every transition works on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from skill.core.memory import Memory
from skill.core.phrases import Voice
from skill.core.player import Awaiting, Player, PlayerState, Reply
from skill.core.routines import Equipment, Library, Routine
from skill.core.selection import Request
from skill.core.timeline import Position

if TYPE_CHECKING:
    from skill.core.faq import Matcher

log = logging.getLogger("backcoach.skill")

MAX_LISTED = 20
"""Routines a list keeps for "the second one"."""


class Event(StrEnum):
    """Everything a user can do to the conversation."""

    LAUNCH = "launch"
    START = "start"
    LIST = "list"
    YES = "yes"
    NO = "no"
    NEXT = "next"
    SKIP = "skip"
    GO_TO = "go_to"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    START_OVER = "start_over"
    PAUSE = "pause"
    RESUME = "resume"
    KEEP_GOING = "keep_going"
    TIME_LEFT = "time_left"
    WHERE = "where"
    SLOWER = "slower"
    FASTER = "faster"
    SHORTER = "shorter"
    DETAIL = "detail"
    TALK_SLOWER = "talk_slower"
    TALK_FASTER = "talk_faster"
    CHIMES_OFF = "chimes_off"
    CHIMES_ON = "chimes_on"
    SAFETY_NOTES = "safety_notes"
    FEELING = "feeling"
    QUESTION = "question"
    STATEMENT = "statement"
    TOPIC = "topic"
    TELL_MORE = "tell_more"
    ADD_FAVOURITE = "add_favourite"
    START_FAVOURITE = "start_favourite"
    START_LAST = "start_last"
    PROGRESS = "progress"
    FORGET = "forget"
    HELP = "help"
    STOP = "stop"
    HOME = "home"
    FALLBACK = "fallback"
    ENDED = "ended"


KEEPS_QUESTION = frozenset({Event.FALLBACK, Event.REPEAT, Event.ENDED})
"""Events after which the question the coach last asked still stands: a yes still answers it."""
ROUTINE_ONLY = frozenset({Event.PREVIOUS, Event.START_OVER, Event.PAUSE})
"""Commands that mean nothing outside a routine."""


class DialogueError(Exception):
    """An event that cannot happen now; `key` names the phrase that says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


Heard = tuple[str | None, str | None]
"""A slot as heard: the words, and the id they resolved to (None when absent or unresolved)."""
NOT_SAID: Heard = (None, None)


class Conversation:
    """What every transition shares: the turn's state, voice, player, answers and memory, and `handle`."""

    def __init__(
        self,
        state: PlayerState,
        voice: Voice,
        player: Player,
        faq: Callable[[], Matcher],
        now: float,
        memory: Memory | None = None,
        persist: Callable[[], bool] = lambda: False,
        last_said: Callable[[], tuple[str, str] | None] = lambda: None,
    ) -> None:
        self.state, self.voice, self.player, self.now = state, voice, player, now
        self.memory = memory or Memory()
        self._faq, self._persist = faq, persist
        self.last_said = last_said
        """The last short response's SSML and reprompt, for "repeat" outside a routine (read only then)."""
        self.latest: Awaiting | None = state.awaiting
        """What the coach was waiting for before this event."""

    @property
    def faq(self) -> Matcher:
        """The quick-answer matcher."""
        return self._faq()

    @property
    def library(self) -> Library:
        """Every routine."""
        return self.player.library

    def handle(self, event: Event, slots: Mapping[str, Heard] | None = None) -> Reply:
        """The reply to an event; the question it answers is the one asked last, and only that one."""
        latest = self.latest = self.state.awaiting
        self.state.awaiting = None
        try:
            if event in ROUTINE_ONLY and not self.in_routine:
                raise DialogueError("skill.no_routine")
            reply = getattr(self, f"on_{event.value}")(slots or {})
        except DialogueError as error:
            reply = Reply().say(self.voice.say(error.key))
            reply.reprompt = self.voice.say("skill.what_next_reprompt")
        if reply.asks is Awaiting.ANOTHER and self._just_finished() and self._check_in_due():
            self._ask_check_in(reply)
        if self.state.awaiting is None:
            self.state.awaiting = reply.asks
        if self.state.awaiting is None and (event in KEEPS_QUESTION or self._not_begun()):
            self.state.awaiting = latest
        return reply

    def _just_finished(self) -> bool:
        """This reply narrated the routine to its last step."""
        last = self.state.last
        return last is not None and last.after is None and last.sent_at == self.now

    def _check_in_due(self) -> bool:
        """The check-in is asked at most once a (UTC) day, and only of someone the coach remembers."""
        asked = self.memory.record.checked_in
        return self.memory.available and (asked is None or asked // 86400 != self.now // 86400)

    def _ask_check_in(self, reply: Reply) -> None:
        """End the finished routine with "how did that feel?" instead of offering another."""
        reply.parts[-1] = self.voice.say("player.routine_complete_check_in")
        reply.reprompt = self.voice.say("player.check_in_reprompt")
        reply.asks = Awaiting.CHECK_IN
        self.memory.record.checked_in = self.now

    def _not_begun(self) -> bool:
        """The routine was chosen and its safety question is still open: nothing has been narrated."""
        state = self.state
        return self.latest is Awaiting.SAFETY and state.routine is not None and state.last is None and not state.paused

    # ----- helpers ----------------------------------------------------------------------

    @property
    def in_routine(self) -> bool:
        """A routine has been chosen (it may be paused, or waiting for its safety yes)."""
        return self.state.routine is not None

    def _needs_memory(self) -> None:
        """Stop here, saying so, when the user's memory could not be reached."""
        if not self.memory.available:
            raise DialogueError("memory.unavailable")

    def _routine_only(self) -> None:
        if not self.in_routine:
            raise DialogueError("skill.no_routine")

    def _list(self, routines: list[Routine] | tuple[Routine, ...]) -> str:
        """Routine titles joined the way people say a list."""
        return self.voice.join([r.title for r in routines])

    def _listed(self, routines: list[Routine] | tuple[Routine, ...]) -> None:
        """Remember what was just listed, for "the second one" or "the lower back one"."""
        self.state.listed = [r.id for r in routines][:MAX_LISTED]
        self.state.awaiting = Awaiting.CHOICE

    def _offer_all(self, reply: Reply | None = None) -> Reply:
        """Say what routines exist and ask which one."""
        reply = reply or Reply()
        routines = self.library.routines
        reply.say(self.voice.say("skill.list", count=len(routines), routines=self._list(routines)))
        reply.say(self.voice.say("skill.which"))
        reply.reprompt = self.voice.say("skill.which_reprompt")
        self._listed(routines)
        return reply

    def _hold(self) -> bool:
        """If a routine is under way, stop its narration where the user is; True when one was held."""
        return (
            self.in_routine
            and self.latest is not Awaiting.SAFETY
            and self.player.hold(self.state, self.voice, self.now) is not None
        )

    def _close(self, reply: Reply, held: bool, anything_else: bool = False) -> Reply:
        """End a reply with how to resume the held routine, or by asking what next."""
        if held:
            reply.say(self.voice.say("player.resume_hint"))
            reply.reprompt = self.voice.say("player.paused_reprompt")
            return reply
        if self._not_begun():
            reply.say(self.voice.say("player.safety_ask"))
            reply.reprompt = self.voice.say("player.safety_reprompt")
            return reply
        if anything_else:
            reply.say(self.voice.say("faq.anything_else"))
        reply.reprompt = self.voice.say("skill.what_next_reprompt")
        return reply

    def _begin(self, routine: Routine, budget: float | None = None) -> Reply:
        """Start a routine: full safety notes the first time, a one-line reminder once they have been heard."""
        returning = self.memory.available and self.memory.record.has_heard_safety(routine.id)
        return self.player.start(self.state, self.voice, routine, budget, self.now, returning=returning)

    def _restore_saved(self) -> Reply | None:
        """Pick up the routine saved in an earlier session, in the mode it ran in."""
        saved = self.memory.saved_resume(self.library, self.now)
        if saved is None:
            return None
        self.state.handsfree = saved.handsfree
        position = Position(saved.step_index, saved.phase_index, saved.elapsed_seconds)
        return self.player.restore(self.state, self.voice, saved.routine_id, position, self.now)

    def _carry_on(self) -> Reply:
        """What "yes", "ok", "got it" or "I'm on the roller" means inside a routine: begin it after
        the safety notes; otherwise carry on from where the user is, so a paused step or a hold
        cut into goes on from its place (never skipped), and a finished step goes on to the next."""
        if self.latest is Awaiting.SAFETY:
            return self.player.begin(self.state, self.voice, self.now)
        return self.player.resume(self.state, self.voice, self.now)

    def _about(self, routine: Routine) -> Reply:
        """What an offered routine is: its length, what it works on, what it needs; then ask."""
        voice = self.voice
        minutes = voice.duration(self.player.length(voice)(routine))
        areas = voice.join([voice.say(f"area.{a.value}") for a in routine.areas])
        reply = Reply().say(voice.say("skill.about_routine", title=routine.title, minutes=minutes, areas=areas))
        needs = [e for e in routine.equipment if e is not Equipment.NONE]
        reply.say(voice.say("skill.about_equipment", equipment=voice.join([voice.say(f"equipment.{e.value}") for e in needs]))
                  if needs else voice.say("skill.about_no_equipment"))
        reply.say(voice.say("skill.about_ask", title=routine.title))
        reply.reprompt = voice.say("skill.launch_reprompt", title=routine.title)
        self.state.offer = routine.id
        self.state.awaiting = Awaiting.OFFER
        return reply

    def _pending(self) -> Routine | None:
        """The routine the coach offered or listed alone, when no routine has started."""
        if self.in_routine:
            return None
        ids = [self.state.offer] if self.state.offer else self.state.listed[:1] if len(self.state.listed) == 1 else []
        return next((r for r in (self.library.get(i) for i in ids if i) if r is not None), None)


def fits(routine: Routine, request: Request) -> bool:
    """Whether what was named (an area, a piece of equipment, or nothing) is part of the routine."""
    return (request.area is None or request.area in routine.areas) and (
        request.equipment is None or request.equipment in routine.equipment
    )


def heard(words: str, limit: int = 60) -> str:
    """What the user said, short enough to repeat back."""
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0]

