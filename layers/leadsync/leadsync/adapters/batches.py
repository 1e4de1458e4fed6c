"""DynamoDB batch reads and writes that finish: unprocessed keys and items sent again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, cast

from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        WriteRequestTypeDef,
    )

MAX_ITEMS_PER_WRITE = 25
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
        for attempt in range(attempts):
            if attempt:
                sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
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
        for attempt in range(attempts):
            if attempt:
                sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
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
