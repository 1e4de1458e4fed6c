"""The pure limiter arithmetic on a moving clock: the sliding-window guarantee, lagging clocks,
lost races, utilization and leases. A small in-memory store stands in for the DynamoDB item
with exactly the adapter's write semantics (compare-and-set on version, piecewise leases and
used_today, blind releases)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.errors import ConfigurationError
from leadsync.limiter.api import Outcome
from leadsync.limiter.bucket import apply_release, decide, live_leases, refill
from leadsync.limiter.config import MILLI, LimiterConfig
from leadsync.limiter.daily import local_day
from leadsync.limiter.state import LimiterState, PermitDecision, PermitReason

T0 = 1_780_000_000_000  # 2026-05-28, an ordinary day far from midnight in Chicago
BIG = LimiterConfig(max_in_flight=1_000, daily_cap=1_000_000, daily_quota=1_000_000)


def rate_bound(**rate: Any) -> LimiterConfig:
    """Only the call rate binds: the in-flight and daily limits are out of reach, as in BIG."""
    return LimiterConfig(max_in_flight=1_000, daily_cap=10**6, daily_quota=10**6, **rate)


@dataclass
class Store:
    """The item: a conditional acquire wins only if the version is unchanged; what it writes
    merges with blind releases the way the adapter's update expressions do."""

    state: LimiterState = field(default_factory=LimiterState)
    writes: int = 0

    def write_acquire(self, old: LimiterState, new: LimiterState) -> tuple[bool, LimiterState]:
        self.writes += 1
        current = self.state
        if current.version != old.version:
            return False, current
        removed = old.leases.keys() - new.leases.keys()
        leases = {k: v for k, v in current.leases.items() if k not in removed}
        leases |= {k: new.leases[k] for k in new.leases.keys() - old.leases.keys()}
        used = new.used_today
        if old.version and new.day == old.day:
            used = current.used_today + new.used_today - old.used_today
        self.state = replace(
            new,
            leases=leases,
            used_today=used,
            penalties=current.penalties,
            successes=current.successes,
            quota_exhausted_day=current.quota_exhausted_day,
        )
        return True, self.state

    def release(self, lease: str, outcome: Outcome, now_ms: int, config: LimiterConfig) -> None:
        day = local_day(now_ms, config.zone)
        self.state = apply_release(self.state, lease, outcome, now_ms, day, config)


@dataclass
class Actor:
    """One copy of a function: its own (possibly lagging) clock and last-seen state."""

    lag_ms: int = 0
    cache: LimiterState = field(default_factory=LimiterState)
    counter: int = 0

    def attempt(self, store: Store, real_ms: int, config: LimiterConfig) -> PermitDecision:
        now = real_ms - self.lag_ms
        self.counter += 1
        lease = f"{id(self)}-{self.counter}"
        decision = decide(self.cache, now, config, lease)
        for _ in range(10):  # a lost race re-decides from the item the write returned
            if not decision.granted:
                if decision.reason is PermitReason.IN_FLIGHT and self.cache != store.state:
                    self.cache = store.state  # the adapter's refresh read
                    decision = decide(self.cache, now, config, lease)
                    continue
                return decision
            won, self.cache = store.write_acquire(self.cache, decision.new_state)
            if won:
                return decision
            decision = decide(self.cache, now, config, lease)
        raise AssertionError("no progress")


def newest_lease(decision: PermitDecision) -> str:
    return list(decision.new_state.leases)[-1]  # decide adds it last


def max_in_window(times: list[int], span_ms: int) -> int:
    """Most grants in any CLOSED interval [t, t + span]."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_right(ordered, t + span_ms) - i for i, t in enumerate(ordered)),
        default=0,
    )


def saturate(
    config: LimiterConfig, actors: list[Actor], duration_ms: int, store: Store | None = None
) -> tuple[list[int], Store]:
    """Every actor asks again as soon as its decision allows; returns the grant times."""
    store = store or Store()
    next_at = [T0] * len(actors)
    grants: list[int] = []
    while True:
        index = min(range(len(actors)), key=next_at.__getitem__)
        real = next_at[index]
        if real > T0 + duration_ms:
            return grants, store
        decision = actors[index].attempt(store, real, config)
        if decision.granted:
            grants.append(real)
            store.release(newest_lease(decision), Outcome.DONE, real, config)
        else:
            next_at[index] = real + decision.wait_ms


# (a) never more than calls_per_window in ANY window --------------------------------------

steps = st.lists(
    st.tuples(st.integers(0, 800), st.integers(0, 3), st.integers(1, 6)),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(steps=steps, lags=st.lists(st.integers(0, 1_000), min_size=4, max_size=4))
def test_window_budget_holds_for_any_schedule_of_actors(
    steps: list[tuple[int, int, int]], lags: list[int]
) -> None:
    config = BIG
    store, actors = Store(), [Actor(lag_ms=lag) for lag in lags]
    real, grants = T0, []
    for delta, who, asks in steps:
        real += delta
        for _ in range(asks):  # bursts: the same actor asks several times at one instant
            if actors[who].attempt(store, real, config).granted:
                grants.append(real)
    # Clocks lag by at most J, so every window of W still holds at most C.
    assert max_in_window(grants, config.window_ms) <= config.calls_per_window


@settings(max_examples=30, deadline=None)
@given(
    calls=st.integers(1, 120),
    window_s=st.integers(1, 60),
    burst=st.integers(1, 5),
    jitter=st.integers(0, 2_000),
    actors=st.integers(1, 4),
)
def test_window_plus_jitter_budget_holds_when_saturated(
    calls: int, window_s: int, burst: int, jitter: int, actors: int
) -> None:
    """Marketo sees a call up to J after its grant: windows of W + J hold at most C."""
    try:
        config = rate_bound(
            calls_per_window=calls, window_seconds=window_s, burst=burst, jitter_ms=jitter
        )
    except ConfigurationError:
        return  # burst > calls: the config refuses it
    grants, _ = saturate(config, [Actor() for _ in range(actors)], 4 * config.window_ms)
    assert max_in_window(grants, config.window_ms + config.jitter_ms) <= calls


# (b) a lagging clock never mints tokens ---------------------------------------------------

states = st.builds(
    LimiterState,
    version=st.integers(1, 10),
    tokens_milli=st.integers(0, BIG.capacity_milli),
    refilled_at_ms=st.integers(T0, T0 + 10**7),
)


@given(state=states, behind=st.integers(0, 10**7), factor=st.integers(100, 1000))
def test_lagging_clock_mints_nothing_and_never_moves_time_back(
    state: LimiterState, behind: int, factor: int
) -> None:
    now = state.refilled_at_ms - behind
    assert refill(state, now, BIG, factor) == (state.tokens_milli, state.refilled_at_ms)
    decision = decide(state, now, BIG, "late")
    assert decision.granted == (state.tokens_milli >= MILLI)
    if decision.granted:
        assert decision.new_state.tokens_milli == state.tokens_milli - MILLI
        assert decision.new_state.refilled_at_ms == state.refilled_at_ms


@given(state=states, times=st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=50))
def test_refill_never_credits_the_same_time_twice(state: LimiterState, times: list[int]) -> None:
    """However clocks jump about, tokens gained ≤ rate * how far the timestamp advanced."""
    gained, current = 0, state
    for offset in times:
        tokens, at = refill(current, state.refilled_at_ms + offset, BIG, 1000)
        assert at >= current.refilled_at_ms
        gained += tokens - current.tokens_milli
        current = replace(current, tokens_milli=tokens, refilled_at_ms=at)
    advanced = current.refilled_at_ms - state.refilled_at_ms
    assert gained <= advanced * BIG.refill_milli_per_window // BIG.window_ms


# (c) a lost race loses no tokens ----------------------------------------------------------


@given(state=states, first=st.integers(0, 30_000), second=st.integers(0, 30_000))
def test_loser_of_a_race_gets_what_sequential_order_would_give(
    state: LimiterState, first: int, second: int
) -> None:
    t1, t2 = sorted((state.refilled_at_ms + first, state.refilled_at_ms + second))
    store = Store(state)
    winner, loser = Actor(cache=state), Actor(cache=state)
    won = winner.attempt(store, t1, BIG)
    lost = loser.attempt(store, t2, BIG)  # decides from `state`, loses, retries from ALL_OLD
    sequential = Store(state)
    Actor(cache=state).attempt(sequential, t1, BIG)
    expected = Actor(cache=sequential.state).attempt(sequential, t2, BIG)
    assert lost.granted == expected.granted
    assert store.state.tokens_milli == sequential.state.tokens_milli
    assert store.state.refilled_at_ms == sequential.state.refilled_at_ms
    assert won.granted == (refill(state, t1, BIG, 1000)[0] >= MILLI)


@settings(max_examples=10, deadline=None)
@given(actors=st.integers(2, 5), windows=st.integers(5, 15))
def test_contended_long_run_grants_rate_times_duration(actors: int, windows: int) -> None:
    config = BIG
    duration = windows * config.window_ms
    grants, store = saturate(config, [Actor() for _ in range(actors)], duration)
    ideal = (
        config.capacity_milli + duration * config.refill_milli_per_window // config.window_ms
    ) // MILLI
    # Each write drops under 1 milli-token of rounding; nothing else is lost to the races.
    assert ideal - 1 - store.writes // MILLI <= len(grants) <= ideal
    assert store.writes > len(grants)  # there were lost races


# (d) utilization -------------------------------------------------------------------------


def test_default_parameters() -> None:
    config = LimiterConfig()
    assert (config.burst, config.jitter_ms, config.refill_milli_per_window) == (2, 1000, 46_665)
    assert config.utilization >= 0.93
    span = config.window_ms + config.jitter_ms
    # The proof's inequality: B + R·(W + J)/W < C + 1 tokens.
    assert config.capacity_milli * config.window_ms + config.refill_milli_per_window * span < (
        (config.calls_per_window + 1) * MILLI * config.window_ms
    )


def test_saturating_actor_uses_at_least_90_percent_of_every_window() -> None:
    config = BIG
    grants, _ = saturate(config, [Actor()], 20 * config.window_ms)
    steady = [t for t in grants if t >= T0 + config.window_ms]
    last_start = T0 + 19 * config.window_ms
    counts = [
        bisect.bisect_right(steady, start + config.window_ms) - bisect.bisect_left(steady, start)
        for start in range(T0 + config.window_ms, last_start, 97)
    ]
    assert min(counts) >= 0.9 * config.calls_per_window
    assert max(counts) <= config.calls_per_window


@settings(max_examples=15, deadline=None)
@given(calls=st.integers(40, 200), window_s=st.integers(10, 60), jitter=st.integers(0, 500))
def test_long_run_utilization_at_least_90_percent(calls: int, window_s: int, jitter: int) -> None:
    config = rate_bound(calls_per_window=calls, window_seconds=window_s, jitter_ms=jitter)
    windows = 6
    grants, _ = saturate(config, [Actor(), Actor()], windows * config.window_ms)
    assert len(grants) >= 0.9 * calls * windows


# (g) leases ------------------------------------------------------------------------------


def test_expired_leases_do_not_count_and_are_dropped() -> None:
    config = LimiterConfig()
    dead = {f"dead{i}": T0 - 1 for i in range(config.max_in_flight)}
    state = LimiterState(version=3, tokens_milli=2 * MILLI, refilled_at_ms=T0, leases=dead)
    decision = decide(state, T0, config, "new")
    assert decision.granted
    assert dict(decision.new_state.leases) == {"new": T0 + config.lease_ms}


def test_live_leases_block_until_the_first_expires() -> None:
    config = LimiterConfig()
    live = {f"held{i}": T0 + 1_000 * (i + 1) for i in range(config.max_in_flight)}
    state = LimiterState(version=3, tokens_milli=2 * MILLI, refilled_at_ms=T0, leases=live)
    decision = decide(state, T0, config, "new")
    assert (decision.granted, decision.reason, decision.wait_ms) == (
        False,
        PermitReason.IN_FLIGHT,
        1_000,
    )
    assert decision.new_state is state
    assert decide(state, T0 + 1_000, config, "new").granted  # held0 expired exactly then
    assert live_leases(live, T0 + 2_500) == {k: v for k, v in live.items() if v > T0 + 2_500}


@settings(max_examples=40, deadline=None)
@given(steps=steps)
def test_in_flight_never_exceeds_the_maximum(steps: list[tuple[int, int, int]]) -> None:
    config = LimiterConfig(daily_cap=10**6, daily_quota=10**6, lease_seconds=5)
    store, actors = Store(), [Actor() for _ in range(4)]
    real, held = T0, list[tuple[str, int]]()  # (lease, release at)
    for delta, who, _ in steps:
        real += delta
        for lease, _ in [h for h in held if h[1] <= real]:
            store.release(lease, Outcome.DONE, real, config)
        held = [h for h in held if h[1] > real]
        decision = actors[who].attempt(store, real, config)
        assert len(live_leases(store.state.leases, real)) <= config.max_in_flight
        if decision.granted:
            lease = newest_lease(decision)
            if who != 3:  # actor 3 dies holding its leases: only expiry frees them
                held.append((lease, real + 3 * delta + 100))


def test_release_frees_the_lease_and_refunds_uncounted_calls() -> None:
    config = LimiterConfig()
    state = decide(LimiterState(), T0, config, "a").new_state
    day = state.day
    assert state.used_today == 1
    after = apply_release(state, "a", Outcome.NOT_COUNTED, T0 + 5, day, config)
    assert (dict(after.leases), after.used_today) == ({}, 0)
    other_day = apply_release(state, "a", Outcome.NOT_COUNTED, T0 + 5, "2000-01-01", config)
    assert other_day.used_today == 1
    quota = apply_release(state, "a", Outcome.QUOTA_EXHAUSTED, T0 + 5, day, config)
    assert quota.quota_exhausted_day == day
    assert decide(quota, T0 + 10, config, "b").reason is PermitReason.INSTANCE_QUOTA


@pytest.mark.parametrize("outcome", [Outcome.RATE_LIMITED, Outcome.CONCURRENCY_LIMITED])
def test_release_counts_penalties(outcome: Outcome) -> None:
    config = LimiterConfig()
    state = decide(LimiterState(), T0, config, "a").new_state
    assert apply_release(state, "a", outcome, T0, state.day, config).penalties == 1
