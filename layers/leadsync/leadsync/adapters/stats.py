"""Daily counters (leads created, updated, rejected...) for the digest and the demo.

One item per local day in the state table, `stats#YYYY-MM-DD` / `day`, one number attribute
per counter. Days are local to a time zone (Marketo's, by default) so that the digest's
"today" is the day its readers live in, DST days included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.errors import ConfigurationError
from leadsync.runtime.clock import Clock, as_utc, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

STATS_RETENTION = timedelta(days=35)
STATS_PK = "stats#"
STATS_SK = "day"
COUNTER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Attributes of the item that are not counters.
_RESERVED = frozenset({"pk", "sk", "expires_at"})


class DailyStats:
    """Counters summed per local day; `requests` counts the DynamoDB requests sent."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Clock = utc_now,
        zone: str = "America/Chicago",
    ) -> None:
        try:
            self._zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"DailyStats: unknown time zone {zone!r}") from exc
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._clock = clock
        self.requests = 0

    def today(self) -> date:
        return self._day(self._clock())

    def add(self, counters: Mapping[str, int], *, at: datetime | None = None) -> None:
        """Add to the counters of the day of `at` (default: now) in one atomic request,
        so concurrent workers never lose each other's counts. Zeros cost nothing."""
        for name in counters:
            _check_name(name)
        changes = {name: value for name, value in counters.items() if value}
        if not changes:
            return
        day = self._day(at if at is not None else self._clock())
        names = {"#expires": "expires_at"}
        values: dict[str, AttributeValueTypeDef] = {
            ":expires": {"N": str(self._expiry(day))},
        }
        additions = []
        for index, (name, value) in enumerate(changes.items()):
            names[f"#c{index}"] = name
            values[f":c{index}"] = {"N": str(int(value))}
            additions.append(f"#c{index} :c{index}")
        self.requests += 1
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(day),
                UpdateExpression=f"ADD {', '.join(additions)} SET #expires = :expires",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "UpdateItem") from exc

    def read(self, day: date) -> dict[str, int]:
        """The counters of one local day; {} when nothing was counted that day."""
        self.requests += 1
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=_key(day), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        item = answer.get("Item", {})
        return {
            name: int(value["N"])
            for name, value in item.items()
            if name not in _RESERVED and "N" in value
        }

    def _day(self, moment: datetime) -> date:
        return as_utc(moment).astimezone(self._zone).date()

    def _expiry(self, day: date) -> int:
        """Epoch seconds STATS_RETENTION after the local day ends."""
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=self._zone)
        return int((end + STATS_RETENTION).timestamp())


def _key(day: date) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"{STATS_PK}{day.isoformat()}"}, "sk": {"S": STATS_SK}}


def _check_name(name: str) -> None:
    if not COUNTER_NAME.fullmatch(name) or name in _RESERVED:
        raise ValueError(f"invalid counter name {name!r}: expected {COUNTER_NAME.pattern}")
