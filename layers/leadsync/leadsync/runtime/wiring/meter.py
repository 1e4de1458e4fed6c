"""The call meter: the Marketo calls an invocation made, added to the day's counters (which
the digest and the demo read) and, with the limiter's wait, to the metrics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.ports import StatsSink
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now


class CountsCalls(Protocol):
    """A client that counts its requests by kind (`MarketoClient.calls`)."""

    @property
    def calls(self) -> Mapping[str, int]: ...


def quota_calls(calls: Mapping[str, int]) -> int:
    """The calls Marketo counts against the daily quota: every kind but the token requests."""
    return sum(n for kind, n in calls.items() if kind != "identity")


def call_counters(used: int, at: datetime, zone: ZoneInfo) -> dict[str, int]:
    """Daily counters for `used` Marketo calls made around `at`: the day's total and the
    hour's (in the quota's time zone), from which the digest names the busiest hour."""
    hour = at.astimezone(zone).hour
    return {"marketo_calls": used, f"marketo_calls_hour_{hour:02d}": used}


@dataclass(frozen=True)
class MeterStart:
    """Where an invocation began: the client's quota calls so far, the limiter's wait so far,
    and the time."""

    calls: int
    waited_s: float
    at: datetime


def add_calls_used(client: CountsCalls, start: MeterStart, stats: StatsSink, zone: str) -> int:
    """Add the quota calls `client` made since `start` to the day's counters, in the hour of
    `start.at` in the quota's time zone `zone`; the calls used."""
    used = quota_calls(client.calls) - start.calls
    if used > 0:
        stats.add(call_counters(used, start.at, ZoneInfo(zone)), at=start.at)
    return used


class CallMeter:
    """`with meter.counting():` around an invocation's work. With a `limiter`, the calls and
    the wait for permits also go to the metrics (MarketoCalls, LimiterWaitSeconds)."""

    def __init__(
        self,
        client: CountsCalls,
        stats: StatsSink,
        zone: str,
        *,
        limiter: DynamoDBLimiter | None = None,
    ) -> None:
        self._client = client
        self._stats = stats
        self._zone = zone
        self._limiter = limiter

    def start(self) -> MeterStart:
        waited = self._limiter.stats.slept_seconds if self._limiter is not None else 0.0
        return MeterStart(quota_calls(self._client.calls), waited, utc_now())

    def stop(self, start: MeterStart) -> int:
        used = add_calls_used(self._client, start, self._stats, self._zone)
        if self._limiter is not None:
            waited = self._limiter.stats.slept_seconds - start.waited_s
            metrics.emit_marketo(used, self._limiter, waited)
        return used

    @contextmanager
    def counting(self) -> Iterator[None]:
        start = self.start()
        try:
            yield
        finally:
            self.stop(start)
