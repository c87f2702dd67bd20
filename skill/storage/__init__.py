"""Memory across sessions: a small, versioned per-user record and the stores that keep it.

Use a :class:`Store` directly::

    store = store_from_env()            # SqliteStore by default; None when BACKCOACH_STORAGE=none
    record, was_corrupt = store.load(user_id)
    store.update(user_id, lambda r: r.add_session(time.time()))

or plug :class:`StorePersistenceAdapter` into the ASK SDK (``persistence_adapter=``) and use
``handler_input.attributes_manager.persistent_attributes``.

Stores compare-and-set on ``MemoryRecord.revision``: ``save`` fails with :class:`Conflict` when
someone else wrote in between, and ``update`` re-loads and re-applies its change function until
the write lands, so no update is lost. Change functions may therefore run more than once and
must only touch the record they are given; they must not call the store themselves (the SQLite
store runs them inside its write transaction).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import msgspec
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from .factory import default_sqlite_path, store_from_env
from .record import (
    CURRENT_VERSION,
    MAX_FAVOURITES,
    MAX_SAFETY_HEARD,
    Conflict,
    CorruptRecord,
    LockTimeout,
    MemoryRecord,
    NewerVersion,
    Resume,
    StorageError,
    checked,
    migrate,
    week_summary,
    weekly_streak,
)

Change = Callable[[MemoryRecord], "MemoryRecord | None"]


@runtime_checkable
class Store(Protocol):
    """What the skill needs from a store. Every method raises :class:`StorageError` (or its
    subclass :class:`Conflict`) on failure and never any back-end specific exception."""

    def load(self, user_id: str) -> tuple[MemoryRecord, bool]:
        """``(record, was_corrupt)``. A new user gets a fresh record (revision 0). A stored body
        that cannot be read is copied aside to quarantine (never deleted) and a fresh record
        carrying the stored revision is returned with ``was_corrupt=True``."""
        ...

    def save(self, user_id: str, record: MemoryRecord) -> MemoryRecord:
        """Write ``record`` if the stored revision still equals ``record.revision``; stores
        ``revision + 1`` and returns the stored record. Raises :class:`Conflict` otherwise."""
        ...

    def update(self, user_id: str, change: Change) -> MemoryRecord:
        """Load, apply ``change`` (mutate in place, or return a replacement), save; on
        :class:`Conflict` re-load and re-apply (up to 10 times). Returns the stored record."""
        ...

    def delete(self, user_id: str) -> None:
        """Forget the user: their record and any quarantined copies."""
        ...


def _check_user_id(user_id: Any) -> str:
    if not isinstance(user_id, str) or not user_id or len(user_id) > 1024:
        raise ValueError(f"user_id must be a non-empty string of at most 1024 characters: {user_id!r}")
    return user_id


class BaseStore(ABC):
    """Shared behaviour: record preparation and the retrying ``update`` loop."""

    #: re-load and re-apply this many times after a Conflict before giving up
    max_conflict_retries = 10
    #: retry this many times after a failure other than Conflict
    max_failure_retries = 1
    #: back-off after the n-th conflict: uniform(0, min(cap, base * 2**n)) seconds ("full
    #: jitter"). Losers must wait long enough that the writers that just won do not win
    #: again every time. 8 threads hammering one record (moto): with a 5 ms base about 1
    #: update in 60 ran out of 5 retries, 20 ms about 1 in 6,000 on a slow machine; 10
    #: retries with the wait capped at 0.25 s have not run out since. Worst case: about 2.2 s,
    #: within Alexa's 8 s; one Alexa user rarely has more than two requests in flight.
    backoff_base = 0.02
    backoff_cap = 0.25

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rng = random.Random()
        self._rng_lock = threading.Lock()

    # ---- to implement -------------------------------------------------------------------

    @abstractmethod
    def load(self, user_id: str) -> tuple[MemoryRecord, bool]: ...

    @abstractmethod
    def save(self, user_id: str, record: MemoryRecord) -> MemoryRecord: ...

    @abstractmethod
    def delete(self, user_id: str) -> None: ...

    # ---- shared -------------------------------------------------------------------------

    def _prepare(self, record: MemoryRecord) -> MemoryRecord:
        """Validate a (possibly mutated) record and prune old sessions; never mutates input."""
        if not isinstance(record, MemoryRecord):
            raise TypeError(f"expected a MemoryRecord, got {type(record).__name__}")
        fresh = checked(record)
        fresh.prune(self._clock())
        return fresh

    @staticmethod
    def _apply(record: MemoryRecord, change: Change) -> MemoryRecord:
        work = checked(record)
        result = change(work)
        return result if isinstance(result, MemoryRecord) else work

    def _attempt(self, user_id: str, change: Change) -> MemoryRecord:
        """One load-apply-save round. Back ends may override with something atomic."""
        record, _ = self.load(user_id)
        updated = self._apply(record, change)
        # the revision we compare against is the one we loaded, whatever the change did (not
        # structs.replace: its __post_init__ would fail an invalid change before save() checks it)
        updated = copy.copy(updated)
        updated.revision = record.revision
        return self.save(user_id, updated)

    def _backoff(self, attempt: int) -> None:
        with self._rng_lock:
            delay = self._rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
        time.sleep(delay)

    def update(self, user_id: str, change: Change) -> MemoryRecord:
        _check_user_id(user_id)
        conflicts = failures = 0
        while True:
            try:
                return self._attempt(user_id, change)
            except Conflict:
                conflicts += 1
                if conflicts > self.max_conflict_retries:
                    raise
                self._backoff(conflicts)
            except StorageError as exc:
                failures += 1
                if failures > self.max_failure_retries or isinstance(exc, LockTimeout):
                    raise
                attempted: MemoryRecord | None = getattr(exc, "attempted", None)
                landed = self._landed(user_id, attempted) if attempted is not None else None
                if landed is not None:
                    # the write went through although we were told it failed (a timeout after
                    # the server applied it): re-applying the change would apply it twice
                    return landed

    def _landed(self, user_id: str, attempted: MemoryRecord) -> MemoryRecord | None:
        """The stored record if it is exactly the one we tried to write, else None."""
        try:
            current, corrupt = self.load(user_id)
        except StorageError:
            return None
        if (
            not corrupt
            and current.revision == attempted.revision
            and current.content() == attempted.content()
        ):
            return current
        return None


def _failed_write(message: str, attempted: MemoryRecord) -> StorageError:
    exc = StorageError(message)
    exc.attempted = attempted  # type: ignore[attr-defined]
    return exc


# ------------------------------------------------------------------------- ASK SDK adapter


def user_id_from_envelope(request_envelope: Any) -> str:
    """The Alexa user id: ``context.System.user.userId``, else ``session.user.userId``.
    Accepts ask-sdk-model ``RequestEnvelope`` objects and plain JSON dicts."""

    def dig(obj: Any, *names: str) -> Any:
        for name in names:
            if obj is None:
                return None
            if isinstance(obj, dict):
                obj = obj.get(name)
            else:
                obj = getattr(obj, name, None)
        return obj

    if isinstance(request_envelope, dict):
        candidates = (
            dig(request_envelope, "context", "System", "user", "userId"),
            dig(request_envelope, "session", "user", "userId"),
        )
    else:
        candidates = (
            dig(request_envelope, "context", "system", "user", "user_id"),
            dig(request_envelope, "session", "user", "user_id"),
        )
    for candidate in candidates:
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


def __getattr__(name: str) -> Any:
    # Back ends load when first asked for: DynamoStore pulls in boto3 (about 90 ms), SqliteStore
    # sqlite3; a process that uses neither pays for neither.
    if name == "DynamoStore":
        from .dynamodb import DynamoStore

        return DynamoStore
    if name == "SqliteStore":
        from .sqlite import SqliteStore

        return SqliteStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CURRENT_VERSION",
    "BaseStore",
    "Conflict",
    "CorruptRecord",
    "LockTimeout",
    "DynamoStore",
    "MemoryRecord",
    "NewerVersion",
    "Resume",
    "SqliteStore",
    "StorageError",
    "Store",
    "StorePersistenceAdapter",
    "default_sqlite_path",
    "migrate",
    "store_from_env",
    "user_id_from_envelope",
    "week_summary",
    "weekly_streak",
]
