"""The circuit breaker of one destination, shared by every function through the state table.

One item, `breaker#<destination>` / `state`:
- `closed`: calls go through; `failures` counts consecutive failed calls (any copy's), and
  reaching the threshold opens the breaker (a conditional write: one copy opens it).
- `open` since `opened_ms`: no call until the cool-down has passed; then one copy wins the
  conditional write to `half_open` and makes the probe call.
- `half_open`: the probe's success closes the breaker, its failure opens it again. A probe
  whose copy died is taken over once `probe_until_ms` has passed.

A closed breaker is read at most every `cache_s` seconds per copy, so a healthy run costs
one read every few seconds, and a write only when a failure happens or is cleared.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error, update_unless
from leadsync.marketo.guard import CircuitOpen
from leadsync.runtime.observability import get_logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
SK = "state"


@dataclass(frozen=True)
class BreakerState:
    state: str = CLOSED
    failures: int = 0
    opened_ms: int = 0
    probe_holder: str = ""
    probe_until_ms: int = 0


class DynamoDBBreaker:
    def __init__(
        self,
        table_name: str,
        destination: str = "marketo",
        *,
        threshold: int = 5,
        cooldown_s: float = 60.0,
        probe_lease_s: float = 120.0,
        cache_s: float = 2.0,
        client: DynamoDBClient | None = None,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table_name
        self.destination = destination
        self._key: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": f"breaker#{destination}"},
            "sk": {"S": SK},
        }
        self._threshold = threshold
        self._cooldown_ms = int(cooldown_s * 1000)
        self._lease_ms = int(probe_lease_s * 1000)
        self._cache_s = cache_s
        self._client = client or aws.dynamodb()
        self._wall_ms = wall_ms
        self._monotonic = monotonic
        self._me = uuid.uuid4().hex
        self._seen = BreakerState()
        self._seen_at: float | None = None
        self._probing = False
        self.requests = 0

    # -- the Breaker protocol --------------------------------------------------------------
    def before_call(self) -> None:
        if self._probing:
            return
        fresh = self._seen_at is not None and self._monotonic() - self._seen_at < self._cache_s
        if not (fresh and self._seen.state == CLOSED):
            self._read()
        seen, now = self._seen, self._wall_ms()
        if seen.state == CLOSED:
            return
        if seen.state == OPEN and now < seen.opened_ms + self._cooldown_ms:
            raise CircuitOpen(self.destination, (seen.opened_ms + self._cooldown_ms - now) / 1000)
        if seen.state == HALF_OPEN and now < seen.probe_until_ms:
            raise CircuitOpen(self.destination, max(5.0, (seen.probe_until_ms - now) / 1000))
        if self._take_probe(seen, now):
            get_logger().info("circuit breaker: probing", extra={"destination": self.destination})
            return
        raise CircuitOpen(self.destination, 5.0)

    def succeeded(self) -> None:
        if self._probing:
            self._probing = False
            self._update(
                "SET #state = :closed, failures = :zero REMOVE probe_holder",
                "#state = :half AND probe_holder = :me",
                {":closed": {"S": CLOSED}, ":zero": {"N": "0"}, ":half": {"S": HALF_OPEN}},
            )
            get_logger().info("circuit breaker closed", extra={"destination": self.destination})
            self._seen = BreakerState()
            return
        if self._seen.failures > 0:
            self._update(
                "SET failures = :zero",
                "#state = :closed",
                {":zero": {"N": "0"}, ":closed": {"S": CLOSED}},
            )
            self._seen = BreakerState()

    def failed(self) -> None:
        now = self._wall_ms()
        if self._probing:
            self._probing = False
            self._update(
                "SET #state = :open, opened_ms = :now REMOVE probe_holder",
                "probe_holder = :me",
                {":open": {"S": OPEN}, ":now": {"N": str(now)}},
            )
            get_logger().warning(
                "circuit breaker: the probe failed; open again",
                extra={"destination": self.destination},
            )
            self._seen = BreakerState(OPEN, self._threshold, now)
            return
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression="SET #state = if_not_exists(#state, :closed) ADD failures :one",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":closed": {"S": CLOSED}, ":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "UpdateItem") from exc
        finally:
            self.requests += 1
        seen = _state(answer.get("Attributes", {}))
        self._remember(seen)
        if seen.state == CLOSED and seen.failures >= self._threshold:
            opened = self._update(
                "SET #state = :open, opened_ms = :now",
                "#state = :closed AND failures >= :threshold",
                {
                    ":open": {"S": OPEN},
                    ":now": {"N": str(now)},
                    ":closed": {"S": CLOSED},
                    ":threshold": {"N": str(self._threshold)},
                },
            )
            if opened:
                get_logger().warning(
                    "circuit breaker opened",
                    extra={"destination": self.destination, "failures": seen.failures},
                )
                self._remember(BreakerState(OPEN, seen.failures, now))

    # -- the item ------------------------------------------------------------------------
    def snapshot(self) -> BreakerState:
        self._read()
        return self._seen

    def _read(self) -> None:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=self._key, ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        finally:
            self.requests += 1
        self._remember(_state(answer.get("Item", {})))

    def _remember(self, seen: BreakerState) -> None:
        self._seen = seen
        self._seen_at = self._monotonic()

    def _take_probe(self, seen: BreakerState, now: int) -> bool:
        if seen.state == OPEN:
            condition = "#state = :open AND opened_ms = :opened"
            values: dict[str, AttributeValueTypeDef] = {
                ":open": {"S": OPEN},
                ":opened": {"N": str(seen.opened_ms)},
            }
        else:
            condition = "#state = :half AND probe_until_ms = :until"
            values = {":half": {"S": HALF_OPEN}, ":until": {"N": str(seen.probe_until_ms)}}
        taken = self._update(
            "SET #state = :halfopen, probe_holder = :me, probe_until_ms = :lease",
            condition,
            {
                **values,
                ":halfopen": {"S": HALF_OPEN},
                ":lease": {"N": str(now + self._lease_ms)},
            },
        )
        self._probing = taken
        if not taken:
            self._seen_at = None
        return taken

    def _update(
        self, expression: str, condition: str, values: dict[str, AttributeValueTypeDef]
    ) -> bool:
        uses_me = ":me" in expression or ":me" in condition
        try:
            return update_unless(
                self._client,
                TableName=self._table,
                Key=self._key,
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    **values,
                    **({":me": {"S": self._me}} if uses_me else {}),
                },
            )
        finally:
            self.requests += 1


def _state(item: dict[str, AttributeValueTypeDef]) -> BreakerState:
    def number(name: str) -> int:
        value = item.get(name, {})
        return int(value["N"]) if "N" in value else 0

    state = item.get("state", {})
    holder = item.get("probe_holder", {})
    return BreakerState(
        state=state.get("S", CLOSED),
        failures=number("failures"),
        opened_ms=number("opened_ms"),
        probe_holder=holder.get("S", ""),
        probe_until_ms=number("probe_until_ms"),
    )
