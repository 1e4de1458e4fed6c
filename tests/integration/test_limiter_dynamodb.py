"""The DynamoDB limiter against moto in server mode, on a table built from template.yaml.

Time is a fake clock that only sleeping moves: no real pacing sleeps, whole windows in ms."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadsync.errors import ConfigurationError
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted, Outcome, Permit
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.dynamodb import DynamoDBLimiter

pytestmark = pytest.mark.integration
START = datetime(2026, 5, 28, 15, 0, tzinfo=UTC)  # 10:00 in Chicago


class FakeTime:
    """Wall clock and monotonic clock that move together, only when someone sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self._lock = threading.Lock()
        self._elapsed = 0.0
        self._start = start

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        with self._lock:
            return 1_000.0 + self._elapsed

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        with self._lock:
            self._elapsed += seconds


class AtomicClient:
    """moto's server checks a condition and writes the item in two steps, unlocked, so two
    concurrent conditional writes can both pass (measured: ~3 % of contended acquires).
    DynamoDB applies each write to an item atomically; this proxy restores that by letting
    one request at a time through. Requests still interleave freely between each other."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            with self._lock:
                return method(**kwargs)

        return call


@pytest.fixture
def dynamodb(moto_server: str) -> Any:
    return AtomicClient(boto3.client("dynamodb", region_name="us-east-1"))


@pytest.fixture
def make(dynamodb: Any, state_table: str) -> Callable[..., DynamoDBLimiter]:
    def build(
        config: LimiterConfig | None = None,
        clock: FakeTime | None = None,
    ) -> DynamoDBLimiter:
        clock = clock or FakeTime()
        return DynamoDBLimiter(
            state_table,
            config or LimiterConfig(),
            dynamodb,
            clock=clock.now,
            monotonic=clock.monotonic,
            sleep=clock.sleep,
        )

    return build


def far(clock: FakeTime) -> float:
    return clock.monotonic() + 3_600


def test_one_conditional_write_per_uncontended_acquire(
    make: Callable[..., DynamoDBLimiter],
) -> None:
    clock = FakeTime()
    limiter = make(clock=clock)
    first = limiter.acquire(deadline_monotonic=far(clock))
    assert (limiter.stats.reads, limiter.stats.writes) == (1, 1)  # a cold process reads once
    limiter.release(first, Outcome.DONE)
    for _ in range(20):
        before = limiter.stats.writes
        permit = limiter.acquire(deadline_monotonic=far(clock))
        assert limiter.stats.writes - before == 1
        limiter.release(permit, Outcome.DONE)
    assert limiter.stats.reads == 1
    assert limiter.stats.conflicts == 0
    assert limiter.stats.writes == 2 * limiter.stats.grants  # acquire + release per call
    stored = limiter.snapshot()
    assert stored.used_today == 21
    assert dict(stored.leases) == {}
    assert stored.successes == 21


def test_lost_race_costs_no_read_and_no_token(make: Callable[..., DynamoDBLimiter]) -> None:
    clock = FakeTime()
    a, b = make(clock=clock), make(clock=clock)
    a.release(a.acquire(deadline_monotonic=far(clock)), Outcome.DONE)
    b.release(b.acquire(deadline_monotonic=far(clock)), Outcome.DONE)  # a's cache is stale now
    clock.sleep(10)  # the bucket is full again
    reads, writes = a.stats.reads, a.stats.writes
    a.acquire(deadline_monotonic=far(clock))
    assert a.stats.reads == reads  # the lost write returned the item (ALL_OLD)
    assert (a.stats.writes - writes, a.stats.conflicts) == (2, 1)
    stored = a.snapshot()
    assert stored.version == 3
    assert stored.tokens_milli == LimiterConfig().capacity_milli - 1_000


def test_waits_for_the_refill_by_sleeping_inside_the_deadline(
    make: Callable[..., DynamoDBLimiter],
) -> None:
    clock = FakeTime()
    limiter = make(clock=clock)
    for _ in range(LimiterConfig().burst):
        limiter.release(limiter.acquire(deadline_monotonic=far(clock)), Outcome.DONE)
    with pytest.raises(BudgetExhausted) as refused:
        limiter.acquire(deadline_monotonic=clock.monotonic() + 0.1)
    assert 0.1 < refused.value.retry_after_seconds <= 0.43
    assert limiter.stats.slept_seconds == 0
    started = clock.monotonic()
    limiter.acquire(deadline_monotonic=far(clock))
    assert 0.4 < clock.monotonic() - started <= 0.43  # 1 token at 46.665 per 20 s


class VirtualTime(FakeTime):
    """Shared virtual time for threads: it stands still while any copy is working (talking to
    DynamoDB), and jumps to the earliest wake-up once every copy sleeps or has finished."""

    def __init__(self, copies: int) -> None:
        super().__init__()
        self._changed = threading.Condition(self._lock)
        self._running = copies
        self._wakes: dict[int, float] = {}

    def sleep(self, seconds: float) -> None:
        me = threading.get_ident()
        with self._changed:
            wake = self._elapsed + seconds
            self._wakes[me] = wake
            self._advance()
            while self._elapsed < wake:
                self._changed.wait()
            del self._wakes[me]

    def finished(self) -> None:
        with self._changed:
            self._running -= 1
            self._advance()

    def _advance(self) -> None:
        if self._wakes and len(self._wakes) >= self._running:
            self._elapsed = max(self._elapsed, min(self._wakes.values()))
            self._changed.notify_all()


@pytest.mark.parametrize(
    ("max_in_flight", "call_seconds", "rounds"),
    [(3, 0.5, 20), (2, 3.0, 4)],  # the rate binds; the calls in flight bind
)
def test_concurrent_copies_respect_in_flight_and_window(
    make: Callable[..., DynamoDBLimiter], max_in_flight: int, call_seconds: float, rounds: int
) -> None:
    config = LimiterConfig(max_in_flight=max_in_flight)
    rate_binds = max_in_flight / call_seconds > config.refill_milli_per_window / 20_000
    clock = VirtualTime(copies=6)
    copies = [make(config, clock) for _ in range(6)]
    held, peak, granted_at = [0], [0], list[int]()
    guard = threading.Lock()
    errors: list[BaseException] = []

    def work(limiter: DynamoDBLimiter) -> None:
        try:
            for _ in range(rounds):
                permit = limiter.acquire(deadline_monotonic=far(clock))
                with guard:
                    held[0] += 1
                    peak[0] = max(peak[0], held[0])
                    granted_at.append(permit.acquired_at_ms)
                clock.sleep(call_seconds)  # the Marketo call
                with guard:
                    held[0] -= 1
                limiter.release(permit, Outcome.DONE)
        except BaseException as exc:
            errors.append(exc)
        finally:
            clock.finished()

    threads = [threading.Thread(target=work, args=(copy,)) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(granted_at) == 6 * rounds
    assert peak[0] <= config.max_in_flight  # never passed
    if not rate_binds:  # ... and reached when it is what binds
        assert peak[0] == config.max_in_flight
    ordered = sorted(granted_at)
    busiest = max(
        sum(1 for t in ordered[i:] if t <= start + config.window_ms)
        for i, start in enumerate(ordered)
    )
    assert busiest <= config.calls_per_window
    if rate_binds:  # the copies together still use at least 90 % of the window
        assert busiest >= 0.9 * config.calls_per_window
    # Each call: one acquire and one release. Waiters spread their wake-ups and read before
    # they write, so few races are lost (six copies saturating the bucket: about 2.1 writes
    # per call; all waking for the same token, they measured 4.6).
    writes = sum(copy.stats.writes for copy in copies)
    assert writes / len(granted_at) < 3


def test_dead_holders_lease_expires(make: Callable[..., DynamoDBLimiter]) -> None:
    config = LimiterConfig(max_in_flight=1)
    clock = FakeTime()
    dead, alive = make(config, clock), make(config, clock)
    dead.acquire(deadline_monotonic=far(clock))  # ... and its process dies: no release
    with pytest.raises(BudgetExhausted):
        alive.acquire(deadline_monotonic=clock.monotonic() + 5)
    clock.sleep(config.lease_seconds)
    permit = alive.acquire(deadline_monotonic=far(clock))
    assert list(alive.snapshot().leases) == [permit.lease_id]


def test_waiting_for_a_lease_sees_the_release(make: Callable[..., DynamoDBLimiter]) -> None:
    config = LimiterConfig(max_in_flight=1)
    clock = FakeTime()
    holder, waiter = make(config, clock), make(config, clock)
    waiter.snapshot()
    permit = holder.acquire(deadline_monotonic=far(clock))
    original_sleep = waiter._sleep

    def sleep_then_release(seconds: float) -> None:
        original_sleep(seconds)
        holder.release(permit, Outcome.DONE)

    waiter._sleep = sleep_then_release
    waiter.acquire(deadline_monotonic=far(clock))
    assert clock.monotonic() - 1_000 <= 2 * config.poll_ms / 1000


def test_daily_cap_spent_then_a_new_day(make: Callable[..., DynamoDBLimiter]) -> None:
    config = LimiterConfig(daily_cap=3, daily_quota=3)
    clock = FakeTime(datetime(2026, 11, 2, 5, 59, 0, tzinfo=UTC))  # 23:59 CST, Nov 1
    limiter = make(config, clock)
    for _ in range(3):
        limiter.release(limiter.acquire(deadline_monotonic=far(clock)), Outcome.DONE)
        clock.sleep(1)
    with pytest.raises(DailyQuotaExhausted) as spent:
        limiter.acquire(deadline_monotonic=far(clock))
    assert spent.value.resumes_at == datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    assert 55 < spent.value.retry_after_seconds <= 57
    clock.sleep(60)
    limiter.acquire(deadline_monotonic=far(clock))
    stored = limiter.snapshot()
    assert (stored.day, stored.used_today) == ("2026-11-02", 1)


def test_outcomes_shared_through_the_item(make: Callable[..., DynamoDBLimiter]) -> None:
    clock = FakeTime()
    a, b = make(clock=clock), make(clock=clock)
    a.release(a.acquire(deadline_monotonic=far(clock)), Outcome.NOT_COUNTED)
    assert a.snapshot().used_today == 0  # Marketo did not count it
    b.release(b.acquire(deadline_monotonic=far(clock)), Outcome.RATE_LIMITED)
    clock.sleep(5)
    a.acquire(deadline_monotonic=far(clock))
    assert a.snapshot().factor_milli == 500  # b's 606 slowed a down
    b.release(b.acquire(deadline_monotonic=far(clock)), Outcome.QUOTA_EXHAUSTED)
    with pytest.raises(DailyQuotaExhausted):
        a.acquire(deadline_monotonic=far(clock))


def test_instance_usage_leaves_room_for_other_integrations(
    make: Callable[..., DynamoDBLimiter],
) -> None:
    clock = FakeTime()
    limiter = make(clock=clock)
    limiter.instance_usage(49_990)  # before our first call: a partial item
    limiter.release(limiter.acquire(deadline_monotonic=far(clock)), Outcome.DONE)
    limiter.instance_usage(49_995)  # includes our call: others used 49_994
    stored = limiter.snapshot()
    assert (stored.instance_total, stored.instance_ours, stored.used_today) == (49_995, 1, 1)
    granted = [limiter.acquire(deadline_monotonic=far(clock)) for _ in range(5)]
    for permit in granted:
        limiter.release(permit, Outcome.DONE)
    with pytest.raises(DailyQuotaExhausted):
        limiter.acquire(deadline_monotonic=far(clock))


def test_missing_table_is_a_configuration_error(dynamodb: Any, moto_server: str) -> None:
    limiter = DynamoDBLimiter("no-such-table", LimiterConfig(), dynamodb)
    with pytest.raises(ConfigurationError):
        limiter.acquire(deadline_monotonic=far(FakeTime()))
    permit = Permit("gone", acquired_at_ms=0, expires_at_ms=1)
    limiter.release(permit, Outcome.DONE)  # never raises: the lease would expire anyway
    assert limiter.stats.release_errors == 1


def test_a_saturated_normal_lane_leaves_the_priority_lane_its_reserve(
    dynamodb: Any, state_table: str
) -> None:
    from leadsync.limiter.config import NORMAL, PRIORITY, Reserve, limiter_name, split

    clock = FakeTime()
    lanes = split(
        LimiterConfig(calls_per_window=10, max_in_flight=3, daily_cap=40, burst=2),
        Reserve(calls_per_window=2, max_in_flight=1, daily_cap=5),
    )
    limiters = {
        lane: DynamoDBLimiter(
            state_table,
            lanes[lane],
            dynamodb,
            name=limiter_name(lane),
            clock=clock.now,
            monotonic=clock.monotonic,
            sleep=clock.sleep,
        )
        for lane in (NORMAL, PRIORITY)
    }
    normal, priority = limiters[NORMAL], limiters[PRIORITY]
    # the normal lane spends its day: every call it may make
    for _ in range(35):
        normal.release(normal.acquire(deadline_monotonic=far(clock)), Outcome.DONE)
    with pytest.raises(DailyQuotaExhausted):
        normal.acquire(deadline_monotonic=far(clock))
    # the priority lane still has its own, at once (no waiting on the normal lane's window)
    before = clock.monotonic()
    permit = priority.acquire(deadline_monotonic=clock.monotonic() + 0.001)
    assert clock.monotonic() == before
    priority.release(permit, Outcome.DONE)
    assert normal.snapshot().used_today == 35
    assert priority.snapshot().used_today == 1
