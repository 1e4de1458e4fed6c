"""What the limiter's item says about today's Marketo budget, read without touching it.

For reports (the digest): one consistent GetItem, no write, no lease. The figures are the
limiter's own: calls leadsync was granted today, and the whole instance's usage as one copy
last read it from stats/usage.json plus what leadsync used since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.limiter.config import LimiterConfig, Reserve, limiter_name, split
from leadsync.limiter.daily import current_day, remaining_today, used_on
from leadsync.limiter.item import decode, key
from leadsync.limiter.state import LimiterState, PermitReason
from leadsync.runtime.clock import Clock, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class BudgetReadout:
    day: str  # ISO date in `zone`
    zone: str
    used: int  # calls leadsync was granted on `day`
    cap: int  # leadsync's own daily cap
    quota: int  # the instance's daily quota
    instance_used: int | None  # the whole instance, leadsync included; None: not read today
    left: int  # calls leadsync may still make on `day`
    instance_binds: bool  # the instance's quota, not leadsync's cap, limits what is left
    quota_exhausted: bool  # Marketo answered 607 on `day`


def budget_today(state: LimiterState, now_ms: int, config: LimiterConfig) -> BudgetReadout:
    """The budget of the quota day `now_ms` falls in, as the limiter would reckon it."""
    today = current_day(state, now_ms, config.zone)
    used = used_on(state, today)
    left, reason = remaining_today(state, today, config)
    instance_used = None
    if state.instance_day == today:
        instance_used = max(0, state.instance_total - state.instance_ours) + used
    return BudgetReadout(
        day=today,
        zone=config.quota_timezone,
        used=used,
        cap=config.daily_cap,
        quota=config.daily_quota,
        instance_used=instance_used,
        left=left,
        instance_binds=reason is PermitReason.INSTANCE_QUOTA,
        quota_exhausted=state.quota_exhausted_day == today,
    )


class LimiterReadout:
    """Read-only view of the limiter `name` in the state table."""

    def __init__(
        self,
        table_name: str,
        config: LimiterConfig,
        client: DynamoDBClient | None = None,
        *,
        name: str = "marketo",
        clock: Clock = utc_now,
    ) -> None:
        self._client = client or aws.dynamodb()
        self._table = table_name
        self._key = key(name)
        self._config = config
        self._clock = clock

    def read(self) -> BudgetReadout:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=self._key, ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        now_ms = int(self._clock().timestamp() * 1000)
        return budget_today(decode(answer.get("Item")), now_ms, self._config)


def combined(readouts: list[BudgetReadout]) -> BudgetReadout:
    """The lanes' budgets as one: what leadsync used, may use and has left today."""
    first = readouts[0]
    if len(readouts) == 1:
        return first
    known = [r.instance_used for r in readouts if r.instance_used is not None]
    return BudgetReadout(
        day=first.day,
        zone=first.zone,
        used=sum(r.used for r in readouts),
        cap=sum(r.cap for r in readouts),
        quota=first.quota,
        instance_used=max(known) if known else None,
        left=sum(r.left for r in readouts),
        instance_binds=any(r.instance_binds for r in readouts),
        quota_exhausted=any(r.quota_exhausted for r in readouts),
    )


class LanesReadout:
    """Every lane's budget (the normal lane and, when reserved, the priority lane), as one."""

    def __init__(
        self,
        table_name: str,
        environ: Mapping[str, str],
        client: DynamoDBClient | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        lanes = split(LimiterConfig.from_env(environ), Reserve.from_env(environ))
        self._readouts = [
            LimiterReadout(table_name, config, client, name=limiter_name(lane), clock=clock)
            for lane, config in lanes.items()
        ]

    def read(self) -> BudgetReadout:
        return combined([readout.read() for readout in self._readouts])
