"""The limiter's configuration, from the functions' environment."""

from __future__ import annotations

import pytest

from leadsync.errors import ConfigurationError
from leadsync.limiter.config import LimiterConfig


def test_defaults_are_marketos_advice() -> None:
    config = LimiterConfig.from_env({})
    assert (config.calls_per_window, config.window_seconds, config.max_in_flight) == (50, 20, 5)
    assert (config.daily_quota, config.quota_timezone) == (50_000, "America/Chicago")
    assert config.utilization >= 0.9


def test_from_env() -> None:
    config = LimiterConfig.from_env(
        {
            "MARKETO_CALLS_PER_WINDOW": "80",
            "MARKETO_WINDOW_SECONDS": "20",
            "MARKETO_MAX_IN_FLIGHT": "8",
            "MARKETO_DAILY_CAP": "10000",
            "MARKETO_DAILY_QUOTA": "10000",
            "MARKETO_QUOTA_TIMEZONE": "Europe/Paris",
            "MARKETO_USAGE_SYNC_SECONDS": "600",
            "UNRELATED": "x",
        }
    )
    assert (config.calls_per_window, config.max_in_flight, config.daily_cap) == (80, 8, 10_000)
    assert config.quota_timezone == "Europe/Paris"
    assert config.usage_sync_seconds == 600
    assert LimiterConfig.from_env({}).usage_sync_seconds == 300


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MARKETO_CALLS_PER_WINDOW": "many"}, "not an integer"),
        ({"MARKETO_MAX_IN_FLIGHT": "0"}, "max_in_flight"),
        ({"MARKETO_DAILY_CAP": "60000"}, "daily_cap"),
        ({"MARKETO_QUOTA_TIMEZONE": "Mars/Olympus"}, "time zone"),
        ({"MARKETO_USAGE_SYNC_SECONDS": "0"}, "usage_sync_seconds"),
        ({"MARKETO_CALLS_PER_WINDOW": "1", "MARKETO_BURST": "2"}, "burst"),
        (
            {
                "MARKETO_WINDOW_SECONDS": "1",
                "MARKETO_CALLS_PER_WINDOW": "1",
                "MARKETO_BURST": "1",
                "MARKETO_JITTER_MS": "1000000",
            },
            "never refills",
        ),
    ],
)
def test_invalid_configuration_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        LimiterConfig.from_env(environ)
