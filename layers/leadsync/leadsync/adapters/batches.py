"""DynamoDB batch reads and writes that finish: unprocessed keys and items sent again."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, cast

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.errors import DependencyError
from leadsync.runtime.clock import Clock, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        WriteRequestTypeDef,
    )

MAX_ITEMS_PER_WRITE = 25
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 0.05


def write_all(
    client: DynamoDBClient,
    table: str,
    requests: Sequence[WriteRequestTypeDef],
    *,
    attempts: int,
    sleep: Callable[[float], None],
) -> None:
    """Apply every put or delete, or raise: what DynamoDB leaves unprocessed is sent again
    with a growing pause, `attempts` times at most."""
    for start in range(0, len(requests), MAX_ITEMS_PER_WRITE):
        pending = list(requests[start : start + MAX_ITEMS_PER_WRITE])
        for _ in aws.paced_attempts(attempts, sleep, BACKOFF_SECONDS):
            try:
                answer = client.batch_write_item(RequestItems={table: pending})
            except AWS_ERRORS as exc:
                raise translate_error(exc, "BatchWriteItem") from exc
            left = answer.get("UnprocessedItems", {}).get(table, [])
            pending = cast("list[WriteRequestTypeDef]", list(left))
            if not pending:
                break
        else:
            raise unfinished("BatchWriteItem", attempts)


def unfinished(action: str, attempts: int) -> DependencyError:
    return DependencyError(
        f"DynamoDB {action} left items unprocessed after {attempts} attempts",
        dependency="dynamodb",
        retryable=True,
    )


MAX_KEYS_PER_GET = 100


def get_all(
    client: DynamoDBClient,
    table: str,
    keys: Sequence[Mapping[str, AttributeValueTypeDef]],
    projection: str,
    *,
    attempts: int,
    sleep: Callable[[float], None],
    names: Mapping[str, str] | None = None,
) -> list[dict[str, AttributeValueTypeDef]]:
    """Every item of `keys` that exists (strongly consistent, 100 keys a request); what
    DynamoDB leaves unprocessed is asked again with a growing pause, `attempts` times at most."""
    items: list[dict[str, AttributeValueTypeDef]] = []
    for start in range(0, len(keys), MAX_KEYS_PER_GET):
        pending: KeysAndAttributesTypeDef = {
            "Keys": list(keys[start : start + MAX_KEYS_PER_GET]),
            "ConsistentRead": True,
            "ProjectionExpression": projection,
        }
        if names:
            pending["ExpressionAttributeNames"] = dict(names)
        for _ in aws.paced_attempts(attempts, sleep, BACKOFF_SECONDS):
            try:
                answer = client.batch_get_item(RequestItems={table: pending})
            except AWS_ERRORS as exc:
                raise translate_error(exc, "BatchGetItem") from exc
            items.extend(answer.get("Responses", {}).get(table, []))
            unprocessed = answer.get("UnprocessedKeys", {}).get(table)
            if not unprocessed or not unprocessed.get("Keys"):
                break
            # what DynamoDB hands back is what it takes again
            pending = cast("KeysAndAttributesTypeDef", unprocessed)
        else:
            raise unfinished("BatchGetItem", attempts)
    return items


class BatchedItems:
    """Base of the adapters that read and write many state-table items at once (identities,
    lead ids and memberships, the write ledger): their table, client, clock, how long their
    items live (`RETENTION`, the TTL `expires_at`) and batch calls that finish."""

    RETENTION: ClassVar[timedelta] = timedelta(days=7)

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Clock = utc_now,
        retention: timedelta | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._clock = clock
        self._retention = retention or self.RETENTION
        self._attempts = max(1, max_attempts)
        self._sleep = sleep

    def _expires_at(self, now: datetime) -> str:
        """The TTL attribute of an item written `now`."""
        return str(int((now + self._retention).timestamp()))

    def _get(
        self,
        keys: Sequence[Mapping[str, AttributeValueTypeDef]],
        projection: str,
        names: Mapping[str, str] | None = None,
    ) -> list[dict[str, AttributeValueTypeDef]]:
        return get_all(
            self._client,
            self._table,
            keys,
            projection,
            attempts=self._attempts,
            sleep=self._sleep,
            names=names,
        )

    def _write(self, requests: Sequence[WriteRequestTypeDef]) -> None:
        write_all(self._client, self._table, requests, attempts=self._attempts, sleep=self._sleep)
