"""The digest's bulk section: imports stuck at Marketo past the deadline, and imports that
ended without their records, each on a line without personal data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from leadsync.bulk.jobs import BulkJob, JobStatus
from leadsync.bulk.report import needing_attention
from leadsync.report.digest import render
from tests.support.digest_fakes import FakeMailer, run_digest
from tests.support.fakes import FakeState

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def job(job_id: str, status: JobStatus, *, age: timedelta, **kw: object) -> BulkJob:
    at = NOW - age
    values: dict[str, object] = {
        "job_id": job_id,
        "correlation_id": f"bulk-{job_id}",
        "staged_key": f"jobs/{job_id}.json.gz",
        "records": 30_000,
        "status": status,
        "created_at": at,
    }
    if status is not JobStatus.STAGED:
        values.update(batch_id=4000 + len(job_id), submitted_at=at, submissions=1)
    values.update(kw)
    return BulkJob.model_validate(values)


@dataclass
class Jobs:
    items: list[BulkJob] = field(default_factory=list)

    def jobs(self, statuses: Iterable[JobStatus] | None = None) -> list[BulkJob]:
        wanted = set(statuses) if statuses is not None else None
        return [j for j in self.items if wanted is None or j.status in wanted]


JOBS = [
    job("queued-long", JobStatus.QUEUED, age=3 * HOUR, marketo_status="Queued", polls=40),
    job("importing-ok", JobStatus.IMPORTING, age=10 * timedelta(minutes=1)),
    job("never-sent", JobStatus.STAGED, age=2 * HOUR, busy_waits=9),
    job("failed", JobStatus.FAILED, age=5 * HOUR, finished_at=NOW - HOUR, message="Import failed"),
    job("old-failure", JobStatus.FAILED, age=50 * HOUR, finished_at=NOW - 48 * HOUR),
    job("rerouted", JobStatus.REROUTED, age=30 * HOUR, finished_at=NOW - 2 * HOUR),
    job("done", JobStatus.DONE, age=3 * HOUR, finished_at=NOW - 2 * HOUR),
]


def test_stuck_and_badly_ended_jobs_since_the_last_digest() -> None:
    lines = needing_attention(JOBS, now=NOW, stuck_after=HOUR, since=NOW - 24 * HOUR)
    assert [(line.job_id, line.problem) for line in lines] == [
        ("rerouted", "rerouted"),
        ("failed", "failed"),
        ("queued-long", "stuck"),
        ("never-sent", "stuck"),
    ]
    stuck = lines[2].describe()
    assert "batch 4011" in stuck
    assert "queued (Marketo: Queued)" in stuck
    assert "40 poll(s)" in stuck
    assert "not submitted" in lines[3].describe()


def test_the_digest_shows_the_section_and_is_not_all_clear() -> None:
    lines = needing_attention(JOBS, now=NOW, stuck_after=HOUR, since=NOW - 24 * HOUR)
    digest = render([], since=NOW - 24 * HOUR, until=NOW, bulk_jobs=lines)
    assert not digest.all_clear
    assert digest.bulk_jobs == 4
    assert "4 bulk import(s) to look at" in digest.subject
    assert "BULK IMPORTS TO LOOK AT" in digest.text
    assert "stuck: job queued-long" in digest.text
    assert "Bulk imports to look at" in digest.html
    assert render([], since=None, until=NOW).all_clear


def test_the_digest_job_reads_the_job_store_and_mails_it() -> None:
    mailer = FakeMailer()
    state = FakeState(digest_mark=NOW - 24 * HOUR)
    summary = run_digest(state, mailer, at=NOW, bulk=Jobs(JOBS), bulk_stuck_after=HOUR)
    assert summary.sent
    assert summary.bulk_jobs == 4
    [mail] = mailer.sent
    assert "stuck: job queued-long" in mail["text"]
    # a quiet day with only healthy imports sends nothing
    quiet = run_digest(
        FakeState(digest_mark=NOW - HOUR),
        mailer,
        at=NOW,
        bulk=Jobs([JOBS[1], JOBS[-1]]),
        bulk_stuck_after=HOUR,
    )
    assert not quiet.sent
