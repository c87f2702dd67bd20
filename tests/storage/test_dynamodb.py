"""DynamoDB back end against moto: conditional writes, service errors, ambiguous failures."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

pytest.importorskip("boto3", reason="boto3 is not installed")
pytest.importorskip("moto", reason="moto[dynamodb] is not installed")

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from skill.storage import Conflict, DynamoStore, MemoryRecord, StorageError
from skill.storage.dynamodb import create_table

from .conftest import TABLE

USER = "amzn1.ask.account.DYNAMO"


class Flaky:
    """Wraps a real (moto) client; fails chosen calls a chosen number of times."""

    def __init__(self, client: Any, method: str, error: BaseException, times: int = 1,
                 after_real_call: bool = False) -> None:
        self.client, self.method, self.error = client, method, error
        self.times, self.after_real_call = times, after_real_call
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.client, name)
        if name != self.method:
            return real

        def call(**kwargs: Any) -> Any:
            self.calls += 1
            if self.times > 0:
                self.times -= 1
                if self.after_real_call:
                    real(**kwargs)  # the server applied it; the answer got lost
                raise self.error
            return real(**kwargs)

        return call


def client_error(code: str, op: str = "PutItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, op)


def test_conditional_write_conflict(dynamo_client: Any) -> None:
    a, b = DynamoStore(TABLE, client=dynamo_client), DynamoStore(TABLE, client=dynamo_client)
    ra, _ = a.load(USER)
    rb, _ = b.load(USER)
    first = a.save(USER, msgspec.structs.replace(ra, pace=1.5))
    with pytest.raises(Conflict):
        b.save(USER, msgspec.structs.replace(rb, pace=0.75))
    assert a.load(USER) == (first, False)
    # and once stored, only the exact revision may write
    second = b.save(USER, msgspec.structs.replace(first, verbosity="quiet"))
    with pytest.raises(Conflict):
        a.save(USER, first)
    assert b.load(USER) == (second, False) and second.revision == 2


def test_deleted_record_is_not_resurrected_by_a_stale_save(dynamo_client: Any) -> None:
    store = DynamoStore(TABLE, client=dynamo_client)
    stored = store.update(USER, lambda r: r.add_favourite("desk-break"))
    store.delete(USER)
    with pytest.raises(Conflict):
        store.save(USER, stored)
    assert store.load(USER) == (MemoryRecord(), False)


def test_item_layout(dynamo_client: Any) -> None:
    store = DynamoStore(TABLE, client=dynamo_client, clock=lambda: 1_800_000_000.0)
    store.update(USER, lambda r: r.add_favourite("desk-break"))
    item = dynamo_client.get_item(TableName=TABLE, Key={"user_id": {"S": USER}})["Item"]
    assert set(item) == {"user_id", "revision", "body", "updated"}
    assert item["revision"] == {"N": "1"} and item["updated"] == {"N": "1800000000.0"}
    assert msgspec.json.decode(item["body"]["S"], type=MemoryRecord).favourites == ["desk-break"]


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("InternalServerError"),
        client_error("AccessDeniedException"),
        EndpointConnectionError(endpoint_url="https://dynamodb.invalid"),
        ReadTimeoutError(endpoint_url="https://dynamodb.invalid"),
    ],
    ids=["throttled", "internal", "access-denied", "no-connection", "timeout"],
)
@pytest.mark.parametrize("method", ["get_item", "put_item", "delete_item"])
def test_service_errors_become_storage_errors(dynamo_client: Any, error: BaseException,
                                              method: str) -> None:
    good = DynamoStore(TABLE, client=dynamo_client)
    before = good.update(USER, lambda r: r.add_favourite("desk-break"))
    bad = DynamoStore(TABLE, client=Flaky(dynamo_client, method, error, times=99))
    with pytest.raises(StorageError) as info:
        if method == "get_item":
            bad.load(USER)
        elif method == "put_item":
            bad.save(USER, msgspec.structs.replace(before, pace=0.8))
        else:
            bad.delete(USER)
    assert not isinstance(info.value, Conflict)
    if method != "delete_item":
        with pytest.raises(StorageError):
            bad.update(USER, lambda r: setattr(r, "pace", 0.9))
        assert good.load(USER) == (before, False)


def test_missing_table_is_a_storage_error(dynamo_client: Any) -> None:
    store = DynamoStore("no-such-table", client=dynamo_client)
    with pytest.raises(StorageError, match="ResourceNotFound"):
        store.load(USER)
    with pytest.raises(StorageError):
        store.save(USER, MemoryRecord())


def test_update_retries_a_failed_write_once(dynamo_client: Any) -> None:
    flaky = Flaky(dynamo_client, "put_item", client_error("InternalServerError"), times=1)
    store = DynamoStore(TABLE, client=flaky)
    stored = store.update(USER, lambda r: r.add_session(time.time()))
    assert flaky.calls == 2 and stored.revision == 1 and len(stored.sessions) == 1
    flaky.times = 2
    with pytest.raises(StorageError):
        store.update(USER, lambda r: r.add_session(time.time()))
    assert store.load(USER) == (stored, False)


def test_timeout_after_the_write_landed_is_not_applied_twice(dynamo_client: Any) -> None:
    flaky = Flaky(dynamo_client, "put_item", ReadTimeoutError(endpoint_url="https://x"),
                  times=1, after_real_call=True)
    store = DynamoStore(TABLE, client=flaky)
    marker = time.time()
    stored = store.update(USER, lambda r: r.add_session(marker))
    assert stored.sessions == [marker] and stored.revision == 1
    assert store.load(USER)[0].sessions == [marker]


def test_gives_up_after_the_conflict_retries_run_out(dynamo_client: Any) -> None:
    flaky = Flaky(dynamo_client, "put_item", client_error("ConditionalCheckFailedException"),
                  times=99)
    store = DynamoStore(TABLE, client=flaky)
    store.backoff_base = 0.0001
    with pytest.raises(Conflict):
        store.update(USER, lambda r: None)
    assert flaky.calls == store.max_conflict_retries + 1 == 11  # the first try, then each re-load/re-apply


def test_separate_quarantine_table(dynamo_client: Any) -> None:
    create_table(dynamo_client, "backcoach-quarantine")
    store = DynamoStore(TABLE, client=dynamo_client, quarantine_table="backcoach-quarantine")
    dynamo_client.put_item(TableName=TABLE, Item={
        "user_id": {"S": USER}, "revision": {"N": "3"}, "body": {"B": b"\x00\xff"}})
    record, corrupt = store.load(USER)
    assert corrupt and record.revision == 3
    assert store.quarantined(USER) == [b"\x00\xff"]
    kept = dynamo_client.get_item(TableName="backcoach-quarantine", Key={"user_id": {"S": USER}})
    assert kept["Item"]["bodies"]["L"] == [{"B": b"\x00\xff"}]
    assert "Item" not in dynamo_client.get_item(
        TableName=TABLE, Key={"user_id": {"S": "quarantine#" + USER}})
    store.delete(USER)
    assert store.quarantined(USER) == []


def test_quarantine_keeps_the_last_five_distinct_bodies(dynamo_client: Any) -> None:
    store = DynamoStore(TABLE, client=dynamo_client)
    for i in range(7):
        dynamo_client.put_item(TableName=TABLE, Item={
            "user_id": {"S": USER}, "revision": {"N": "1"}, "body": {"S": f"junk {i}"}})
        store.load(USER)
        store.load(USER)
    assert store.quarantined(USER) == [f"junk {i}" for i in range(2, 7)]


def test_reserved_key_prefix_is_refused(dynamo_client: Any) -> None:
    store = DynamoStore(TABLE, client=dynamo_client)
    with pytest.raises(ValueError):
        store.load("quarantine#" + USER)


def test_default_client_needs_a_region(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(ValueError, match="AWS_REGION"):
        DynamoStore(TABLE)
    store = DynamoStore(TABLE, region_name="eu-west-1")  # no network at construction
    assert store.client.meta.region_name == "eu-west-1"
