"""The limiter's shared state: one value, stored as one DynamoDB item, read by every copy."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LimiterState:
    """Everything every copy of every function must agree on. Integers only (milli-units,
    epoch milliseconds) so the arithmetic is exact and the item round-trips unchanged.

    Who writes what (this is what keeps the blind writes safe):
    - acquire (conditional on `version`): version, tokens_milli, refilled_at_ms, day,
      used_today (ADD within a day), factor_milli, last_cut_ms, *_folded, new/expired leases;
    - release (no version check): removes its lease, ADDs penalties/successes, may ADD -1 to
      used_today (a call Marketo did not count), may set quota_exhausted_day;
    - instance_usage: instance_day, instance_total, instance_ours;
    - the claim to read the instance's usage (conditional on its own timestamp only):
      usage_checked_ms.
    Releases only ever remove leases and lower used_today, so a cached state whose version
    still matches is never optimistic about them.
    """

    version: int = 0  # 0: the item does not exist yet
    tokens_milli: int = 0
    refilled_at_ms: int = 0  # never moves backwards: a lagging clock mints nothing
    day: str = ""  # ISO date in the quota time zone that used_today counts
    used_today: int = 0
    factor_milli: int = 1000  # adaptive share of the refill rate (AIMD), 1000 = full
    last_cut_ms: int = 0
    penalties: int = 0  # 606/615 answers ever reported by releases
    penalties_folded: int = 0  # ... of which already applied to factor_milli
    successes: int = 0
    successes_folded: int = 0
    leases: Mapping[str, int] = field(default_factory=dict)  # lease id → expires_at_ms
    instance_day: str = ""
    instance_total: int = 0  # what stats/usage.json said the instance used on instance_day
    instance_ours: int = 0  # our used_today when that was recorded
    quota_exhausted_day: str = ""  # Marketo answered 607 on that day
    usage_checked_ms: int = 0  # when a copy last claimed the right to read stats/usage.json


class PermitReason(enum.Enum):
    GRANTED = "granted"
    RATE = "rate"  # no token yet: wait for the refill
    IN_FLIGHT = "in_flight"  # max_in_flight unexpired leases: wait for a release
    DAILY_CAP = "daily_cap"  # leadsync's own cap for the day is spent
    INSTANCE_QUOTA = "instance_quota"  # the instance's quota is spent (607 or usage stats)


@dataclass(frozen=True)
class PermitDecision:
    granted: bool
    new_state: LimiterState  # what to write when granted; the input state otherwise
    wait_ms: int  # when refused: how long until asking again can succeed
    reason: PermitReason
