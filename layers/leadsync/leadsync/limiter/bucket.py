"""Pure limiter arithmetic: no I/O, no clock of its own. Every function takes the state and
`now_ms` and returns a new state, so one history of writes (serialized by the version lock
in the adapter) decides everything, and tests can drive it with any clock they like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from leadsync.limiter.adaptive import fold_outcomes
from leadsync.limiter.api import Outcome
from leadsync.limiter.config import MILLI, LimiterConfig
from leadsync.limiter.daily import current_day, next_midnight_ms, remaining_today, used_on
from leadsync.limiter.state import LimiterState, PermitDecision, PermitReason

_PENALTIES = frozenset({Outcome.RATE_LIMITED, Outcome.CONCURRENCY_LIMITED})


def refill(
    state: LimiterState, now_ms: int, config: LimiterConfig, factor_milli: int
) -> tuple[int, int]:
    """(tokens_milli, refilled_at_ms) at `now_ms`, computed lazily from the elapsed time.

    A clock behind the stored timestamp sees elapsed = 0: it mints nothing and leaves the
    timestamp where it is, so time credited once is never credited again."""
    elapsed = max(0, now_ms - state.refilled_at_ms)
    gained = elapsed * config.refill_milli_per_window * factor_milli // (config.window_ms * MILLI)
    tokens = min(config.capacity_milli, state.tokens_milli + gained)
    return tokens, max(state.refilled_at_ms, now_ms)


def wait_for_token_ms(
    state: LimiterState, now_ms: int, config: LimiterConfig, factor_milli: int
) -> int:
    """Milliseconds from `now_ms` until `refill` yields a whole token (at least 1)."""
    deficit = MILLI - state.tokens_milli
    if deficit <= 0:
        return 0
    per_window = config.refill_milli_per_window * factor_milli
    elapsed_needed = -(-deficit * config.window_ms * MILLI // per_window)  # ceiling
    return max(1, state.refilled_at_ms + elapsed_needed - now_ms)


def live_leases(leases: Mapping[str, int], now_ms: int) -> dict[str, int]:
    """Leases still held: an expired one belongs to a holder that died; it no longer counts."""
    return {lease: expires for lease, expires in leases.items() if expires > now_ms}


def decide(
    state: LimiterState, now_ms: int, config: LimiterConfig, lease_id: str
) -> PermitDecision:
    """Grant one call to `lease_id` at `now_ms`, or say why not and how long to wait."""
    folded = fold_outcomes(state, now_ms, config)
    # A cut applies at once; a recovery only from now on (never to time already elapsed).
    factor = min(state.factor_milli, folded.factor_milli)
    today = current_day(state, now_ms, config.zone)
    left, limit = remaining_today(state, today, config)
    if left <= 0:
        wait = next_midnight_ms(today, config.zone) - now_ms
        return PermitDecision(False, state, max(1, wait), limit)
    live = live_leases(state.leases, now_ms)
    if len(live) >= config.max_in_flight:
        return PermitDecision(
            False, state, max(1, min(live.values()) - now_ms), PermitReason.IN_FLIGHT
        )
    tokens, refilled_at = refill(state, now_ms, config, factor)
    if tokens < MILLI:
        wait = wait_for_token_ms(state, now_ms, config, factor)
        return PermitDecision(False, state, wait, PermitReason.RATE)
    new_state = replace(
        folded,
        version=state.version + 1,
        tokens_milli=tokens - MILLI,
        refilled_at_ms=refilled_at,
        factor_milli=folded.factor_milli,
        day=today,
        used_today=used_on(state, today) + 1,
        # Based on the latest timestamp seen, so a lagging clock cannot shorten a lease.
        leases={**live, lease_id: refilled_at + config.lease_ms},
    )
    return PermitDecision(True, new_state, 0, PermitReason.GRANTED)


def apply_release(
    state: LimiterState,
    lease_id: str,
    outcome: Outcome,
    now_ms: int,
    acquired_day: str,
    config: LimiterConfig,
) -> LimiterState:
    """What a release does to the state; the adapter does the same with blind writes."""
    released = replace(
        state, leases={lease: exp for lease, exp in state.leases.items() if lease != lease_id}
    )
    if outcome is Outcome.DONE:
        return replace(released, successes=state.successes + 1)
    if outcome in _PENALTIES:
        return replace(released, penalties=state.penalties + 1)
    if outcome is Outcome.QUOTA_EXHAUSTED:
        return replace(released, quota_exhausted_day=current_day(state, now_ms, config.zone))
    if outcome is Outcome.NOT_COUNTED and state.day == acquired_day and state.used_today > 0:
        return replace(released, used_today=state.used_today - 1)  # Marketo did not count it
    return released


def with_instance_usage(state: LimiterState, total: int, day: str) -> LimiterState:
    """Record what stats/usage.json says the whole instance used on `day`."""
    ours = state.used_today if state.day == day else 0
    return replace(state, instance_day=day, instance_total=total, instance_ours=ours)
