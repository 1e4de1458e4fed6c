"""One bulk job through submit, polls and read-back, with fakes for every port; time moved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from leadsync.bulk.csvfile import render
from leadsync.bulk.engine import process
from leadsync.bulk.jobs import BulkMessage, JobStatus
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.staging import stage
from leadsync.bulk.step import BulkPorts
from leadsync.errors import DependencyError
from leadsync.marketo.errors import MarketoBulkBusy, MarketoNoAnswer
from leadsync.sync.messages import SyncRecord
from tests.support.bulk_rig import LIMITS, Marketo, Rig, records
from tests.support.bulk_staging import T0


def test_a_job_goes_from_staged_to_done_with_polls_on_the_backoff() -> None:
    rig = Rig(marketo=Marketo(statuses=["Queued", "Importing", "Importing", "Complete"]))
    [job_id] = rig.stage(records(3))
    results = rig.run()
    assert [r.outcome for r in results] == ["submitted", "waiting", "waiting", "waiting", "done"]
    assert [r.delay_seconds for r in results[:-1]] == [5, 10, 20, 30]
    assert rig.marketo.calls == ["submit", "status", "status", "status", "status"]
    job = rig.jobs.items[job_id]
    assert (job.status, job.polls, job.submissions) == (JobStatus.DONE, 4, 1)
    assert rig.files.items == {}
    assert rig.slots.active == set()
    assert rig.sink.counters == {"bulk_submits": 1, "bulk_jobs_done": 1, "leads_imported": 3}
    assert rig.marketo.submitted == [render(records(3))]


def test_failed_rows_go_to_the_error_store_with_their_reason_and_record() -> None:
    failures = b"email,firstName,Import Failure Reason\nV1@EXAMPLE.COM,N1,Invalid value\n"
    warnings = b"email,firstName,Import Warning Reason\nv2@example.com,N2,Field ignored\n"
    rig = Rig(marketo=Marketo(statuses=["Complete"], failures=failures, warnings=warnings))
    rig.stage(records(3))
    results = rig.run()
    assert results[-1].outcome == "done"
    assert (results[-1].rows_failed, results[-1].rows_warned) == (1, 1)
    [entry] = rig.sink.errors
    assert (entry.reason, entry.detail, entry.chat_ids) == (
        "bulk_row_failed",
        "Invalid value",
        ["C1"],
    )
    assert entry.record is not None
    assert entry.record["email"] == "v1@example.com"
    assert rig.sink.counters["leads_imported"] == 2  # the warned row counts as accepted
    assert rig.marketo.calls == ["submit", "status", "failures", "warnings"]


def test_warnings_count_as_failures_when_set() -> None:
    warnings = b"email,firstName,Import Warning Reason\nv2@example.com,N2,Field ignored\n"
    rig = Rig(
        marketo=Marketo(statuses=["Complete"], warnings=warnings),
        settings=BulkSettings(warnings_are_failures=True),
    )
    rig.stage(records(3))
    rig.run()
    assert [(e.reason, e.chat_ids) for e in rig.sink.errors] == [("bulk_row_warning", ["C2"])]
    assert rig.sink.counters["records_failed"] == 1


def test_no_read_back_call_when_marketo_counts_nothing_to_read() -> None:
    rig = Rig(marketo=Marketo(statuses=["Complete"]))
    rig.stage(records(2))
    rig.run()
    assert rig.marketo.calls == ["submit", "status"]


def test_no_free_slot_or_1016_waits_and_never_fails() -> None:
    rig = Rig(settings=BulkSettings(queued_slots=1, running_slots=1))
    first, second = rig.stage(records(2)), rig.stage(records(3))
    assert len(rig.queue.sent) == 2
    assert rig.step().outcome == "submitted"
    waited = rig.step()
    assert (waited.outcome, waited.delay_seconds, waited.status) == ("no_free_slot", 60, "staged")
    rig.marketo.submit_errors.append(MarketoBulkBusy("1016", "Too many imports"))
    results = rig.run()
    assert "marketo_busy" in [r.outcome for r in results]
    assert {rig.jobs.items[j].status for j in [*first, *second]} == {JobStatus.DONE}
    assert rig.marketo.calls.count("submit") == 3
    assert rig.jobs.items[second[0]].busy_waits == 2


def test_a_redelivered_submit_never_submits_twice_and_one_poll_chain_survives() -> None:
    rig = Rig(marketo=Marketo(statuses=["Queued", "Complete"]))
    rig.stage(records(2))
    submit = rig.queue.sent[0][0]
    assert rig.step().outcome == "submitted"
    again = rig.step(submit)  # SQS delivered the submit a second time
    assert again.outcome == "already_submitted"
    results = rig.run()
    assert sorted(r.outcome for r in results) == ["done", "stale_poll", "waiting"]
    assert rig.marketo.calls.count("submit") == 1


def test_a_submit_in_progress_is_left_alone_and_a_dead_one_is_taken_over() -> None:
    rig = Rig()
    [job_id] = rig.stage(records(2))
    submit = rig.queue.sent.pop(0)[0]
    job = rig.jobs.items[job_id]
    # a copy marked it submitting and died before recording Marketo's answer
    rig.jobs.items[job_id] = job.model_copy(
        update={"status": JobStatus.SUBMITTING, "submitting_at": T0, "version": 1}
    )
    waiting = rig.step(submit)
    assert waiting.outcome == "submit_in_progress"
    assert rig.marketo.calls == []
    assert rig.step().outcome == "submitted"  # delivered after the lease: submitted again
    assert rig.marketo.calls == ["submit"]


def test_a_lost_submit_answer_is_submitted_again_later() -> None:
    rig = Rig(marketo=Marketo(statuses=["Complete"]))
    rig.marketo.submit_errors.append(MarketoNoAnswer("local:timeout", "no answer"))
    [job_id] = rig.stage(records(2))
    results = rig.run()
    assert [r.outcome for r in results] == ["submit_failed", "submitted", "done"]
    assert rig.jobs.items[job_id].status is JobStatus.DONE


def test_a_failed_import_is_resubmitted_then_its_records_reported() -> None:
    rig = Rig(marketo=Marketo(statuses=["Failed"]), settings=BulkSettings(max_submissions=2))
    [job_id] = rig.stage(records(2))
    outcomes = [r.outcome for r in rig.run()]
    assert outcomes == ["submitted", "resubmitting", "submitted", "failed"]
    assert rig.jobs.items[job_id].status is JobStatus.FAILED
    assert sorted(e.chat_ids[0] for e in rig.sink.errors) == ["C0", "C1"]
    assert {(e.reason, e.code) for e in rig.sink.errors} == {("bulk_import_failed", "bulk:Failed")}
    assert rig.files.items == {}
    assert rig.slots.active == set()


def test_a_stuck_job_is_flagged_then_rerouted_to_rest() -> None:
    settings = BulkSettings(stuck_after=timedelta(minutes=30), give_up_after=timedelta(hours=2))
    rig = Rig(marketo=Marketo(statuses=["Queued"]), settings=settings)
    [job_id] = rig.stage(records(4))
    results = rig.run(limit=200, until="rerouted")
    stuck_at = rig.jobs.items[job_id].stuck_at
    assert stuck_at is not None
    assert stuck_at - T0 >= timedelta(minutes=30)
    assert results[-1].outcome == "rerouted"
    assert 300 in [r.delay_seconds for r in results]  # polled slowly once stuck
    assert [r.email for b in rig.sink.batches for r in b.records] == [
        f"v{i}@example.com" for i in range(4)
    ]
    assert rig.jobs.items[job_id].status is JobStatus.REROUTED
    # decided hours ago: the upload decides them again before it writes
    assert all(batch.lookup_first for batch in rig.sink.batches)
    # every 30 s for the first half hour, then every 5 min: not a poll every 30 s for 2 h
    assert len(results) < 90


def test_staging_the_same_writes_again_makes_no_second_job() -> None:
    rig = Rig(marketo=Marketo(statuses=["Complete"]))
    first = rig.stage(records(3))
    rig.queue.sent.clear()  # the crash lost the submit message
    assert rig.stage(records(3)) == first  # read again: the same job, submitted once more
    assert len(rig.queue.sent) == 1
    assert len(rig.jobs.items) == 1
    rig.run()
    assert rig.stage(records(3)) == []  # imported already: nothing staged
    assert rig.marketo.calls.count("submit") == 1


def test_records_a_file_cannot_carry_are_left_for_rest() -> None:
    rig = Rig()
    by_id = SyncRecord(action="update", email="x@example.com", lead_id=9, fields={"city": "Rome"})
    out = stage(
        [*records(2), by_id],
        files=rig.files,
        jobs=rig.jobs,
        queue=rig.queue,
        settings=rig.settings,
        now=T0,
    )
    assert out.rest == [by_id]
    assert out.records == 2


@pytest.mark.parametrize("step", ["submit", "poll"])
def test_unknown_job_is_dropped(step: str) -> None:
    message = BulkMessage(job_id="nope", step=step, correlation_id="c")  # type: ignore[arg-type]
    assert Rig().step(message).outcome == "unknown_job"


def test_a_slot_left_by_a_finished_job_is_taken_back() -> None:
    rig = Rig(
        marketo=Marketo(statuses=["Complete"]),
        settings=BulkSettings(queued_slots=1, running_slots=1),
    )
    rig.slots.active.add("long-gone")  # a copy died after finishing it, before releasing
    [job_id] = rig.stage(records(2))
    assert rig.step().outcome == "submitted"
    assert rig.slots.active == {job_id}


def test_a_file_that_never_gets_a_slot_is_rerouted_at_the_give_up_deadline() -> None:
    settings = BulkSettings(
        queued_slots=1,
        running_slots=1,
        stuck_after=timedelta(minutes=30),
        give_up_after=timedelta(hours=2),
    )
    rig = Rig(settings=settings)
    rig.slot_held_by_another()
    [job_id] = rig.stage(records(3))
    results = rig.run(limit=100)
    assert results[-1].outcome == "rerouted"
    assert {r.outcome for r in results[:-1]} == {"no_free_slot"}
    assert rig.jobs.items[job_id].status is JobStatus.REROUTED
    assert sum(len(b.records) for b in rig.sink.batches) == 3
    assert rig.marketo.calls == []


@dataclass(frozen=True)
class LedgerEntry:
    at: datetime


@dataclass
class Ledger:
    """What leadsync's own lanes wrote lately (the write ledger)."""

    entries: dict[str, LedgerEntry] = field(default_factory=dict)
    failing: bool = False

    def wrote(self, n: int, at: datetime) -> None:
        self.entries[f"v{n}@example.com"] = LedgerEntry(at)

    def written(self, emails: Iterable[str]) -> dict[str, LedgerEntry]:
        if self.failing:
            raise DependencyError("throttled", dependency="dynamodb", retryable=True)
        return {e: self.entries[e] for e in emails if e in self.entries}


def _deliver_all(rig: Rig, ports: BulkPorts) -> list[str]:
    """Every message sent, delivered in time order through `ports`; their outcomes."""
    outcomes = []
    while rig.queue.sent:
        message, due = rig.queue.next()
        rig.queue.clock[0] = due
        step = process(message, ports, rig.settings, limits=LIMITS, now=lambda: rig.queue.clock[0])
        outcomes.append(step.outcome)
    return outcomes


def handed_to_rest(rig: Rig) -> list[str]:
    """The e-mails the REST path was given, each batch to be decided again there."""
    assert all(batch.lookup_first for batch in rig.sink.batches)
    return [record.email for batch in rig.sink.batches for record in batch.records]


def test_a_file_leaves_to_rest_only_the_leads_written_since_it_was_decided() -> None:
    ledger, rig = Ledger(), Rig()
    rig.stage(records(4))
    # after the fetch began, the priority lane wrote v0 and v1; v3 before it began
    ledger.wrote(0, T0 + timedelta(minutes=1))
    ledger.wrote(1, T0 + timedelta(minutes=1))
    ledger.wrote(3, T0 - timedelta(hours=1))
    ports = replace(rig.ports, written=ledger)
    result = process(rig.queue.next()[0], ports, rig.settings, limits=LIMITS, now=lambda: T0)
    assert result.outcome == "submitted"
    sent = rig.marketo.submitted[-1].decode()
    assert "v0@example.com" not in sent
    assert "v1@example.com" not in sent
    assert "v2@example.com" in sent
    assert "v3@example.com" in sent
    assert handed_to_rest(rig) == ["v0@example.com", "v1@example.com"]
    assert rig.marketo.calls == ["submit"]  # nothing looked up in the bulk step
    assert rig.jobs.items[result.job_id].records == 2  # the rows the file holds now
    assert rig.sink.counters["bulk_records_to_rest"] == 2


def test_a_file_that_goes_again_after_a_failed_import_leaves_the_leads_written_meanwhile() -> None:
    ledger = Ledger()
    rig = Rig(marketo=Marketo(statuses=["Failed", "Complete"]))
    rig.stage(records(3))
    ports = replace(rig.ports, written=ledger)
    first = process(rig.queue.next()[0], ports, rig.settings, limits=LIMITS, now=lambda: T0)
    assert first.outcome == "submitted"
    # the import fails; meanwhile the REST path writes v0 (a newer chat) and v1
    ledger.wrote(0, T0 + timedelta(seconds=3))
    ledger.wrote(1, T0 + timedelta(seconds=3))
    outcomes = _deliver_all(rig, ports)
    assert outcomes == ["resubmitting", "submitted", "done"]
    resubmitted = rig.marketo.submitted[-1].decode()
    assert "v2@example.com" in resubmitted
    assert "v0@example.com" not in resubmitted  # the newer chat stays in Marketo
    assert handed_to_rest(rig) == ["v0@example.com", "v1@example.com"]


def test_a_file_with_no_lead_written_since_goes_whole_after_any_wait() -> None:
    # a slow fetch, Marketo's queue full, a killed submit: the file goes as it was staged
    rig = Rig()
    rig.stage(records(5))
    ports = replace(rig.ports, written=Ledger())
    later = T0 + timedelta(hours=3)
    result = process(rig.queue.next()[0], ports, rig.settings, limits=LIMITS, now=lambda: later)
    assert result.outcome == "submitted"
    assert rig.marketo.submitted == [render(records(5))]
    assert rig.sink.batches == []


def test_a_file_whose_every_lead_was_written_since_is_done_without_marketo() -> None:
    ledger, rig = Ledger(), Rig()
    [job_id] = rig.stage(records(2))
    for n in range(2):
        ledger.wrote(n, T0 + timedelta(minutes=5))
    ports = replace(rig.ports, written=ledger)
    later = T0 + timedelta(minutes=10)
    result = process(rig.queue.next()[0], ports, rig.settings, limits=LIMITS, now=lambda: later)
    assert result.outcome == "nothing_left"
    assert rig.marketo.calls == []
    assert handed_to_rest(rig) == ["v0@example.com", "v1@example.com"]
    assert rig.jobs.items[job_id].status is JobStatus.DONE
    assert rig.files.items == {}
    assert rig.slots.active == set()


def test_a_file_whose_ledger_cannot_be_read_waits_staged_and_loses_nothing() -> None:
    rig = Rig()
    [job_id] = rig.stage(records(2))
    ports = replace(rig.ports, written=Ledger(failing=True))
    result = process(rig.queue.next()[0], ports, rig.settings, limits=LIMITS, now=lambda: T0)
    assert result.outcome == "recheck_failed"
    assert rig.jobs.items[job_id].status is JobStatus.STAGED
    assert rig.marketo.calls == []
    assert rig.sink.batches == []
    assert len(rig.files.items) == 1
    assert result.next_step == "submit"


def test_an_import_run_after_leadsync_wrote_some_of_its_leads_has_its_chats_read_again() -> None:
    ledger = Ledger()
    rig = Rig(marketo=Marketo(statuses=["Importing", "Complete"]))
    [job_id] = rig.stage(records(3))
    ports = replace(rig.ports, written=ledger)
    first = process(rig.queue.next()[0], ports, rig.settings, limits=LIMITS, now=lambda: T0)
    assert first.outcome == "submitted"
    # while Marketo holds the file, the REST path writes v1 (a newer chat)
    ledger.wrote(1, T0 + timedelta(seconds=2))
    outcomes = _deliver_all(rig, ports)
    assert outcomes[-1] == "done"
    [asked] = rig.rereads.asked
    assert asked.read_from == T0  # the file's staging
    assert asked.imported_from <= T0 + timedelta(seconds=2)
    assert rig.sink.counters["bulk_overtaken_imports"] == 1
    assert rig.jobs.items[job_id].status is JobStatus.DONE


def test_an_import_no_lead_of_which_was_written_meanwhile_reads_nothing_again() -> None:
    rig = Rig(marketo=Marketo(statuses=["Complete"]))
    rig.stage(records(3))
    ports = replace(rig.ports, written=Ledger())
    _deliver_all(rig, ports)
    assert rig.rereads.asked == []
