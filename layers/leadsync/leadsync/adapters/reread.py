"""The request to read chats again (`sync/fetch/reread.py`), one item of the state table beside
the fetch's high-water mark: `source#livechat` / `reread`, with the request's times and a
version. A new request merges into the stored one (the earliest start, the widest span of
late writes) by a write conditional on the version it read; the fetch clears it, or moves
it past the window it read, only at the version it read, so a request made during its run
is never lost."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import delete_unless, put_unless, translate_error
from leadsync.errors import DependencyError
from leadsync.runtime.clock import Clock, iso_utc, parse_iso, utc_now
from leadsync.sync.fetch.reread import Reread

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

_TIMES = ("read_from", "staged_at", "imported_from", "imported_until")
# a request that loses this many races in a row fails; the bulk step is delivered again
_TRIES = 5


class DynamoDBRereads:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        source: str = "livechat",
        clock: Clock = utc_now,
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._key: Item = {"pk": {"S": f"source#{source}"}, "sk": {"S": "reread"}}
        self._clock = clock

    def pending(self) -> Reread | None:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=self._key, ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        item = answer.get("Item")
        if not item or any(name not in item for name in _TIMES):
            return None
        times = {name: parse_iso(item[name]["S"]) for name in _TIMES}
        return Reread(**times, version=int(item.get("version", {}).get("N", "0")))

    def request(self, wanted: Reread) -> Reread:
        """Merge `wanted` into the stored request; the request as stored."""
        for _ in range(_TRIES):
            stored = self.pending()
            if stored is not None and stored.merged(wanted) == stored:
                return stored  # asked already, from as early
            merged = wanted if stored is None else stored.merged(wanted)
            if self._put(merged, stored):
                return replace(merged, version=stored.version + 1 if stored else 1)
        raise DependencyError(
            "the request to read chats again kept changing", dependency="dynamodb", retryable=True
        )

    def clear(self, read: Reread) -> bool:
        return delete_unless(
            self._client,
            TableName=self._table,
            Key=self._key,
            ConditionExpression="#version = :version",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":version": {"N": str(read.version)}},
        )

    def advance(self, read: Reread, to: datetime) -> bool:
        if to <= read.read_from:
            return True
        return self._put(replace(read, read_from=to), read)

    def _put(self, reread: Reread, expected: Reread | None) -> bool:
        """Store `reread`, one version on from `expected` (None: nothing stored)."""
        version = expected.version + 1 if expected is not None else 1
        item: Item = {
            **self._key,
            **{name: {"S": iso_utc(getattr(reread, name))} for name in _TIMES},
            "version": {"N": str(version)},
            "updated_at": {"S": iso_utc(self._clock())},
        }
        if expected is None:
            return put_unless(
                self._client,
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
            )
        return put_unless(
            self._client,
            TableName=self._table,
            Item=item,
            ConditionExpression="#version = :version",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":version": {"N": str(expected.version)}},
        )
