"""Request handlers: one class per intent, each translating between the envelope and the player."""

from __future__ import annotations

import logging
import random
from abc import abstractmethod
from typing import TYPE_CHECKING

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import IntentRequest, Response

from skill.alexa.memory import save
from skill.alexa.turn import LAST_SPEECH_KEY, Turn, respond, session_attributes, slot
from skill.core.phrases import Phrasebook, Voice
from skill.core.player import Awaiting, Reply
from skill.core.routines import Area, Equipment, Routine
from skill.core.selection import Request, choose, parse_duration
from skill.core.ssml import check_ssml
from skill.core.suggested import suggested_questions
from skill.core.timeline import Position
from skill.storage import week_summary, weekly_streak

if TYPE_CHECKING:
    from skill.core.faq import Match

log = logging.getLogger("backcoach.skill")


def _list(turn: Turn, routines: list[Routine] | tuple[Routine, ...]) -> str:
    """Routine titles joined the way people say a list."""
    titles = [r.title for r in routines]
    if len(titles) <= 1:
        return "".join(titles)
    return turn.voice.say("skill.list_join", items=", ".join(titles[:-1]), last=titles[-1])


def _heard(words: str, limit: int = 60) -> str:
    """What the user said, short enough to repeat back."""
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0]


def _in_routine(turn: Turn) -> bool:
    return turn.state.routine is not None


def _offer_routines(turn: Turn, reply: Reply | None = None) -> Reply:
    """Say what routines exist and ask which one."""
    reply = reply or Reply()
    library = turn.player.library
    reply.say(turn.voice.say("skill.list", count=len(library), routines=_list(turn, library.routines)))
    reply.say(turn.voice.say("skill.which"))
    reply.reprompt = turn.voice.say("skill.which_reprompt")
    turn.state.awaiting = None
    return reply


def _hold(turn: Turn) -> bool:
    """If a routine is under way, stop its narration where the user is; True when one was held."""
    return (
        _in_routine(turn)
        and turn.state.awaiting is not Awaiting.SAFETY
        and turn.player.hold(turn.state, turn.voice, turn.now) is not None
    )


def _close(turn: Turn, reply: Reply, held: bool, anything_else: bool = False) -> Reply:
    """End a reply with how to resume the held routine, or by asking what next."""
    if held:
        reply.say(turn.voice.say("player.resume_hint"))
        reply.reprompt = turn.voice.say("player.resume_reprompt")
        return reply
    if anything_else:
        reply.say(turn.voice.say("faq.anything_else"))
    reply.reprompt = turn.voice.say("skill.what_next_reprompt")
    return reply


def _no_routine(turn: Turn) -> Reply:
    """A routine command arrived with no routine running."""
    reply = Reply().say(turn.voice.say("skill.no_routine"))
    reply.reprompt = turn.voice.say("skill.what_next_reprompt")
    return reply


class _Intent(AbstractRequestHandler):
    """Base for handlers of one intent."""

    intent = ""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        # The SDK's is_intent_name fails on an IntentRequest that carries no intent.
        return isinstance(request, IntentRequest) and getattr(request.intent, "name", None) == self.intent


class _RoutineCommand(_Intent):
    """Base for commands that only make sense inside a routine."""

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not _in_routine(turn):
            return respond(handler_input, _no_routine(turn))
        return respond(handler_input, self.act(turn))

    @abstractmethod
    def act(self, turn: Turn) -> Reply:
        """The player command for this intent."""


class LaunchRequestHandler(AbstractRequestHandler):
    """Greets (the disclaimer on a first visit), offers a saved routine or a new one, explains questions."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        voice, memory, library = turn.voice, turn.memory, turn.player.library
        reply = Reply()
        if memory.corrupt:
            reply.say(voice.say("memory.corrupt"))
        saved = memory.saved_resume(library, turn.now)
        routine = library.get(saved.routine_id) if saved is not None else None
        if saved is not None and routine is not None:  # saved_resume only offers routines that exist
            reply.say(voice.say("memory.welcome_back", number=saved.step_index + 1, title=routine.title))
            reply.reprompt = voice.say("memory.welcome_back_reprompt")
            turn.state.awaiting = Awaiting.SAVED
            return respond(handler_input, reply)
        reply.say(voice.say("skill.welcome"))
        if not memory.record.disclaimer_heard:
            reply.say(voice.say("skill.disclaimer"))
            memory.record.disclaimer_heard = True
        featured = [library.get(i) for i in ("neck-and-shoulders", "desk-break", "foam-roller-upper-back")]
        featured = [r for r in featured if r is not None] or list(library.routines[:3])
        if memory.record.favourites and library.get(memory.record.favourites[-1]):
            favourite = library.get(memory.record.favourites[-1])
            featured = [favourite, *[r for r in featured if r is not favourite]][:3]
        reply.say(voice.say("skill.launch_offer", routines=_list(turn, featured)))
        suggested = suggested_questions()
        if suggested:
            reply.say(voice.say("skill.launch_questions", question=turn.voice.rng.choice(suggested)))
        reply.say(voice.say("skill.launch_ask", title=featured[0].title))
        reply.reprompt = voice.say("skill.launch_reprompt", title=featured[0].title)
        turn.state.awaiting = Awaiting.OFFER
        turn.state.offer = featured[0].id
        return respond(handler_input, reply)


def _restore_saved(turn: Turn) -> Reply | None:
    """Pick up the routine saved in an earlier session, if there is one."""
    saved = turn.memory.saved_resume(turn.player.library, turn.now)
    if saved is None:
        return None
    position = Position(saved.step_index, saved.phase_index, saved.elapsed_seconds)
    return turn.player.restore(turn.state, turn.voice, saved.routine_id, position, turn.now)


class StartRoutineIntentHandler(_Intent):
    """Chooses a routine by name, body area, equipment and length, or asks which one."""

    intent = "StartRoutineIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        spoken_routine, routine_id = slot(handler_input, "routine")
        spoken_area, area_id = slot(handler_input, "area")
        spoken_equipment, equipment_id = slot(handler_input, "equipment")
        spoken_duration, _ = slot(handler_input, "duration")
        voice = turn.voice
        unknown = [
            spoken
            for spoken, resolved in ((spoken_routine, routine_id), (spoken_area, area_id), (spoken_equipment, equipment_id))
            if spoken and not resolved
        ]
        # Words that resolved to nothing may still describe a red flag ("a routine for my numb legs").
        for spoken in unknown:
            match = turn.faq.match(spoken)
            if match.urgent is not None:
                return respond(handler_input, _answer(turn, match, spoken))
        request = Request(
            routine=routine_id,
            area=Area(area_id) if area_id in Area.__members__.values() else None,
            equipment=Equipment(equipment_id) if equipment_id in Equipment.__members__.values() else None,
            seconds=parse_duration(spoken_duration),
        )
        if _in_routine(turn) and routine_id is None and request.seconds is None and not unknown:
            routine = turn.player.library.get(turn.state.routine or "")
            if routine is not None and _fits(routine, request):
                # "ok I'm on the roller" mid-routine acknowledges the step; it never restarts it.
                awaiting, turn.state.awaiting = turn.state.awaiting, None
                return respond(handler_input, _carry_on(turn, awaiting))
        if request.empty and not unknown and turn.state.offer:
            offered = turn.player.library.get(turn.state.offer)
            if offered is not None:
                return respond(handler_input, turn.player.start(turn.state, voice, offered, None, turn.now))
        if request.empty:
            reply = Reply()
            if unknown:
                reply.say(voice.say("skill.unknown_routine", name=_heard(unknown[0])))
            return respond(handler_input, _offer_routines(turn, reply))
        reply = self._choose(turn, request)
        if request.area is Area.CHEST:
            # "My chest feels tight" may be muscles or the heart: the coach cannot tell, so it says
            # what to do if it is the heart before anything else.
            reply.parts.insert(0, voice.say("skill.chest_caution"))
        return respond(handler_input, reply)

    @staticmethod
    def _choose(turn: Turn, request: Request) -> Reply:
        """Start the routine that fits the request, or list the ones that might, or offer them all."""
        voice = turn.voice
        choice = choose(turn.player.library, request, turn.player.length(voice))
        if choice.routine is None:
            if choice.candidates:
                reply = Reply().say(
                    voice.say("skill.ambiguous", count=len(choice.candidates), routines=_list(turn, choice.candidates))
                )
                reply.reprompt = voice.say("skill.which_reprompt")
                turn.state.awaiting = None
                return reply
            return _offer_routines(turn, Reply().say(voice.say("skill.no_match")))
        turn.state.awaiting = None
        return turn.player.start(turn.state, voice, choice.routine, choice.budget, turn.now)


def _fits(routine: Routine, request: Request) -> bool:
    """Whether what was named (an area, a piece of equipment, or nothing) is part of the routine."""
    return (request.area is None or request.area in routine.areas) and (
        request.equipment is None or request.equipment in routine.equipment
    )


class ListRoutinesIntentHandler(_Intent):
    """Lists every routine and asks which one."""

    intent = "ListRoutinesIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return respond(handler_input, _offer_routines(Turn.of(handler_input)))


class YesIntentHandler(_Intent):
    """Yes: go ahead with whatever was just asked."""

    intent = "AMAZON.YesIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        state, player, voice = turn.state, turn.player, turn.voice
        awaiting, state.awaiting = state.awaiting, None
        if awaiting is Awaiting.SAVED:
            restored = _restore_saved(turn)
            if restored is not None:
                return respond(handler_input, restored)
        if awaiting is Awaiting.FORGET:
            turn.memory.forget = True
            key = "memory.forgotten" if save(handler_input) else "memory.forget_failed"
            return respond(handler_input, Reply(end=True).say(voice.say(key)))
        if awaiting is Awaiting.OFFER and state.offer:
            routine = player.library.get(state.offer)
            if routine is not None:
                return respond(handler_input, player.start(state, voice, routine, None, turn.now))
        if awaiting is Awaiting.ANOTHER:
            state.routine = None
            return respond(handler_input, _offer_routines(turn))
        if _in_routine(turn):
            return respond(handler_input, _carry_on(turn, awaiting))
        return respond(handler_input, _offer_routines(turn))


def _carry_on(turn: Turn, awaiting: Awaiting | None) -> Reply:
    """What "yes", "ok" or "I'm on the roller" means inside a routine: begin it after the safety
    notes, pick up a paused step where it stopped, else go on to the next step."""
    state, player, voice = turn.state, turn.player, turn.voice
    if awaiting is Awaiting.SAFETY:
        first = player.program(voice, state.routine, state.pace, state.budget, state.verbosity)[0].included[0]
        return player.narrate(state, voice, Position(first), turn.now)
    if state.paused:
        return player.resume(state, voice, turn.now)
    return player.next(state, voice, turn.now)


class NoIntentHandler(_Intent):
    """No: decline what was just asked, without ending up stuck."""

    intent = "AMAZON.NoIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        state, voice = turn.state, turn.voice
        awaiting, state.awaiting = state.awaiting, None
        if awaiting is Awaiting.ANOTHER:
            state.routine = None
            return respond(handler_input, Reply(end=True).say(voice.say("skill.goodbye")))
        if awaiting is Awaiting.FORGET:
            reply = Reply().say(voice.say("memory.kept"))
            reply.reprompt = voice.say("skill.what_next_reprompt")
            return respond(handler_input, reply)
        if awaiting is Awaiting.SAVED:
            turn.memory.record.resume = None
            return respond(handler_input, _offer_routines(turn, Reply().say(voice.say("memory.fresh_start"))))
        if awaiting is Awaiting.SAFETY:
            state.routine = None
            reply = Reply().say(voice.say("skill.safety_declined"))
            reply.reprompt = voice.say("skill.what_next_reprompt")
            return respond(handler_input, reply)
        if _in_routine(turn):
            return respond(handler_input, turn.player.pause(state, voice, turn.now))
        reply = Reply().say(voice.say("skill.no_then"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return respond(handler_input, reply)


class NextIntentHandler(_RoutineCommand):
    """Next (and "continue", "ready"): the following step."""

    intent = "AMAZON.NextIntent"

    def act(self, turn: Turn) -> Reply:
        return turn.player.next(turn.state, turn.voice, turn.now)


class SkipIntentHandler(NextIntentHandler):
    """Skip: leave the current step and go to the following one."""

    intent = "SkipIntent"


class PreviousIntentHandler(_RoutineCommand):
    """Previous: back one step."""

    intent = "AMAZON.PreviousIntent"

    def act(self, turn: Turn) -> Reply:
        return turn.player.previous(turn.state, turn.voice, turn.now)


class RepeatIntentHandler(_Intent):
    """Repeat: the current step again inside a routine, else the last thing said."""

    intent = "AMAZON.RepeatIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if _in_routine(turn) and turn.state.awaiting is not Awaiting.SAFETY:
            return respond(handler_input, turn.player.repeat(turn.state, turn.voice, turn.now))
        last = session_attributes(handler_input).get(LAST_SPEECH_KEY)
        if isinstance(last, dict) and _replayable(last):
            builder = handler_input.response_builder.speak(last["speech"])
            reprompt = last.get("reprompt")
            if isinstance(reprompt, str) and reprompt:
                builder.ask(reprompt)
            else:
                builder.ask(turn.voice.say("skill.what_next_reprompt"))
            return builder.response
        reply = Reply().say(turn.voice.say("skill.nothing_to_repeat"))
        reply.reprompt = turn.voice.say("skill.what_next_reprompt")
        return respond(handler_input, reply)


def _replayable(last: dict) -> bool:
    """Whether stored speech (and its reprompt) is SSML the skill can send again unchanged."""
    speech, reprompt = last.get("speech"), last.get("reprompt")
    if not isinstance(speech, str) or not speech or not isinstance(reprompt, str):
        return False
    return not any(check_ssml(f"<speak>{part}</speak>", "repeat") for part in (speech, reprompt) if part)


class StartOverIntentHandler(_RoutineCommand):
    """Start over: back to the first step."""

    intent = "AMAZON.StartOverIntent"

    def act(self, turn: Turn) -> Reply:
        return turn.player.start_over(turn.state, turn.voice, turn.now)


class PauseIntentHandler(_RoutineCommand):
    """Pause: stop where the user is and wait."""

    intent = "AMAZON.PauseIntent"

    def act(self, turn: Turn) -> Reply:
        return turn.player.pause(turn.state, turn.voice, turn.now)


class ResumeIntentHandler(_Intent):
    """Resume: carry on from where the user paused or cut in, or pick up a routine saved earlier."""

    intent = "AMAZON.ResumeIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if _in_routine(turn):
            return respond(handler_input, turn.player.resume(turn.state, turn.voice, turn.now))
        restored = _restore_saved(turn)
        return respond(handler_input, restored or _no_routine(turn))


class KeepGoingIntentHandler(_Intent):
    """Keep going: hands-free mode, as many steps per response as fit."""

    intent = "KeepGoingIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not _in_routine(turn):
            turn.state.handsfree = True
            reply = Reply().say(turn.voice.say("skill.handsfree_later"))
            return respond(handler_input, _offer_routines(turn, reply))
        return respond(handler_input, turn.player.keep_going(turn.state, turn.voice, turn.now))


class TimeLeftIntentHandler(_RoutineCommand):
    """How long is left in the routine."""

    intent = "TimeLeftIntent"

    def act(self, turn: Turn) -> Reply:
        return turn.player.time_left(turn.state, turn.voice, turn.now)


class WhereAmIIntentHandler(_RoutineCommand):
    """Which step the user is on."""

    intent = "WhereAmIIntent"

    def act(self, turn: Turn) -> Reply:
        return turn.player.where(turn.state, turn.voice, turn.now)


class _Adjust(_RoutineCommand):
    change = ""

    def act(self, turn: Turn) -> Reply:
        return turn.player.adjust(turn.state, turn.voice, turn.now, self.change)


class SlowerIntentHandler(_Adjust):
    """Slower: longer holds and a slower tempo."""

    intent, change = "SlowerIntent", "slower"


class FasterIntentHandler(_Adjust):
    """Faster: shorter holds and a quicker tempo, never below the safe minimum."""

    intent, change = "FasterIntent", "faster"


class ShorterIntentHandler(_Adjust):
    """Shorter instructions: short reminders, then essential cues only."""

    intent, change = "ShorterIntent", "shorter"


class MoreDetailIntentHandler(_Adjust):
    """More detail: full instructions again."""

    intent, change = "MoreDetailIntent", "detail"


def _answer(turn: Turn, match: Match, asked: str, statement: bool = False) -> Reply:
    """Speak the urgent answer first when a red flag is touched, then the best answer, or decline.

    Mid-routine, a red flag ends the routine, and a statement that something hurts ("ouch, that
    pinches") stops the hold with safety advice instead of an answer."""
    voice, state = turn.voice, turn.state
    held = _hold(turn)
    reply = Reply()
    if held and match.urgent is not None:
        # A red flag mid-routine ends the routine: nothing to resume, help comes first.
        state.routine, state.awaiting, state.answer = None, None, match.urgent.id
        turn.memory.record.resume = None
        reply.say(match.urgent.answer).say(voice.say("safety.routine_ended"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return reply
    if held and statement and turn.faq.discomfort(asked):
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
        if turn.faq.in_domain(asked):
            first, second = turn.voice.rng.sample(turn.faq.suggestions(), 2)
            reply.say(voice.say("faq.unknown", first=first.questions[0], second=second.questions[0]))
        else:
            reply.say(voice.say("faq.out_of_scope"))
    shown = entry or match.urgent
    state.answer = shown.id if shown is not None else None
    if shown is not None and shown.more:
        reply.say(voice.say("faq.more_hint"))
    offered = next((turn.player.library.get(r) for r in (shown.routines if shown else ()) if turn.player.library.get(r)), None)
    if offered is not None and not _in_routine(turn):
        state.offer = offered.id
        reply.say(voice.say("faq.offer_routine", title=offered.title))
    return _close(turn, reply, held, anything_else=True)


class QuestionIntentHandler(_Intent):
    """A free-form question: the best quick answer, an honest "don't know", or a polite decline."""

    intent = "QuestionIntent"
    slot_name = "query"
    statement = False

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        asked, _ = slot(handler_input, self.slot_name)
        asked = asked or ""
        return respond(handler_input, _answer(turn, turn.faq.match(asked), asked, self.statement))


class StatementIntentHandler(QuestionIntentHandler):
    """Something said about the body ("I fell and my back hurts"): red flags first, then the best answer."""

    intent = "StatementIntent"
    slot_name = "statement"
    statement = True


class TopicIntentHandler(_Intent):
    """A named topic such as shiatsu or foam rolling."""

    intent = "TopicIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        spoken, topic_id = slot(handler_input, "topic")
        spoken = spoken or ""
        # The words said are checked for red flags; the topic's own name chooses the answer, or
        # the words when the topic is unknown.
        said = turn.faq.match(spoken)
        match = said if said.urgent is not None or not topic_id else turn.faq.match(topic_id.replace("_", " "))
        return respond(handler_input, _answer(turn, match if match.entry is not None else said, spoken))


class TellMeMoreIntentHandler(_Intent):
    """The longer follow-up of the last answer."""

    intent = "TellMeMoreIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        entry = next((e for e in turn.faq.entries if e.id == turn.state.answer), None)
        held = _hold(turn)
        reply = Reply().say(entry.more if entry is not None and entry.more else turn.voice.say("faq.no_more"))
        return respond(handler_input, _close(turn, reply, held, anything_else=True))


def _memory_off(turn: Turn) -> Reply:
    reply = Reply().say(turn.voice.say("memory.unavailable"))
    reply.reprompt = turn.voice.say("skill.what_next_reprompt")
    return reply


def _start_remembered(handler_input: HandlerInput, routine_id: str | None, missing_key: str) -> Response:
    turn = Turn.of(handler_input)
    if not turn.memory.available:
        return respond(handler_input, _memory_off(turn))
    routine = turn.player.library.get(routine_id) if routine_id else None
    if routine is None:
        return respond(handler_input, _offer_routines(turn, Reply().say(turn.voice.say(missing_key))))
    turn.state.awaiting = None
    return respond(handler_input, turn.player.start(turn.state, turn.voice, routine, None, turn.now))


class AddFavouriteIntentHandler(_Intent):
    """Add the current (or last) routine to the user's favourites."""

    intent = "AddFavouriteIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not turn.memory.available:
            return respond(handler_input, _memory_off(turn))
        routine_id = turn.state.routine or turn.memory.record.last_routine
        routine = turn.player.library.get(routine_id) if routine_id else None
        if routine is None:
            reply = Reply().say(turn.voice.say("memory.nothing_to_favourite"))
            reply.reprompt = turn.voice.say("skill.what_next_reprompt")
            return respond(handler_input, reply)
        turn.memory.record.add_favourite(routine.id)
        held = _hold(turn)
        # Saved before it is said: a favourite the store refused is never confirmed.
        key = "memory.favourite_added" if save(handler_input) else "memory.save_failed"
        reply = Reply().say(turn.voice.say(key, title=routine.title))
        return respond(handler_input, _close(turn, reply, held))


class StartFavouriteIntentHandler(_Intent):
    """Start the favourite routine added most recently."""

    intent = "StartFavouriteIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        favourites = Turn.of(handler_input).memory.record.favourites
        return _start_remembered(handler_input, favourites[-1] if favourites else None, "memory.no_favourites")


class StartLastRoutineIntentHandler(_Intent):
    """Do the same routine as last time."""

    intent = "StartLastRoutineIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _start_remembered(handler_input, Turn.of(handler_input).memory.record.last_routine, "memory.no_last")


class ProgressIntentHandler(_Intent):
    """A short weekly recap: sessions this week and last week, never a scolding."""

    intent = "ProgressIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not turn.memory.available:
            return respond(handler_input, _memory_off(turn))
        this_week, last_week = week_summary(turn.memory.record, turn.now)
        streak = weekly_streak(turn.memory.record, turn.now)
        voice = turn.voice
        reply = Reply().say(voice.say("memory.progress", this_week=voice.count(this_week, "session"),
                                      last_week=voice.count(last_week, "session")))
        if streak >= 2:
            reply.say(voice.say("memory.streak", weeks=streak))
        reply.say(voice.say("memory.encourage"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return respond(handler_input, reply)


class ForgetMeIntentHandler(_Intent):
    """Delete my data: asks to confirm first."""

    intent = "ForgetMeIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if not turn.memory.available:
            return respond(handler_input, _memory_off(turn))
        turn.state.awaiting = Awaiting.FORGET
        reply = Reply().say(turn.voice.say("memory.forget_confirm"))
        reply.reprompt = turn.voice.say("memory.forget_reprompt")
        return respond(handler_input, reply)


class HelpIntentHandler(_Intent):
    """Help: inside a routine it explains navigation; outside, what the skill can do."""

    intent = "AMAZON.HelpIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        voice = turn.voice
        if _hold(turn):
            reply = Reply().say(voice.say("skill.help_routine"))
            reply.reprompt = voice.say("player.resume_reprompt")
            return respond(handler_input, reply)
        reply = Reply().say(voice.say("skill.help")).say(voice.say("skill.disclaimer"))
        reply.say(voice.say("skill.help_ask"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return respond(handler_input, reply)


class _Stop(_Intent):
    """Ends the session, saying where the routine stopped."""

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        reply = Reply(end=True)
        if _in_routine(turn) and turn.state.awaiting is Awaiting.SAFETY:
            # Chosen but never begun: there is no place to come back to.
            turn.state.routine, turn.state.awaiting = None, None
        elif _in_routine(turn):
            where = turn.player.stop(turn.state, turn.voice, turn.now)
            if where:
                reply.say(where)
        reply.say(turn.voice.say("skill.goodbye"))
        return respond(handler_input, reply)


class StopIntentHandler(_Stop):
    """Stop: end the session."""

    intent = "AMAZON.StopIntent"


class CancelIntentHandler(_Stop):
    """Cancel: end the session."""

    intent = "AMAZON.CancelIntent"


class NavigateHomeIntentHandler(_Intent):
    """Home: leave any routine and start afresh, with the session open."""

    intent = "AMAZON.NavigateHomeIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.player.stop(turn.state, turn.voice, turn.now)
        turn.state.routine = None
        turn.state.awaiting = None
        reply = Reply().say(turn.voice.say("skill.home"))
        return respond(handler_input, _offer_routines(turn, reply))


class FallbackIntentHandler(_Intent):
    """Fallback: say what can be said, keeping the session (and any routine) where it is."""

    intent = "AMAZON.FallbackIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        voice = turn.voice
        if _hold(turn):
            reply = Reply().say(voice.say("skill.fallback_routine"))
            reply.reprompt = voice.say("player.resume_reprompt")
            return respond(handler_input, reply)
        reply = Reply().say(voice.say("skill.fallback"))
        reply.reprompt = voice.say("skill.what_next_reprompt")
        return respond(handler_input, reply)


class SessionEndedRequestHandler(AbstractRequestHandler):
    """Session ended: no speech; logs why."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        log.info("session ended: %s %s", getattr(request, "reason", None), getattr(request, "error", None) or "")
        _hold(Turn.of(handler_input))
        return handler_input.response_builder.response


class UnhandledRequestHandler(AbstractRequestHandler):
    """Catch-all, registered last: unknown intents get the fallback; other request types no speech."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        if isinstance(request, IntentRequest):
            log.warning("no handler for intent %s", getattr(request.intent, "name", None))
            return FallbackIntentHandler().handle(handler_input)
        log.info("ignored request type %s", getattr(request, "object_type", type(request).__name__))
        return handler_input.response_builder.response


class ErrorHandler(AbstractExceptionHandler):
    """Apologises and keeps the session usable whatever went wrong."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.exception("error while handling a request", exc_info=exception)
        turn = handler_input.attributes_manager.request_attributes.get("turn")
        voice = turn.voice if turn is not None else Voice(Phrasebook.load("en-US"), random.Random(0))
        handler_input.response_builder.speak(voice.say("skill.error")).ask(voice.say("skill.what_next_reprompt"))
        return handler_input.response_builder.response


HANDLERS: tuple[type[AbstractRequestHandler], ...] = (
    LaunchRequestHandler,
    SessionEndedRequestHandler,
    StartRoutineIntentHandler,
    ListRoutinesIntentHandler,
    YesIntentHandler,
    NoIntentHandler,
    NextIntentHandler,
    SkipIntentHandler,
    PreviousIntentHandler,
    RepeatIntentHandler,
    StartOverIntentHandler,
    PauseIntentHandler,
    ResumeIntentHandler,
    KeepGoingIntentHandler,
    TimeLeftIntentHandler,
    WhereAmIIntentHandler,
    SlowerIntentHandler,
    FasterIntentHandler,
    ShorterIntentHandler,
    MoreDetailIntentHandler,
    QuestionIntentHandler,
    StatementIntentHandler,
    TopicIntentHandler,
    TellMeMoreIntentHandler,
    AddFavouriteIntentHandler,
    StartFavouriteIntentHandler,
    StartLastRoutineIntentHandler,
    ProgressIntentHandler,
    ForgetMeIntentHandler,
    HelpIntentHandler,
    StopIntentHandler,
    CancelIntentHandler,
    NavigateHomeIntentHandler,
    FallbackIntentHandler,
)
"""Every handler in dispatch order; the catch-all is added after these."""
