"""Webhook deliveries already taken, per chat thread, in the state table.

Item: `pk = webhook#<chat id>`, `sk = <thread id>`, `taken_at`, `expires_at` (TTL: LiveChat
retries within a minute; a week is far beyond). Taking is one conditional PutItem.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import put_unless, translate_error
from leadsync.runtime.clock import Clock, iso_utc, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RETENTION = timedelta(days=7)
_PK = "webhook#"


class WebhookDeliveries:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Clock = utc_now,
        retention: timedelta = RETENTION,
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._clock = clock
        self._retention = retention

    def take(self, chat_id: str, thread_id: str) -> bool:
        now = self._clock()
        return put_unless(
            self._client,
            TableName=self._table,
            Item={
                "pk": {"S": _PK + chat_id},
                "sk": {"S": thread_id},
                "taken_at": {"S": iso_utc(now)},
                "expires_at": {"N": str(int((now + self._retention).timestamp()))},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def give_back(self, chat_id: str, thread_id: str) -> None:
        try:
            self._client.delete_item(
                TableName=self._table, Key={"pk": {"S": _PK + chat_id}, "sk": {"S": thread_id}}
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "DeleteItem") from exc
