"""The SDK's serializer, with a fast ISO timestamp parser and a clear error for unreadable envelopes."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState


MAX_DEPTH = 40
"""Deepest nesting of objects and arrays an envelope may have: Alexa's are about ten deep, the
skill's own session attributes a few more. Deeper bodies would overflow parsers and deepcopy."""


class InvalidEnvelope(ValueError):
    """The payload is not a request envelope the skill can read (a transport answers 400)."""


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def too_deep(payload: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests objects or arrays deeper than `limit` (read without parsing it).

    Counting brackets settles most envelopes; otherwise strings are cut out and only the
    brackets outside them are walked (a character loop over the text cost a tenth of a turn).
    """
    if payload.count("{") + payload.count("[") <= limit:
        return False  # fewer brackets than the limit cannot nest deeper than it (the usual case)
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", payload)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class EnvelopeSerializer(DefaultSerializer):
    """DefaultSerializer with two of its slow paths made fast.

    The SDK parses every timestamp with dateutil's general parser, about a tenth of a turn;
    Alexa always sends ISO 8601, which `datetime.fromisoformat` reads far faster. And it finds
    each model class by importing its module by name, a dozen times per envelope; the classes
    never change, so each name is looked up once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, Any] = {}

    def _DefaultSerializer__load_class_from_name(self, class_name: str) -> Any:  # noqa: N802
        found = self._classes.get(class_name)
        if found is None:
            found = super()._DefaultSerializer__load_class_from_name(class_name)  # type: ignore[misc]
            self._classes[class_name] = found
        return found

    def _DefaultSerializer__deserialize_datetime(self, payload: Any, obj_type: Any) -> Any:  # noqa: N802
        if isinstance(payload, str):
            try:
                parsed = datetime.fromisoformat(payload.replace("Z", "+00:00"))
                return parsed.date() if obj_type is date else parsed
            except ValueError:
                pass
        return super()._DefaultSerializer__deserialize_datetime(payload, obj_type)  # type: ignore[attr-defined]

    def deserialize(self, payload: Any, obj_type: Any) -> Any:
        """As the SDK's, but an unreadable request envelope raises InvalidEnvelope."""
        if obj_type is not RequestEnvelope:
            return super().deserialize(payload, obj_type)
        if isinstance(payload, str) and too_deep(payload):
            raise InvalidEnvelope(f"not a request envelope (nested deeper than {MAX_DEPTH})")
        if isinstance(payload, str) and '"__' in payload and _has_dunder_key(payload):
            # The SDK sets attributes by key name: "__dict__" would wipe an object's fields.
            raise InvalidEnvelope("not a request envelope (reserved key)")
        try:
            envelope = super().deserialize(payload, obj_type)
        except Exception as exc:  # the SDK raises many types for malformed input
            raise InvalidEnvelope(f"not a request envelope ({type(exc).__name__})") from exc
        # getattr: a payload with a "__dict__" key can strip the object's attributes.
        if not isinstance(envelope, RequestEnvelope) or getattr(envelope, "request", None) is None:
            raise InvalidEnvelope("not a request envelope (no request)")
        if envelope.context is None:
            envelope.context = _context_from_session(envelope)
        return envelope


def _context_from_session(envelope: RequestEnvelope) -> Context:
    """A context for an envelope that came without one, from its session (or refuse it)."""
    session = envelope.session
    if session is None or session.application is None:
        raise InvalidEnvelope("not a request envelope (no context and no session)")
    return Context(system=SystemState(application=session.application, user=session.user))


def _has_dunder_key(payload: str) -> bool:
    """Whether any object in the JSON has a key starting with two underscores."""
    found = False

    def check(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or any(key.startswith("__") for key, _ in pairs)
        return dict(pairs)

    try:
        json.loads(payload, object_pairs_hook=check)
    except ValueError:
        return False  # not JSON at all: the SDK's own error follows
    return found
