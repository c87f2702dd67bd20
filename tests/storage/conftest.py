"""Fixtures for the storage suite: every contract test runs on both back ends.

The DynamoDB back end runs against moto's in-process fake of the DynamoDB API (no network);
when moto or boto3 is not installed those cases are skipped with a reason.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skill.storage import SqliteStore

try:
    import boto3
    from moto import mock_aws
except ImportError:  # pragma: no cover - depends on the dev extra
    boto3 = None
    mock_aws = None

needs_moto = pytest.mark.skipif(mock_aws is None, reason="moto[dynamodb] is not installed")

TABLE = "backcoach-test"


@dataclass
class Backend:
    """One storage back end: a store, a factory for more stores on the same data, and raw
    access for planting bodies the store itself would never write."""

    name: str
    store: Any
    make: Callable[[], Any]
    put_raw: Callable[[str, Any, Any], None]  # (user_id, body, revision)


FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no config files: nothing can reach a real AWS account."""
    for key, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def _moto_client() -> Iterator[Any]:
    """One moto mock for the whole session (starting one per test costs ~0.3 s)."""
    if mock_aws is None:
        pytest.skip("moto[dynamodb] is not installed")
    saved = {key: os.environ.get(key) for key in [*FAKE_AWS_ENV, "AWS_PROFILE"]}
    os.environ.update(FAKE_AWS_ENV)
    os.environ.pop("AWS_PROFILE", None)
    try:
        with mock_aws():
            yield boto3.client("dynamodb", region_name="us-east-1")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def dynamo_client(_moto_client: Any, aws_env: None) -> Iterator[Any]:
    """A moto DynamoDB client with an empty table named TABLE (and no other tables)."""
    from skill.storage.dynamodb import create_table

    create_table(_moto_client, TABLE)
    yield _moto_client
    for name in _moto_client.list_tables()["TableNames"]:
        _moto_client.delete_table(TableName=name)


def sqlite_backend(path: Path) -> Backend:
    def put_raw(user_id: str, body: Any, revision: Any = 1) -> None:
        store = SqliteStore(path)
        store.load("someone-else")  # make sure the schema exists
        store.close()
        with sqlite3.connect(path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO records(user_id, revision, body, updated) VALUES (?,?,?,0)",
                (user_id, revision, body),
            )
        conn.close()

    return Backend("sqlite", SqliteStore(path), lambda: SqliteStore(path), put_raw)


class AtomicRequests:
    """Makes each DynamoDB API call atomic, as the real service is.

    moto's ``put_item`` reads the current item, evaluates the ConditionExpression and then
    stores the new item without any lock, so under threads two conditional writes can both
    pass the same check (a check-then-act race in the fake, observed as lost updates with
    every write reported successful). DynamoDB applies a conditional write atomically per
    item. Serialising each request restores that guarantee and nothing more: the window
    between a store's get_item and its put_item stays open, so conflicts still happen.
    """

    _lock = threading.Lock()

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


def dynamo_backend(client: Any) -> Backend:
    from skill.storage import DynamoStore

    client = AtomicRequests(client)

    def put_raw(user_id: str, body: Any, revision: Any = 1) -> None:
        item: dict[str, Any] = {"user_id": {"S": user_id}}
        if isinstance(body, (bytes, bytearray)):
            item["body"] = {"B": bytes(body)}
        elif body is not None:
            item["body"] = {"S": body}
        if isinstance(revision, int):
            item["revision"] = {"N": str(revision)}
        elif revision is not None:
            item["revision"] = {"S": str(revision)}
        client.put_item(TableName=TABLE, Item=item)

    return Backend(
        "dynamodb", DynamoStore(TABLE, client=client), lambda: DynamoStore(TABLE, client=client), put_raw
    )


@pytest.fixture(params=["sqlite", pytest.param("dynamodb", marks=needs_moto)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        b = sqlite_backend(tmp_path / "data" / "memory.sqlite3")
        yield b
        b.store.close()
    else:
        yield dynamo_backend(request.getfixturevalue("dynamo_client"))


@pytest.fixture
def store(backend: Backend) -> Any:
    return backend.store
