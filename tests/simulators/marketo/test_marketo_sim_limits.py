"""606 / 607 / 615 from real windows and counters, the noisy neighbour, the audit figures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from local.simulators.marketo import FaultConfig, MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.concurrency import run_together
from tests.support.marketo_sim import sim_client, sim_config

CHICAGO = ZoneInfo("America/Chicago")
USAGE = "/rest/v1/stats/usage.json"


def _start(**kw: Any) -> MarketoSimulator:
    return MarketoSimulator(sim_config(**kw)).start()


@pytest.fixture
def make() -> Iterator[Any]:
    started: list[MarketoSimulator] = []

    def factory(**kw: Any) -> tuple[MarketoSimulator, SimClient]:
        sim = _start(**kw)
        started.append(sim)
        return sim, sim_client(sim)

    yield factory
    for sim in started:
        sim.stop()


def _code(body: dict[str, Any]) -> str:
    return "ok" if body["success"] else str(body["errors"][0]["code"])


def test_sliding_window_gives_606_and_frees_up(make: Any) -> None:
    sim, client = make(window_seconds=20, calls_per_window=5)
    codes = [_code(client.get(USAGE)) for _ in range(6)]
    assert codes == ["ok"] * 5 + ["606"]
    sim.clock.advance(10)
    assert _code(client.get(USAGE)) == "606"
    sim.clock.advance(10.5)
    assert _code(client.get(USAGE)) == "ok"
    audit = sim.audit()
    assert audit["peak_calls_in_window"] == 5
    assert audit["limit_errors"]["counts"]["606"] == 2
    # 606 is not starred in Marketo's table: refused calls still cost quota
    assert audit["quota_used"] == 8


def test_refused_calls_can_be_left_out_of_the_window(make: Any) -> None:
    sim, client = make(window_seconds=20, calls_per_window=3, count_refused_calls=False)
    codes = [_code(client.get(USAGE)) for _ in range(5)]
    assert codes == ["ok", "ok", "ok", "606", "606"]
    assert sim.audit()["quota_used"] == 3


def test_calls_in_flight_over_the_cap_get_615(make: Any) -> None:
    sim, client = make(
        max_in_flight=3,
        faults=FaultConfig(slow_probability=1.0, slow_min_ms=400, slow_max_ms=400),
    )
    token = client.token()
    barrier = threading.Barrier(8)
    codes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        _, body = client.request("GET", USAGE, token=token)
        with lock:
            codes.append(_code(body))

    run_together(call, 8)
    assert codes.count("ok") == 3
    assert codes.count("615") == 5
    audit = sim.audit()
    assert audit["peak_in_flight"] == 3
    assert audit["limit_errors"]["counts"]["615"] == 5
    assert max(r["in_flight_at_start"] for r in audit["requests"]) == 3


def test_identity_calls_are_not_in_flight_nor_counted(make: Any) -> None:
    sim, client = make(calls_per_window=2)
    for _ in range(5):
        assert client.identity()[0] == 200
    assert [_code(client.get(USAGE)) for _ in range(2)] == ["ok", "ok"]
    assert sim.audit()["quota_used"] == 2


@pytest.mark.parametrize(
    ("start", "still_blocked", "reset_after"),
    [
        # an ordinary day
        ("2026-01-15T22:00:00-06:00", 7199, 2),
        # spring forward: 2026-03-08 lasts 23 h; midnight 03-09 is 05:00 UTC
        ("2026-03-08T23:00:00-05:00", 3599, 2),
        # fall back: 2026-11-01 lasts 25 h; midnight 11-02 is 06:00 UTC
        ("2026-11-01T22:30:00-06:00", 5399, 2),
    ],
)
def test_daily_quota_607_resets_at_midnight_chicago(
    make: Any, start: str, still_blocked: int, reset_after: int
) -> None:
    sim, client = make(daily_quota=3, start_time=start, window_seconds=1)
    assert [_code(client.get(USAGE)) for _ in range(4)] == ["ok", "ok", "ok", "607"]
    day = datetime.fromisoformat(start).astimezone(CHICAGO).date().isoformat()
    sim.clock.advance(still_blocked - 5)
    assert _code(client.get(USAGE)) == "607"
    sim.clock.advance(reset_after + 5)
    body = client.get(USAGE)
    assert _code(body) == "ok"
    today = datetime.fromtimestamp(sim.clock.now(), CHICAGO)
    assert today.hour == 0
    assert body["result"][0]["date"] == today.date().isoformat() != day
    assert body["result"][0]["total"] == 1


def test_noisy_neighbour_shares_the_window_and_the_quota(make: Any) -> None:
    sim, client = make(
        window_seconds=20,
        calls_per_window=10,
        faults=FaultConfig(neighbour_calls_per_window=8, neighbour_user_id="noisy@other"),
    )
    sim.clock.advance(20)
    codes = [_code(client.get(USAGE)) for _ in range(4)]
    assert codes.count("ok") <= 3
    assert "606" in codes
    sim.clock.advance(20)
    body = client.get(USAGE)
    users = {u["userId"]: u["count"] for u in body["result"][0]["users"]}
    assert users["noisy@other"] >= 16
    assert users[sim.config.api_user_id] == 5


def test_neighbour_daily_cap_and_quota_exhaustion(make: Any) -> None:
    sim, client = make(
        daily_quota=40,
        start_time="2026-06-01T08:00:00-05:00",
        faults=FaultConfig(neighbour_calls_per_window=10, neighbour_daily_calls=38),
    )
    client.get(USAGE)
    sim.clock.advance(3600)
    assert [_code(client.get(USAGE)) for _ in range(3)] == ["ok", "607", "607"]
    audit = sim.audit()
    assert audit["quota_used_by_user"][FaultConfig().neighbour_user_id] == 38
    assert audit["limit_errors"]["counts"]["607"] == 2


def test_neighbour_set_at_runtime_over_http(make: Any) -> None:
    _sim, client = make(window_seconds=20, calls_per_window=100)
    faults = client.sim("POST", "/_sim/faults", {"neighbour_calls_per_window": 50})
    assert faults["neighbour_calls_per_window"] == 50
    client.sim("POST", "/_sim/clock", {"advance_seconds": 20})
    audit = client.sim("GET", "/_sim/audit")
    assert audit["quota_used"] >= 50
    assert audit["calls_in_window_now"] >= 49
