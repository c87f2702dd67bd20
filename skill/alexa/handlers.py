"""Request handlers: each turns one kind of request into a dialogue event and the reply into a response."""

from __future__ import annotations

import logging
import random

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import IntentRequest, Response

from skill.alexa.memory import save
from skill.alexa.turn import LAST_SPEECH_KEY, Turn, respond, session_attributes, slots
from skill.core.dialogue import Dialogue, Event
from skill.core.phrases import Phrasebook, Voice
from skill.core.ssml import check_ssml

log = logging.getLogger("backcoach.skill")


def _replayable(last: object) -> tuple[str, str] | None:
    """Stored speech and reprompt that Repeat can send again unchanged, if they are valid SSML."""
    if not isinstance(last, dict):
        return None
    speech, reprompt = last.get("speech"), last.get("reprompt")
    if not isinstance(speech, str) or not speech or not isinstance(reprompt, str):
        return None
    if any(check_ssml(f"<speak>{part}</speak>", "repeat") for part in (speech, reprompt) if part):
        return None
    return speech, reprompt


def dialogue(handler_input: HandlerInput) -> Dialogue:
    """The dialogue for this request, over the turn the interceptors attached."""
    turn = Turn.of(handler_input)
    return Dialogue(
        turn.state, turn.voice, turn.player, turn.faq_source, turn.now,
        memory=turn.memory,
        persist=lambda: save(handler_input),
        last_said=lambda: _replayable(session_attributes(handler_input).get(LAST_SPEECH_KEY)),
    )


def _answer(handler_input: HandlerInput, event: Event) -> Response:
    return respond(handler_input, dialogue(handler_input).handle(event, slots(handler_input)))


class IntentHandler(AbstractRequestHandler):
    """Base for handlers of one intent, each the dialogue event named in `event`."""

    intent = ""
    event = Event.FALLBACK

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        # The SDK's is_intent_name fails on an IntentRequest that carries no intent.
        return isinstance(request, IntentRequest) and getattr(request.intent, "name", None) == self.intent

    def handle(self, handler_input: HandlerInput) -> Response:
        return _answer(handler_input, self.event)


INTENT_EVENTS: tuple[tuple[str, Event], ...] = (
    ("StartRoutineIntent", Event.START),
    ("ChooseIntent", Event.START),
    ("ListRoutinesIntent", Event.LIST),
    ("AMAZON.YesIntent", Event.YES),
    ("AMAZON.NoIntent", Event.NO),
    ("AMAZON.NextIntent", Event.NEXT),
    ("SkipIntent", Event.SKIP),
    ("GoToStepIntent", Event.GO_TO),
    ("AMAZON.PreviousIntent", Event.PREVIOUS),
    ("AMAZON.RepeatIntent", Event.REPEAT),
    ("AMAZON.StartOverIntent", Event.START_OVER),
    ("AMAZON.PauseIntent", Event.PAUSE),
    ("AMAZON.ResumeIntent", Event.RESUME),
    ("KeepGoingIntent", Event.KEEP_GOING),
    ("TimeLeftIntent", Event.TIME_LEFT),
    ("WhereAmIIntent", Event.WHERE),
    ("SlowerIntent", Event.SLOWER),
    ("FasterIntent", Event.FASTER),
    ("ShorterIntent", Event.SHORTER),
    ("MoreDetailIntent", Event.DETAIL),
    ("TalkSlowerIntent", Event.TALK_SLOWER),
    ("TalkFasterIntent", Event.TALK_FASTER),
    ("ChimesOffIntent", Event.CHIMES_OFF),
    ("ChimesOnIntent", Event.CHIMES_ON),
    ("SafetyNotesIntent", Event.SAFETY_NOTES),
    ("FeelingIntent", Event.FEELING),
    ("QuestionIntent", Event.QUESTION),
    ("StatementIntent", Event.STATEMENT),
    ("TopicIntent", Event.TOPIC),
    ("TellMeMoreIntent", Event.TELL_MORE),
    ("AddFavouriteIntent", Event.ADD_FAVOURITE),
    ("StartFavouriteIntent", Event.START_FAVOURITE),
    ("StartLastRoutineIntent", Event.START_LAST),
    ("ProgressIntent", Event.PROGRESS),
    ("ForgetMeIntent", Event.FORGET),
    ("AMAZON.HelpIntent", Event.HELP),
    ("AMAZON.StopIntent", Event.STOP),
    ("AMAZON.CancelIntent", Event.STOP),
    ("AMAZON.NavigateHomeIntent", Event.HOME),
    ("AMAZON.FallbackIntent", Event.FALLBACK),
)
"""Every intent and the dialogue event it is, in dispatch order."""


def _intent_handler(intent: str, event: Event) -> type[IntentHandler]:
    name = intent.removeprefix("AMAZON.").removesuffix("Intent") + "IntentHandler"
    doc = f"{intent}: the dialogue's {event.value} event."
    return type(name, (IntentHandler,), {"intent": intent, "event": event, "__doc__": doc})


class LaunchRequestHandler(AbstractRequestHandler):
    """Opening the skill: the dialogue's launch event."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return _answer(handler_input, Event.LAUNCH)


class SessionEndedRequestHandler(AbstractRequestHandler):
    """Session ended: the place is kept for next time; no speech (Alexa plays none)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        log.info("session ended: %s %s", getattr(request, "reason", None), getattr(request, "error", None) or "")
        dialogue(handler_input).handle(Event.ENDED)
        return handler_input.response_builder.response


class UnhandledRequestHandler(AbstractRequestHandler):
    """Catch-all, registered last: unknown intents get the fallback; other request types no speech."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        if isinstance(request, IntentRequest):
            log.warning("no handler for intent %s", getattr(request.intent, "name", None))
            return _answer(handler_input, Event.FALLBACK)
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
    *(_intent_handler(intent, event) for intent, event in INTENT_EVENTS),
)
"""Every handler in dispatch order; the catch-all is added after these."""
