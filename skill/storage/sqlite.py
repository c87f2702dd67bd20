"""SQLite store: one file, WAL mode, safe with several threads and processes writing at once.

* One connection per thread (``threading.local``), opened lazily; a connection is never used by
  another thread, nor by a forked child (which opens its own).
* Writes run in ``BEGIN IMMEDIATE`` transactions, so the compare-and-set on ``revision`` is
  atomic across processes. ``update`` reads, applies the change and writes inside a single
  such transaction, so concurrent updates queue on SQLite's write lock instead of conflicting.
* ``busy_timeout`` bounds the wait for that lock; past it the call raises :class:`StorageError`.
* A failed write is rolled back: the stored record stays as it was. Every sqlite3 or OS error
  comes out as :class:`StorageError`.
* If the database file is deleted while the process runs, the next call notices (the file's
  inode changed or vanished), drops its connection and creates a fresh database (removing the
  orphaned ``-wal``/``-shm`` files of the deleted one, under a lock file, so they are never
  replayed into the new file).

Tables: ``records(user_id TEXT PRIMARY KEY, revision INTEGER, body TEXT, updated REAL)`` and
``quarantine(user_id, body, kept_at)``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from .base import BaseStore, Change, _check_user_id, _failed_write
from .errors import Conflict, CorruptRecord, LockTimeout, NewerVersion, StorageError
from .migration import migrate
from .record import MemoryRecord
from .sqlite_connections import SqliteConnections

_UPSERT = (
    "INSERT INTO records(user_id, revision, body, updated) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(user_id) DO UPDATE SET "
    "revision = excluded.revision, body = excluded.body, updated = excluded.updated"
)


def _stored_revision(value: Any) -> int:
    """The revision column as an int; anything unusable counts as 0 (never stored)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


class SqliteStore(SqliteConnections, BaseStore):
    """A :class:`~skill.storage.Store` in one SQLite file (created with its directory)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        timeout: float = 2.0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        BaseStore.__init__(self, clock=clock)
        SqliteConnections.__init__(self, path, timeout)

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, timeout={self.timeout})"

    # ------------------------------------------------------------------------ error mapping

    def _error(self, what: str, exc: BaseException) -> StorageError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return LockTimeout(
                f"{what}: the database {self.path} stayed locked for more than {self.timeout} s"
            )
        return StorageError(f"{what}: {self.path}: {text}")

    def _on_error(self, conn: sqlite3.Connection, exc: BaseException) -> None:
        # after anything but lock contention the connection may be unusable: reopen next time
        if not ("locked" in str(exc) or "busy" in str(exc)):
            self._discard(conn)

    @contextlib.contextmanager
    def _transaction(
        self, what: str, attempted: list[MemoryRecord] | None = None
    ) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self._on_error(conn, exc)
            raise self._error(what, exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback(conn)
            if isinstance(exc, (sqlite3.Error, OSError)):
                self._on_error(conn, exc)
                err = self._error(what, exc)
                if attempted:
                    err = _failed_write(str(err), attempted[0])
                raise err from exc
            raise

    def _rollback(self, conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except (sqlite3.Error, OSError):
            self._discard(conn)  # closing rolls back whatever is left

    def _read(self, what: str, sql: str, params: tuple[Any, ...]) -> list[Any]:
        conn = self._connection()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            self._on_error(conn, exc)
            raise self._error(what, exc) from exc

    # ------------------------------------------------------------------------------- store

    def _parse(self, user_id: str, row: Any) -> tuple[MemoryRecord, bool]:
        if row is None:
            return MemoryRecord(), False
        revision = _stored_revision(row[0])
        try:
            record = migrate(row[1])
        except NewerVersion as exc:
            raise StorageError(f"record of {user_id!r} left untouched: {exc}") from exc
        except CorruptRecord:
            return MemoryRecord(revision=revision), True
        return msgspec.structs.replace(record, revision=revision), False

    def _keep_aside(self, conn: sqlite3.Connection, user_id: str, body: Any) -> None:
        seen = conn.execute(
            "SELECT 1 FROM quarantine WHERE user_id = ? AND body IS ?", (user_id, body)
        ).fetchone()
        if seen is None:
            conn.execute(
                "INSERT INTO quarantine(user_id, body, kept_at) VALUES (?, ?, ?)",
                (user_id, body, self._clock()),
            )

    def load(self, user_id: str) -> tuple[MemoryRecord, bool]:
        _check_user_id(user_id)
        rows = self._read(
            "load", "SELECT revision, body FROM records WHERE user_id = ?", (user_id,)
        )
        record, corrupt = self._parse(user_id, rows[0] if rows else None)
        if corrupt:
            with self._transaction("quarantine") as conn:
                row = conn.execute(
                    "SELECT body FROM records WHERE user_id = ?", (user_id,)
                ).fetchone()
                if row is not None:
                    self._keep_aside(conn, user_id, rows[0][1])
        return record, corrupt

    def _check_revision(self, row: Any, expected: int) -> None:
        stored = None if row is None else _stored_revision(row[0])
        if (stored is None and expected == 0) or stored == expected:
            return
        raise Conflict(
            f"revision is {'absent' if stored is None else stored}, the write expected {expected}"
        )

    def save(self, user_id: str, record: MemoryRecord) -> MemoryRecord:
        _check_user_id(user_id)
        prepared = self._prepare(record)
        expected = record.revision
        new = msgspec.structs.replace(prepared, revision=expected + 1)
        with self._transaction("save", [new]) as conn:
            row = conn.execute(
                "SELECT revision FROM records WHERE user_id = ?", (user_id,)
            ).fetchone()
            self._check_revision(row, expected)
            conn.execute(_UPSERT, (user_id, new.revision, new.to_json(), self._clock()))
        return new

    def _attempt(self, user_id: str, change: Change) -> MemoryRecord:
        """Read, change and write in one ``BEGIN IMMEDIATE`` transaction: no Conflict possible."""
        attempted: list[MemoryRecord] = []
        with self._transaction("update", attempted) as conn:
            row = conn.execute(
                "SELECT revision, body FROM records WHERE user_id = ?", (user_id,)
            ).fetchone()
            current, corrupt = self._parse(user_id, row)
            if corrupt:
                self._keep_aside(conn, user_id, row[1])
            updated = self._prepare(self._apply(current, change))
            new = msgspec.structs.replace(updated, revision=current.revision + 1)
            attempted.append(new)
            conn.execute(_UPSERT, (user_id, new.revision, new.to_json(), self._clock()))
        return new

    def delete(self, user_id: str) -> None:
        _check_user_id(user_id)
        with self._transaction("delete") as conn:
            conn.execute("DELETE FROM records WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM quarantine WHERE user_id = ?", (user_id,))

    def quarantined(self, user_id: str) -> list[Any]:
        """Bodies kept aside for ``user_id``, oldest first (for support and tests)."""
        _check_user_id(user_id)
        rows = self._read(
            "quarantined",
            "SELECT body FROM quarantine WHERE user_id = ? ORDER BY rowid",
            (user_id,),
        )
        return [body for (body,) in rows]
