"""store_from_env: picking a back end from environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.storage import DynamoStore, SqliteStore, Store, factory, store_from_env
from skill.storage.factory import FALLBACK_SQLITE_PATH, default_sqlite_path


def test_default_is_sqlite_under_home(tmp_path: Path) -> None:
    store = store_from_env({"HOME": str(tmp_path)})
    assert isinstance(store, SqliteStore) and isinstance(store, Store)
    assert store.path == tmp_path / ".local/share/backcoach/memory.sqlite3"
    assert not (tmp_path / ".local").exists()  # nothing touched until first use


@pytest.mark.parametrize("value", ["sqlite", "SQLite", " sqlite ", ""])
def test_sqlite_spellings(tmp_path: Path, value: str) -> None:
    assert isinstance(store_from_env({"BACKCOACH_STORAGE": value, "HOME": str(tmp_path)}), SqliteStore)


def test_explicit_sqlite_path(tmp_path: Path) -> None:
    store = store_from_env({"BACKCOACH_SQLITE_PATH": str(tmp_path / "x.db"), "HOME": "/nowhere"})
    assert store.path == tmp_path / "x.db"
    home_relative = store_from_env({"BACKCOACH_SQLITE_PATH": "~/m.db"})
    assert home_relative.path == Path("~/m.db").expanduser()


def test_xdg_data_home(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert default_sqlite_path(env) == tmp_path / "xdg/backcoach/memory.sqlite3"


def test_unwritable_or_missing_home_falls_back_to_tmp(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert default_sqlite_path({"HOME": str(a_file)}) == FALLBACK_SQLITE_PATH
    assert default_sqlite_path({}) == FALLBACK_SQLITE_PATH
    assert default_sqlite_path({"HOME": "relative/home"}) == FALLBACK_SQLITE_PATH
    monkeypatch.setattr(factory.os, "access", lambda path, mode: False)  # e.g. read-only $HOME
    assert default_sqlite_path({"HOME": str(tmp_path)}) == FALLBACK_SQLITE_PATH
    assert FALLBACK_SQLITE_PATH == Path("/tmp/backcoach/memory.sqlite3")


@pytest.mark.parametrize("value", ["none", "NONE", " None "])
def test_none(value: str) -> None:
    assert store_from_env({"BACKCOACH_STORAGE": value}) is None


@pytest.mark.parametrize("table", [None, "", "   "])
def test_dynamodb_requires_a_table(table: str | None) -> None:
    env = {"BACKCOACH_STORAGE": "dynamodb", "AWS_REGION": "eu-west-1"}
    if table is not None:
        env["BACKCOACH_DYNAMODB_TABLE"] = table
    with pytest.raises(ValueError, match="BACKCOACH_DYNAMODB_TABLE"):
        store_from_env(env)


def test_dynamodb(aws_env: None) -> None:
    pytest.importorskip("boto3")
    store = store_from_env({
        "BACKCOACH_STORAGE": "dynamodb",
        "BACKCOACH_DYNAMODB_TABLE": "backcoach-memory",
        "AWS_REGION": "eu-central-1",
        "BACKCOACH_DYNAMODB_QUARANTINE_TABLE": "backcoach-quarantine",
    })
    assert isinstance(store, DynamoStore) and isinstance(store, Store)
    assert store.table_name == "backcoach-memory"
    assert store.quarantine_table == "backcoach-quarantine"
    assert store.client.meta.region_name == "eu-central-1"
    no_region = store_from_env({"BACKCOACH_STORAGE": "dynamodb",
                                "BACKCOACH_DYNAMODB_TABLE": "t"})  # falls back to boto3's own
    assert no_region.client.meta.region_name == "us-east-1" and no_region.quarantine_table is None


@pytest.mark.parametrize("value", ["postgres", "dynamo", "s3", "memory"])
def test_unknown_kind(value: str) -> None:
    with pytest.raises(ValueError, match=r"BACKCOACH_STORAGE=.*sqlite, dynamodb, none"):
        store_from_env({"BACKCOACH_STORAGE": value})


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKCOACH_STORAGE", "none")
    assert store_from_env() is None
