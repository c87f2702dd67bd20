"""The conversation's state machine: what each event means given what the coach last asked.

It owns what the coach is waiting for (`PlayerState.awaiting`: an offer, a list, a
confirmation, a running or paused routine), the last answer and the last list. Every event is
explicit (`Event`), every transition is a method here, and nothing in it knows Alexa: handlers
turn envelopes into an event and the words heard, and the `Reply` back into a response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from skill.core.memory import Memory
from skill.core.phrases import Voice
from skill.core.player import Awaiting, Player, PlayerState, Reply
from skill.core.routines import Area, Equipment, Library, Routine, step_key
from skill.core.selection import Request, choose, duration_seconds
from skill.core.suggested import suggested_questions
from skill.core.timeline import Position
from skill.storage.record import week_summary, weekly_streak

if TYPE_CHECKING:
    from skill.core.faq import Match, Matcher

log = logging.getLogger("backcoach.skill")

FEATURED = ("neck-and-shoulders", "desk-break", "foam-roller-upper-back")
"""Routines the welcome offers first."""
MAX_LISTED = 20


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


class Dialogue:
    """One turn of the conversation: `handle(event, slots)` updates the state and returns the reply."""

    def __init__(
        self,
        state: PlayerState,
        voice: Voice,
        player: Player,
        faq: Callable[[], Matcher],
        now: float,
        memory: Memory | None = None,
        persist: Callable[[], bool] = lambda: False,
        last_said: tuple[str, str] | None = None,
    ) -> None:
        self.state, self.voice, self.player, self.now = state, voice, player, now
        self.memory = memory or Memory()
        self._faq, self._persist = faq, persist
        self.last_said = last_said
        """The last short response's SSML and reprompt, for "repeat" outside a routine."""
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
        if self.state.awaiting is None and (event in KEEPS_QUESTION or self._not_begun(latest)):
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

    def _not_begun(self, latest: Awaiting | None) -> bool:
        """The routine was chosen and its safety question is still open: nothing has been narrated."""
        state = self.state
        return latest is Awaiting.SAFETY and state.routine is not None and state.last is None and not state.paused

    # ----- helpers ----------------------------------------------------------------------

    @property
    def in_routine(self) -> bool:
        """A routine has been chosen (it may be paused, or waiting for its safety yes)."""
        return self.state.routine is not None

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
        if self._not_begun(self.latest):
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
        """What "yes", "ok" or "I'm on the roller" means inside a routine: begin it after the
        safety notes, pick up a paused step where it stopped, else go on to the next step."""
        state, player, voice = self.state, self.player, self.voice
        if self.latest is Awaiting.SAFETY:
            return player.begin(state, voice, self.now)
        if state.paused:
            return player.resume(state, voice, self.now)
        return player.next(state, voice, self.now)

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

    # ----- session ----------------------------------------------------------------------

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

    # ----- choosing a routine -------------------------------------------------------------

    def on_list(self, slots: Mapping[str, Heard]) -> Reply:
        """List every routine and ask which one."""
        return self._offer_all()

    def on_start(self, slots: Mapping[str, Heard]) -> Reply:
        """Choose a routine by name, position in the last list, area, equipment and length; or ask."""
        voice, state = self.voice, self.state
        spoken_routine, routine_id = slots.get("routine", NOT_SAID)
        spoken_area, area_id = slots.get("area", NOT_SAID)
        spoken_equipment, equipment_id = slots.get("equipment", NOT_SAID)
        _, ordinal = slots.get("ordinal", NOT_SAID)
        unknown = [
            spoken
            for spoken, resolved in ((spoken_routine, routine_id), (spoken_area, area_id), (spoken_equipment, equipment_id))
            if spoken and not resolved
        ]
        # Words that resolved to nothing may still describe a red flag ("a routine for my numb legs").
        for spoken in unknown:
            match = self.faq.match(spoken)
            if match.urgent is not None:
                return self._answer(match, spoken)
        request = Request(
            routine=routine_id,
            area=Area(area_id) if area_id in Area.__members__.values() else None,
            equipment=Equipment(equipment_id) if equipment_id in Equipment.__members__.values() else None,
            seconds=duration_seconds(slots.get("duration", NOT_SAID)[0]),
        )
        if self.in_routine and routine_id is None and ordinal is None and request.seconds is None and not unknown:
            routine = self.library.get(state.routine or "")
            if routine is not None and _fits(routine, request):
                # "ok I'm on the roller" mid-routine acknowledges the step; it never restarts it.
                return self._carry_on()
        if request.seconds:
            ordinal = None  # "a 30 second routine" names a length, not the second routine
        picked = self._pick(ordinal, request) if not unknown else None
        if picked is not None:
            return self._caution(request, self._begin(picked))
        if ordinal is not None:
            return self._offer_all(Reply().say(voice.say("skill.no_such_choice")))
        if request.empty and not unknown and state.offer and (offered := self.library.get(state.offer)):
            return self._begin(offered)
        if request.empty:
            reply = Reply()
            if unknown:
                reply.say(voice.say("skill.unknown_routine", name=_heard(unknown[0])))
            return self._offer_all(reply)
        return self._caution(request, self._choose(request))

    def _caution(self, request: Request, reply: Reply) -> Reply:
        """"My chest feels tight" may be muscles or the heart: the coach cannot tell, so it says
        what to do if it is the heart before anything else."""
        if request.area is Area.CHEST:
            reply.parts.insert(0, self.voice.say("skill.chest_caution"))
        return reply

    def _pick(self, ordinal: str | None, request: Request) -> Routine | None:
        """A routine from the list just given: by its place ("the second one"), or the only one that fits."""
        listed = [r for r in (self.library.get(i) for i in self.state.listed) if r is not None]
        if ordinal is not None:
            if ordinal == "last" and listed:
                return listed[-1]
            index = int(ordinal) - 1 if ordinal.isdigit() else -1
            return listed[index] if 0 <= index < len(listed) else None
        if self.latest is not Awaiting.CHOICE or not listed or request.routine or request.seconds or request.empty:
            return None  # a name or an area after anything but "which one?" chooses from every routine
        fitting = [r for r in listed if _fits(r, request)]
        return fitting[0] if len(fitting) == 1 and len(listed) > 1 else None

    def _choose(self, request: Request) -> Reply:
        """Start the routine that fits the request, or list the ones that might, or offer them all."""
        voice = self.voice
        choice = choose(self.library, request, self.player.length(voice))
        if choice.routine is None:
            if choice.candidates:
                reply = Reply().say(
                    voice.say("skill.ambiguous", count=len(choice.candidates), routines=self._list(choice.candidates))
                )
                reply.reprompt = voice.say("skill.which_reprompt")
                self._listed(choice.candidates)
                return reply
            return self._offer_all(Reply().say(voice.say("skill.no_match")))
        return self._begin(choice.routine, choice.budget)

    def on_start_favourite(self, slots: Mapping[str, Heard]) -> Reply:
        """Start the favourite added most recently."""
        favourites = self.memory.record.favourites
        return self._start_remembered(favourites[-1] if favourites else None, "memory.no_favourites")

    def on_start_last(self, slots: Mapping[str, Heard]) -> Reply:
        """Do the same routine as last time."""
        return self._start_remembered(self.memory.record.last_routine, "memory.no_last")

    def _start_remembered(self, routine_id: str | None, missing_key: str) -> Reply:
        if not self.memory.available:
            raise DialogueError("memory.unavailable")
        routine = self.library.get(routine_id) if routine_id else None
        if routine is None:
            return self._offer_all(Reply().say(self.voice.say(missing_key)))
        return self._begin(routine)

    # ----- answering the last question -----------------------------------------------------

    def on_yes(self, slots: Mapping[str, Heard]) -> Reply:
        """Go ahead with whatever was asked last."""
        state, voice = self.state, self.voice
        if self.latest is Awaiting.SAVED:
            restored = self._restore_saved()
            if restored is not None:
                return restored
        if self.latest is Awaiting.FORGET:
            self.memory.forget = True
            return Reply(end=True).say(voice.say("memory.forgotten" if self._persist() else "memory.forget_failed"))
        if self.latest is Awaiting.OFFER and state.offer and (offered := self.library.get(state.offer)):
            return self._begin(offered)
        if self.latest is Awaiting.ANOTHER:
            state.routine = None
            return self._offer_all()
        if self.latest is Awaiting.CHECK_IN:
            return self.on_feeling({})  # "yes" to "how did that feel?": fine
        if self.latest is Awaiting.CHOICE:
            # "Yes" to "which one?" picks nothing: ask again, and keep the list.
            reply = Reply().say(voice.say("skill.which_again"))
            reply.reprompt = voice.say("skill.which_reprompt")
            state.awaiting = Awaiting.CHOICE
            return reply
        if self.in_routine:
            return self._carry_on()
        return self._offer_all()

    def on_no(self, slots: Mapping[str, Heard]) -> Reply:
        """Decline what was asked last, without ending up stuck."""
        state, voice = self.state, self.voice
        state.offer = None
        if self.latest is Awaiting.ANOTHER:
            state.routine = None
            return Reply(end=True).say(voice.say("skill.goodbye"))
        if self.latest is Awaiting.CHECK_IN:
            # "No thanks" to "how did that feel?": nothing changes, and the session is done.
            state.routine = None
            return Reply(end=True).say(voice.say("skill.goodbye"))
        if self.latest is Awaiting.SAVED:
            self.memory.record.resume = None
            return self._offer_all(Reply().say(voice.say("memory.fresh_start")))
        if self.latest is Awaiting.SAFETY:
            state.routine = None
            reply = Reply().say(voice.say("skill.safety_declined"))
        elif self.latest is Awaiting.FORGET:
            reply = Reply().say(voice.say("memory.kept"))
        elif self.in_routine:
            return self.player.pause(state, voice, self.now)
        else:
            reply = Reply().say(voice.say("skill.no_then"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return reply

    # ----- inside a routine ---------------------------------------------------------------

    def on_next(self, slots: Mapping[str, Heard]) -> Reply:
        """On to what comes next: the second side of a two-sided move, else the following step."""
        self._routine_only()
        if self.latest is Awaiting.SAFETY:
            return self.player.begin(self.state, self.voice, self.now)
        return self.player.next(self.state, self.voice, self.now, by_side=True)

    def on_skip(self, slots: Mapping[str, Heard]) -> Reply:
        """Leave this step, both sides of it, and go to the following one."""
        if self.latest is Awaiting.CHECK_IN:
            return self._another(Reply().say(self.voice.say("skill.no_then")))  # "skip" the check-in: nothing changes
        self._routine_only()
        if self.latest is Awaiting.SAFETY:
            return self.player.begin(self.state, self.voice, self.now)
        return self.player.next(self.state, self.voice, self.now)

    def on_go_to(self, slots: Mapping[str, Heard]) -> Reply:
        """Jump to a step of this routine by its name ("go to child's pose")."""
        self._routine_only()
        spoken, key = slots.get("step", NOT_SAID)
        program = self.player.program(self.voice, self.state.routine or "", self.state.pace, self.state.budget,
                                      self.state.verbosity)[0]
        wanted = key or step_key(spoken or "")
        found = next((i for i in program.included if step_key(program.routine.steps[i].name) == wanted), None)
        if found is None:
            reply = Reply().say(self.voice.say("player.no_such_step", name=_heard(spoken or wanted.replace("-", " "))))
            if self._hold():
                reply.say(self.voice.say("player.resume_hint"))
                reply.reprompt = self.voice.say("player.paused_reprompt")
            else:
                reply.reprompt = self.voice.say("skill.what_next_reprompt")
            return reply
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
        if self.last_said is not None:
            return Reply(replay=self.last_said)
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
        if self.in_routine and not self._not_begun(self.latest):
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
        feeling = slots.get("feeling", NOT_SAID)[1] or "right"
        if feeling == "right" and self.latest is not Awaiting.CHECK_IN:
            return self.on_yes(slots)  # "pretty good" answers whatever was asked, like a yes
        change = {"easy": "slower", "hard": "faster"}.get(feeling)
        if change and self.in_routine and self.latest is not Awaiting.CHECK_IN and not self._not_begun(self.latest):
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
        return self.player.safety_notes(self.state, self.voice, self.now, begun=not self._not_begun(self.latest))

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

    # ----- questions ----------------------------------------------------------------------

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
        if entry is not None and entry is not match.urgent:
            reply.say(entry.answer)
        if entry is None and match.urgent is None:
            log.info("question not answered: %r (%s)", asked, match.why)
            if (pending := self._pending()) is not None and _about_it(asked):
                return self._about(pending)  # "what does it involve", just after an offer
            if self.faq.in_domain(asked):
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

    # ----- memory -------------------------------------------------------------------------

    def on_add_favourite(self, slots: Mapping[str, Heard]) -> Reply:
        """Add the current (or last) routine to the favourites; said only once the store has it."""
        if not self.memory.available:
            raise DialogueError("memory.unavailable")
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
        if not self.memory.available:
            raise DialogueError("memory.unavailable")
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
        if not self.memory.available:
            raise DialogueError("memory.unavailable")
        self.state.awaiting = Awaiting.FORGET
        reply = Reply().say(self.voice.say("memory.forget_confirm"))
        reply.reprompt = self.voice.say("memory.forget_reprompt")
        return reply


def _fits(routine: Routine, request: Request) -> bool:
    """Whether what was named (an area, a piece of equipment, or nothing) is part of the routine."""
    return (request.area is None or request.area in routine.areas) and (
        request.equipment is None or request.equipment in routine.equipment
    )


POINTING = frozenset({"it", "that", "this", "one", "routine"})
"""Words by which a short question points at the routine just offered ("what does it involve")."""
ABOUT = frozenset(
    "what what's whats how is does do it's its involve involves include includes entail need needs take takes "
    "like about hard easy gentle difficult tough intense long work works on for me i me my a the in of be".split()
)
"""The other words such a question may use; anything else ("what time is it in new york") is a new subject."""


def _about_it(asked: str) -> bool:
    """Whether an unanswered question is about the routine just offered rather than something new."""
    words = re.findall(r"[a-z']+", asked.lower())
    return 0 < len(words) <= 7 and not POINTING.isdisjoint(words) and all(w in ABOUT or w in POINTING for w in words)


def _heard(words: str, limit: int = 60) -> str:
    """What the user said, short enough to repeat back."""
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0]
