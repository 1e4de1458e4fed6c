"""What one step of a bulk job works through and answers: its ports, its moment, the result
it reports, and the next message it sends (every wait is a delayed message)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from leadsync.bulk.jobs import BulkJob, BulkMessage, JobStatus
from leadsync.bulk.ports import (
    BulkApi,
    BulkSender,
    ImportSlots,
    JobStore,
    RecentWrites,
    RereadRequester,
    StagedFiles,
)
from leadsync.bulk.schedule import BulkSettings
from leadsync.marketo.models import ImportJob
from leadsync.ports import BatchSink, ErrorSink, StatsSink
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS

MAX_DETAIL = 1000


@dataclass(frozen=True)
class BulkPorts:
    jobs: JobStore
    slots: ImportSlots
    files: StagedFiles
    marketo: BulkApi
    queue: BulkSender
    rest: BatchSink  # SyncQueue: where a job given up on sends its records
    errors: ErrorSink
    stats: StatsSink | None = None
    # what leadsync's own lanes wrote lately: a file leaves those leads to the REST path
    # before it goes (bulk/recheck.py)
    written: RecentWrites | None = None
    # a rerouted job Marketo imported after all: the fetch reads its chats again
    rereads: RereadRequester | None = None


class StepResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    step: str
    outcome: str
    status: str | None = None
    next_step: str | None = None
    delay_seconds: int | None = None
    rows_failed: int = 0
    rows_warned: int = 0


@dataclass
class Step:
    ports: BulkPorts
    settings: BulkSettings
    limits: BatchLimits
    now: datetime
    message: BulkMessage

    def result(self, outcome: str, job: BulkJob | None = None, **kw: Any) -> StepResult:
        status = job.status.value if job is not None else None
        return StepResult(
            job_id=self.message.job_id,
            step=self.message.step,
            outcome=outcome,
            status=status,
            **kw,
        )

    def send(
        self, job: BulkJob, step: Literal["submit", "poll"], delay: int, seq: int = 0
    ) -> dict[str, Any]:
        message = BulkMessage(
            job_id=job.job_id, step=step, correlation_id=job.correlation_id, seq=seq
        )
        self.ports.queue.send_bulk([message], delay_seconds=delay)
        return {"next_step": step, "delay_seconds": delay}

    def retry_after(self, exc: Exception) -> int:
        """Seconds to wait before trying again after `exc` (a rate limit's own hint, when it
        gives one), within what SQS can delay."""
        seconds = getattr(exc, "retry_after_seconds", None) or getattr(exc, "retry_after", None)
        if not isinstance(seconds, int | float) or seconds <= 0:
            seconds = self.settings.busy_delay_seconds
        return max(1, min(int(seconds) + 1, SQS_MAX_DELAY_SECONDS))

    def count(self, counters: dict[str, int]) -> None:
        if self.ports.stats is not None:
            self.ports.stats.add({k: v for k, v in counters.items() if v}, at=self.now)


def next_version(job: BulkJob, **changes: object) -> BulkJob:
    """The job with `changes`, one version on."""
    return job.model_copy(update={**changes, "version": job.version + 1})


def status_of(answer: ImportJob) -> JobStatus:
    return JobStatus.IMPORTING if answer.status == "Importing" else JobStatus.QUEUED


def code_of(exc: Exception) -> str:
    return str(getattr(exc, "code", "") or type(exc).__name__)
