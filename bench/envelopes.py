"""The request envelopes every benchmark sends, made once by playing a real conversation.

The conversation runs on a skill with an in-memory store (defined here), so the session
attributes carried into "next", "pause" and "question" are the ones a real routine has,
whatever the store-less skill answers. Each envelope is kept as JSON text.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from skill.simulator.envelopes import DEFAULT_APPLICATION, Session, SlotValue

NECK = SlotValue("neck range of motion", "neck-range-of-motion", "ROUTINE")
QUESTION = SlotValue("use ice or heat")

MARK = "BENCH"
"""In every id (user, device, session, request), so ids can be swapped for a new user."""

KINDS = ("launch", "start-routine", "routine-step", "next", "pause", "question", "stop")
"""In conversation order. routine-step is the YesIntent that starts the first step after
StartRoutineIntent's safety question."""


def dict_store() -> Any:
    """A store keeping records in a dict (no I/O), or None if the storage API is not there."""
    try:
        import msgspec

        from skill.storage import BaseStore, Conflict, MemoryRecord, checked
    except ImportError:
        return None

    class DictStore(BaseStore):
        def __init__(self) -> None:
            super().__init__()
            self.data: dict[str, Any] = {}

        def load(self, user_id: str) -> tuple[Any, bool]:
            record = self.data.get(user_id)
            return (checked(record) if record is not None else MemoryRecord()), False

        def save(self, user_id: str, record: Any) -> Any:
            current = self.data.get(user_id)
            revision = current.revision if current is not None else 0
            if record.revision != revision:
                raise Conflict(f"revision {record.revision} != {revision}")
            stored = msgspec.structs.replace(self._prepare(record), revision=revision + 1)
            self.data[user_id] = stored
            return checked(stored)

        def delete(self, user_id: str) -> None:
            self.data.pop(user_id, None)

    return DictStore()


def _counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"{MARK}{next(numbers):027x}"


def conversation(
    application_id: str = DEFAULT_APPLICATION, clock: datetime | None = None, skill: Any = None
) -> dict[str, str]:
    """kind -> envelope JSON text, for every kind in KINDS."""
    from skill.alexa.builder import build_skill, invoke

    if skill is None:
        store = dict_store()
        skill = build_skill(store=store) if store is not None else build_skill(store=None)
    session = Session(
        application_id=application_id,
        ids=_counter(),
        user_id=f"amzn1.ask.account.{MARK}",
        device_id=f"amzn1.ask.device.{MARK}",
    )
    if clock is not None:
        session.clock = clock
    out: dict[str, str] = {}

    def turn(kind: str, envelope: dict[str, Any]) -> None:
        text = json.dumps(envelope)
        out[kind] = text
        session.receive(invoke(skill, text))

    turn("launch", session.launch())
    turn("start-routine", session.intent("StartRoutineIntent", {"routine": NECK}))
    turn("routine-step", session.intent("AMAZON.YesIntent"))
    turn("next", session.intent("AMAZON.NextIntent"))
    turn("pause", session.intent("AMAZON.PauseIntent"))
    turn("question", session.intent("QuestionIntent", {"query": QUESTION}))
    turn("stop", session.intent("AMAZON.StopIntent"))
    return out


def renamed(texts: dict[str, str], tag: str | None = None) -> dict[str, str]:
    """The same conversation for a new user, device and session (ids swapped in the text)."""
    tag = tag or uuid.uuid4().hex
    return {kind: text.replace(MARK, f"{MARK}{tag}") for kind, text in texts.items()}
