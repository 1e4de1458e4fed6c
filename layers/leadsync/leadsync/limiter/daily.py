"""The daily quota's calendar: days begin at local midnight in the quota's time zone.

Marketo resets its quota at 12:00 AM US Central, which moves with daylight saving, so days
are computed with zoneinfo from epoch milliseconds, never as fixed 24-hour spans.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.state import LimiterState, PermitReason


def local_day(now_ms: int, zone: ZoneInfo) -> str:
    """The ISO date (`YYYY-MM-DD`, sorts as text) of `now_ms` in `zone`."""
    return datetime.fromtimestamp(now_ms / 1000, tz=zone).date().isoformat()


def next_midnight(day: str, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the local day after `day` begins."""
    following = date.fromisoformat(day) + timedelta(days=1)
    return datetime.combine(following, time(0), tzinfo=zone).astimezone(UTC)


def next_midnight_ms(day: str, zone: ZoneInfo) -> int:
    return int(next_midnight(day, zone).timestamp() * 1000)


def current_day(state: LimiterState, now_ms: int, zone: ZoneInfo) -> str:
    """Today, never earlier than the stored day: a lagging clock just after midnight must not
    take the counter back to yesterday's (or reset it)."""
    return max(state.day, local_day(now_ms, zone))


def used_on(state: LimiterState, today: str) -> int:
    return state.used_today if state.day == today else 0


def remaining_today(
    state: LimiterState, today: str, config: LimiterConfig
) -> tuple[int, PermitReason]:
    """Calls still allowed today, and which limit binds: min(daily_cap - ours,
    daily_quota - others - ours), where others = what the rest of the instance used."""
    if state.quota_exhausted_day == today:
        return 0, PermitReason.INSTANCE_QUOTA
    used = used_on(state, today)
    others = 0
    if state.instance_day == today:
        others = max(0, state.instance_total - state.instance_ours)
    ours_left = config.daily_cap - used
    instance_left = config.daily_quota - others - used
    if instance_left < ours_left:
        return max(0, instance_left), PermitReason.INSTANCE_QUOTA
    return max(0, ours_left), PermitReason.DAILY_CAP
