"""Injected bulk row faults and failed jobs: what the files list, what reaches the lead table,
how they are counted, and that a seed always gives the same ones."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import sim_config

BATCH = "/bulk/v1/leads/batch/{}.json"
HEADER = ["email", "firstName", "city"]


def _config(seed: int = 7) -> SimulatorConfig:
    return sim_config(
        bulk_rows_per_second=1000,
        bulk_start_delay_seconds=1,
        lists=[{"id": 1001, "name": "Imported"}],
        seed=seed,
    )


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with MarketoSimulator(_config()) as s:
        yield s


def _rows(n: int) -> list[list[str]]:
    return [[f"lead{i}@x.com", f"First{i}", f"City{i}"] for i in range(n)]


def _file(rows: list[list[str]], delimiter: str = ",", header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    return out.getvalue().encode()


def _run(
    sim: MarketoSimulator, client: SimClient, content: bytes, **fields: str
) -> tuple[dict[str, Any], list[list[str]], list[list[str]]]:
    """Submit, let the job finish, and read its status, failures and warnings."""
    status, body = client.bulk_import(content, {"format": "csv", **fields})
    assert status == 200
    assert body["success"] is True, body
    batch = body["result"][0]["batchId"]
    sim.clock.advance(30)
    [result] = client.get(BATCH.format(batch))["result"]
    delimiter = {"csv": ",", "tsv": "\t", "ssv": ";"}[fields.get("format", "csv")]
    files = [
        list(
            csv.reader(
                io.StringIO(client.get(f"/bulk/v1/leads/batch/{batch}/{name}.json")),
                delimiter=delimiter,
            )
        )
        for name in ("failures", "warnings")
    ]
    return result, files[0], files[1]


def _emails(sim: MarketoSimulator) -> set[str]:
    return {str(lead["email"]) for lead in sim.leads()}


def test_failed_rows_are_listed_with_their_reason_and_never_applied(
    sim: MarketoSimulator, client: SimClient
) -> None:
    [known] = sim.seed_leads([{"email": "lead0@x.com", "firstName": "Old", "city": "Keep"}])
    sim.set_faults(bulk_row_failure_probability=0.5)
    rows = [*_rows(60), ["not-an-email", "Broken", ""]]
    result, failures, warnings = _run(sim, client, _file(rows), listId="1001")

    assert failures[0] == [*HEADER, "Import Failure Reason"]
    assert warnings == [[*HEADER, "Import Warning Reason"]]
    listed = {tuple(r[:3]): r[3] for r in failures[1:]}
    assert listed.pop(("not-an-email", "Broken", "")) == "Invalid email address 'not-an-email'"
    injected = sim.bulk.fault_counts()["row_failed"]
    assert 10 < injected < 50
    assert len(listed) == injected  # each failed row listed once
    assert set(listed.values()) == {"Invalid value for field 'firstName'"}
    failed = {email for email, _first, _city in listed}
    imported = {r[0] for r in _rows(60)} - failed
    assert _emails(sim) & failed <= {"lead0@x.com"}  # only the seeded lead, untouched
    assert imported <= _emails(sim)
    if "lead0@x.com" in failed:
        lead = next(lead for lead in sim.leads() if lead["id"] == known)
        assert (lead["firstName"], lead["city"]) == ("Old", "Keep")
    members = {lead["email"] for lead in sim.leads() if lead["id"] in sim.store.members(1001)}
    assert members == imported
    assert (result["status"], result["numOfLeadsProcessed"]) == ("Complete", len(imported))
    assert result["numOfRowsFailed"] == injected + 1
    assert result["message"].startswith("Import completed with errors")


def test_warned_rows_are_imported_and_listed_in_the_submitted_format(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(
        bulk_row_warning_probability=1.0, bulk_row_warning_reason="Check '{field}' later"
    )
    header = [*HEADER, "shoeSize"]
    rows = [[*row, ""] for row in _rows(5)]
    rows += [["odd@x.com", "", "", "42"], ["bad@x.com", "B", "", "", "extra"]]
    result, failures, warnings = _run(
        sim, client, _file(rows, ";", header), format="ssv", listId="1001"
    )

    assert warnings[0] == [*header, "Import Warning Reason"]
    expected = [[*row, "Check 'firstName' later"] for row in rows[:5]]
    # a row Marketo already warns about keeps its own reason, listed once
    expected.append(["odd@x.com", "", "", "42", "Field(s) not found, ignored: shoeSize"])
    assert warnings[1:] == expected
    assert failures[1:] == [
        ["bad@x.com", "B", "", "", "extra", "Row has more columns than the header"]
    ]
    assert _emails(sim) == {r[0] for r in rows[:6]}
    assert len(sim.store.members(1001)) == 6
    assert (result["numOfLeadsProcessed"], result["numOfRowsWithWarning"]) == (6, 6)
    assert sim.bulk.fault_counts() == {
        "row_failed": 0,
        "row_warned": 5,
        "stuck": 0,
        "failed_job": 0,
        "busy": 0,
    }


def test_failure_wins_over_warning_and_the_reason_names_the_lookup_field_alone(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_faults(bulk_row_failure_probability=1.0, bulk_row_warning_probability=1.0)
    rows = [["solo@x.com", "", ""], ["pair@x.com", "", "Oslo"]]
    result, failures, warnings = _run(sim, client, _file(rows, "\t"), format="tsv")
    assert failures[1:] == [
        [*rows[0], "Invalid value for field 'email'"],
        [*rows[1], "Invalid value for field 'city'"],
    ]
    assert warnings[1:] == []
    assert (result["numOfLeadsProcessed"], result["numOfRowsFailed"]) == (0, 2)
    assert sim.leads() == []
    assert sim.bulk.fault_counts()["row_failed"] == 2


def test_a_failed_job_applies_no_row_and_says_so(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_config({"bulk_fail_probability": 1.0})
    sim.set_faults(bulk_row_failure_probability=1.0, bulk_stuck_probability=1.0)
    result, failures, warnings = _run(sim, client, _file(_rows(4)), listId="1001")
    assert result == {
        "batchId": result["batchId"],
        "importId": str(result["batchId"]),
        "status": "Failed",
        "numOfLeadsProcessed": 0,
        "numOfRowsFailed": 0,
        "numOfRowsWithWarning": 0,
        "message": "Import failed: internal error",
    }
    assert (failures, warnings) == (
        [[*HEADER, "Import Failure Reason"]],
        [[*HEADER, "Import Warning Reason"]],
    )
    assert sim.leads() == []
    assert sim.store.members(1001) == []
    # a failed job is not also stuck, and its rows were never reached
    assert sim.bulk.fault_counts() == {
        "row_failed": 0,
        "row_warned": 0,
        "stuck": 0,
        "failed_job": 1,
        "busy": 0,
    }


def _chaos(sim: MarketoSimulator) -> tuple[Any, ...]:
    client = SimClient(sim.base_url, "c", "s")
    sim.set_faults(
        bulk_row_failure_probability=0.3,
        bulk_row_warning_probability=0.3,
        bulk_busy_probability=0.3,
        bulk_stuck_probability=0.3,
        bulk_stuck_seconds=5,
    )
    answers = []
    for n in range(6):
        rows = [[f"j{n}r{i}@x.com", f"F{i}", ""] for i in range(20)]
        answers.append(client.bulk_import(_file(rows), {"format": "csv"})[1])
        sim.clock.advance(60)
    batches = [a["result"][0]["batchId"] for a in answers if a["success"]]
    files = [
        client.get(f"/bulk/v1/leads/batch/{b}/{name}.json")
        for b in batches
        for name in ("failures", "warnings")
    ]
    codes = [a["errors"][0]["code"] if not a["success"] else "ok" for a in answers]
    return codes, files, sim.bulk.fault_counts(), sorted(_emails(sim))


def test_a_seed_gives_the_same_faults_every_time() -> None:
    runs = []
    for seed in (11, 11, 12):
        with MarketoSimulator(_config(seed)) as s:
            runs.append(_chaos(s))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    counts = runs[0][2]
    assert min(counts["row_failed"], counts["row_warned"], counts["busy"]) > 0


def test_reseeding_replays_the_same_faults(sim: MarketoSimulator, client: SimClient) -> None:
    picked = []
    for _ in range(2):
        sim.reset()
        sim.set_faults(seed=5, bulk_row_failure_probability=0.5)
        _result, failures, _warnings = _run(sim, client, _file(_rows(30)))
        picked.append(failures)
    assert picked[0] == picked[1]


def test_defaults_draw_nothing_so_other_faults_are_unchanged() -> None:
    """A bulk job with the defaults takes nothing from the seeded sequence: the record
    rejects that follow it are the ones a run without it gets."""
    outcomes = []
    for with_bulk in (False, True):
        with MarketoSimulator(_config(3)) as s:
            client = SimClient(s.base_url, "c", "s")
            s.set_faults(record_reject_probability=0.5)
            if with_bulk:
                _run(s, client, _file(_rows(50)))
            leads = [{"email": f"rest{i}@x.com"} for i in range(40)]
            outcomes.append([r["status"] for r in client.upsert(leads)["result"]])
            assert s.bulk.fault_counts() == dict.fromkeys(
                ("row_failed", "row_warned", "stuck", "failed_job", "busy"), 0
            )
    assert outcomes[0] == outcomes[1]
    assert {"created", "skipped"} <= set(outcomes[0])
