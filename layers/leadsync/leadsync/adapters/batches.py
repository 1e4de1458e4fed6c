"""DynamoDB batch writes that finish: 25 items a request, unprocessed items sent again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, cast

from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

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
