"""Builds the skill once: handlers in order, interceptors, the error handler, the shared player."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_model import RequestEnvelope

from skill.alexa.handlers import HANDLERS, ErrorHandler, UnhandledRequestHandler
from skill.alexa.interceptors import (
    RememberSpeechInterceptor,
    RequestLogInterceptor,
    ResponseLogInterceptor,
    SaveStateInterceptor,
    TurnInterceptor,
)
from skill.alexa.memory import LoadMemoryInterceptor, SaveMemoryInterceptor
from skill.core.faq import Matcher, load_entries
from skill.core.player import Player, Settings
from skill.core.routines import Library, load_library
from skill.storage import Store, StorePersistenceAdapter, store_from_env


def build_skill(
    library: Library | None = None,
    settings: Settings | None = None,
    skill_id: str | None = None,
    faq: Matcher | None = None,
    store: Store | None | bool = True,
) -> CustomSkill:
    """A ready skill; pass a skill id to refuse requests meant for another skill.

    `store` keeps each user's memory: True (default) takes it from the environment
    (BACKCOACH_STORAGE), None or False runs without memory.
    """
    library = library or load_library()
    player = Player(library, settings)
    faq = faq or Matcher(load_entries(routine_ids={r.id for r in library}))
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
    builder.add_global_request_interceptor(TurnInterceptor(player, faq))
    builder.add_global_response_interceptor(SaveStateInterceptor())
    builder.add_global_response_interceptor(RememberSpeechInterceptor())
    builder.add_global_response_interceptor(SaveMemoryInterceptor())
    builder.add_global_response_interceptor(ResponseLogInterceptor())
    return builder.create()


@cache
def default_skill() -> CustomSkill:
    """The skill built from the project's data, shared by every transport in a process."""
    return build_skill()


class InvalidEnvelope(ValueError):
    """The payload is not a request envelope the skill can read (a transport answers 400)."""


def invoke(skill: CustomSkill, payload: dict[str, Any] | str) -> dict[str, Any]:
    """Envelope JSON in, response envelope JSON out (the same path every transport takes)."""
    try:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        envelope = skill.serializer.deserialize(text, RequestEnvelope)
    except Exception as exc:  # the SDK's deserialiser raises many types for malformed input
        raise InvalidEnvelope(f"not a request envelope ({type(exc).__name__})") from exc
    if not isinstance(envelope, RequestEnvelope) or envelope.request is None:
        raise InvalidEnvelope("not a request envelope (no request)")
    response = skill.invoke(request_envelope=envelope, context=None)
    return skill.serializer.serialize(response)
