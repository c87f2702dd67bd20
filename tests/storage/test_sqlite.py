"""SQLite back end: several processes, and faults (deleted file, locks, read-only, disk full)."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import msgspec
import pytest

from skill.storage import BaseStore, Conflict, MemoryRecord, SqliteStore, StorageError
from skill.storage import sqlite_connections as sqlite_module

from ._workers import append_sessions

USER = "amzn1.ask.account.SQLITE"
NOW = float(int(time.time()))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "memory.sqlite3"


@pytest.fixture
def store(path: Path):
    s = SqliteStore(path, timeout=0.3)
    yield s
    s.close()


def seeded(store: SqliteStore) -> MemoryRecord:
    return store.update(USER, lambda r: (r.add_favourite("desk-break"), setattr(r, "pace", 1.25)))


def raw_row(path: Path, user_id: str = USER) -> tuple | None:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT revision, body FROM records WHERE user_id = ?", (user_id,)
        ).fetchone()
    finally:
        conn.close()


# ------------------------------------------------------------------------------ basics


def test_creates_directory_wal_and_tables(store: SqliteStore, path: Path) -> None:
    assert not path.parent.exists()
    seeded(store)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cols = [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    assert cols == ["user_id", "revision", "body", "updated"]
    assert [r[1] for r in conn.execute("PRAGMA table_info(quarantine)")] == ["user_id", "body", "kept_at"]
    conn.close()


def test_a_database_another_process_is_setting_up_is_waited_for_not_reported_locked(path: Path) -> None:
    """Two workers' first requests at once: SQLite refuses a journal-mode change that races
    another connection with "database is locked" at once, so setting up takes the creation lock."""
    path.parent.mkdir(parents=True)
    other = sqlite3.connect(path, isolation_level=None)  # the other process, half-way through set-up
    lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)
    other.execute("BEGIN IMMEDIATE")  # its schema transaction: a second writer would deadlock
    outcome: list[object] = []
    store = SqliteStore(path, timeout=10)
    opener = threading.Thread(target=lambda: outcome.append(_try(lambda: store.update(USER, lambda r: r.add_session(NOW)))))
    opener.start()
    opener.join(0.3)
    try:
        assert opener.is_alive() and not outcome, outcome  # waiting for the lock, not failed
    finally:
        other.execute("COMMIT")
        other.execute("PRAGMA journal_mode = WAL")
        other.close()
        os.close(lock)  # releases it
        opener.join()
    assert isinstance(outcome[0], MemoryRecord) and outcome[0].sessions == [NOW]
    assert store.load(USER)[0].sessions == [NOW]
    store.close()


def _try(call):
    try:
        return call()
    except StorageError as exc:
        return exc


def test_no_sqlite_errors_escape_on_a_path_that_cannot_be_a_database(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("I am a file, not a directory")
    for bad in (blocker / "memory.sqlite3", tmp_path):  # parent is a file; path is a directory
        s = SqliteStore(bad, timeout=0.1)
        with pytest.raises(StorageError):
            s.load(USER)
        with pytest.raises(StorageError):
            s.update(USER, lambda r: None)


# ------------------------------------------------------------------------- concurrency


def test_compare_and_set_under_threads(path: Path) -> None:
    """The plain load/save/retry path (not the single-transaction update) under contention."""

    class CasOnly(SqliteStore):
        _attempt = BaseStore._attempt

    stores = [CasOnly(path, timeout=5) for _ in range(4)]
    base = time.time() - 100
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        start.wait()
        for i in range(10):
            try:
                stores[t].update(USER, lambda r, m=base + t * 20 + i: r.add_session(m))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    final, _ = stores[0].load(USER)
    assert not errors and len(final.sessions) == 40 and final.revision == 40
    for s in stores:
        s.close()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
def test_short_lived_threads_do_not_leak_connections(store: SqliteStore) -> None:
    """A threaded web server runs each request on a new thread: their connections must go
    when their threads do (held strongly, 300 threads kept ~600 descriptors open)."""
    store.load(USER)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(300):
        th = threading.Thread(target=lambda: store.update(USER, lambda r: None))
        th.start()
        th.join()
    gc.collect()
    grown = len(os.listdir("/proc/self/fd")) - before
    assert grown < 100, grown  # SQLite parks a few closed descriptors for reuse; not 2/thread
    assert store.load(USER)[0].revision == 300


def test_processes_lose_no_updates(path: Path) -> None:
    """4 spawned processes x 25 updates each, all at once: every marker is there."""
    procs_n, per_proc = 4, 25
    SqliteStore(path).load(USER)  # create the file up front
    base = time.time() - 3600
    ctx = multiprocessing.get_context("spawn")
    markers = [[base + p * 100 + i for i in range(per_proc)] for p in range(procs_n)]
    with ctx.Manager() as manager:
        start = manager.Barrier(procs_n)
        with ctx.Pool(procs_n) as pool:
            results = [pool.apply_async(append_sessions, (str(path), USER, m, start)) for m in markers]
            failures = [r.get(timeout=60) for r in results]
    final, corrupt = SqliteStore(path).load(USER)
    expected = {m for ms in markers for m in ms}
    lost = len(expected - set(final.sessions))
    print(f"\n[sqlite] processes: {procs_n}x{per_proc} updates, lost updates: {lost}, "
          f"failed updates: {sum(failures)}, final revision: {final.revision}")
    assert sum(failures) == 0 and not corrupt and lost == 0
    assert len(final.sessions) == procs_n * per_proc and final.revision == procs_n * per_proc


def test_forked_child_opens_its_own_connection(store: SqliteStore, path: Path) -> None:
    seeded(store)  # the parent has an open connection now
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's connection
        code = 1
        try:
            store.update(USER, lambda r: r.add_favourite("neck-and-shoulders"))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    record = store.update(USER, lambda r: r.add_favourite("spine-decompression"))
    assert record.favourites == ["desk-break", "neck-and-shoulders", "spine-decompression"]


# ------------------------------------------------------------------------------ faults


@pytest.mark.parametrize("what", ["db", "db+wal+shm", "directory"])
def test_file_deleted_mid_run(store: SqliteStore, path: Path, what: str) -> None:
    seeded(store)
    other_thread_store: list[SqliteStore] = []
    if what == "db":
        path.unlink()
    elif what == "db+wal+shm":
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
    else:
        shutil.rmtree(path.parent)
    # next calls: a fresh database (the data went with the file) or StorageError, nothing else
    try:
        record, corrupt = store.load(USER)
        assert record == MemoryRecord() and not corrupt
    except StorageError:
        pass
    stored = store.update(USER, lambda r: r.add_session(time.time()))
    assert stored.revision == 1 and path.exists()
    # a thread that had its own (now stale) connection recovers too
    result: list[object] = []

    def in_thread() -> None:
        s = other_thread_store[0] if other_thread_store else store
        try:
            result.append(s.update(USER, lambda r: r.add_favourite("desk-break")))
        except BaseException as exc:  # noqa: BLE001
            result.append(exc)

    th = threading.Thread(target=in_thread)
    th.start()
    th.join()
    assert isinstance(result[0], MemoryRecord) and result[0].revision == 2
    assert store.load(USER)[0].revision == 2
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_stale_connection_to_a_deleted_file_cannot_reach_the_new_one(store: SqliteStore,
                                                                     path: Path) -> None:
    """Another process still holds the deleted database open and writes to it: through shared
    -wal/-shm files that write would land in the recreated database (and break it). The store
    removes those orphans when it recreates the file, so the stale write goes nowhere."""
    seeded(store)
    stale = sqlite3.connect(path, isolation_level=None)
    stale.execute("PRAGMA wal_autocheckpoint = 0")
    stale.execute("SELECT 1 FROM records").fetchall()
    path.unlink()  # -wal and -shm stay behind, still open in `stale`
    fresh = store.update(USER, lambda r: r.add_favourite("neck-and-shoulders"))
    assert fresh.revision == 1
    with contextlib.suppress(sqlite3.Error):  # refusing would be fine too
        stale.execute("UPDATE records SET body = 'written by a stale process', revision = 99")
    stale.close()
    assert store.load(USER) == (fresh, False)
    store.close()
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()
    assert SqliteStore(path).load(USER) == (fresh, False)


def test_deleted_while_other_threads_hold_connections(path: Path) -> None:
    """Three threads hold open connections when the files go: each notices, and every update lands."""
    store = SqliteStore(path, timeout=1)
    store.update(USER, lambda r: None)
    holders = []
    connected = threading.Barrier(4)
    done = threading.Event()

    def hold_and_write(t: int) -> None:
        store.load(USER)  # open a connection in this thread
        connected.wait()
        done.wait()
        try:
            holders.append(store.update(USER, lambda r, t=t: r.add_favourite(f"r{t}")))
        except BaseException as exc:  # noqa: BLE001
            holders.append(exc)

    threads = [threading.Thread(target=hold_and_write, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    connected.wait(timeout=10)  # every thread holds its connection before the files go
    for p in path.parent.glob(path.name + "*"):
        if not p.name.endswith(".lock"):
            p.unlink()
    done.set()
    for th in threads:
        th.join()
    assert all(isinstance(h, MemoryRecord) for h in holders), holders
    final, corrupt = store.load(USER)
    assert not corrupt
    assert sorted(final.favourites) == ["r0", "r1", "r2"]
    assert final.revision == 3
    assert sorted(h.revision for h in holders) == [1, 2, 3]
    store.close()


def test_locked_longer_than_timeout(store: SqliteStore, path: Path) -> None:
    before = seeded(store)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    blocker.execute("UPDATE records SET updated = -1")  # a write in progress, never committed
    try:
        t0 = time.monotonic()
        with pytest.raises(StorageError, match="locked"):
            store.save(USER, msgspec.structs.replace(before, pace=0.8))
        with pytest.raises(StorageError, match="locked"):
            store.update(USER, lambda r: setattr(r, "pace", 0.9))
        with pytest.raises(StorageError, match="locked"):
            store.delete(USER)
        elapsed = time.monotonic() - t0
        assert elapsed < 3, elapsed  # bounded by the 0.3 s busy timeout (update retries once)
        # WAL readers are not blocked by a writer
        assert store.load(USER) == (before, False)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.load(USER) == (before, False)
    assert store.update(USER, lambda r: setattr(r, "pace", 0.9)).revision == before.revision + 1


def test_locked_by_another_process_that_dies(store: SqliteStore, path: Path) -> None:
    before = seeded(store)
    pid = os.fork()
    if pid == 0:  # child: start writing, then die without committing
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE records SET body = 'half-written'")
        os._exit(0)
    os.waitpid(pid, 0)
    assert store.load(USER) == (before, False)
    assert store.update(USER, lambda r: None).revision == before.revision + 1


def _demote_and_try(path: Path, write: int) -> None:
    """In a forked child: become 'nobody', then use the store; report through the exit code:
    0 = StorageError as expected, 2 = succeeded, 3 = another exception type."""
    code = 3
    try:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        s = SqliteStore(path, timeout=0.2)
        try:
            if write:
                s.update(USER, lambda r: setattr(r, "pace", 0.8))
            else:
                s.load(USER)
            code = 2
        except StorageError:
            code = 0
    except BaseException:  # noqa: BLE001
        code = 3
    finally:
        os._exit(code)


def _run_read_only(path: Path, write: bool) -> int:
    if os.geteuid() != 0:  # an ordinary user: the directory's mode is enough
        try:
            s = SqliteStore(path, timeout=0.2)
            if write:
                s.update(USER, lambda r: setattr(r, "pace", 0.8))
            else:
                s.load(USER)
            return 2
        except StorageError:
            return 0
        except BaseException:  # noqa: BLE001
            return 3
    # root ignores directory modes: try as 'nobody' in a forked child
    pid = os.fork()
    if pid == 0:
        _demote_and_try(path, int(write))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_read_only_directory(tmp_path: Path) -> None:
    # a directory anyone can reach (pytest's tmp dirs are private to their owner)
    top = Path(tempfile.mkdtemp(prefix="backcoach-ro-"))
    try:
        top.chmod(0o755)
        ro = top / "ro"
        ro.mkdir()
        # 1. no database yet, and the directory cannot take one
        ro.chmod(0o555)
        assert _run_read_only(ro / "memory.sqlite3", write=True) == 0
        assert not (ro / "memory.sqlite3").exists()
        # 2. a database exists, but neither it nor its directory may be written
        ro.chmod(0o755)
        owner = SqliteStore(ro / "memory.sqlite3")
        before = seeded(owner)
        owner.close()
        (ro / "memory.sqlite3").chmod(0o444)
        ro.chmod(0o555)
        assert _run_read_only(ro / "memory.sqlite3", write=True) == 0
        ro.chmod(0o755)
        (ro / "memory.sqlite3").chmod(0o644)
        check = SqliteStore(ro / "memory.sqlite3")
        assert check.load(USER) == (before, False)
        check.close()
    finally:
        for p in top.rglob("*"):
            with_mode = 0o755 if p.is_dir() else 0o644
            p.chmod(with_mode)
        shutil.rmtree(top)


@pytest.mark.parametrize("fail_on", ["INSERT INTO records", "COMMIT"])
def test_disk_full_keeps_the_old_record(store: SqliteStore, monkeypatch: pytest.MonkeyPatch,
                                        fail_on: str) -> None:
    before = seeded(store)
    real_execute = sqlite3.Connection.execute

    def full(self, sql, *args):
        if sql.lstrip().upper().startswith(fail_on.upper()):
            raise sqlite3.OperationalError("database or disk is full")
        return real_execute(self, sql, *args)

    # on this thread's connection ...
    conn = store._connection()
    monkeypatch.setattr(conn, "execute", full.__get__(conn))
    with pytest.raises(StorageError, match="full"):
        store.save(USER, msgspec.structs.replace(before, pace=0.8))
    # ... and on every connection, so update's one retry fails as well
    monkeypatch.setattr(sqlite_module._Connection, "execute", full)
    with pytest.raises(StorageError, match="full"):
        store.update(USER, lambda r: setattr(r, "pace", 0.9))
    with pytest.raises(StorageError):
        store.update("amzn1.ask.account.NEW", lambda r: None)
    monkeypatch.undo()
    assert store.load(USER) == (before, False)
    assert raw_row(store.path)[0] == before.revision
    assert store.load("amzn1.ask.account.NEW") == (MemoryRecord(), False)


def test_really_full_database(store: SqliteStore) -> None:
    """SQLite's own SQLITE_FULL (max_page_count reached), not a simulated one."""
    before = seeded(store)
    conn = store._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    big = MemoryRecord(sessions=[time.time() - i for i in range(200)],
                       favourites=[f"routine-number-{i}" for i in range(20)])
    written, error = 0, None
    for i in range(200):
        try:
            store.save(f"amzn1.ask.account.FILL{i:04d}", big)
            written += 1
        except StorageError as exc:
            error = exc
            break
    assert error is not None and "full" in str(error), error
    assert store.load(USER) == (before, False)
    for i in range(written):
        assert store.load(f"amzn1.ask.account.FILL{i:04d}")[0].revision == 1
    check = sqlite3.connect(store.path)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_garbage_bytes_in_the_body_are_quarantined(store: SqliteStore) -> None:
    seeded(store)
    garbage = os.urandom(64) + b"\xff"
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("UPDATE records SET body = ? WHERE user_id = ?", (garbage, USER))
    conn.close()
    record, corrupt = store.load(USER)
    assert corrupt and record == MemoryRecord(revision=1)
    assert store.quarantined(USER) == [garbage]
    assert store.save(USER, record).revision == 2


def test_garbage_file_raises_storage_error_and_is_left_alone(store: SqliteStore) -> None:
    seeded(store)
    store.close()
    for p in store.path.parent.glob(store.path.name + "-*"):
        p.unlink()
    junk = os.urandom(8192)
    store.path.write_bytes(junk)
    s = SqliteStore(store.path, timeout=0.1)
    with pytest.raises(StorageError):
        s.load(USER)
    with pytest.raises(StorageError):
        s.update(USER, lambda r: None)
    with pytest.raises(StorageError):
        s.save(USER, MemoryRecord())
    assert store.path.read_bytes() == junk  # not "repaired" by overwriting


def test_storage_error_is_not_a_sqlite_error() -> None:
    assert not issubclass(StorageError, sqlite3.Error)
    assert issubclass(Conflict, StorageError)
