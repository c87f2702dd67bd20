"""Alexa-shaped request envelopes and a session that carries attributes between turns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_APPLICATION = "amzn1.ask.skill.00000000-0000-0000-0000-backcoach000"


@dataclass(frozen=True, slots=True)
class SlotValue:
    """A slot as Alexa fills it: what was heard and, for custom types, the resolved id."""

    value: str
    id: str | None = None
    slot_type: str | None = None
    """Custom slot type name; when set, an entity-resolution block is added."""


def _slot(name: str, filled: SlotValue, application_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "value": filled.value, "confirmationStatus": "NONE", "source": "USER"}
    if filled.slot_type:
        authority = f"amzn1.er-authority.echo-sdk.{application_id}.{filled.slot_type}"
        if filled.id:
            resolution = {
                "authority": authority,
                "status": {"code": "ER_SUCCESS_MATCH"},
                "values": [{"value": {"name": filled.value, "id": filled.id}}],
            }
        else:
            resolution = {"authority": authority, "status": {"code": "ER_SUCCESS_NO_MATCH"}}
        body["resolutions"] = {"resolutionsPerAuthority": [resolution]}
    return body


@dataclass
class Session:
    """One user's conversation: ids, the clock, and the attributes the skill sends back."""

    locale: str = "en-US"
    application_id: str = DEFAULT_APPLICATION
    user_id: str = field(default_factory=lambda: f"amzn1.ask.account.{uuid.uuid4().hex}")
    device_id: str = field(default_factory=lambda: f"amzn1.ask.device.{uuid.uuid4().hex}")
    clock: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
    ids: Callable[[], str] = field(default_factory=lambda: lambda: uuid.uuid4().hex)
    session_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    interfaces: dict[str, Any] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        """Whether a session is in progress."""
        return self.session_id is not None

    def advance(self, seconds: float) -> None:
        """Let time pass before the next request."""
        self.clock += timedelta(seconds=seconds)

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        """A full request envelope around a request body, opening a session when none is open."""
        new = self.session_id is None
        if new:
            self.session_id = f"amzn1.echo-api.session.{self.ids()}"
            self.attributes = {}
        application = {"applicationId": self.application_id}
        user = {"userId": self.user_id}
        request = {
            "requestId": f"amzn1.echo-api.request.{self.ids()}",
            "timestamp": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "locale": self.locale,
            **request,
        }
        return {
            "version": "1.0",
            "session": {
                "new": new,
                "sessionId": self.session_id,
                "application": application,
                "attributes": dict(self.attributes),
                "user": user,
            },
            "context": {
                "System": {
                    "application": application,
                    "user": user,
                    "device": {"deviceId": self.device_id, "supportedInterfaces": dict(self.interfaces)},
                    "apiEndpoint": "https://api.amazonalexa.com",
                }
            },
            "request": request,
        }

    def launch(self) -> dict[str, Any]:
        """A LaunchRequest envelope."""
        return self.envelope({"type": "LaunchRequest"})

    def intent(self, name: str, slots: dict[str, SlotValue] | None = None) -> dict[str, Any]:
        """An IntentRequest envelope with slots filled as Alexa would."""
        intent = {
            "name": name,
            "confirmationStatus": "NONE",
            "slots": {k: _slot(k, v, self.application_id) for k, v in (slots or {}).items()},
        }
        return self.envelope({"type": "IntentRequest", "dialogState": "COMPLETED", "intent": intent})

    def ended(self, reason: str = "USER_INITIATED") -> dict[str, Any]:
        """A SessionEndedRequest envelope."""
        return self.envelope({"type": "SessionEndedRequest", "reason": reason})

    def receive(self, response: dict[str, Any]) -> None:
        """Take the response's session attributes, and close the session when it ends."""
        body = response.get("response") or {}
        if body.get("shouldEndSession") is not False:
            self.session_id = None
            self.attributes = {}
        else:
            self.attributes = dict(response.get("sessionAttributes") or {})
