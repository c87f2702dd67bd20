"""Loading and saving the user's memory around each request (the record itself is `skill.core.memory`)."""

from __future__ import annotations

import logging

import msgspec
from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.exceptions import AttributesManagerException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.core.memory import Memory, sync
from skill.storage import MemoryRecord, StorageError

log = logging.getLogger("backcoach.memory")

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
