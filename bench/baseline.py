"""The baseline skill: ask-sdk-core's SkillBuilder with one trivial handler, and the same
deserialise-dispatch-serialise path as `skill.alexa.builder.invoke`.

Kept free of project imports so that a new process importing it measures the SDK alone.
"""

from __future__ import annotations

import json
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_model import RequestEnvelope, Response


class _Trivial(AbstractRequestHandler):
    """Handles everything with a one-line answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.speak("OK.").set_should_end_session(False).response


def trivial_skill(skill_id: str | None = None) -> CustomSkill:
    builder = SkillBuilder()
    if skill_id:
        builder.skill_id = skill_id
    builder.add_request_handler(_Trivial())
    return builder.create()


def invoke(skill: CustomSkill, payload: dict[str, Any] | str) -> dict[str, Any]:
    """Envelope JSON in, response JSON out: the same three calls as the project's invoke."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    envelope = skill.serializer.deserialize(text, RequestEnvelope)
    response = skill.invoke(request_envelope=envelope, context=None)
    return skill.serializer.serialize(response)


_SKILL: CustomSkill | None = None


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The baseline's Lambda entry point, shaped like skill.lambda_function.lambda_handler."""
    global _SKILL
    if _SKILL is None:
        _SKILL = trivial_skill()
    envelope = _SKILL.serializer.deserialize(json.dumps(event), RequestEnvelope)
    return _SKILL.serializer.serialize(_SKILL.invoke(request_envelope=envelope, context=context))
