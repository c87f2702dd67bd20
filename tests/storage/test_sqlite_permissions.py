"""SQLite writes recover by themselves once a read-only episode is over, also for an unprivileged user."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from skill.storage import SqliteStore, StorageError

NOBODY = 65534


@contextlib.contextmanager
def unprivileged(drop: bool = True) -> Iterator[Path]:
    """A folder of our own and, when the tests run as root, the effective ids of nobody.

    Root ignores file modes, so a read-only file only fails an ordinary user: as root the test
    takes nobody's effective uid for its own duration (seteuid is undone in `finally`).
    """
    folder = Path(tempfile.mkdtemp(prefix="backcoach-perm-", dir="/tmp"))
    os.chmod(folder, 0o755)
    root = drop and os.geteuid() == 0
    if root:
        os.chown(folder, NOBODY, NOBODY)
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
    try:
        yield folder
    finally:
        if root:
            os.seteuid(0)
            os.setegid(0)
        shutil.rmtree(folder, ignore_errors=True)


def _add(store: SqliteStore, user: str, routine: str) -> None:
    record, _ = store.load(user)
    record.add_favourite(routine)
    store.save(user, record)


def _read_only_spell(path: Path, target: Path, mode: int, writable: int) -> tuple[SqliteStore, bool]:
    """Write once, make `target` read-only, try a write with a new store, then restore the mode.

    Returns the store that lived through the spell and whether its write was refused.
    """
    first = SqliteStore(path)
    _add(first, "amzn1.ask.account.a", "desk-break")
    first.close()
    os.chmod(target, mode)
    during = SqliteStore(path)
    try:
        _add(during, "amzn1.ask.account.a", "neck-and-shoulders")
        refused = False
    except StorageError:
        refused = True
    os.chmod(target, writable)
    return during, refused


def _favourites(path: Path) -> tuple[str, ...]:
    store = SqliteStore(path)
    try:
        return store.load("amzn1.ask.account.a")[0].favourites
    finally:
        store.close()


@pytest.mark.parametrize("as_nobody", [True, False], ids=["unprivileged", "as-is"])
def test_writes_recover_after_the_database_was_read_only_for_a_while(as_nobody):
    with unprivileged(as_nobody) as folder:
        path = folder / "memory.sqlite3"
        during, refused = _read_only_spell(path, path, 0o444, 0o644)
        assert refused or (not as_nobody and os.geteuid() == 0)  # only root may write a read-only file
        _add(during, "amzn1.ask.account.a", "reverse-presses")  # the same store, an existing object
        after = SqliteStore(path)
        _add(after, "amzn1.ask.account.b", "desk-break")  # a fresh store, fresh connections
        favourites = _favourites(path)
        assert "desk-break" in favourites and "reverse-presses" in favourites
        assert ("neck-and-shoulders" in favourites) != refused
        for suffix in ("-wal", "-shm"):
            sidecar = Path(f"{path}{suffix}")
            if sidecar.exists():
                assert sidecar.stat().st_mode & 0o200, f"{sidecar.name} left read-only"
        during.close()
        after.close()


def test_writes_recover_after_the_folder_was_read_only_for_a_while():
    with unprivileged() as folder:
        path = folder / "memory.sqlite3"
        during, refused = _read_only_spell(path, folder, 0o555, 0o755)
        _add(during, "amzn1.ask.account.a", "reverse-presses")
        favourites = _favourites(path)
        assert "desk-break" in favourites and "reverse-presses" in favourites
        assert ("neck-and-shoulders" in favourites) != refused
        during.close()
