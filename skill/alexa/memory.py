"""Memory across sessions as the handlers see it: a typed record loaded and saved by interceptors."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.exceptions import AttributesManagerException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.core.player import Awaiting, PlayerState
from skill.core.routines import Library
from skill.storage import MemoryRecord, Resume, StorageError

log = logging.getLogger("backcoach.memory")

RESUME_DAYS = 7
"""An unfinished routine is offered again for this long."""


class Memory(msgspec.Struct):
    """One user's record for this request; `available` is False when storage could not be reached."""

    record: MemoryRecord = msgspec.field(default_factory=MemoryRecord)
    available: bool = False
    corrupt: bool = False
    forget: bool = False
    forgotten: bool = False
    """The store confirmed the deletion `forget` asked for."""
    loaded: dict[str, Any] = msgspec.field(default_factory=dict)
    """The record as the store last confirmed it: nothing is written while the record equals it."""

    def saved_resume(self, library: Library, now: float) -> Resume | None:
        """The unfinished routine to offer, if it is recent and still exists."""
        resume = self.record.resume
        if resume is None or now - resume.saved_at > RESUME_DAYS * 86400:
            return None
        routine = library.get(resume.routine_id)
        if routine is None or resume.step_index >= len(routine.steps):
            return None
        return resume


def sync(memory: Memory, state: PlayerState, now: float) -> None:
    """Copy what the session learned into the record: settings, the last routine and where it stopped."""
    record = memory.record
    record.pace, record.verbosity = state.pace, state.verbosity.value
    record.chimes, record.speech_rate = state.chimes, state.speech_rate
    if state.routine is None:
        return
    if state.awaiting is Awaiting.SAFETY:
        return  # chosen but not started
    if state.last is not None and not record.has_heard_safety(state.routine):
        record.heard_safety(state.routine)  # it began after its notes: next time the reminder will do
    record.last_routine = state.routine
    reached_end = state.last is not None and state.last.after is None
    if reached_end or (state.awaiting is Awaiting.ANOTHER and state.last is None):
        record.resume = None
        return
    record.resume = Resume(
        routine_id=state.routine, step_index=state.step, phase_index=state.phase,
        elapsed_seconds=state.elapsed, saved_at=now,
    )


class LoadMemoryInterceptor(AbstractRequestInterceptor):
    """Loads the user's record through the persistence adapter; without storage the skill carries on."""

    def process(self, handler_input: HandlerInput) -> None:
        memory = Memory()
        manager = handler_input.attributes_manager
        try:
            attributes = manager.persistent_attributes
            stored = {k: v for k, v in attributes.items() if not k.startswith("_")}
            memory.record = msgspec.convert(stored, MemoryRecord)
            memory.corrupt = bool(attributes.get("_was_corrupt"))
            memory.available = True
        except (StorageError, ValueError) as exc:
            log.warning("memory unavailable for this request: %s", exc)
        except AttributesManagerException:
            pass  # no store configured: the skill runs without memory
        memory.loaded = msgspec.to_builtins(memory.record)
        manager.request_attributes["memory"] = memory


def save(handler_input: HandlerInput) -> bool:
    """Write back what this request changed, or forget the user; True when the store confirmed it.

    Handlers that promise memory ("I've added it to your favorites") call this before they
    speak, so a failed write is never confirmed; the response interceptor calls it again for
    everything else, and a record already written is not written twice.
    """
    manager = handler_input.attributes_manager
    memory: Memory | None = manager.request_attributes.get("memory")
    turn = manager.request_attributes.get("turn")
    if memory is None or not memory.available:
        return False
    try:
        if memory.forget:
            if not memory.forgotten:
                manager.delete_persistent_attributes()
                memory.forgotten = True
            return True
        if turn is not None:
            sync(memory, turn.state, turn.now)
        current = msgspec.to_builtins(memory.record)
        if current == memory.loaded:
            return True
        attributes = manager.persistent_attributes
        attributes.update({k: v for k, v in current.items() if k != "revision"})
        manager.save_persistent_attributes()
        memory.loaded = msgspec.to_builtins(memory.record)
        return True
    except (StorageError, ValueError, OSError) as exc:
        log.error("memory not saved: %s", exc)
        return False


class SaveMemoryInterceptor(AbstractResponseInterceptor):
    """Writes back what changed (merged with any concurrent write), or forgets the user."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        save(handler_input)
