"""How a refused copy paces itself: exact waits when alone, spread waits among rivals, and
never a spread that could let a lone bucket overflow by more than SLACK_TOKENS."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadsync.limiter.bucket import refill
from leadsync.limiter.config import MILLI, LimiterConfig
from leadsync.limiter.pacing import (
    SLACK_TOKENS,
    STALE_AFTER,
    Pacer,
    lease_owner,
    token_interval_ms,
)
from leadsync.limiter.state import LimiterState

CONFIG = LimiterConfig()
T0 = 1_780_000_000_000
INTERVAL = token_interval_ms(LimiterState(), CONFIG)  # 428.6 ms at full rate


def at(
    version: int, tokens_milli: int = 0, factor_milli: int = 1_000, holders: tuple[str, ...] = ()
) -> LimiterState:
    return LimiterState(
        version=version,
        tokens_milli=tokens_milli,
        refilled_at_ms=T0,
        factor_milli=factor_milli,
        leases={f"{holder}.{version}": T0 + 70_000 for holder in holders},
    )


def among(rivals: int, random: float = 0.5) -> Pacer:
    """A copy that has watched `rivals` other copies take turns with it."""
    pacer = Pacer(CONFIG, "me", lambda: random)
    version = 0
    for turn in range(3):
        for rival in range(rivals):
            version += 1
            pacer.observe(at(version, holders=(f"r{rival}",)), T0 - 10 * (turn + 1))
        version += 1
        pacer.observe(at(version, holders=("me",)), T0 - 10 * (turn + 1), won_acquire=True)
    pacer.observe(at(version + 1, holders=("r0",) if rivals else ()), T0)
    return pacer


def test_token_interval_follows_the_adaptive_factor() -> None:
    assert round(INTERVAL, 1) == 428.6  # 20 s / 46.665 tokens
    assert token_interval_ms(at(1, factor_milli=500), CONFIG) == 2 * INTERVAL


def test_lease_ids_name_their_copy() -> None:
    assert lease_owner("3fa2c1d0.9b1e") == "3fa2c1d0"


def test_alone_the_wait_is_exact_and_nothing_is_read() -> None:
    pacer = Pacer(CONFIG, "me", lambda: 0.99)
    for version in range(1, 20):  # every grant is ours
        pacer.observe(at(version, holders=("me",)), T0 + version, won_acquire=True)
    assert not pacer.contended(T0 + 20)
    assert pacer.rate_wait_ms(at(19), T0 + 20, 300) == 300
    assert not pacer.should_read(at(19), T0 + 10_000)


def test_rivals_are_the_other_copies_seen_holding_leases() -> None:
    assert among(4).rivals(T0) == 4
    assert among(1).rivals(T0) == 1
    assert among(4).rivals(T0 + CONFIG.window_ms + 100) == 1  # forgotten; someone still won


def test_among_rivals_waits_spread_over_the_next_refills() -> None:
    state, now = at(300, tokens_milli=CONFIG.capacity_milli - MILLI), T0
    late = among(1, random=0.999)
    assert 0.98 * INTERVAL < late.rate_wait_ms(state, now, 100) - 100 <= 1.07 * INTERVAL
    early = among(1, random=0.0)
    assert early.rate_wait_ms(state, now, 100) == 100


def test_spread_stops_short_of_overflowing_a_lone_bucket() -> None:
    pacer = among(9, random=0.999)  # nine rivals: a spread of 9 refills, unbounded
    wait = pacer.rate_wait_ms(at(600), T0, 100)
    full_in = CONFIG.burst * INTERVAL  # an empty bucket at T0
    assert full_in + (SLACK_TOKENS - 0.1) * INTERVAL < wait
    assert wait <= full_in + (SLACK_TOKENS + 1 / 16) * INTERVAL


@given(
    tokens=st.integers(0, CONFIG.capacity_milli),
    elapsed=st.integers(-5_000, 5_000),
    factor=st.integers(CONFIG.min_factor_milli, MILLI),
    rivals=st.integers(0, 20),
    random=st.floats(0, 0.999),
)
def test_never_sleeps_past_overflow_plus_slack(
    tokens: int, elapsed: int, factor: int, rivals: int, random: float
) -> None:
    pacer = among(rivals, random=random)
    state = at(1_000, tokens, factor)
    now = T0 + elapsed
    interval = token_interval_ms(state, CONFIG)
    level, _ = refill(state, now, CONFIG, factor)
    full_in = (CONFIG.capacity_milli - level) * interval / MILLI
    wait = pacer.rate_wait_ms(state, now, 50)
    assert 50 <= wait <= max(50, full_in + SLACK_TOKENS * interval) + interval / 16


def test_evidence_of_rivals_fades_after_a_window() -> None:
    pacer = among(2)
    assert pacer.contended(T0 + CONFIG.window_ms)
    assert not pacer.contended(T0 + CONFIG.window_ms + 1)


def test_reads_first_only_when_contended_and_the_state_is_old() -> None:
    pacer = among(2)
    state = at(1_000)
    assert not pacer.should_read(state, T0 + int(STALE_AFTER * INTERVAL))
    assert pacer.should_read(state, T0 + int(STALE_AFTER * INTERVAL) + 1)
    assert not Pacer(CONFIG, "me", lambda: 0.5).should_read(state, T0)  # nothing seen yet


def test_polls_spread_around_poll_ms_and_stop_at_the_expiry() -> None:
    assert Pacer(CONFIG, "me", lambda: 0.0).poll_wait_ms(10_000) == CONFIG.poll_ms // 2
    assert Pacer(CONFIG, "me", lambda: 0.999).poll_wait_ms(10_000) < 1.5 * CONFIG.poll_ms
    assert Pacer(CONFIG, "me", lambda: 0.999).poll_wait_ms(40) == 40
