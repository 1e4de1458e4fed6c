"""A job given up at Marketo is still watched there: Marketo cannot cancel an import, and one
that runs after its records went to the REST path writes older values over theirs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from leadsync.bulk.jobs import JobStatus
from leadsync.bulk.report import needing_attention
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.step import StepResult
from leadsync.limiter.api import BudgetExhausted
from leadsync.marketo.errors import MarketoPermanent
from tests.support.bulk_rig import Rig, records
from tests.support.bulk_staging import T0

SETTINGS = BulkSettings(stuck_after=timedelta(minutes=30), give_up_after=timedelta(hours=2))
MIN = timedelta(minutes=1)


def rerouted(rig: Rig, holding: str = "Queued") -> str:
    """Stage 4 records, let Marketo hold them (Queued) past the give-up deadline."""
    rig.marketo.statuses = [holding]
    [job_id] = rig.stage(records(4))
    assert rig.run(limit=200, until="rerouted")[-1].outcome == "rerouted"
    rig.marketo.calls.clear()
    return job_id


def watched(rig: Rig, limit: int = 2000) -> list[tuple[datetime, StepResult]]:
    """Every step taken from now on, with its time."""
    taken: list[tuple[datetime, StepResult]] = []
    while rig.queue.sent and len(taken) < limit:
        result = rig.step()
        taken.append((rig.now, result))
    return taken


def looks(taken: list[tuple[datetime, StepResult]]) -> list[datetime]:
    """When Marketo was asked (a hop between two looks asks nothing)."""
    return [at for at, r in taken if r.outcome not in ("watch_waiting", "deferred")]


def test_a_rerouted_job_is_looked_at_ever_less_often_until_the_watch_limit() -> None:
    rig = Rig(settings=SETTINGS)
    job_id = rerouted(rig)
    given_up = rig.jobs.items[job_id].finished_at
    assert given_up is not None
    taken = watched(rig)
    at = looks(taken)
    gaps = [b - a for a, b in zip([given_up, *at], at, strict=False)]
    assert gaps[:7] == [
        15 * MIN,
        15 * MIN,
        30 * MIN,
        60 * MIN,
        120 * MIN,
        240 * MIN,
        360 * MIN,
    ]
    assert max(gaps) == timedelta(hours=6)
    # one status call a look, none in between; nothing after the watch limit
    assert rig.marketo.calls == ["status"] * len(at)
    assert len(at) < 40
    assert at[-1] == given_up + timedelta(days=7)
    assert taken[-1][1].outcome == "watch_ended"
    job = rig.jobs.items[job_id]
    assert (job.status, job.watched) == (JobStatus.REROUTED, False)
    assert "when the watch ended" in job.message
    assert rig.rereads.asked == []
    assert rig.queue.sent == []


def test_an_import_that_finishes_late_has_the_chats_since_its_staging_read_again() -> None:
    rig = Rig(settings=SETTINGS)
    job_id = rerouted(rig)
    rig.marketo.statuses = ["Queued", "Queued", "Complete"]
    rig.marketo.processed = {"Complete": 4}
    taken = watched(rig)
    at = looks(taken)
    assert [r.outcome for _, r in taken if r.outcome != "watch_waiting"] == [
        "watching",
        "watching",
        "imported_late",
    ]
    [asked] = rig.rereads.asked
    job = rig.jobs.items[job_id]
    # read again from the file's staging; its rows were written after the last quiet look
    assert asked.read_from == asked.staged_at == job.created_at == T0
    assert asked.imported_from == at[1] - MIN
    assert asked.imported_until == at[2] + MIN
    assert rig.sink.counters["bulk_late_imports"] == 1
    assert (job.status, job.imported_late_at, job.watched) == (JobStatus.REROUTED, at[2], False)
    assert job.rows_processed == 4
    assert rig.queue.sent == []
    # the digest after it says so, however long ago the job was rerouted
    [line] = needing_attention(
        list(rig.jobs.items.values()), now=at[2], stuck_after=SETTINGS.stuck_after, since=at[1]
    )
    assert line.problem == "rerouted, imported late"
    assert "chats since 2026-03-01 12:00 UTC read again" in line.describe()


def test_rows_marketo_processed_while_watched_date_the_late_writes_from_the_last_quiet_look() -> (
    None
):
    rig = Rig(settings=SETTINGS)
    rig.marketo.processed = {"Queued": 0}
    job_id = rerouted(rig)
    rig.marketo.statuses = ["Queued", "Importing", "Importing", "Complete"]
    rig.marketo.processed = {"Importing": 2, "Complete": 4}
    at = looks(watched(rig))
    [asked] = rig.rereads.asked
    assert asked.imported_from == at[0] - MIN  # the last look that found no row processed
    assert rig.jobs.items[job_id].rows_processed == 4


@pytest.mark.parametrize(
    ("at_give_up", "status", "processed", "late"),
    [
        (0, "Complete", 0, False),  # nothing imported
        (0, "Failed", 0, False),
        (2, "Failed", 2, False),  # failed without a row since it was given up
        (2, "Failed", 3, True),  # failed partway, after rows since the give-up
        (4, "Complete", 4, True),  # rows counted before may land only when it completes
    ],
)
def test_only_an_import_that_may_have_written_since_the_give_up_has_chats_read_again(
    at_give_up: int, status: str, processed: int, late: bool
) -> None:
    rig = Rig(settings=SETTINGS)
    holding = "Importing" if at_give_up else "Queued"
    rig.marketo.processed = {holding: at_give_up}
    job_id = rerouted(rig, holding)
    assert rig.jobs.items[job_id].rows_processed == at_give_up
    rig.marketo.statuses = [holding, status]
    rig.marketo.processed = {holding: at_give_up, status: processed}
    taken = watched(rig)
    assert taken[-1][1].outcome == ("imported_late" if late else "watch_ended")
    assert len(rig.rereads.asked) == late
    assert rig.sink.counters.get("bulk_late_imports", 0) == late
    job = rig.jobs.items[job_id]
    assert not job.watched
    assert (job.imported_late_at is not None) == late
    assert rig.queue.sent == []


def test_a_look_without_budget_waits_and_one_marketo_no_longer_knows_ends_the_watch() -> None:
    rig = Rig(settings=SETTINGS)
    job_id = rerouted(rig)
    rig.marketo.status_errors = [
        BudgetExhausted("daily cap spent", retry_after_seconds=600),
        MarketoPermanent("1013", "Import batch '101' not found"),
    ]
    taken = watched(rig)
    outcomes = [r.outcome for _, r in taken if r.outcome != "watch_waiting"]
    assert outcomes == ["deferred", "watch_ended"]
    assert rig.marketo.calls == ["status", "status"]
    assert "no longer knows" in rig.jobs.items[job_id].message


def test_a_job_never_at_marketo_is_rerouted_without_a_watch() -> None:
    rig = Rig(
        settings=BulkSettings(give_up_after=timedelta(hours=2), queued_slots=1, running_slots=1)
    )
    # another job holds the only slot all along
    rig.slot_held_by_another()
    rig.marketo.statuses = ["Complete"]
    [job_id] = rig.stage(records(2))
    assert rig.run(limit=100)[-1].outcome == "rerouted"
    assert rig.queue.sent == []
    assert not rig.jobs.items[job_id].watched
    assert rig.marketo.calls == []
