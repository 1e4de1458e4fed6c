"""In-memory fakes of the ports a bulk run is staged through (`leadsync.bulk.staging.stage`)
and then driven by: the job store, the staged files, and `Sender`, a queue in time whose
clock starts at `T0`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from leadsync.bulk.jobs import BulkJob, BulkMessage, JobStatus, StagedFile

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Jobs:
    items: dict[str, BulkJob] = field(default_factory=dict)
    fail_next_replace: bool = False

    def create(self, job: BulkJob) -> bool:
        if job.job_id in self.items:
            return False
        self.items[job.job_id] = job
        return True

    def get(self, job_id: str) -> BulkJob | None:
        return self.items.get(job_id)

    def replace(self, old: BulkJob, new: BulkJob) -> bool:
        stored = self.items.get(old.job_id)
        if self.fail_next_replace or stored is None or stored.version != old.version:
            self.fail_next_replace = False
            return False
        self.items[old.job_id] = new.model_copy(update={"version": old.version + 1})
        return True

    def jobs(self, statuses: Iterable[JobStatus] | None = None) -> list[BulkJob]:
        wanted = set(statuses) if statuses is not None else None
        return [j for j in self.items.values() if wanted is None or j.status in wanted]


@dataclass
class Files:
    items: dict[str, StagedFile] = field(default_factory=dict)

    def put(self, key: str, staged: StagedFile) -> None:
        self.items[key] = staged

    def get(self, key: str) -> StagedFile:
        return self.items[key]

    def delete(self, key: str) -> None:
        self.items.pop(key, None)


@dataclass
class Sender:
    """A queue in time: each message is due its delay after it was sent."""

    clock: list[datetime] = field(default_factory=lambda: [T0])
    sent: list[tuple[BulkMessage, datetime]] = field(default_factory=list)

    def send_bulk(self, messages: Iterable[BulkMessage], delay_seconds: int = 0) -> int:
        batch = list(messages)
        due = self.clock[0] + timedelta(seconds=delay_seconds)
        self.sent.extend((m, due) for m in batch)
        return len(batch)

    def next(self) -> tuple[BulkMessage, datetime]:
        first = min(range(len(self.sent)), key=lambda i: self.sent[i][1])
        return self.sent.pop(first)
