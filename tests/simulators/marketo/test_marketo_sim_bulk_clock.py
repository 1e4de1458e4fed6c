"""Bulk imports on Marketo's own clock: a job's rows land at its finish time whether or not a
client polls it, so a REST call sees every import that finished before it, and a REST write
made after that time wins over the import."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.clock import iso_utc
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, statuses

BATCH = "/bulk/v1/leads/batch/{}.json"
DAY = 24 * 3600.0


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(
        bulk_rows_per_second=10,
        bulk_start_delay_seconds=1,
        bulk_running_slots=1,
        seed=7,
        lists=[{"id": 1001, "name": "Imported"}],
    ) as s:
        yield s


def _submit(client: SimClient, content: bytes, **fields: str) -> int:
    status, body = client.bulk_import(content, {"format": "csv", **fields})
    assert status == 200
    assert body["success"] is True, body
    batch: int = body["result"][0]["batchId"]
    return batch


def _status(client: SimClient, batch: int) -> tuple[str, int]:
    [result] = client.get(BATCH.format(batch))["result"]
    return result["status"], result["numOfLeadsProcessed"]


def _leads(client: SimClient, *emails: str) -> dict[str, dict[str, Any]]:
    """The leads a REST lookup by email finds now, by email."""
    body = client.get(
        "/rest/v1/leads.json",
        filterType="email",
        filterValues=",".join(emails),
        fields="email,firstName,city,createdAt,updatedAt",
    )
    assert body["success"] is True, body
    return {lead["email"]: lead for lead in body["result"]}


def _submitted(sim: MarketoSimulator, client: SimClient, content: bytes) -> tuple[int, float]:
    """The batch and the simulated time it was submitted at (to within the call)."""
    before = sim.clock.now()
    batch = _submit(client, content)
    return batch, (before + sim.clock.now()) / 2


def test_a_released_job_and_the_one_queued_behind_it_land_without_a_bulk_call(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(bulk_stuck_probability=1.0, bulk_stuck_seconds=100)
    rows = b"email,firstName\n" + b"".join(f"s{i}@x.com,S{i}\n".encode() for i in range(20))
    stuck = _submit(client, rows, listId="1001")
    sim.set_faults(reset=True)
    # behind it in the one running slot: starts when the stuck one finishes (103 s)
    behind = _submit(client, b"email,firstName\nq@x.com,Q\n")
    sim.clock.advance(2.5)
    assert _status(client, stuck) == ("Importing", 10)
    assert _leads(client, "s0@x.com", "q@x.com") == {}
    sim.clock.advance(DAY)  # no bulk call from here: the client gave up polling
    found = _leads(client, "s0@x.com", "s19@x.com", "q@x.com")
    assert {email: lead["firstName"] for email, lead in found.items()} == {
        "s0@x.com": "S0",
        "s19@x.com": "S19",
        "q@x.com": "Q",
    }
    # stamped with the time each job finished, not the time of the read
    read_at = iso_utc(sim.clock.now())
    assert all(lead["updatedAt"] == lead["createdAt"] < read_at for lead in found.values())
    members = client.get("/rest/v1/lists/1001/leads.json", fields="email")
    assert len(members["result"]) == 20
    assert _status(client, stuck) == ("Complete", 20)
    assert _status(client, behind) == ("Complete", 1)


def test_a_rest_write_after_the_import_finished_wins_over_it(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.seed_leads([{"email": "a@x.com", "firstName": "Seeded"}])
    batch = _submit(client, b"email,firstName,city\na@x.com,Imported,Paris\n")
    sim.clock.advance(DAY)  # the import finished 1.1 s after submit
    assert statuses(client.upsert([{"email": "a@x.com", "firstName": "Rest"}])) == ["updated"]
    assert _status(client, batch) == ("Complete", 1)  # the poll comes late
    lead = _leads(client, "a@x.com")["a@x.com"]
    assert (lead["firstName"], lead["city"]) == ("Rest", "Paris")
    assert [lead["firstName"] for lead in sim.leads()] == ["Rest"]


def test_a_lead_written_by_rest_after_the_import_is_never_updated_before_it_was_created(
    sim: MarketoSimulator, client: SimClient
) -> None:
    batch, submitted = _submitted(sim, client, b"email,city\nb@x.com,Paris\n")
    sim.clock.advance(DAY)
    written_at = sim.clock.now()
    written = client.upsert([{"email": "b@x.com", "firstName": "Rest"}])
    # a REST create after the finish of a job that does not touch it
    assert statuses(client.upsert([{"email": "c@x.com", "firstName": "Late"}])) == ["created"]
    sim.clock.advance(DAY)
    assert _status(client, batch) == ("Complete", 1)
    found = _leads(client, "b@x.com", "c@x.com")
    for lead in [*found.values(), *sim.leads()]:
        assert lead["updatedAt"] >= lead["createdAt"], lead
    assert statuses(written) == ["updated"]  # the import had created it
    imported = found["b@x.com"]
    # created by the import when it finished (1.1 s after submit), updated by REST a day on
    finished = submitted + 1.1
    assert iso_utc(finished - 1) <= imported["createdAt"] <= iso_utc(finished + 1)
    assert imported["updatedAt"] >= iso_utc(written_at)
    assert (imported["firstName"], imported["city"]) == ("Rest", "Paris")
    assert found["c@x.com"]["createdAt"] >= iso_utc(written_at)


def test_a_running_slot_added_later_starts_the_job_queued_behind_a_stuck_one(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(bulk_stuck_probability=1.0, bulk_stuck_seconds=0)  # stuck for good
    stuck = _submit(client, b"email\nx@x.com\ny@x.com\n")
    sim.set_faults(reset=True)
    behind = _submit(client, b"email,firstName\nq@x.com,Q\n")
    sim.clock.advance(DAY)
    assert _status(client, behind) == ("Queued", 0)
    sim.set_config({"bulk_running_slots": 2})
    sim.clock.advance(10)
    assert _leads(client, "q@x.com")["q@x.com"]["firstName"] == "Q"
    assert _status(client, behind) == ("Complete", 1)
    assert _status(client, stuck) == ("Importing", 1)
