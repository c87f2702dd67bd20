"""Memory across sessions: a small, versioned per-user record and the stores that keep it.

Use a :class:`Store` directly::

    store = store_from_env()            # SqliteStore by default; None when BACKCOACH_STORAGE=none
    record, was_corrupt = store.load(user_id)
    store.update(user_id, lambda r: r.add_session(time.time()))

or plug :class:`StorePersistenceAdapter` into the ASK SDK (``persistence_adapter=``) and use
``handler_input.attributes_manager.persistent_attributes``.

This package only re-exports: the protocol and retry loop are in ``base``, the ASK adapter in
``adapter``, the record in ``record``, its errors in ``errors``, reading older versions in
``migration``, week summaries in ``weeks``, the back ends in ``sqlite`` and
``dynamodb`` (loaded when first asked for) and the choice between them in ``factory``.
"""

from __future__ import annotations

from typing import Any

from .adapter import StorePersistenceAdapter, user_id_from_envelope
from .base import BaseStore, Change, Store
from .errors import Conflict, CorruptRecord, LockTimeout, NewerVersion, StorageError
from .factory import default_sqlite_path, store_from_env
from .migration import migrate
from .record import CURRENT_VERSION, MemoryRecord, Resume, checked
from .weeks import week_summary, weekly_streak


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
    "Change",
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
    "checked",
    "StorePersistenceAdapter",
    "default_sqlite_path",
    "migrate",
    "store_from_env",
    "user_id_from_envelope",
    "week_summary",
    "weekly_streak",
]
