"""Bulk import lifecycle: queue, slots, 1016, progress with the clock, failures and warnings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim

BATCH = "/bulk/v1/leads/batch/{}.json"


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(
        bulk_rows_per_second=10,
        bulk_start_delay_seconds=1,
        bulk_running_slots=2,
        bulk_queued_slots=3,
        lists=[{"id": 1001, "name": "Imported"}],
    ) as s:
        yield s


def _submit(client: SimClient, content: bytes, **fields: str) -> dict[str, Any]:
    status, body = client.bulk_import(content, {"format": "csv", **fields})
    assert status == 200
    assert isinstance(body, dict)
    return body


def _status(client: SimClient, batch_id: int) -> dict[str, Any]:
    body = client.get(BATCH.format(batch_id))
    assert body["success"] is True, body
    result: dict[str, Any] = body["result"][0]
    return result


def test_lifecycle_and_failure_and_warning_files(sim: MarketoSimulator, client: SimClient) -> None:
    sim.seed_leads([{"email": "known@x.com", "firstName": "Old", "city": "Keep"}])
    rows = [
        "email,firstName,city,shoeSize",
        "known@x.com,New,,42",
        "fresh@x.com,F,Paris,",
        "broken-email,B,,",
        ",NoEmail,,",
    ]
    rows += [f"bulk{i}@x.com,B{i},," for i in range(16)]
    body = _submit(client, "\n".join(rows).encode(), listId="1001")
    job = body["result"][0]
    assert job["status"] == "Queued"
    assert job["importId"] == str(job["batchId"])
    assert _status(client, job["batchId"])["status"] == "Queued"
    sim.clock.advance(1.5)
    running = _status(client, job["batchId"])
    assert running["status"] == "Importing"
    assert 0 < running["numOfLeadsProcessed"] < 20
    sim.clock.advance(2)
    done = _status(client, job["batchId"])
    assert done["status"] == "Complete"
    assert (done["numOfLeadsProcessed"], done["numOfRowsFailed"], done["numOfRowsWithWarning"]) == (
        18,
        2,
        1,
    )
    assert "2 failed" in done["message"]
    failures = client.get(f"/bulk/v1/leads/batch/{job['batchId']}/failures.json")
    lines = failures.strip().split("\n")
    assert lines[0] == "email,firstName,city,shoeSize,Import Failure Reason"
    assert lines[1].startswith("broken-email,B,,,Invalid email")
    assert lines[2].startswith(",NoEmail,,,Value for lookup field 'email'")
    warnings = client.get(f"/bulk/v1/leads/batch/{job['batchId']}/warnings.json")
    assert warnings.split("\n")[0].endswith(",Import Warning Reason")
    assert "known@x.com,New,,42," in warnings
    known = next(lead for lead in sim.leads() if lead["email"] == "known@x.com")
    assert (known["firstName"], known["city"]) == ("New", "Keep")
    assert len(sim.store.members(1001)) == 18


def test_slots_queue_and_1016(sim: MarketoSimulator, client: SimClient) -> None:
    content = b"email\n" + b"".join(f"s{i}@x.com\n".encode() for i in range(100))
    ids = [_submit(client, content)["result"][0]["batchId"] for _ in range(3)]
    refused = _submit(client, content)
    assert refused["success"] is False
    assert refused["errors"][0]["code"] == "1016"
    sim.clock.advance(2)
    assert [_status(client, i)["status"] for i in ids] == ["Importing", "Importing", "Queued"]
    sim.clock.advance(10)
    assert [_status(client, i)["status"] for i in ids] == ["Complete", "Complete", "Importing"]
    assert _submit(client, content)["success"] is True
    sim.clock.advance(30)
    assert _status(client, ids[2])["status"] == "Complete"
    assert len(sim.leads()) == 100


def test_tsv_ssv_and_malformed_files(sim: MarketoSimulator, client: SimClient) -> None:
    tsv = _submit(client, b"email\tlastName\nt@x.com\tTab\n", format="tsv")
    ssv = _submit(client, b"email;lastName\ns@x.com;Semi\n", format="ssv")
    broken = _submit(client, b"firstName\nNo lookup column\n")
    sim.clock.advance(5)
    assert _status(client, tsv["result"][0]["batchId"])["status"] == "Complete"
    assert _status(client, ssv["result"][0]["batchId"])["status"] == "Complete"
    failed = _status(client, broken["result"][0]["batchId"])
    assert failed["status"] == "Failed"
    assert "lookup field" in failed["message"]
    assert {lead["lastName"] for lead in sim.leads()} == {"Tab", "Semi"}


def test_submit_errors(client: SimClient) -> None:
    assert _submit(client, b"email\n", format="xls")["errors"][0]["code"] == "1003"
    assert _submit(client, b"email\n", listId="42")["errors"][0]["code"] == "1013"
    _, body = client.request("POST", "/bulk/v1/leads.json", json_body={"file": "x"})
    assert body["errors"][0]["code"] == "612"
    assert client.get(BATCH.format(9999))["errors"][0]["code"] == "1013"


def test_configured_failure_and_1019(sim: MarketoSimulator, client: SimClient) -> None:
    first = _submit(client, b"email\na@x.com\n", listId="1001")
    assert _submit(client, b"email\nb@x.com\n", listId="1001")["errors"][0]["code"] == "1019"
    sim.set_config({"bulk_fail_probability": 1.0})
    doomed = _submit(client, b"email\nc@x.com\n")
    sim.clock.advance(5)
    assert _status(client, first["result"][0]["batchId"])["status"] == "Complete"
    assert _status(client, doomed["result"][0]["batchId"])["status"] == "Failed"


def test_bulk_calls_count_like_any_other(sim: MarketoSimulator, client: SimClient) -> None:
    batch = _submit(client, b"email\na@x.com\n")["result"][0]["batchId"]
    _status(client, batch)
    client.get(f"/bulk/v1/leads/batch/{batch}/failures.json")
    assert sim.audit()["quota_used"] == 3
