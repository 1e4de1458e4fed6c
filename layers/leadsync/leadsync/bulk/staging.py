"""Staging of a run's bulk writes: each file's records in the bucket first, then its job,
then its submit message. The records an import cannot carry go back for the REST path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from leadsync.bulk.csvfile import FilePlan, ineligible, pack_files, render
from leadsync.bulk.jobs import BulkJob, BulkMessage, JobStatus, StagedFile, job_id_of
from leadsync.bulk.ports import BulkSender, JobStore, StagedFiles
from leadsync.bulk.schedule import BulkSettings
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import SyncRecord

STAGED_PREFIX = "jobs/"


@dataclass
class Staged:
    """What staging did: jobs made, jobs found already staged, records left for REST."""

    jobs: list[str] = field(default_factory=list)
    new: int = 0
    again: int = 0  # the same writes were staged before and still wait: submitted again
    done_before: int = 0  # the same writes were already imported: nothing to do
    records: int = 0
    rest: list[SyncRecord] = field(default_factory=list)
    messages: int = 0


def stage(
    records: Sequence[SyncRecord],
    *,
    files: StagedFiles,
    jobs: JobStore,
    queue: BulkSender,
    settings: BulkSettings,
    now: datetime,
) -> Staged:
    """Stage the records an import can carry as jobs (file in the bucket first, then the
    job, then its submit message); return the others for the REST path. Idempotent: the
    same writes staged again are the same job (its id is their digest), submitted once."""
    out = Staged(rest=[r for r in records if ineligible(r) is not None])
    carried = [r for r in records if ineligible(r) is None]
    plan: FilePlan = pack_files(carried, settings.max_file_bytes)
    out.rest.extend(plan.oversized)
    messages: list[BulkMessage] = []
    for chunk in plan.files:
        message = _stage_file(chunk, out, files=files, jobs=jobs, now=now)
        if message is not None:
            messages.append(message)
    if messages:
        out.messages = queue.send_bulk(messages)
    get_logger().info(
        "bulk jobs staged",
        extra={
            "jobs": len(out.jobs),
            "new": out.new,
            "again": out.again,
            "done_before": out.done_before,
            "records": out.records,
            "rest_records": len(out.rest),
        },
    )
    return out


def _stage_file(
    chunk: list[SyncRecord], out: Staged, *, files: StagedFiles, jobs: JobStore, now: datetime
) -> BulkMessage | None:
    """One file's job, made unless it exists; its submit message while it is still staged."""
    job_id = job_id_of(chunk)
    correlation_id = f"bulk-{job_id}"
    existing = jobs.get(job_id)
    if existing is not None and not existing.active:
        out.done_before += 1
        return None
    if existing is None and _create(chunk, job_id, correlation_id, files, jobs, now):
        out.new += 1
    else:
        out.again += 1
    current = jobs.get(job_id)
    message = None
    if current is not None and current.status is JobStatus.STAGED:
        message = BulkMessage(job_id=job_id, step="submit", correlation_id=correlation_id)
    out.jobs.append(job_id)
    out.records += len(chunk)
    # the job's correlation id follows its records (chat ids in the staged file) to the digest
    get_logger().info(
        "bulk job staged",
        extra={
            "job_id": job_id,
            "correlation_id": correlation_id,
            "records": len(chunk),
            "chats": sum(len(r.chat_ids) for r in chunk),
        },
    )
    return message


def _create(
    chunk: list[SyncRecord],
    job_id: str,
    correlation_id: str,
    files: StagedFiles,
    jobs: JobStore,
    now: datetime,
) -> bool:
    """The file in the bucket, then its job; False when another copy made the job first."""
    key = f"{STAGED_PREFIX}{job_id}.json"
    staged = StagedFile(job_id=job_id, correlation_id=correlation_id, created_at=now, records=chunk)
    files.put(key, staged)
    job = BulkJob(
        job_id=job_id,
        correlation_id=correlation_id,
        staged_key=key,
        records=len(chunk),
        file_bytes=len(render(chunk)),
        created_at=now,
    )
    return jobs.create(job)
