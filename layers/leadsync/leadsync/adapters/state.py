"""The DynamoDB state table: high-water marks, the error store, the digest watermark.

Keys are `pk`/`sk` strings; `expires_at` (epoch seconds) is the table's TTL attribute.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.errors import (
    ConditionFailed,
    ConfigurationError,
    DependencyError,
    LeadsyncError,
    RateLimited,
)
from leadsync.runtime.clock import Clock, iso_utc, parse_iso, utc_now
from leadsync.sync.failures import ErrorEntry, ErrorKind

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

ERROR_RETENTION = timedelta(days=35)
_ERROR_PK = "error#"
_MARK_SK = "hwm"
_DIGEST_PK = "digest"
_DIGEST_SK = "watermark"
# Sorts after every "<iso time>#<uuid hex>" of the same instant.
_AFTER_INSTANT = "#~"
_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)
_TRANSIENT = frozenset(
    {"InternalServerError", "ServiceUnavailable", "TransactionConflictException"}
)

Item = dict[str, "AttributeValueTypeDef"]


def translate_error(exc: Exception, action: str) -> LeadsyncError:
    """The one place where DynamoDB's errors become the project's exceptions."""
    code = aws.error_code(exc)
    message = f"DynamoDB {action} failed: {code or type(exc).__name__}"
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(f"DynamoDB {action}: condition failed")
    if code in _THROTTLING:
        return RateLimited(message, dependency="dynamodb")
    if code == "ResourceNotFoundException":
        return ConfigurationError(f"{message}: does STATE_TABLE name an existing table?")
    if not code or code in _TRANSIENT:
        return DependencyError(message, dependency="dynamodb", retryable=True)
    return DependencyError(message, dependency="dynamodb", retryable=False)


def put_unless(client: DynamoDBClient, **request: Any) -> bool:
    """One conditional PutItem: False when its condition failed, else True (or raise)."""
    return _unless_condition_fails(client.put_item, "PutItem", request)


def update_unless(client: DynamoDBClient, **request: Any) -> bool:
    """One conditional UpdateItem: False when its condition failed, else True (or raise)."""
    return _unless_condition_fails(client.update_item, "UpdateItem", request)


def delete_unless(client: DynamoDBClient, **request: Any) -> bool:
    """One conditional DeleteItem: False when its condition failed, else True (or raise)."""
    return _unless_condition_fails(client.delete_item, "DeleteItem", request)


def _unless_condition_fails(
    write: Callable[..., object], action: str, request: dict[str, Any]
) -> bool:
    try:
        write(**request)
    except AWS_ERRORS as exc:
        error = translate_error(exc, action)
        if isinstance(error, ConditionFailed):
            return False
        raise error from exc
    return True


def query_all(client: DynamoDBClient, request: dict[str, Any]) -> Iterator[Item]:
    """Every item a Query finds, page after page."""
    request = dict(request)
    while True:
        try:
            page = client.query(**request)
        except AWS_ERRORS as exc:
            raise translate_error(exc, "Query") from exc
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        request["ExclusiveStartKey"] = last


class StateStore:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Clock = utc_now,
        on_errors: Callable[[Sequence[ErrorEntry]], None] | None = None,
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._clock = clock
        self._on_errors = on_errors  # told of what `record_errors` stored (metrics)

    # High-water marks --------------------------------------------------------------------

    def get_high_water_mark(self, source: str = "livechat") -> datetime | None:
        return self._get_mark(f"source#{source}", _MARK_SK)

    def put_high_water_mark(self, mark: datetime, source: str = "livechat") -> None:
        """Advance the mark; ConditionFailed when a newer mark is already stored."""
        self._put_mark(f"source#{source}", _MARK_SK, mark)

    def get_digest_watermark(self) -> datetime | None:
        return self._get_mark(_DIGEST_PK, _DIGEST_SK)

    def put_digest_watermark(self, mark: datetime) -> None:
        self._put_mark(_DIGEST_PK, _DIGEST_SK, mark)

    def _get_mark(self, pk: str, sk: str) -> datetime | None:
        try:
            answer = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        item = answer.get("Item")
        if not item or "mark" not in item:
            return None
        return parse_iso(item["mark"]["S"])

    def _put_mark(self, pk: str, sk: str, mark: datetime) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": sk},
                    "mark": {"S": iso_utc(mark)},
                    "updated_at": {"S": iso_utc(self._clock())},
                },
                ConditionExpression="attribute_not_exists(pk) OR #mark <= :mark",
                ExpressionAttributeNames={"#mark": "mark"},
                ExpressionAttributeValues={":mark": {"S": iso_utc(mark)}},
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "PutItem") from exc

    # Error store -------------------------------------------------------------------------

    def record_error(self, entry: ErrorEntry) -> str:
        """Store one failure under today's partition; return its sort key."""
        now = self._clock()
        sk = f"{iso_utc(now)}#{uuid.uuid4().hex}"
        item: Item = {
            "pk": {"S": _error_pk(now.date())},
            "sk": {"S": sk},
            "kind": {"S": entry.kind.value},
            "reason": {"S": entry.reason},
            "detail": {"S": entry.detail},
            "chat_ids": {"L": [{"S": chat_id} for chat_id in entry.chat_ids]},
            "first_failure_at": {"S": iso_utc(entry.first_failure_at)},
            "last_failure_at": {"S": iso_utc(entry.last_failure_at)},
            "expires_at": {"N": str(int((now + ERROR_RETENTION).timestamp()))},
        }
        if entry.correlation_id:
            item["correlation_id"] = {"S": entry.correlation_id}
        if entry.code:
            item["code"] = {"S": entry.code}
        if entry.request:
            item["request"] = {"S": entry.request}
        item["attempts"] = {"N": str(entry.attempts)}
        if entry.record is not None:
            item["record"] = {"S": json.dumps(entry.record, ensure_ascii=False, sort_keys=True)}
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "PutItem") from exc
        return sk

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int:
        stored: list[ErrorEntry] = []
        try:
            for entry in entries:
                self.record_error(entry)
                stored.append(entry)
        finally:
            if self._on_errors is not None and stored:
                self._on_errors(stored)
        return len(stored)

    def mark_replayed(self, key: str, at: datetime | None = None) -> bool:
        """Stamp the entry `key` ("<pk>|<sk>") as re-driven; False when it was already."""
        pk, _, sk = key.partition("|")
        if not pk.startswith(_ERROR_PK) or not sk:
            raise ValueError(f"not an error-store key: {key!r}")
        return update_unless(
            self._client,
            TableName=self._table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="SET replayed_at = :at",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(replayed_at)",
            ExpressionAttributeValues={":at": {"S": iso_utc(at or self._clock())}},
        )

    def errors_between(self, since: datetime | None, until: datetime) -> list[ErrorEntry]:
        """Failures recorded after `since` (exclusive) up to `until` (inclusive), oldest first.

        Without `since`, everything still retained (ERROR_RETENTION) is returned.
        """
        start = since if since is not None else until - ERROR_RETENTION
        low = iso_utc(start) + _AFTER_INSTANT if since is not None else iso_utc(start)
        high = iso_utc(until) + _AFTER_INSTANT
        entries: list[ErrorEntry] = []
        for day in _days(start.date(), until.date()):
            entries.extend(_entry(item) for item in self._query(_error_pk(day), low, high))
        return entries

    def _query(self, pk: str, low: str, high: str) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":low": {"S": low},
                ":high": {"S": high},
            },
        }
        return query_all(self._client, request)


def _error_pk(day: date) -> str:
    return f"{_ERROR_PK}{day.isoformat()}"


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _entry(item: Item) -> ErrorEntry:
    record = item.get("record", {}).get("S")
    correlation = item.get("correlation_id", {}).get("S")
    replayed = item.get("replayed_at", {}).get("S")
    return ErrorEntry(
        kind=ErrorKind(item["kind"]["S"]),
        reason=item["reason"]["S"],
        detail=item.get("detail", {}).get("S", ""),
        chat_ids=[value["S"] for value in item.get("chat_ids", {}).get("L", []) if "S" in value],
        correlation_id=correlation,
        record=json.loads(record) if record else None,
        first_failure_at=parse_iso(item["first_failure_at"]["S"]),
        last_failure_at=parse_iso(item["last_failure_at"]["S"]),
        code=item.get("code", {}).get("S"),
        request=item.get("request", {}).get("S"),
        attempts=int(item.get("attempts", {}).get("N", "1")),
        key=f"{item['pk']['S']}|{item['sk']['S']}",
        replayed_at=parse_iso(replayed) if replayed else None,
    )
