"""The store protocol and what every back end shares: record preparation and the retrying update loop.

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

from .errors import Conflict, LockTimeout, StorageError
from .record import MemoryRecord, checked

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
        fresh.prune()
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
