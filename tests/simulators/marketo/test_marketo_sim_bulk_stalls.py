"""Injected bulk job faults a client sees while it waits: a job stuck in Importing, a submit
refused with 1016 while slots are free; and how every bulk fault key is set and counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.simulators.marketo import FaultConfig, MarketoSimulator, SimulatorConfig
from local.simulators.marketo.__main__ import config_from_args
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim

BATCH = "/bulk/v1/leads/batch/{}.json"
ROWS = b"email\n" + b"".join(f"s{i}@x.com\n".encode() for i in range(20))
NO_FAULTS = {"row_failed": 0, "row_warned": 0, "stuck": 0, "failed_job": 0, "busy": 0}


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(bulk_rows_per_second=10, bulk_start_delay_seconds=1, seed=7) as s:
        yield s


def _submit(client: SimClient, content: bytes = ROWS) -> dict[str, Any]:
    status, body = client.bulk_import(content, {"format": "csv"})
    assert status == 200
    assert isinstance(body, dict)
    return body


def _progress(client: SimClient, batch: int) -> tuple[str, int]:
    [result] = client.get(BATCH.format(batch))["result"]
    return result["status"], result["numOfLeadsProcessed"]


def test_a_stuck_job_stops_moving_in_importing_then_completes(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(bulk_stuck_probability=1.0, bulk_stuck_seconds=100)
    batch = _submit(client)["result"][0]["batchId"]
    sim.set_faults(reset=True)  # decided at submit: a later change does not unstick it
    seen = []
    # starts at 1 s, 10 rows/s, holds at half (10 rows) from 2 s to 102 s, ends at 103 s
    for step in (1.5, 1.0, 50.0, 49.0, 1.0):
        sim.clock.advance(step)
        seen.append(_progress(client, batch))
        if seen[-1][0] == "Importing":
            assert sim.leads() == []  # rows land when the job completes
    assert seen == [
        ("Importing", 5),
        ("Importing", 10),
        ("Importing", 10),
        ("Importing", 10),
        ("Importing", 15),
    ]
    sim.clock.advance(1.5)
    assert _progress(client, batch) == ("Complete", 20)
    assert len(sim.leads()) == 20
    assert sim.bulk.fault_counts() == {**NO_FAULTS, "stuck": 1}


def test_a_job_stuck_for_good_holds_its_running_slot(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_config({"bulk_running_slots": 1})
    sim.set_faults(bulk_stuck_probability=1.0, bulk_stuck_seconds=0)
    stuck = _submit(client)["result"][0]["batchId"]
    sim.set_faults(bulk_stuck_probability=0.0)
    behind = _submit(client)["result"][0]["batchId"]
    sim.clock.advance(30 * 24 * 3600)
    assert _progress(client, stuck) == ("Importing", 10)
    assert _progress(client, behind) == ("Queued", 0)
    assert sim.leads() == []
    sim.reset()  # the operator's way out, like support clearing a job
    assert client.get(BATCH.format(stuck))["errors"][0]["code"] == "1013"
    assert sim.bulk.fault_counts() == NO_FAULTS


def test_busy_refuses_with_1016_while_slots_are_free_and_counts_the_call(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(bulk_busy_probability=1.0)
    refused = _submit(client)
    assert refused["success"] is False
    assert refused["errors"] == [{"code": "1016", "message": "Too many imports"}]
    audit = sim.audit()
    assert (audit["quota_used"], audit["by_code"]) == (1, {"1016": 1})
    [errors] = client.get("/rest/v1/stats/errors.json")["result"]
    assert errors["errors"] == [{"errorCode": "1016", "count": 1}]
    assert sim.bulk.fault_counts() == {**NO_FAULTS, "busy": 1}

    sim.set_faults(bulk_busy_probability=0.0)
    assert _submit(client)["result"][0]["batchId"] == 1001  # a refusal makes no job
    sim.set_config({"bulk_queued_slots": 1})
    sim.set_faults(bulk_busy_probability=1.0)
    assert _submit(client)["errors"][0]["code"] == "1016"
    # a queue that is really full is Marketo's own 1016, not an injected one
    assert sim.bulk.fault_counts()["busy"] == 1


def test_every_key_from_flags_file_and_ops(tmp_path: Path) -> None:
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"faults": {"bulk-row-warning-probability": 0.2}}))
    config = config_from_args(
        [
            "--config",
            str(path),
            "--bulk-row-failure-probability",
            "0.1",
            "--bulk-row-failure-reason",
            "Bad '{field}'",
            "--bulk-stuck-probability",
            "0.3",
            "--bulk-stuck-seconds",
            "0",
            "--bulk-busy-probability",
            "0.4",
            "--bulk-fail-probability",
            "0.5",
        ]
    )
    f = config.faults
    assert (f.bulk_row_failure_probability, f.bulk_row_failure_reason) == (0.1, "Bad '{field}'")
    assert (f.bulk_row_warning_probability, f.bulk_stuck_probability) == (0.2, 0.3)
    assert (f.bulk_stuck_seconds, f.bulk_busy_probability) == (0.0, 0.4)
    assert config.bulk_fail_probability == 0.5
    with MarketoSimulator(SimulatorConfig(client_id="c", client_secret="s")) as s:
        client = SimClient(s.base_url, "c", "s")
        current = client.sim("POST", "/_sim/faults", {"bulk_stuck_probability": 1.0})
        assert current["bulk_stuck_probability"] == 1.0
        assert client.sim("GET", "/_sim/faults")["bulk_stuck_seconds"] == 3600.0
        assert client.sim("POST", "/_sim/faults", {"reset": True})["bulk_stuck_probability"] == 0
    defaults = FaultConfig()
    assert (defaults.bulk_row_failure_probability, defaults.bulk_row_warning_probability) == (0, 0)
    assert (defaults.bulk_stuck_probability, defaults.bulk_busy_probability) == (0, 0)


def test_the_audit_shows_bulk_faults_by_kind(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_faults(bulk_busy_probability=1.0)
    _submit(client)
    expected = {**NO_FAULTS, "busy": 1}
    assert sim.audit()["bulk_faults"] == expected
    assert client.sim("GET", "/_sim/audit?limit=0")["bulk_faults"] == expected


def test_the_first_submits_meet_each_listed_fault_once_in_order(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(bulk_first_faults=["busy", "failed_job", "stuck"], bulk_stuck_seconds=100)
    assert _submit(client)["errors"][0]["code"] == "1016"
    failed = _submit(client)["result"][0]["batchId"]
    stuck = _submit(client)["result"][0]["batchId"]
    plain = _submit(client)["result"][0]["batchId"]
    sim.clock.advance(10)
    assert _progress(client, failed)[0] == "Failed"
    assert _progress(client, stuck) == ("Importing", 10)
    assert _progress(client, plain)[0] == "Complete"
    assert sim.bulk.fault_counts() == {**NO_FAULTS, "busy": 1, "failed_job": 1, "stuck": 1}


def test_the_listed_stall_lasts_its_own_time_the_drawn_ones_theirs(
    sim: MarketoSimulator, client: SimClient
) -> None:
    # a run can make one import outlast leadsync's give-up deadline, the rest stall briefly
    sim.set_faults(
        bulk_first_faults=["stuck"],
        bulk_first_stuck_seconds=500,
        bulk_stuck_probability=1.0,
        bulk_stuck_seconds=100,
    )
    listed = _submit(client)["result"][0]["batchId"]
    drawn = _submit(client)["result"][0]["batchId"]
    sim.clock.advance(200)
    assert _progress(client, listed)[0] == "Importing"
    assert _progress(client, drawn)[0] == "Complete"
    sim.clock.advance(400)
    assert _progress(client, listed)[0] == "Complete"


def test_no_fault_is_drawn_by_chance_while_listed_ones_remain(
    sim: MarketoSimulator, client: SimClient
) -> None:
    # every draw would refuse or fail the import; the listed faults still come in order
    sim.set_faults(
        bulk_first_faults=["busy", "failed_job", "stuck"],
        bulk_busy_probability=1.0,
        bulk_stuck_seconds=100,
    )
    sim.set_config({"bulk_fail_probability": 1.0})
    assert _submit(client)["errors"][0]["code"] == "1016"
    failed = _submit(client)["result"][0]["batchId"]
    stuck = _submit(client)["result"][0]["batchId"]
    sim.clock.advance(10)
    assert _progress(client, failed)[0] == "Failed"
    assert _progress(client, stuck)[0] == "Importing"
    assert (
        _submit(client)["errors"][0]["code"] == "1016"
    )  # the draws again, once listed ones are met
    assert sim.bulk.fault_counts() == {**NO_FAULTS, "busy": 2, "failed_job": 1, "stuck": 1}
