"""The limiter's configuration: Marketo's limits as leadsync's share of them, plus tuning.

Every figure is configuration (DESIGN: the defaults are Marketo's published advice). The
token-bucket parameters are DERIVED here so that the sliding-window guarantee holds for any
configuration; see `refill_milli_per_window` for the proof.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadsync.errors import ConfigurationError

MILLI = 1000  # milli-tokens per token: one call costs MILLI

# Environment variable → field. The first six are set by template.yaml's Globals; the
# others are optional tuning knobs with safe defaults.
_ENV = {
    "MARKETO_CALLS_PER_WINDOW": "calls_per_window",
    "MARKETO_WINDOW_SECONDS": "window_seconds",
    "MARKETO_MAX_IN_FLIGHT": "max_in_flight",
    "MARKETO_DAILY_CAP": "daily_cap",
    "MARKETO_DAILY_QUOTA": "daily_quota",
    "MARKETO_QUOTA_TIMEZONE": "quota_timezone",
    "MARKETO_LEASE_SECONDS": "lease_seconds",
    "MARKETO_BURST": "burst",
    "MARKETO_JITTER_MS": "jitter_ms",
    "MARKETO_USAGE_SYNC_SECONDS": "usage_sync_seconds",
}


@dataclass(frozen=True)
class LimiterConfig:
    calls_per_window: int = 50  # C: leadsync's share of the instance's 100 calls / 20 s
    window_seconds: int = 20  # W: Marketo's sliding window
    max_in_flight: int = 5  # leadsync's share of the instance's 10 concurrent calls
    daily_cap: int = 25_000  # leadsync's own daily cap
    daily_quota: int = 50_000  # the whole instance's daily quota
    quota_timezone: str = "America/Chicago"  # Marketo resets the quota at midnight there
    lease_seconds: int = 70  # a dead holder's lease lives this long (> the HTTP timeout)
    burst: int = 2  # B: bucket capacity in calls
    # J: how late after its permit a call may reach Marketo (connection set-up, retries of
    # the socket, clock skew between copies). The budget is kept for windows of W + J.
    jitter_ms: int = 1_000
    poll_ms: int = 250  # how often a caller waiting for a free lease looks again
    # AIMD on the refill rate, in thousandths: halve on 606/615, +1 % per successful call.
    decrease_milli: int = 500
    min_factor_milli: int = 100
    increase_milli: int = 10
    # How often (across every copy) one copy reads stats/usage.json to learn what the rest
    # of the instance used today; each read is a Marketo call of its own.
    usage_sync_seconds: int = 300

    def __post_init__(self) -> None:
        problems = [
            f"{name} must be at least {low}"
            for name, low in _MINIMUMS.items()
            if getattr(self, name) < low
        ]
        if self.daily_cap > self.daily_quota:
            problems.append("daily_cap must not exceed daily_quota")
        if self.burst > self.calls_per_window:
            problems.append("burst must not exceed calls_per_window")
        elif self.refill_milli_per_window < 1:
            problems.append("jitter_ms is too large for the window: the bucket never refills")
        if not 0 < self.decrease_milli < MILLI or not 0 < self.min_factor_milli <= MILLI:
            problems.append("decrease_milli and min_factor_milli must lie in (0, 1000)")
        try:
            ZoneInfo(self.quota_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"unknown time zone {self.quota_timezone!r}")
        if problems:
            raise ConfigurationError("LimiterConfig: " + "; ".join(problems))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Self:
        """Build from the function's environment; absent variables keep their defaults."""
        values: dict[str, int | str] = {}
        for variable, name in _ENV.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            if name == "quota_timezone":
                values[name] = raw
                continue
            try:
                values[name] = int(raw)
            except ValueError:
                raise ConfigurationError(f"{variable}: not an integer: {raw!r}") from None
        return cls(**values)  # type: ignore[arg-type]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.quota_timezone)  # ZoneInfo caches instances itself

    @property
    def window_ms(self) -> int:
        return self.window_seconds * 1000

    @property
    def lease_ms(self) -> int:
        return self.lease_seconds * 1000

    @property
    def capacity_milli(self) -> int:
        return self.burst * MILLI

    @property
    def refill_milli_per_window(self) -> int:
        """R: milli-tokens the bucket gains per W at full rate (factor 1).

        Claim: in ANY closed interval of length L = W + J at most C calls are granted, so
        Marketo (which sees each call at most J after its grant) never sees more than C in
        any window of length W.
        Proof: writes are serialized by the version lock, so tokens follow one history that
        never goes negative. Before the first grant inside the interval the level is at most
        the capacity B·1000 (refill is clipped there); during the interval refill adds at
        most floor-sums of elapsed·R/W ≤ L·R/W (the refill timestamp only advances, by at
        most L, and factor ≤ 1). Each grant costs 1000, so 1000·n ≤ B·1000 + R·L/W. With
        R = floor(((C+1)·1000 - 1 - B·1000)·W / L), the right side is < (C+1)·1000, hence
        n < C + 1, i.e. n ≤ C. Sustained throughput is R/1000 calls per W (≥ 0.93·C for
        the defaults: B = 2, J = 1 s gives R = 46 665).
        """
        span = self.window_ms + self.jitter_ms
        budget = (self.calls_per_window + 1) * MILLI - 1 - self.capacity_milli
        return budget * self.window_ms // span

    @property
    def utilization(self) -> float:
        """Sustained share of `calls_per_window` a saturating caller gets."""
        return self.refill_milli_per_window / (self.calls_per_window * MILLI)


_MINIMUMS = {
    "calls_per_window": 1,
    "window_seconds": 1,
    "max_in_flight": 1,
    "daily_cap": 1,
    "daily_quota": 1,
    "lease_seconds": 1,
    "burst": 1,
    "jitter_ms": 0,
    "poll_ms": 1,
    "increase_milli": 0,
    "usage_sync_seconds": 1,
}


# The priority lane (webhooks): a slice of the rate, of the calls in flight and of the daily
# cap reserved for it. It has a limiter item of its own, and the normal lane (hourly sync,
# bulk, replay) gets what is left, so neither can ever take the other's share.
_RESERVE_ENV = {
    "PRIORITY_CALLS_PER_WINDOW": "calls_per_window",
    "PRIORITY_MAX_IN_FLIGHT": "max_in_flight",
    "PRIORITY_DAILY_CAP": "daily_cap",
}
NORMAL, PRIORITY = "normal", "priority"
LANES = (NORMAL, PRIORITY)


@dataclass(frozen=True)
class Reserve:
    """What the priority lane keeps for itself; all zero: no priority lane."""

    calls_per_window: int = 0
    max_in_flight: int = 0
    daily_cap: int = 0

    @property
    def empty(self) -> bool:
        return not (self.calls_per_window or self.max_in_flight or self.daily_cap)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Reserve:
        values: dict[str, int] = {}
        for variable, name in _RESERVE_ENV.items():
            raw = environ.get(variable, "").strip()
            if raw:
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ConfigurationError(f"{variable}: not an integer: {raw!r}") from None
        return cls(**values)


def split(config: LimiterConfig, reserve: Reserve) -> dict[str, LimiterConfig]:
    """The two lanes' limits: the priority lane gets `reserve`, the normal lane the rest.

    Each lane's limiter keeps its own within its own share, so together they keep within
    `config`: in any window at most C_normal + C_priority = C calls, and so on."""
    if reserve.empty:
        return {NORMAL: config}
    problems = [
        f"the priority reserve of {name} must lie between 1 and {total - 1}"
        for name, part, total in (
            ("calls_per_window", reserve.calls_per_window, config.calls_per_window),
            ("max_in_flight", reserve.max_in_flight, config.max_in_flight),
            ("daily_cap", reserve.daily_cap, config.daily_cap),
        )
        if not 1 <= part < total
    ]
    if problems:
        raise ConfigurationError("LimiterConfig: " + "; ".join(problems))
    normal_calls = config.calls_per_window - reserve.calls_per_window
    return {
        NORMAL: replace(
            config,
            calls_per_window=normal_calls,
            max_in_flight=config.max_in_flight - reserve.max_in_flight,
            daily_cap=config.daily_cap - reserve.daily_cap,
            burst=min(config.burst, normal_calls),
        ),
        PRIORITY: replace(
            config,
            calls_per_window=reserve.calls_per_window,
            max_in_flight=reserve.max_in_flight,
            daily_cap=reserve.daily_cap,
            burst=min(config.burst, reserve.calls_per_window),
        ),
    }


def limiter_name(lane: str, base: str = "marketo") -> str:
    """The limiter item of a lane: the normal lane keeps the plain name."""
    return base if lane == NORMAL else f"{base}-{lane}"


def lane_config(environ: Mapping[str, str]) -> tuple[LimiterConfig, str]:
    """(limits, limiter name) of the lane this function writes in (LIMITER_LANE, default
    normal). With no priority reserve configured, every lane is the normal one."""
    lane = environ.get("LIMITER_LANE", "").strip() or NORMAL
    if lane not in LANES:
        raise ConfigurationError(f"LIMITER_LANE: one of {', '.join(LANES)}, not {lane!r}")
    lanes = split(LimiterConfig.from_env(environ), Reserve.from_env(environ))
    if lane not in lanes:
        lane = NORMAL
    return lanes[lane], limiter_name(lane)
