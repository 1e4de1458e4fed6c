"""Daily counters against moto in server mode, on a table built from template.yaml."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import boto3
import pytest

from leadsync.adapters.stats import DailyStats
from leadsync.errors import ConfigurationError

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 15, 18, 0, tzinfo=UTC)  # noon in Chicago
# Chicago moves to CDT at 02:00 local on 2026-03-08, i.e. 08:00 UTC.
DST_DAY = date(2026, 3, 8)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _items(table: str) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", boto3.client("dynamodb").scan(TableName=table)["Items"])


def test_counters_add_up_across_calls(state_table: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))
    assert stats.read(date(2026, 1, 15)) == {}
    stats.add({"created": 3, "updated": 2})
    stats.add({"created": 1, "rejected": 4})
    assert stats.read(date(2026, 1, 15)) == {"created": 4, "updated": 2, "rejected": 4}
    assert stats.read(date(2026, 1, 14)) == {}
    assert stats.requests == 5


def test_one_item_per_day_that_expires(state_table: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))
    stats.add({"created": 1})
    [item] = _items(state_table)
    assert item["pk"] == {"S": "stats#2026-01-15"}
    assert item["sk"] == {"S": "day"}
    # Midnight ending 2026-01-15 in Chicago is 06:00 UTC, then 35 days.
    expected = datetime(2026, 1, 16, 6, 0, tzinfo=UTC) + timedelta(days=35)
    assert int(item["expires_at"]["N"]) == int(expected.timestamp())


def test_days_are_local_to_the_zone_across_a_dst_change(state_table: str) -> None:
    clock = Clock(datetime(2026, 3, 8, 5, 30, tzinfo=UTC))
    stats = DailyStats(state_table, clock=clock)
    assert stats.today() == date(2026, 3, 7)
    stats.add({"created": 1})
    stats.add({"created": 10}, at=datetime(2026, 3, 8, 6, 30, tzinfo=UTC))  # 00:30 CST
    stats.add({"created": 100}, at=datetime(2026, 3, 9, 4, 59, tzinfo=UTC))  # 23:59 CDT
    stats.add({"created": 1000}, at=datetime(2026, 3, 9, 5, 0, tzinfo=UTC))  # 00:00 CDT
    assert stats.read(date(2026, 3, 7)) == {"created": 1}
    assert stats.read(DST_DAY) == {"created": 110}
    assert stats.read(date(2026, 3, 9)) == {"created": 1000}
    clock.now = datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert stats.today() == DST_DAY

    [item] = [i for i in _items(state_table) if i["pk"]["S"] == "stats#2026-03-08"]
    expected = datetime(2026, 3, 9, 5, 0, tzinfo=UTC) + timedelta(days=35)
    assert int(item["expires_at"]["N"]) == int(expected.timestamp())


def test_another_zone(state_table: str) -> None:
    stats = DailyStats(
        state_table, clock=Clock(datetime(2026, 3, 8, 5, 30, tzinfo=UTC)), zone="UTC"
    )
    assert stats.today() == DST_DAY


@pytest.mark.parametrize(
    "name", ["", "Created", "1st", "a-b", "a b", "é", "x" * 65, "pk", "expires_at", "ok\n"]
)
def test_invalid_counter_names_are_refused(state_table: str, name: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))
    with pytest.raises(ValueError, match="counter name"):
        stats.add({"created": 1, name: 1})
    assert stats.requests == 0
    assert _items(state_table) == []


def test_the_longest_valid_name(state_table: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))
    name = "a" + "_9" * 31 + "z"
    stats.add({name: 2})
    assert stats.read(date(2026, 1, 15)) == {name: 2}


def test_zero_counters_cost_no_call(state_table: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))
    stats.add({})
    stats.add({"created": 0, "updated": 0})
    assert stats.requests == 0
    assert _items(state_table) == []
    stats.add({"created": 0, "updated": 2})
    assert stats.read(date(2026, 1, 15)) == {"updated": 2}


def test_concurrent_adds_lose_nothing(state_table: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))

    def work() -> None:
        for _ in range(10):
            stats.add({"created": 1, "updated": 2})

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stats.read(date(2026, 1, 15)) == {"created": 60, "updated": 120}


def test_a_naive_time_is_refused(state_table: str) -> None:
    stats = DailyStats(state_table, clock=Clock(T0))
    with pytest.raises(ValueError, match="naive"):
        stats.add({"created": 1}, at=datetime(2026, 1, 15, 12, 0))


def test_an_unknown_zone_is_a_configuration_error(moto_server: str) -> None:
    with pytest.raises(ConfigurationError, match="time zone"):
        DailyStats("any", zone="Mars/Olympus")


def test_a_missing_table_is_a_configuration_error(moto_server: str) -> None:
    stats = DailyStats("no-such-table", clock=Clock(T0))
    with pytest.raises(ConfigurationError, match="STATE_TABLE"):
        stats.add({"created": 1})
    with pytest.raises(ConfigurationError, match="STATE_TABLE"):
        stats.read(date(2026, 1, 15))
