"""The priority lane's reserve: a slice of the rate, the calls in flight and the daily cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadsync.errors import ConfigurationError
from leadsync.limiter.config import (
    NORMAL,
    PRIORITY,
    LimiterConfig,
    Reserve,
    lane_config,
    split,
)

BASE = LimiterConfig(calls_per_window=50, max_in_flight=5, daily_cap=25_000)


def test_the_lanes_share_leadsyncs_limits_without_overlap() -> None:
    lanes = split(BASE, Reserve(calls_per_window=10, max_in_flight=1, daily_cap=2_000))
    normal, priority = lanes[NORMAL], lanes[PRIORITY]
    assert (normal.calls_per_window, priority.calls_per_window) == (40, 10)
    assert (normal.max_in_flight, priority.max_in_flight) == (4, 1)
    assert (normal.daily_cap, priority.daily_cap) == (23_000, 2_000)
    assert normal.daily_quota == priority.daily_quota == BASE.daily_quota


@given(
    calls=st.integers(2, 200),
    flight=st.integers(2, 20),
    cap=st.integers(2, 100_000),
    data=st.data(),
)
def test_no_reserve_lets_the_lanes_together_exceed_the_whole(
    calls: int, flight: int, cap: int, data: st.DataObject
) -> None:
    base = LimiterConfig(
        calls_per_window=calls, max_in_flight=flight, daily_cap=cap, daily_quota=max(cap, 50_000)
    )
    reserve = Reserve(
        calls_per_window=data.draw(st.integers(1, calls - 1)),
        max_in_flight=data.draw(st.integers(1, flight - 1)),
        daily_cap=data.draw(st.integers(1, cap - 1)),
    )
    lanes = split(base, reserve)
    assert sum(c.calls_per_window for c in lanes.values()) == calls
    assert sum(c.max_in_flight for c in lanes.values()) == flight
    assert sum(c.daily_cap for c in lanes.values()) == cap
    for lane in lanes.values():
        assert lane.burst <= lane.calls_per_window


@pytest.mark.parametrize(
    "reserve",
    [
        Reserve(calls_per_window=50, max_in_flight=1, daily_cap=1),
        Reserve(calls_per_window=5, max_in_flight=0, daily_cap=100),
        Reserve(calls_per_window=5, max_in_flight=1, daily_cap=25_000),
    ],
)
def test_a_reserve_that_leaves_a_lane_nothing_is_refused(reserve: Reserve) -> None:
    with pytest.raises(ConfigurationError, match="priority reserve"):
        split(BASE, reserve)


def test_each_function_finds_its_lane_and_limiter_item() -> None:
    env = {
        "MARKETO_CALLS_PER_WINDOW": "50",
        "PRIORITY_CALLS_PER_WINDOW": "10",
        "PRIORITY_MAX_IN_FLIGHT": "1",
        "PRIORITY_DAILY_CAP": "2000",
    }
    config, name = lane_config(env)
    assert (config.calls_per_window, name) == (40, "marketo")
    config, name = lane_config({**env, "LIMITER_LANE": "priority"})
    assert (config.calls_per_window, name) == (10, "marketo-priority")
    # no reserve: every lane is the one normal lane
    config, name = lane_config({"LIMITER_LANE": "priority"})
    assert (config, name) == (LimiterConfig(), "marketo")
    with pytest.raises(ConfigurationError, match="LIMITER_LANE"):
        lane_config({"LIMITER_LANE": "urgent"})
    with pytest.raises(ConfigurationError, match="PRIORITY_DAILY_CAP"):
        lane_config({"PRIORITY_DAILY_CAP": "lots"})
