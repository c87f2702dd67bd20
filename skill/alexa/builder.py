"""Builds the skill once: handlers in order, interceptors, the error handler, the shared player."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import RequestEnvelope

from skill.alexa.handlers import HANDLERS, ErrorHandler, UnhandledRequestHandler
from skill.alexa.interceptors import (
    RememberSpeechInterceptor,
    ResponseSizeInterceptor,
    RequestLogInterceptor,
    ResponseLogInterceptor,
    SaveStateInterceptor,
    TurnInterceptor,
)
from skill.alexa.memory import LoadMemoryInterceptor, SaveMemoryInterceptor
from skill.alexa.serializer import EnvelopeSerializer, InvalidEnvelope
from skill.core.player import Player, Settings
from skill.core.routines import Library, load_library
from skill.storage import Store, StorePersistenceAdapter, store_from_env

if TYPE_CHECKING:
    from skill.core.faq import Matcher


def build_skill(
    library: Library | None = None,
    settings: Settings | None = None,
    skill_id: str | None = None,
    faq: Matcher | None = None,
    store: Store | None | bool = True,
    lazy: bool = False,
) -> CustomSkill:
    """A ready skill; pass a skill id to refuse requests meant for another skill.

    `store` keeps each user's memory: True (default) takes it from the environment
    (BACKCOACH_STORAGE), None or False runs without memory. `lazy` defers building the
    quick-answer matcher (and importing numpy) to the first question: shorter cold starts.
    """
    library = library or load_library()
    player = Player(library, settings)

    @cache
    def faq_source() -> Matcher:
        from skill.core.faq import load_entries, matcher_for

        return faq or matcher_for(load_entries(routine_ids={r.id for r in library}))

    if not lazy:
        faq_source()
    if store is True:
        store = store_from_env()
    builder = CustomSkillBuilder(persistence_adapter=StorePersistenceAdapter(store) if store else None)
    if skill_id:
        builder.skill_id = skill_id
    for handler in HANDLERS:
        builder.add_request_handler(handler())
    builder.add_request_handler(UnhandledRequestHandler())
    builder.add_exception_handler(ErrorHandler())
    builder.add_global_request_interceptor(RequestLogInterceptor())
    builder.add_global_request_interceptor(LoadMemoryInterceptor())
    builder.add_global_request_interceptor(TurnInterceptor(player, faq_source))
    builder.add_global_response_interceptor(SaveStateInterceptor())
    builder.add_global_response_interceptor(RememberSpeechInterceptor())
    builder.add_global_response_interceptor(ResponseSizeInterceptor())
    builder.add_global_response_interceptor(SaveMemoryInterceptor())
    builder.add_global_response_interceptor(ResponseLogInterceptor())
    skill = builder.create()
    skill.serializer = EnvelopeSerializer()
    return skill


@cache
def default_skill() -> CustomSkill:
    """The skill built from the project's data, shared by every transport in a process."""
    return build_skill()


def invoke(skill: CustomSkill, payload: dict[str, Any] | str) -> dict[str, Any]:
    """Envelope JSON in, response envelope JSON out (the same path every transport takes).

    Raises InvalidEnvelope when the payload is not a request envelope.
    """
    try:
        text = payload if isinstance(payload, str) else json.dumps(payload)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEnvelope(f"not JSON ({type(exc).__name__})") from exc
    envelope = skill.serializer.deserialize(text, RequestEnvelope)
    response = skill.invoke(request_envelope=envelope, context=None)
    return skill.serializer.serialize(response)
