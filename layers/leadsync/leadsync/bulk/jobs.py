"""A bulk job: one staged file of records, from staging to its last row read back.

    staged ─► submitting ─► queued ─► importing ─► done
       ▲          │  (1016: slot busy, back to staged)      │
       └──────────┴─────────── Failed: resubmitted ◄───────┘
                                  up to max_submissions, then failed (records reported)
    queued/importing past the give-up deadline ─► rerouted (records to the REST path)
        still watched at Marketo, which cannot cancel an import, ever less often:
        ├─ imported late after all ─► the fetch reads the chats again from the staging time
        └─ Failed, nothing imported, unknown to Marketo or past the watch limit ─► let go

The item holds what the digest and an operator need (counts, times, the correlation id,
where the file is); the records themselves, chat ids included, stay in the staged object
(a DynamoDB item holds at most 400 KB).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NonNegativeInt

from leadsync.sync.messages import SyncRecord


class JobStatus(StrEnum):
    STAGED = "staged"  # the file is in the bucket; waiting for a slot
    SUBMITTING = "submitting"  # a copy is sending it to Marketo
    QUEUED = "queued"  # Marketo took it (Queued)
    IMPORTING = "importing"  # Marketo is importing it
    DONE = "done"  # complete; failures and warnings read back and stored
    FAILED = "failed"  # Marketo failed it every time: its records are in the error store
    REROUTED = "rerouted"  # never finished: its records went to the REST path (watched on)


ACTIVE = frozenset({JobStatus.STAGED, JobStatus.SUBMITTING, JobStatus.QUEUED, JobStatus.IMPORTING})
AT_MARKETO = frozenset({JobStatus.QUEUED, JobStatus.IMPORTING})


class BulkJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str = Field(min_length=1, max_length=64)
    correlation_id: str = Field(min_length=1, max_length=128)
    staged_key: str = Field(min_length=1, max_length=512)
    records: NonNegativeInt
    file_bytes: NonNegativeInt = 0
    status: JobStatus = JobStatus.STAGED
    created_at: AwareDatetime
    batch_id: int | None = None
    submissions: NonNegativeInt = 0  # times Marketo took the file (a Failed job is resubmitted)
    busy_waits: NonNegativeInt = 0  # submits that found no free slot (ours or Marketo's 1016)
    submitting_at: AwareDatetime | None = None
    submitted_at: AwareDatetime | None = None
    polls: NonNegativeInt = 0
    next_poll_at: AwareDatetime | None = None
    marketo_status: str | None = None
    message: str = Field(default="", max_length=1000)
    stuck_at: AwareDatetime | None = None  # first seen past the stuck deadline
    finished_at: AwareDatetime | None = None
    rows_processed: NonNegativeInt = 0
    rows_failed: NonNegativeInt = 0
    rows_warned: NonNegativeInt = 0
    unmatched_rows: NonNegativeInt = 0
    # a rerouted job: the last poll that found no row processed since it was given up, and
    # when Marketo was found to have imported it after all
    quiet_at: AwareDatetime | None = None
    imported_late_at: AwareDatetime | None = None
    # every write of the item adds one; a write expecting another version is refused
    version: NonNegativeInt = 0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def waiting_since(self) -> datetime:
        """Since when the job waits for Marketo (its last submission, else its staging)."""
        return self.submitted_at or self.created_at

    def is_stuck(self, now: datetime, after: timedelta) -> bool:
        return self.active and now - self.waiting_since() > after

    @property
    def watched(self) -> bool:
        """Rerouted, and still looked at until Marketo ends it (its next look is due)."""
        return (
            self.status is JobStatus.REROUTED
            and self.batch_id is not None
            and self.next_poll_at is not None
        )


def job_id_of(records: Sequence[SyncRecord]) -> str:
    """The same writes staged twice (a run read again after a crash) are the same job."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r.email):
        line = json.dumps(
            [record.email, record.action, record.lead_id, record.fields],
            sort_keys=True,
            default=str,
        )
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:32]


class BulkMessage(BaseModel):
    """The BulkQueue message: a pointer to a job and the step it is due for (the file is
    in the bucket; SQS carries 256 KB)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str = Field(min_length=1, max_length=64)
    step: Literal["submit", "poll"]
    correlation_id: str = Field(min_length=1, max_length=128)
    # a poll is for the job's poll number `seq`: a second chain of polls (a redelivered
    # submit) finds its number taken and stops
    seq: NonNegativeInt = 0


class StagedFile(BaseModel):
    """What the bucket keeps for a job: its records, rendered to CSV at submit time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    correlation_id: str
    created_at: AwareDatetime
    records: list[SyncRecord] = Field(min_length=1)
