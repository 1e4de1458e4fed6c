"""AIMD on the refill rate: the instance is shared, so a 606/615 means someone else is busy.

Releases only count outcomes (blind ADDs, no read-modify-write); the next acquire, which
writes under the version lock anyway, folds the new counts into the factor. Successes are
applied before penalties so a burst of mixed news ends on the cautious side, and the factor
is cut at most once per window: the several 606s of one congested window are one signal.
"""

from __future__ import annotations

from dataclasses import replace

from leadsync.limiter.config import MILLI, LimiterConfig
from leadsync.limiter.state import LimiterState


def fold_outcomes(state: LimiterState, now_ms: int, config: LimiterConfig) -> LimiterState:
    """Apply the outcomes reported since the last fold to `factor_milli`."""
    successes = state.successes - state.successes_folded
    penalties = state.penalties - state.penalties_folded
    if successes <= 0 and penalties <= 0:
        return state
    factor = min(MILLI, state.factor_milli + max(0, successes) * config.increase_milli)
    last_cut = state.last_cut_ms
    if penalties > 0 and now_ms - state.last_cut_ms >= config.window_ms:
        factor = max(config.min_factor_milli, factor * config.decrease_milli // MILLI)
        last_cut = max(state.last_cut_ms, now_ms)
    return replace(
        state,
        factor_milli=factor,
        last_cut_ms=last_cut,
        successes_folded=max(state.successes, state.successes_folded),
        penalties_folded=max(state.penalties, state.penalties_folded),
    )
