"""Bulk jobs an admin must hear about, for the digest: imports stuck at Marketo (still
Queued or Importing, or never submitted, past the deadline) and imports that ended without
their records in Marketo (failed every time: records in the error store; given up on:
records sent to the REST path, and those Marketo imported late after all: chats read
again)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from leadsync.bulk.jobs import ACTIVE, BulkJob, JobStatus


class JobReader(Protocol):
    def jobs(self, statuses: Iterable[JobStatus] | None = ...) -> list[BulkJob]: ...


@dataclass(frozen=True)
class JobLine:
    """One job as the digest shows it (no record content, hence no personal data)."""

    job_id: str
    problem: str  # "stuck", "failed", "rerouted", "rerouted, imported late"
    status: str  # leadsync's status, with Marketo's in brackets when known
    batch_id: int | None
    records: int
    waiting_since: datetime
    polls: int
    submissions: int
    message: str

    def describe(self) -> str:
        batch = f"batch {self.batch_id}" if self.batch_id is not None else "not submitted"
        return (
            f"{self.problem}: job {self.job_id[:12]}, {batch}, {self.status}, "
            f"{self.records:,} record(s), since {self.waiting_since:%Y-%m-%d %H:%M} UTC, "
            f"{self.polls} poll(s), {self.submissions} submission(s)"
            + (f": {self.message}" if self.message else "")
        )


FINISHED_BADLY = {JobStatus.FAILED: "failed", JobStatus.REROUTED: "rerouted"}


def needing_attention(
    jobs: Sequence[BulkJob], *, now: datetime, stuck_after: timedelta, since: datetime | None
) -> list[JobLine]:
    """Stuck jobs (every digest until they move), then jobs that ended badly since the
    last digest; oldest first."""
    lines: list[JobLine] = []
    for job in sorted(jobs, key=lambda j: j.waiting_since()):
        if job.is_stuck(now, stuck_after):
            lines.append(_line(job, "stuck"))
        elif job.status in FINISHED_BADLY and _ended_since(job, since):
            late = job.imported_late_at is not None
            lines.append(
                _line(job, FINISHED_BADLY[job.status] + (", imported late" if late else ""))
            )
    return lines


def _ended_since(job: BulkJob, since: datetime | None) -> bool:
    """Ended since the last digest: failed, rerouted, or (rerouted) imported late."""
    ended = job.imported_late_at or job.finished_at
    return since is None or (ended is not None and ended > since)


def read_attention(
    reader: JobReader, *, now: datetime, stuck_after: timedelta, since: datetime | None
) -> list[JobLine]:
    jobs = reader.jobs([*ACTIVE, *FINISHED_BADLY])
    return needing_attention(jobs, now=now, stuck_after=stuck_after, since=since)


def _line(job: BulkJob, problem: str) -> JobLine:
    status = job.status.value + (f" (Marketo: {job.marketo_status})" if job.marketo_status else "")
    return JobLine(
        job_id=job.job_id,
        problem=problem,
        status=status,
        batch_id=job.batch_id,
        records=job.records,
        waiting_since=job.waiting_since(),
        polls=job.polls,
        submissions=job.submissions,
        message=job.message,
    )
