"""The ASK SDK persistence adapter on top of a :class:`~skill.storage.base.Store`, merging concurrent writes."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.alexa.envelope import user_ids

from .base import Store
from .errors import StorageError
from .record import CURRENT_VERSION, MAX_FAVOURITES, MAX_SAFETY_HEARD, MemoryRecord


def user_id_from_envelope(request_envelope: Any) -> str:
    """The Alexa user id (``context.System.user.userId``, else ``session.user.userId``) from JSON or ask-sdk-model objects."""
    for candidate in user_ids(request_envelope):
        if isinstance(candidate, str) and candidate:
            return candidate
    raise StorageError("the request carries no user id (context.System.user.userId)")


BASE_KEY = "_base"
CORRUPT_KEY = "_was_corrupt"
_MERGE_SKIP = {"v", "revision"}


class StorePersistenceAdapter(AbstractPersistenceAdapter):
    """ASK SDK persistence adapter on top of a :class:`Store`.

    ``get_attributes`` returns the record as a JSON-ready dict plus two private keys:
    ``_was_corrupt`` (bool) and ``_base`` (the record as loaded). ``save_attributes`` saves
    only the fields the handler changed relative to ``_base`` through ``Store.update``, so a
    concurrent write by another request is merged rather than overwritten: scalar fields are
    last-writer-wins per field, and ``sessions``/``favourites`` merge additions and removals.
    Keys starting with ``_`` are never stored. The dict is refreshed in place after a save.
    A dict without ``_base`` (the handler assigned a new one) replaces the stored fields whole.
    ``StorageError`` propagates (the skill should carry on without memory).
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_attributes(self, request_envelope: Any) -> dict[str, object]:
        record, corrupt = self.store.load(user_id_from_envelope(request_envelope))
        return self._as_attributes(record, corrupt)

    @staticmethod
    def _as_attributes(record: MemoryRecord, corrupt: bool) -> dict[str, object]:
        attrs: dict[str, object] = msgspec.to_builtins(record)
        attrs[CORRUPT_KEY] = corrupt
        attrs[BASE_KEY] = msgspec.to_builtins(record)
        return attrs

    def save_attributes(self, request_envelope: Any, attributes: dict[str, object]) -> None:
        user_id = user_id_from_envelope(request_envelope)
        mine = {k: v for k, v in attributes.items() if not str(k).startswith("_")}
        mine.setdefault("v", CURRENT_VERSION)
        wanted = msgspec.convert(mine, MemoryRecord)
        desired = msgspec.to_builtins(wanted)
        base = attributes.get(BASE_KEY)
        merge = isinstance(base, dict)
        if merge:
            changed = [f for f in desired if f not in _MERGE_SKIP and desired[f] != base.get(f)]
        else:  # the handler replaced the whole dict: its content wins as a whole
            base = {}
            changed = [f for f in desired if f not in _MERGE_SKIP]
        if not changed:
            return

        def change(record: MemoryRecord) -> None:
            for field in changed:
                if merge and field in ("sessions", "favourites", "safety_heard"):
                    setattr(record, field, _merge_list(field, base.get(field), desired[field],
                                                       getattr(record, field)))
                else:
                    setattr(record, field, copy.deepcopy(getattr(wanted, field)))

        stored = self.store.update(user_id, change)
        fresh = self._as_attributes(stored, False)
        attributes.clear()
        attributes.update(fresh)

    def delete_attributes(self, request_envelope: Any) -> None:
        self.store.delete(user_id_from_envelope(request_envelope))


def _merge_list(field: str, base: Any, desired: list[Any], current: list[Any]) -> list[Any]:
    """Three-way merge: what this request added/removed relative to ``base``, applied to the
    ``current`` stored list (which may hold another request's additions)."""
    base_list = list(base) if isinstance(base, list) else []
    added = [x for x in desired if x not in base_list]
    removed = {x for x in base_list if x not in desired}
    merged = [x for x in current if x not in removed]
    merged += [x for x in added if x not in merged]
    if field == "favourites":
        return merged[-MAX_FAVOURITES:]
    if field == "safety_heard":
        return merged[-MAX_SAFETY_HEARD:]
    return sorted(merged)
