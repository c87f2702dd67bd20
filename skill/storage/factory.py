"""Pick a store from environment variables.

==============================  ===========================================================
``BACKCOACH_STORAGE``            ``sqlite`` (default), ``dynamodb`` or ``none``
``BACKCOACH_SQLITE_PATH``        SQLite file; default ``~/.local/share/backcoach/memory.sqlite3``
                                 (``$XDG_DATA_HOME/backcoach/...`` when that is set), or
                                 ``/tmp/backcoach/memory.sqlite3`` when HOME is not writable
``BACKCOACH_DYNAMODB_TABLE``     table name; required with ``dynamodb``
``BACKCOACH_DYNAMODB_QUARANTINE_TABLE``  optional separate table for unreadable bodies
``AWS_REGION``                   optional region for DynamoDB (Lambda sets it)
==============================  ===========================================================

Nothing touches the disk or the network here: stores connect on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dynamodb import DynamoStore
    from .sqlite import SqliteStore

KINDS = ("sqlite", "dynamodb", "none")
FALLBACK_SQLITE_PATH = Path("/tmp/backcoach/memory.sqlite3")


def _writable(path: Path) -> bool:
    """Whether ``path`` could be created: its nearest existing ancestor is a writable dir."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def default_sqlite_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    home = env.get("HOME", "").strip()
    xdg = env.get("XDG_DATA_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        data_dir = Path(xdg) / "backcoach"
    elif home and os.path.isabs(home):
        data_dir = Path(home) / ".local" / "share" / "backcoach"
    else:
        return FALLBACK_SQLITE_PATH
    return data_dir / "memory.sqlite3" if _writable(data_dir) else FALLBACK_SQLITE_PATH


def store_from_env(env: Mapping[str, str] | None = None) -> SqliteStore | DynamoStore | None:
    """The store the environment asks for, or None for ``BACKCOACH_STORAGE=none``.

    Raises ValueError with a message naming the variable to fix.
    """
    env = os.environ if env is None else env
    raw = env.get("BACKCOACH_STORAGE", "")
    kind = raw.strip().lower() or "sqlite"
    if kind == "none":
        return None
    if kind == "sqlite":
        path = env.get("BACKCOACH_SQLITE_PATH", "").strip()
        from .sqlite import SqliteStore  # sqlite3 loads only when SQLite is chosen

        return SqliteStore(Path(path).expanduser() if path else default_sqlite_path(env))
    if kind == "dynamodb":
        table = env.get("BACKCOACH_DYNAMODB_TABLE", "").strip()
        if not table:
            raise ValueError(
                "BACKCOACH_STORAGE=dynamodb needs BACKCOACH_DYNAMODB_TABLE "
                "(the DynamoDB table name) to be set"
            )
        region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
        quarantine = env.get("BACKCOACH_DYNAMODB_QUARANTINE_TABLE", "").strip() or None
        from .dynamodb import DynamoStore  # boto3 loads only when DynamoDB is chosen

        return DynamoStore(table, quarantine_table=quarantine, region_name=region or None)
    raise ValueError(
        f"BACKCOACH_STORAGE={raw!r} is not supported: use one of {', '.join(KINDS)}"
    )
