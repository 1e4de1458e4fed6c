"""(e) The daily counter: days begin at midnight America/Chicago, daylight saving included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadsync.limiter.bucket import decide
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.daily import local_day, next_midnight, next_midnight_ms, remaining_today
from leadsync.limiter.state import LimiterState, PermitReason

CONFIG = LimiterConfig(daily_cap=10, daily_quota=100)
ZONE = CONFIG.zone


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("day", "midnight_utc", "hours"),
    [
        ("2026-05-27", "2026-05-28T05:00:00+00:00", 24),  # CDT
        ("2026-01-14", "2026-01-15T06:00:00+00:00", 24),  # CST
        ("2026-03-08", "2026-03-09T05:00:00+00:00", 23),  # spring forward: a 23-hour day
        ("2026-11-01", "2026-11-02T06:00:00+00:00", 25),  # fall back: a 25-hour day
    ],
)
def test_days_begin_at_local_midnight(day: str, midnight_utc: str, hours: int) -> None:
    end = datetime.fromisoformat(midnight_utc)
    assert next_midnight(day, ZONE) == end
    start = next_midnight(
        (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat(), ZONE
    )
    assert end - start == timedelta(hours=hours)
    assert local_day(ms(midnight_utc) - 1, ZONE) == day
    assert local_day(ms(midnight_utc), ZONE) > day


@pytest.mark.parametrize("day", ["2026-03-08", "2026-11-01", "2026-05-27"])
def test_cap_spent_until_local_midnight_then_reset(day: str) -> None:
    midnight = next_midnight_ms(day, ZONE)
    spent = LimiterState(
        version=9,
        tokens_milli=2_000,
        refilled_at_ms=midnight - 60_000,
        day=day,
        used_today=CONFIG.daily_cap,
    )
    refused = decide(spent, midnight - 1, CONFIG, "late")
    assert (refused.granted, refused.reason, refused.wait_ms) == (False, PermitReason.DAILY_CAP, 1)
    granted = decide(spent, midnight, CONFIG, "new day")
    assert granted.granted
    assert granted.new_state.day > day
    assert granted.new_state.used_today == 1


def test_lagging_clock_after_midnight_keeps_the_new_day() -> None:
    midnight = next_midnight_ms("2026-03-08", ZONE)
    state = LimiterState(
        version=9, tokens_milli=2_000, refilled_at_ms=midnight + 10, day="2026-03-09", used_today=4
    )
    decision = decide(state, midnight - 5_000, CONFIG, "behind")  # still "yesterday" for it
    assert (decision.new_state.day, decision.new_state.used_today) == ("2026-03-09", 5)


def test_instance_usage_of_others_shrinks_the_budget() -> None:
    state = LimiterState(
        day="2026-05-27",
        used_today=3,
        instance_day="2026-05-27",
        instance_total=95,
        instance_ours=2,
    )
    # others = 95 - 2 = 93; instance left = 100 - 93 - 3 = 4 < cap left 7
    assert remaining_today(state, "2026-05-27", CONFIG) == (4, PermitReason.INSTANCE_QUOTA)
    stale = LimiterState(
        day="2026-05-27", used_today=3, instance_day="2026-05-26", instance_total=95
    )
    assert remaining_today(stale, "2026-05-27", CONFIG) == (7, PermitReason.DAILY_CAP)


@given(st.integers(ms("2020-01-01T00:00:00+00:00"), ms("2035-01-01T00:00:00+00:00")))
def test_next_midnight_is_the_start_of_the_next_local_day(now: int) -> None:
    day = local_day(now, ZONE)
    midnight = next_midnight(day, ZONE)
    assert midnight.tzinfo == UTC
    assert 0 < midnight.timestamp() * 1000 - now <= 25 * 3_600_000
    assert local_day(int(midnight.timestamp() * 1000), ZONE) > day
    assert midnight.astimezone(ZONE).hour == 0
