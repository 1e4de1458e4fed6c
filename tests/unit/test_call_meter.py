"""The call meter: an invocation's Marketo calls, token requests aside, added to the day's
counters in the hour the invocation began, in the quota's time zone."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from leadsync.runtime.wiring.meter import CallMeter, MeterStart, add_calls_used, quota_calls

START = datetime(2026, 1, 15, 13, 59, tzinfo=UTC)  # 07:59 in Chicago


@dataclass
class Client:
    calls: Counter[str] = field(default_factory=Counter)


@dataclass
class Stats:
    added: list[tuple[dict[str, int], datetime | None]] = field(default_factory=list)

    def add(self, counters: Mapping[str, int], *, at: datetime | None = None) -> None:
        self.added.append((dict(counters), at))


def test_token_requests_are_not_quota_calls() -> None:
    assert quota_calls({"identity": 3, "lookup": 2, "sync": 5}) == 7
    assert quota_calls({"identity": 1}) == 0


def test_the_calls_since_the_start_count_in_the_hour_the_invocation_began() -> None:
    client = Client(Counter({"identity": 1, "lookup": 4}))  # an earlier invocation's calls
    start = MeterStart(calls=quota_calls(client.calls), waited_s=0.0, at=START)
    client.calls.update({"identity": 1, "sync": 2, "lookup": 1})
    stats = Stats()

    assert add_calls_used(client, start, stats, "America/Chicago") == 3
    assert stats.added == [({"marketo_calls": 3, "marketo_calls_hour_07": 3}, START)]


def test_an_invocation_without_calls_adds_nothing() -> None:
    client = Client(Counter({"identity": 2}))
    stats = Stats()
    assert add_calls_used(client, MeterStart(0, 0.0, START), stats, "America/Chicago") == 0
    assert stats.added == []


def test_the_meter_counts_an_invocation_that_fails_too() -> None:
    client = Client(Counter({"lookup": 10}))
    stats = Stats()
    meter = CallMeter(client, stats, "UTC")

    def invocation() -> None:
        with meter.counting():
            client.calls["sync"] += 2
            raise RuntimeError("the invocation failed")

    with pytest.raises(RuntimeError):
        invocation()
    [(counters, _)] = stats.added
    assert counters["marketo_calls"] == 2
