"""Worker functions for multiprocessing tests (spawned children import this module)."""

from __future__ import annotations


def append_sessions(path: str, user_id: str, markers: list[float], start: object) -> int:
    """Append each marker to ``sessions`` with its own ``update``; returns the failures."""
    from skill.storage import SqliteStore, StorageError

    start.wait()  # type: ignore[attr-defined]
    store = SqliteStore(path, timeout=10.0)
    failures = 0
    for marker in markers:
        try:
            store.update(user_id, lambda r, m=marker: r.add_session(m))
        except StorageError:
            failures += 1
    store.close()
    return failures
