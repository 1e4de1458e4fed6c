"""Switchable faults, their accounting, reproducibility, and the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.simulators.marketo import FaultConfig, MarketoSimulator, SimulatorConfig
from local.simulators.marketo.__main__ import config_from_args
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, simulator_process

USAGE = "/rest/v1/stats/usage.json"


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(seed=7) as s:
        yield s


def _outcome(client: SimClient) -> str:
    try:
        status, body = client.request("GET", USAGE)
    except OSError:
        return "dropped"
    if status != 200:
        return str(status)
    return "ok" if body["success"] else str(body["errors"][0]["code"])


def test_edge_5xx_and_502(sim: MarketoSimulator, client: SimClient) -> None:
    client.token()
    sim.set_faults(http_502_probability=1.0)
    assert _outcome(client) == "502"
    sim.set_faults(http_502_probability=0.0, http_5xx_probability=1.0, http_5xx_statuses=[503])
    assert _outcome(client) == "503"
    sim.set_faults(reset=True)
    assert _outcome(client) == "ok"
    # the edge answered, the API never saw those calls
    assert sim.audit()["quota_used"] == 1


def test_call_level_611_713_and_their_accounting(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_faults(error_611_probability=1.0)
    assert _outcome(client) == "611"
    sim.set_faults(error_611_probability=0.0, error_713_probability=1.0)
    assert _outcome(client) == "713"
    audit = sim.audit()
    assert audit["quota_used"] == 1  # 611 is starred, 713 is not
    assert audit["by_code"] == {"611": 1, "713": 1}


def test_timeouts_apply_or_not_and_can_drop(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_faults(
        timeout_probability=1.0, timeout_delay_ms=10, timeout_after_apply_probability=1.0
    )
    body = client.upsert([{"email": "applied@x.com"}])
    assert body["errors"][0]["code"] == "604"
    sim.set_faults(timeout_after_apply_probability=0.0)
    body = client.upsert([{"email": "lost@x.com"}])
    assert body["errors"][0]["code"] == "604"
    assert [lead["email"] for lead in sim.leads()] == ["applied@x.com"]
    sim.set_faults(timeout_drop_probability=1.0)
    assert _outcome(client) == "dropped"
    sim.set_faults(reset=True)
    assert _outcome(client) == "ok"
    assert sim.audit()["quota_used"] == 1


def test_record_level_rejects(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_faults(record_reject_probability=1.0, record_reject_codes=["1006"])
    body = client.upsert([{"email": "a@x.com"}, {"email": "b@x.com"}])
    assert [r["reasons"][0]["code"] for r in body["result"]] == ["1006", "1006"]
    sim.set_faults(record_reject_probability=0.5, record_reject_codes=["1003"])
    body = client.upsert([{"email": f"{i}@x.com"} for i in range(200)])
    created = sum(r["status"] == "created" for r in body["result"])
    assert 60 < created < 140


def _run(seed: int) -> list[str]:
    faults = FaultConfig(error_713_probability=0.3, http_5xx_probability=0.2)
    config = SimulatorConfig(client_id="c", client_secret="s", seed=seed, faults=faults)
    with MarketoSimulator(config) as sim:
        client = SimClient(sim.base_url, "c", "s")
        return [_outcome(client) for _ in range(30)]


def test_same_seed_same_faults() -> None:
    first = _run(3)
    assert first == _run(3)
    assert {"ok", "713"} <= set(first)
    assert first != _run(4)


def test_slow_answers(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_faults(slow_probability=1.0, slow_min_ms=120, slow_max_ms=150)
    assert _outcome(client) == "ok"
    durations = [r["duration_ms"] for r in sim.audit()["requests"] if r["path"] == USAGE]
    assert durations[-1] >= 120


def test_faults_over_http(client: SimClient) -> None:
    current = client.sim("POST", "/_sim/faults", {"error_713_probability": 1.0})
    assert current["error_713_probability"] == 1.0
    assert _outcome(client) == "713"
    assert client.sim("POST", "/_sim/faults", {"reset": True})["error_713_probability"] == 0.0
    status, _body = client.request("POST", "/_sim/faults", json_body={"nope": 1}, auth=False)
    assert status == 400


def test_cli_flags_and_config_file(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    path.write_text(
        json.dumps(
            {
                "calls-per-window": 50,
                "daily_quota": 10000,
                "lists": [{"id": 7, "name": "x"}],
                "faults": {"error_713_probability": 0.1},
            }
        )
    )
    config = config_from_args(
        [
            "--config",
            str(path),
            "--daily-quota",
            "20000",
            "--record-reject-codes",
            "1003,1006",
            "--count-refused-calls",
            "false",
            "--seed",
            "9",
        ]
    )
    assert (config.calls_per_window, config.daily_quota, config.seed) == (50, 20000, 9)
    assert config.lists == [{"id": 7, "name": "x"}]
    assert config.faults.error_713_probability == 0.1
    assert config.faults.record_reject_codes == ["1003", "1006"]
    assert config.count_refused_calls is False


def test_cli_process_prints_its_port() -> None:
    proc = simulator_process("--client-id", "i", "--client-secret", "s")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("marketo-simulator listening on http://127.0.0.1:")
        client = SimClient(line.rsplit(" ", 1)[1], "i", "s")
        body: dict[str, Any] = client.get(USAGE)
        assert body["success"] is True
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
