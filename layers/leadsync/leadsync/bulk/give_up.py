"""A job that does not import: submitted again after Marketo failed it, then failed for good
(every record to the error store, replayable), or given up at Marketo past the deadline
(every record to the REST path, the job still watched there). Nothing is dropped either
way."""

from __future__ import annotations

from collections.abc import Sequence

from leadsync.bulk.jobs import BulkJob, JobStatus, StagedFile
from leadsync.bulk.step import MAX_DETAIL, Step, StepResult, next_version
from leadsync.bulk.watch import first_look, next_look
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import from_record
from leadsync.sync.fetch.batching import plan_batches
from leadsync.sync.messages import SyncRecord

IMPORT_FAILED = "bulk_import_failed"


def marketo_failed(step: Step, stored: BulkJob, job: BulkJob, why: str) -> StepResult:
    """Marketo failed the whole import: submit it again, up to `max_submissions` times;
    then every record goes to the error store (replayable) and the job is reported."""
    ports, settings = step.ports, step.settings
    if job.submissions < settings.max_submissions:
        staged = next_version(
            job,
            status=JobStatus.STAGED,
            batch_id=None,
            submitting_at=None,
            next_poll_at=None,
            marketo_status="Failed",
            message=why[:MAX_DETAIL],
            stuck_at=None,
        )
        if not ports.jobs.replace(stored, staged):
            return step.result("taken_by_another_copy", stored)
        ports.slots.release(job.job_id)
        get_logger().warning(
            "bulk import failed; submitting again",
            extra={"job_id": job.job_id, "batch_id": job.batch_id, "submissions": job.submissions},
        )
        return step.result(
            "resubmitting", staged, **step.send(staged, "submit", settings.poll_delays[0])
        )
    staged_file = ports.files.get(job.staged_key)
    return import_failed(step, job, staged_file, "bulk:Failed", why, previous=stored)


def import_failed(
    step: Step,
    job: BulkJob,
    staged: StagedFile,
    code: str,
    why: str,
    *,
    previous: BulkJob | None = None,
) -> StepResult:
    ports = step.ports
    request = f"bulk import of {job.records} rows, {job.submissions} submission(s)"
    ports.errors.record_errors(
        [
            from_record(
                record,
                reason=IMPORT_FAILED,
                detail=why[:MAX_DETAIL],
                at=step.now,
                correlation_id=staged.correlation_id,
                code=code[:100],
                request=request,
                attempts=max(1, job.submissions),
                first_failure_at=job.created_at,
            )
            for record in staged.records
        ]
    )
    failed = next_version(
        job, status=JobStatus.FAILED, finished_at=step.now, message=why[:MAX_DETAIL]
    )
    if not ports.jobs.replace(previous or job, failed):
        return step.result("taken_by_another_copy", job)
    ports.files.delete(job.staged_key)
    ports.slots.release(job.job_id)
    step.count({"bulk_jobs_failed": 1, "records_failed": len(staged.records)})
    get_logger().error(
        "bulk import failed for good; records in the error store",
        extra={"job_id": job.job_id, "correlation_id": job.correlation_id, "code": code},
    )
    return step.result("failed", failed)


def reroute(step: Step, stored: BulkJob, job: BulkJob) -> StepResult:
    """A job Marketo has held past the give-up deadline: its records take the REST path, and
    a job Marketo holds is watched on (bulk/watch.py): an import finishing later writes the
    file's values again, older than what REST wrote meanwhile, no lead twice."""
    ports = step.ports
    staged = ports.files.get(job.staged_key)
    messages = to_rest(step, staged.records, staged.correlation_id)
    rerouted = next_version(
        job,
        status=JobStatus.REROUTED,
        finished_at=step.now,
        next_poll_at=first_look(step.now, step.settings) if job.batch_id is not None else None,
        quiet_at=step.now,
        stuck_at=job.stuck_at or step.now,
    )
    if not ports.jobs.replace(stored, rerouted):
        return step.result("taken_by_another_copy", stored)
    ports.files.delete(job.staged_key)
    ports.slots.release(job.job_id)
    watching = next_look(step, rerouted) if rerouted.watched else {}
    step.count({"bulk_jobs_rerouted": 1})
    get_logger().error(
        "bulk job given up at Marketo; records sent to the REST path",
        extra={
            "job_id": job.job_id,
            "batch_id": job.batch_id,
            "marketo_status": job.marketo_status,
            "messages": messages,
        },
    )
    return step.result("rerouted", rerouted, **watching)


def to_rest(step: Step, records: Sequence[SyncRecord], correlation_id: str) -> int:
    """`records` sent to the REST path (creates first), each decided again there against a
    fresh lookup: they were decided when the file was staged, and the upload leaves out
    what is there already, so no older value goes over a newer one. How many messages."""
    ordered = sorted(records, key=lambda record: record.action != "create")
    plan = plan_batches(ordered, step.limits, created_at=step.now)
    step.ports.rest.send_batches(
        [batch.model_copy(update={"lookup_first": True}) for batch in plan.batches]
    )
    step.ports.errors.record_errors(
        from_record(
            record,
            reason="record_too_large",
            detail="visitor does not fit in one message",
            at=step.now,
            correlation_id=correlation_id,
        )
        for record in plan.oversized
    )
    return len(plan.batches)
