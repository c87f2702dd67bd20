"""One SQLite file's connections: one per thread and process, reopened when the file is deleted or replaced."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

from .errors import StorageError

try:  # POSIX advisory locks serialise database (re)creation across processes
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS records("
        "user_id TEXT PRIMARY KEY, revision INTEGER, body TEXT, updated REAL)"
    ),
    "CREATE TABLE IF NOT EXISTS quarantine(user_id TEXT, body, kept_at REAL)",
    "CREATE INDEX IF NOT EXISTS quarantine_user ON quarantine(user_id)",
)

# Connections inherited through fork() must not be closed by the child (closing could
# checkpoint or unlink files the parent still uses), nor garbage-collected (which closes them).
_abandoned: list[sqlite3.Connection] = []


_TABLES = frozenset({"records", "quarantine"})


def _has_tables(conn: sqlite3.Connection) -> bool:
    found = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return _TABLES <= found


def _in_wal(conn: sqlite3.Connection) -> bool:
    return conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


class _Connection(sqlite3.Connection):
    """A plain sqlite3 connection whose attributes can be replaced (tests patch ``execute``)."""


class SqliteConnections:
    """The connections of one database file: lazily opened, per thread, created with the schema when missing."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = 2.0) -> None:
        self.path = Path(path).expanduser().absolute()
        self.timeout = float(timeout)
        self._local = threading.local()
        # weak: a connection lives as long as its thread's local storage, so threads that come
        # and go (a threaded web server starts one per request) do not leak file descriptors
        self._all: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
        self._all_lock = threading.Lock()

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot reach the database {self.path}: {exc}") from exc
        return st.st_dev, st.st_ino

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None:
            if local.pid != os.getpid():
                _abandoned.append(conn)
                local.conn = conn = None
            elif self._identity() != local.ident:
                # the file was deleted or replaced under us: start over on the new file
                self._discard(conn)
                conn = None
        if conn is None:
            conn = self._open()
            local.conn, local.pid, local.ident = conn, os.getpid(), self._identity()
        return conn

    def _discard(self, conn: sqlite3.Connection) -> None:
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
        with self._all_lock:
            self._all.discard(conn)
        with contextlib.suppress(Exception):
            conn.close()

    @contextlib.contextmanager
    def _creation_lock(self) -> Iterator[None]:
        if fcntl is None:  # pragma: no cover
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StorageError(
                            f"{lock_path} stayed locked for more than {self.timeout} s"
                        ) from None
                    time.sleep(0.005)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                conn = self._connect()
                if self._ready(conn):
                    return self._register(conn)
                conn.close()
            # SQLite answers a journal-mode change that races another connection with "database
            # is locked" at once, without waiting: one process at a time sets a database up
            with self._creation_lock():
                if not self.path.exists():
                    # orphans of a deleted database would be replayed into the new file
                    for suffix in ("-wal", "-shm", "-journal"):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(f"{self.path}{suffix}")
                conn = self._connect()
                try:
                    self._set_up(conn)
                except BaseException:
                    with contextlib.suppress(Exception):
                        conn.close()
                    raise
                return self._register(conn)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc

    def _align_sidecars(self) -> None:
        """Give -wal and -shm the database's permission bits.

        SQLite creates them with the database's mode, so a spell with a read-only database leaves
        a read-only -shm behind that refuses every write once the mode is restored. Only a file
        we own can be changed; anything else is left for the error that follows to report.
        """
        try:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
        except OSError:
            return
        for suffix in ("-wal", "-shm"):
            sidecar = f"{self.path}{suffix}"
            with contextlib.suppress(OSError):
                if stat.S_IMODE(os.stat(sidecar).st_mode) != mode:
                    os.chmod(sidecar, mode)

    def _connect(self) -> sqlite3.Connection:
        self._align_sidecars()
        conn = sqlite3.connect(
            str(self.path),
            timeout=self.timeout,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            factory=_Connection,
            check_same_thread=False,  # only close() crosses threads
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(self.timeout * 1000))}")
            conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            with contextlib.suppress(Exception):
                conn.close()
            raise
        return conn

    @staticmethod
    def _ready(conn: sqlite3.Connection) -> bool:
        """Whether the database is already in WAL mode with both tables (a plain read)."""
        try:
            return _in_wal(conn) and _has_tables(conn)
        except sqlite3.Error:
            return False  # busy while another process sets it up: set up under the lock, which reports the rest

    @staticmethod
    def _set_up(conn: sqlite3.Connection) -> None:
        """WAL mode and the schema; called under the creation lock."""
        if not _in_wal(conn):
            conn.execute("PRAGMA journal_mode = WAL")
        if not _has_tables(conn):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    def _register(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        with self._all_lock:
            self._all.add(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (call at shutdown, not mid-request)."""
        with self._all_lock:
            conns = list(self._all)
            self._all = weakref.WeakSet()
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()
