"""The id of leadsync's approved activity type, in the state table: every copy of the upload
shares it, so Marketo's type list is read once a day, not once a cold start.

Item: `pk = readiness`, `sk = activity-type#<api name>`, `type_id`, `expires_at` (TTL, a day:
a type deleted and made again gets a new id, seen the next day at the latest)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEPT_SECONDS = 24 * 3600


class StoredActivityType:
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._now = wall_clock

    def get(self, api_name: str) -> int | None:
        try:
            item = self._client.get_item(
                TableName=self._table, Key=_key(api_name), ConsistentRead=True
            ).get("Item", {})
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        expires = float(item.get("expires_at", {}).get("N", "0"))
        raw = item.get("type_id", {}).get("N")
        return int(raw) if raw is not None and expires > self._now() else None

    def put(self, api_name: str, type_id: int) -> None:
        expires = str(int(self._now() + KEPT_SECONDS))
        item = {**_key(api_name), "type_id": {"N": str(type_id)}, "expires_at": {"N": expires}}
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except AWS_ERRORS as exc:
            raise translate_error(exc, "PutItem") from exc


def _key(api_name: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": "readiness"}, "sk": {"S": f"activity-type#{api_name}"}}
