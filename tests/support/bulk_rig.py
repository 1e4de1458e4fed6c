"""A bulk job driven through every step with in-memory fakes of its ports (`Rig`): Marketo
answering from a script, import slots, the REST sink and error store, the request to read
chats again; time moves with the delayed messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadsync.bulk.engine import process
from leadsync.bulk.jobs import BulkJob, BulkMessage, JobStatus
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.staging import stage
from leadsync.bulk.step import BulkPorts, StepResult
from leadsync.marketo.models import ImportJob
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.reread import Reread
from leadsync.sync.messages import SyncBatch, SyncRecord
from tests.support.bulk_staging import T0, Files, Jobs, Sender

LIMITS = BatchLimits(max_records=300, max_body_bytes=200_000)


@dataclass
class Slots:
    active: set[str] = field(default_factory=set)

    def claim(self, job_id: str, limit: int) -> bool:
        if job_id in self.active or len(self.active) < limit:
            self.active.add(job_id)
            return True
        return False

    def release(self, job_id: str) -> None:
        self.active.discard(job_id)

    def held(self) -> list[str]:
        return sorted(self.active)


@dataclass
class Marketo:
    """Answers scripted per batch: a list of statuses the polls walk through."""

    statuses: list[str] = field(default_factory=lambda: ["Importing", "Complete"])
    # rows Marketo says it processed, by status (none unless set)
    processed: dict[str, int] = field(default_factory=dict)
    # raised by the next status calls instead of answering
    status_errors: list[Exception] = field(default_factory=list)
    failures: bytes = b""
    warnings: bytes = b""
    submit_errors: list[Exception] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    submitted: list[bytes] = field(default_factory=list)
    next_id: int = 100

    def submit_import(
        self,
        csv_bytes: bytes,
        format: str = "csv",
        lookup_field: str = "email",
        list_id: int | None = None,
        partition_name: str | None = None,
    ) -> ImportJob:
        self.calls.append("submit")
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        self.submitted.append(csv_bytes)
        self.next_id += 1
        return ImportJob(batchId=self.next_id, status="Queued")

    def import_status(self, batch_id: int) -> ImportJob:
        self.calls.append("status")
        if self.status_errors:
            raise self.status_errors.pop(0)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        failed = max(0, self.failures.count(b"\n") - 1)
        warned = max(0, self.warnings.count(b"\n") - 1)
        return ImportJob(
            batchId=batch_id,
            status=status,
            numOfRowsFailed=failed,
            numOfRowsWithWarning=warned,
            numOfLeadsProcessed=self.processed.get(status, 0),
            message="Import failed: internal error" if status == "Failed" else "",
        )

    def import_failures(self, batch_id: int) -> bytes:
        self.calls.append("failures")
        return self.failures

    def import_warnings(self, batch_id: int) -> bytes:
        self.calls.append("warnings")
        return self.warnings


@dataclass
class Sink:
    batches: list[SyncBatch] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    def send_batches(self, batches: Any) -> int:
        self.batches.extend(batches)
        return len(batches)

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int:
        added = list(entries)
        self.errors.extend(added)
        return len(added)

    def add(self, counters: Any, *, at: datetime | None = None) -> None:
        for k, v in counters.items():
            self.counters[k] = self.counters.get(k, 0) + v


@dataclass
class Rereads:
    """The request to read chats again, as the state table keeps it (merged)."""

    stored: Reread | None = None
    asked: list[Reread] = field(default_factory=list)

    def request(self, wanted: Reread) -> Reread:
        self.asked.append(wanted)
        self.stored = wanted if self.stored is None else self.stored.merged(wanted)
        return self.stored


@dataclass
class Rig:
    marketo: Marketo = field(default_factory=Marketo)
    jobs: Jobs = field(default_factory=Jobs)
    slots: Slots = field(default_factory=Slots)
    files: Files = field(default_factory=Files)
    queue: Sender = field(default_factory=Sender)
    sink: Sink = field(default_factory=Sink)
    rereads: Rereads = field(default_factory=Rereads)
    settings: BulkSettings = field(default_factory=BulkSettings)
    now: datetime = T0

    @property
    def ports(self) -> BulkPorts:
        return BulkPorts(
            self.jobs,
            self.slots,
            self.files,
            self.marketo,
            self.queue,
            self.sink,
            self.sink,
            self.sink,
            rereads=self.rereads,
        )

    def slot_held_by_another(self) -> None:
        """Another job, queued at Marketo, holds a slot (the only one, with one slot)."""
        self.slots.active.add("other")
        self.jobs.items["other"] = BulkJob(
            job_id="other",
            correlation_id="c",
            staged_key="k",
            records=1,
            status=JobStatus.QUEUED,
            created_at=T0,
        )

    def stage(self, records: list[SyncRecord]) -> list[str]:
        return stage(
            records,
            files=self.files,
            jobs=self.jobs,
            queue=self.queue,
            settings=self.settings,
            now=self.now,
        ).jobs

    def step(self, message: BulkMessage | None = None) -> StepResult:
        """Deliver `message`, or the next one sent (moving the clock by its delay)."""
        if message is None:
            message, due = self.queue.next()
            self.now = max(self.now, due)
        self.queue.clock[0] = self.now
        return process(message, self.ports, self.settings, limits=LIMITS, now=lambda: self.now)

    def run(self, limit: int = 50, until: str | None = None) -> list[StepResult]:
        """Deliver the messages in time order, at most `limit`, stopping after the first
        result whose outcome is `until`."""
        results: list[StepResult] = []
        while self.queue.sent and len(results) < limit:
            results.append(self.step())
            if results[-1].outcome == until:
                break
        return results


def records(n: int, **fields: str) -> list[SyncRecord]:
    """Creates of v0..v{n-1}@example.com, first names N0.., with `fields` besides."""
    return [
        SyncRecord(
            action="create",
            email=f"v{i}@example.com",
            fields={"email": f"v{i}@example.com", "firstName": f"N{i}", **fields},
            chat_ids=[f"C{i}"],
        )
        for i in range(n)
    ]
