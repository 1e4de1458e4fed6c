"""The instance usage sync against moto: of all the copies, one reads stats/usage.json per
interval, a failed read is only logged, and the figures it records narrow the daily budget."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadsync.limiter.api import DailyQuotaExhausted, Outcome
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.limiter.usage import InstanceUsageSync

pytestmark = pytest.mark.integration
START = datetime(2026, 5, 28, 15, 0, tzinfo=UTC)  # 10:00 in Chicago
FAR = float("inf")


class Clock:
    """A wall clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Usage:
    """stats/usage.json as a counter of how often it was read; `failing` makes reads fail."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.reads = 0
        self.failing = False

    def __call__(self) -> int:
        self.reads += 1
        if self.failing:
            raise ConnectionError("Marketo did not answer")
        return self.total


@pytest.fixture
def copy(state_table: str) -> Callable[..., DynamoDBLimiter]:
    """Another copy of a function: its own client, its own last-seen state."""

    def build(clock: Clock, config: LimiterConfig | None = None) -> DynamoDBLimiter:
        client: Any = boto3.client("dynamodb", region_name="us-east-1")
        return DynamoDBLimiter(state_table, config or LimiterConfig(), client, clock=clock)

    return build


def test_one_read_per_interval_across_copies(copy: Callable[..., DynamoDBLimiter]) -> None:
    clock, usage = Clock(), Usage(1_000)
    a, b = copy(clock), copy(clock)
    sync_a = InstanceUsageSync(a, usage, every_seconds=300, clock=clock)
    sync_b = InstanceUsageSync(b, usage, every_seconds=300, clock=clock)
    assert sync_a.maybe_sync()
    assert not sync_b.maybe_sync()  # a had the turn: b's claim fails, no Marketo call
    writes = a.stats.writes
    assert not sync_a.maybe_sync()
    assert a.stats.writes == writes  # not due, as a's last-seen state says: no write at all
    clock.advance(299)
    assert not sync_a.maybe_sync()
    assert not sync_b.maybe_sync()
    assert usage.reads == 1
    clock.advance(1)
    assert sync_b.maybe_sync()
    assert not sync_a.maybe_sync()
    assert usage.reads == 2
    stored = a.snapshot()
    assert (stored.instance_total, stored.instance_day) == (1_000, "2026-05-28")
    assert stored.usage_checked_ms == int(clock().timestamp() * 1000)


def test_concurrent_copies_read_once(copy: Callable[..., DynamoDBLimiter]) -> None:
    clock, usage = Clock(), Usage(10)
    syncs = [InstanceUsageSync(copy(clock), usage, clock=clock) for _ in range(6)]
    start = threading.Barrier(len(syncs))
    results: list[bool] = []

    def run(sync: InstanceUsageSync) -> None:
        start.wait()
        results.append(sync.maybe_sync())

    threads = [threading.Thread(target=run, args=(sync,)) for sync in syncs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 5 + [True]
    assert usage.reads == 1


def test_failed_read_is_logged_and_waits_for_the_next_interval(
    copy: Callable[..., DynamoDBLimiter], caplog: pytest.LogCaptureFixture
) -> None:
    clock, usage = Clock(), Usage(2_000)
    limiter = copy(clock)
    sync = InstanceUsageSync(limiter, usage, every_seconds=60, clock=clock)
    usage.failing = True
    with caplog.at_level(logging.WARNING, logger="leadsync.limiter.usage"):
        assert not sync.maybe_sync()
    assert "ConnectionError" in caplog.text
    assert limiter.snapshot().instance_total == 0  # nothing recorded
    clock.advance(30)
    assert not sync.maybe_sync()  # the failed turn still counts: Marketo is not hammered
    assert usage.reads == 1
    usage.failing = False
    clock.advance(30)
    assert sync.maybe_sync()
    assert usage.reads == 2
    assert limiter.snapshot().instance_total == 2_000


def test_synced_usage_narrows_the_daily_budget(copy: Callable[..., DynamoDBLimiter]) -> None:
    config = LimiterConfig(daily_cap=1_000, daily_quota=1_000)
    clock = Clock()
    ours, other = copy(clock, config), copy(clock, config)
    ours.release(ours.acquire(deadline_monotonic=FAR), Outcome.DONE)
    usage = Usage(998)  # includes our one call: the rest of the instance used 997
    assert InstanceUsageSync(ours, usage, clock=clock).maybe_sync()
    clock.advance(10)
    for _ in range(2):  # 1 + 997 + 2 = the quota
        other.release(other.acquire(deadline_monotonic=FAR), Outcome.DONE)
        clock.advance(1)
    with pytest.raises(DailyQuotaExhausted) as spent:
        ours.acquire(deadline_monotonic=FAR)
    assert spent.value.resumes_at == datetime(2026, 5, 29, 5, 0, tzinfo=UTC)  # CDT midnight
    with pytest.raises(DailyQuotaExhausted):
        other.acquire(deadline_monotonic=FAR)


def test_interval_comes_from_the_configuration(copy: Callable[..., DynamoDBLimiter]) -> None:
    clock, usage = Clock(), Usage(5)
    config = LimiterConfig.from_env({"MARKETO_USAGE_SYNC_SECONDS": "60"})
    sync = InstanceUsageSync(copy(clock, config), usage, clock=clock)
    assert sync.maybe_sync()
    clock.advance(59)
    assert not sync.maybe_sync()
    clock.advance(1)
    assert sync.maybe_sync()
    assert usage.reads == 2
