"""DynamoDB store, using boto3's low-level client directly.

Why not the official ``ask-sdk-dynamodb-persistence-adapter``? Its ``save_attributes`` is an
unconditional ``put_item`` (and ``get_attributes`` an eventually consistent ``get_item``):
when two requests of the same user overlap (a phone and an Echo, or a retried request), the
later write silently replaces the earlier one, so updates are lost and nothing can detect it.
This store instead writes with a ``ConditionExpression`` on the ``revision`` attribute::

    attribute_not_exists(user_id) OR revision = :expected

(a record that was stored before — ``revision > 0`` — must still be there: ``revision =
:expected`` alone), reads with ``ConsistentRead``, and turns ``ConditionalCheckFailedException``
into :class:`Conflict`, which ``Store.update`` resolves by re-loading and re-applying the change.
Every other botocore error becomes :class:`StorageError`.

Table layout (partition key ``user_id``, string; no sort key)::

    user_id  S   the Alexa user id
    revision N   optimistic concurrency counter
    body     S   the record as JSON (see record.py)
    updated  N   epoch seconds of the last write

Quarantined bodies go to ``quarantine_table`` (same key schema) when given, else to the same
table under the key ``quarantine#<user_id>``: one item per user holding the last few unreadable
bodies exactly as they were stored (``bodies``, a list of the original attribute values).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec

from .base import BaseStore, _check_user_id, _failed_write
from .errors import Conflict, CorruptRecord, NewerVersion, StorageError
from .migration import migrate
from .record import MemoryRecord

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:  # pragma: no cover - exercised only without boto3 installed
    boto3 = None  # type: ignore[assignment]
    Config = None  # type: ignore[assignment,misc]
    BotoCoreError = ClientError = ()  # type: ignore[assignment,misc]

QUARANTINE_PREFIX = "quarantine#"
MAX_QUARANTINED = 5


def create_table(client: Any, table_name: str) -> None:
    """Create a table with the layout this store expects (on-demand billing). For tests and
    first-time setup; production tables normally come from infrastructure templates."""
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class DynamoStore(BaseStore):
    """A :class:`~skill.storage.Store` in a DynamoDB table (see the module docstring)."""

    def __init__(
        self,
        table_name: str,
        client: Any = None,
        quarantine_table: str | None = None,
        *,
        region_name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        if not table_name:
            raise ValueError("DynamoStore needs a table name")
        self.table_name = table_name
        self.quarantine_table = quarantine_table
        if client is None:
            if boto3 is None:
                raise StorageError("DynamoStore needs boto3: pip install boto3")
            try:
                client = boto3.client(
                    "dynamodb",
                    region_name=region_name,
                    # an Alexa response is due within 8 s: fail fast, let update() retry once
                    config=Config(
                        connect_timeout=2,
                        read_timeout=3,
                        retries={"mode": "standard", "max_attempts": 3},
                    ),
                )
            except BotoCoreError as exc:
                raise ValueError(
                    f"cannot create a DynamoDB client ({exc}); set AWS_REGION"
                ) from exc
        self.client = client

    def __repr__(self) -> str:
        return f"DynamoStore({self.table_name!r}, quarantine_table={self.quarantine_table!r})"

    # --------------------------------------------------------------------------- helpers

    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as exc:
            code = _error_code(exc)
            if code == "ConditionalCheckFailedException":
                raise Conflict(f"{what}: someone else wrote the record first") from exc
            raise StorageError(f"DynamoDB {what} on {self.table_name} failed: {code}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"DynamoDB {what} on {self.table_name} failed: {exc}") from exc

    def _quarantine_key(self, user_id: str) -> tuple[str, str]:
        if self.quarantine_table:
            return self.quarantine_table, user_id
        return self.table_name, QUARANTINE_PREFIX + user_id

    def _quarantine_item(self, user_id: str) -> tuple[str, str, dict[str, Any]]:
        """The quarantine table, key and current item (empty when nothing is kept) for a user."""
        table, key = self._quarantine_key(user_id)
        response = self._call(
            "get_item (quarantine)",
            self.client.get_item,
            TableName=table,
            Key={"user_id": {"S": key}},
            ConsistentRead=True,
        )
        return table, key, response.get("Item") or {}

    @staticmethod
    def _check_key(user_id: str) -> str:
        _check_user_id(user_id)
        if user_id.startswith(QUARANTINE_PREFIX):
            raise ValueError(f"user ids may not start with {QUARANTINE_PREFIX!r}")
        return user_id

    @staticmethod
    def _revision(item: dict[str, Any]) -> int:
        try:
            value = int(item["revision"]["N"])
        except (KeyError, TypeError, ValueError):
            return 0
        return max(value, 0)

    # ----------------------------------------------------------------------------- store

    def load(self, user_id: str) -> tuple[MemoryRecord, bool]:
        self._check_key(user_id)
        response = self._call(
            "get_item",
            self.client.get_item,
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return MemoryRecord(), False
        revision = self._revision(item)
        body_attr = item.get("body")
        try:
            if isinstance(body_attr, dict) and "S" in body_attr:
                record = migrate(body_attr["S"])
            elif isinstance(body_attr, dict) and "B" in body_attr:
                record = migrate(body_attr["B"])
            else:
                raise CorruptRecord(f"body attribute is {body_attr!r}")
        except NewerVersion as exc:
            raise StorageError(f"record of {user_id!r} left untouched: {exc}") from exc
        except CorruptRecord:
            self._keep_aside(user_id, body_attr if body_attr is not None else {"NULL": True})
            return MemoryRecord(revision=revision), True
        return msgspec.structs.replace(record, revision=revision), False

    def _keep_aside(self, user_id: str, body_attr: dict[str, Any]) -> None:
        """Append the unreadable body to the user's quarantine item (compare-and-set)."""
        for _ in range(self.max_conflict_retries + 1):
            table, key, item = self._quarantine_item(user_id)
            bodies = list(item.get("bodies", {}).get("L", []))
            if body_attr in bodies:
                return
            count = self._revision({"revision": item.get("n", {})}) if item else 0
            new_item = {
                "user_id": {"S": key},
                "original_user_id": {"S": user_id},
                "bodies": {"L": (bodies + [body_attr])[-MAX_QUARANTINED:]},
                "kept_at": {"N": repr(float(self._clock()))},
                "n": {"N": str(count + 1)},
            }
            if item:
                condition = {"ConditionExpression": "#n = :n",
                             "ExpressionAttributeNames": {"#n": "n"},
                             "ExpressionAttributeValues": {":n": {"N": str(count)}}}
            else:
                condition = {"ConditionExpression": "attribute_not_exists(#uid)",
                             "ExpressionAttributeNames": {"#uid": "user_id"}}
            try:
                self._call("put_item (quarantine)", self.client.put_item,
                           TableName=table, Item=new_item, **condition)
                return
            except Conflict:
                continue
        raise StorageError(f"could not quarantine the record of {user_id!r}: too much contention")

    def save(self, user_id: str, record: MemoryRecord) -> MemoryRecord:
        self._check_key(user_id)
        prepared = self._prepare(record)
        expected = record.revision
        new = msgspec.structs.replace(prepared, revision=expected + 1)
        if expected == 0:
            # new user, or a record whose revision attribute is missing or unusable
            condition = (
                "attribute_not_exists(#uid) OR attribute_not_exists(#rev)"
                " OR #rev = :expected OR NOT attribute_type(#rev, :number)"
            )
            names = {"#uid": "user_id", "#rev": "revision"}
            values = {":expected": {"N": "0"}, ":number": {"S": "N"}}
        else:
            condition = "#rev = :expected"
            names = {"#rev": "revision"}
            values = {":expected": {"N": str(expected)}}
        item = {
            "user_id": {"S": user_id},
            "revision": {"N": str(new.revision)},
            "body": {"S": new.to_json()},
            "updated": {"N": repr(float(self._clock()))},
        }
        try:
            self._call(
                "put_item",
                self.client.put_item,
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Conflict:
            raise
        except StorageError as exc:
            # a timeout may hide a write that landed: update() checks before re-applying
            raise _failed_write(str(exc), new) from exc
        return new

    def delete(self, user_id: str) -> None:
        self._check_key(user_id)
        self._call(
            "delete_item",
            self.client.delete_item,
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
        )
        table, key = self._quarantine_key(user_id)
        self._call(
            "delete_item (quarantine)",
            self.client.delete_item,
            TableName=table,
            Key={"user_id": {"S": key}},
        )

    def quarantined(self, user_id: str) -> list[Any]:
        """Bodies kept aside for ``user_id``, oldest first, as stored (str, bytes or None)."""
        self._check_key(user_id)
        _, _, item = self._quarantine_item(user_id)
        out: list[Any] = []
        for attr in item.get("bodies", {}).get("L", []):
            if "S" in attr:
                out.append(attr["S"])
            elif "B" in attr:
                out.append(bytes(attr["B"]))
            else:
                out.append(None)
        return out
