"""(f) The adaptive factor: halves on 606/615 (once per window), recovers additively."""

from __future__ import annotations

from dataclasses import replace

from leadsync.limiter.adaptive import fold_outcomes
from leadsync.limiter.bucket import decide
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.state import LimiterState, PermitReason

CONFIG = LimiterConfig()
T0 = 1_780_000_000_000


def test_penalty_halves_then_successes_recover() -> None:
    state = LimiterState(version=1, tokens_milli=2_000, refilled_at_ms=T0, penalties=3)
    cut = decide(state, T0, CONFIG, "a").new_state
    assert cut.factor_milli == 500
    assert cut.penalties_folded == 3
    recovering = fold_outcomes(replace(cut, successes=25), T0 + 1, CONFIG)
    assert recovering.factor_milli == 750
    recovered = fold_outcomes(replace(recovering, successes=500), T0 + 2, CONFIG)
    assert recovered.factor_milli == 1000  # never above full rate


def test_cut_at_most_once_per_window_and_never_below_the_floor() -> None:
    state = LimiterState(version=1, tokens_milli=0, refilled_at_ms=T0, penalties=1)
    once = fold_outcomes(state, T0, CONFIG)
    again = fold_outcomes(replace(once, penalties=2), T0 + CONFIG.window_ms - 1, CONFIG)
    assert (once.factor_milli, again.factor_milli) == (500, 500)
    current = again
    for step in range(1, 10):
        current = fold_outcomes(
            replace(current, penalties=current.penalties + 1), T0 + step * CONFIG.window_ms, CONFIG
        )
    assert current.factor_milli == CONFIG.min_factor_milli


def test_lower_factor_slows_the_refill() -> None:
    empty = LimiterState(version=1, tokens_milli=0, refilled_at_ms=T0)
    full_rate = decide(empty, T0, CONFIG, "a")
    half_rate = decide(replace(empty, factor_milli=500), T0, CONFIG, "a")
    assert full_rate.reason is half_rate.reason is PermitReason.RATE
    assert abs(half_rate.wait_ms - 2 * full_rate.wait_ms) <= 1


def test_penalty_applies_at_once_recovery_only_from_now_on() -> None:
    base = LimiterState(version=1, tokens_milli=0, refilled_at_ms=T0, factor_milli=500)
    later = T0 + 1_000
    recovered = decide(replace(base, successes=1_000), later, CONFIG, "a")
    plain = decide(base, later, CONFIG, "a")
    assert recovered.wait_ms == plain.wait_ms  # elapsed time refilled at the old factor
