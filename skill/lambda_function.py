"""AWS Lambda entry point: the same skill as every other transport, with the skill id check on."""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from typing import Any

from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope

from skill.alexa.builder import build_skill
from skill.alexa.serializer import InvalidEnvelope

log = logging.getLogger("backcoach.lambda")


@cache
def _skill() -> CustomSkill:
    skill_id = os.environ.get("BACKCOACH_SKILL_ID", "").strip()
    if not skill_id:
        raise RuntimeError("BACKCOACH_SKILL_ID must be set to the skill's id (amzn1.ask.skill....)")
    return build_skill(skill_id=skill_id, lazy=True)


REFUSED = {"version": "1.0", "response": {"shouldEndSession": True}}
"""What an event that is not a readable request envelope gets: an empty response, never a crash."""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Alexa's request envelope in, the response envelope out (a request for another skill raises)."""
    skill = _skill()
    try:
        envelope = skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    except (InvalidEnvelope, RecursionError, TypeError, ValueError) as exc:
        log.warning("refused event: %s", exc if isinstance(exc, InvalidEnvelope) else type(exc).__name__)
        return dict(REFUSED)
    return skill.serializer.serialize(skill.invoke(request_envelope=envelope, context=context))
