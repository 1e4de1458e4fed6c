"""A submit of a staged file: a slot of leadsync's share of Marketo's import queue claimed,
the leads leadsync wrote since the file was decided handed to the REST path
(bulk/recheck.py), the file sent, and the job `queued` with Marketo's batch id. A file that
finds no slot, a spent budget or a transient failure waits, still staged, for a later
delivery; a permanent refusal fails the job (its records to the error store).

The job is marked `submitting` (a conditional write) before Marketo is asked and `queued`
with the batch id after. When a copy dies in between, or Marketo's answer is lost (a
timeout), nobody knows whether Marketo took the file: once `submit_lease` has passed the
next delivery submits it again. An import is an insert-or-update by e-mail of the same
values, so a second import of one file writes nothing new and creates no lead twice; what
it costs is a call and a slot, and the first batch id is forgotten.
"""

from __future__ import annotations

from datetime import timedelta

from leadsync.bulk.csvfile import render
from leadsync.bulk.give_up import import_failed, reroute, to_rest
from leadsync.bulk.jobs import AT_MARKETO, BulkJob, JobStatus, StagedFile
from leadsync.bulk.ports import RecentWrites
from leadsync.bulk.recheck import split, written_since
from leadsync.bulk.schedule import busy_delay, poll_delay
from leadsync.bulk.step import MAX_DETAIL, Step, StepResult, code_of, next_version, status_of
from leadsync.errors import DependencyError, PermanentError
from leadsync.limiter.api import BudgetExhausted
from leadsync.marketo.errors import MarketoBulkBusy, MarketoError, MarketoRateLimited
from leadsync.marketo.models import ImportJob
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS


def submit(step: Step, job: BulkJob) -> StepResult:
    not_due = _not_due(step, job)
    if not_due is not None:
        return not_due
    ports, settings = step.ports, step.settings
    if not ports.slots.claim(job.job_id, settings.queued_slots) and not (
        _sweep_slots(step, job) and ports.slots.claim(job.job_id, settings.queued_slots)
    ):
        return _busy(step, job, "no_free_slot")
    submitting = next_version(job, status=JobStatus.SUBMITTING, submitting_at=step.now)
    if not ports.jobs.replace(job, submitting):
        return step.result("taken_by_another_copy", job)
    staged = ports.files.get(job.staged_key)
    if ports.written is not None:
        rechecked = _recheck(step, job, submitting, staged, ports.written)
        if isinstance(rechecked, StepResult):
            return rechecked
        staged = rechecked
    return _send(step, job, submitting, staged)


def _not_due(step: Step, job: BulkJob) -> StepResult | None:
    """The answer to a submit that must not send the file now; None when it must."""
    settings, now = step.settings, step.now
    if job.status in AT_MARKETO:
        # a submit delivered again after it was recorded: make sure a chain of polls runs
        # (a duplicate chain stops at its first poll, its number being taken)
        delay = poll_delay(job.polls, settings)
        return step.result("already_submitted", job, **step.send(job, "poll", delay, job.polls))
    if job.status not in (JobStatus.STAGED, JobStatus.SUBMITTING):
        return step.result("already_finished", job)
    if job.status is JobStatus.STAGED and now - job.waiting_since() > settings.give_up_after:
        # never got a slot (Marketo's queue kept full by others): REST writes it instead
        return reroute(step, job, job)
    if job.status is JobStatus.SUBMITTING:
        since = job.submitting_at or job.created_at
        if now - since < settings.submit_lease:
            # another copy is submitting it now; look again once it must have finished
            left = int((settings.submit_lease - (now - since)).total_seconds()) + 1
            delay = min(max(left, 1), SQS_MAX_DELAY_SECONDS)
            return step.result("submit_in_progress", job, **step.send(job, "submit", delay))
        get_logger().warning(
            "a submit ended without recording Marketo's answer; submitting again",
            extra={"job_id": job.job_id, "correlation_id": job.correlation_id},
        )
    return None


def _recheck(
    step: Step, job: BulkJob, submitting: BulkJob, staged: StagedFile, written: RecentWrites
) -> StagedFile | StepResult:
    """The staged file without the leads leadsync wrote since it was decided (those go to
    the REST path first, then the file is stored again without them), or the answer when
    the ledger cannot be read now or the file has nothing left to write."""
    try:
        moved = written_since(staged.records, written, job.created_at)
    except DependencyError as exc:
        return _back_to_staged(step, submitting, "recheck_failed", step.retry_after(exc))
    if not moved:
        return staged
    kept, handed = split(staged.records, moved)
    # handed over before the file forgets them: a copy that dies in between hands them
    # over again next time, and the upload writes nothing twice
    messages = to_rest(step, handed, staged.correlation_id)
    get_logger().info(
        "leads written since the file was staged; they take the REST path",
        extra={
            "job_id": job.job_id,
            "correlation_id": job.correlation_id,
            "leads": len(handed),
            "messages": messages,
        },
    )
    step.count({"bulk_records_to_rest": len(handed)})
    if not kept:
        return _nothing_left(step, submitting)
    staged = staged.model_copy(update={"records": kept})
    step.ports.files.put(job.staged_key, staged)
    return staged


def _send(step: Step, job: BulkJob, submitting: BulkJob, staged: StagedFile) -> StepResult:
    """The file to Marketo; the job queued there, or back to staged to wait."""
    settings = step.settings
    body = render(staged.records)
    try:
        answer = step.ports.marketo.submit_import(body, "csv", settings.lookup_field)
    except MarketoBulkBusy:
        return _busy(step, submitting, "marketo_busy")
    except (BudgetExhausted, MarketoRateLimited) as exc:
        return _back_to_staged(step, submitting, "budget", step.retry_after(exc))
    except PermanentError as exc:
        return import_failed(step, submitting, staged, code_of(exc), str(exc))
    except (DependencyError, MarketoError) as exc:
        # no answer, or a transient failure: Marketo may or may not hold the file; a second
        # import of it changes nothing (see the module's note)
        get_logger().warning(
            "bulk submit failed; trying again later",
            extra={"job_id": job.job_id, "code": code_of(exc)},
        )
        return _back_to_staged(step, submitting, "submit_failed", settings.busy_delay_seconds)
    return _queued(step, job, submitting, answer, len(body), len(staged.records))


def _queued(
    step: Step, job: BulkJob, submitting: BulkJob, answer: ImportJob, size: int, records: int
) -> StepResult:
    """Marketo took the file (of `records` rows now, `size` bytes): the job records its
    batch id, and its polls begin."""
    now = step.now
    queued = next_version(
        submitting,
        records=records,
        status=status_of(answer),
        batch_id=answer.batch_id,
        submitted_at=now,
        submissions=submitting.submissions + 1,
        polls=0,
        marketo_status=answer.status,
        message=answer.message[:MAX_DETAIL],
        next_poll_at=now + timedelta(seconds=poll_delay(0, step.settings)),
        stuck_at=None,
    )
    logger = get_logger()
    if not step.ports.jobs.replace(submitting, queued):
        logger.warning("bulk job changed during its submit", extra={"job_id": job.job_id})
        return step.result("lost_after_submit", submitting)
    logger.info(
        "bulk file submitted",
        extra={
            "job_id": job.job_id,
            "correlation_id": job.correlation_id,
            "batch_id": answer.batch_id,
            "records": records,
            "bytes": size,
            "submission": queued.submissions,
        },
    )
    step.count({"bulk_submits": 1})
    sent = step.send(queued, "poll", poll_delay(0, step.settings))
    return step.result("submitted", queued, **sent)


def _nothing_left(step: Step, job: BulkJob) -> StepResult:
    """Decided again, the file has nothing left to write: the job is done without Marketo."""
    done = next_version(
        job, status=JobStatus.DONE, message="every lead handed to the REST path before the submit"
    )
    step.ports.slots.release(job.job_id)
    if not step.ports.jobs.replace(job, done):
        return step.result("taken_by_another_copy", job)
    step.ports.files.delete(job.staged_key)
    step.count({"bulk_rechecked_empty": 1})
    return step.result("nothing_left", done)


def _sweep_slots(step: Step, job: BulkJob) -> int:
    """Give back the slots of jobs that no longer wait at Marketo (a copy died between
    finishing a job and releasing its slot); how many were freed."""
    freed = 0
    for held in step.ports.slots.held():
        if held == job.job_id:
            continue
        other = step.ports.jobs.get(held)
        if other is None or other.status not in (JobStatus.SUBMITTING, *AT_MARKETO):
            step.ports.slots.release(held)
            freed += 1
    return freed


def _busy(step: Step, job: BulkJob, why: str) -> StepResult:
    waits = job.busy_waits
    delay = busy_delay(waits, step.settings)
    return _back_to_staged(step, job, why, delay, busy=True)


def _back_to_staged(
    step: Step, job: BulkJob, why: str, delay: int, *, busy: bool = False
) -> StepResult:
    """The file waits, still staged; its slot goes back (another job may take it)."""
    step.ports.slots.release(job.job_id)
    staged = job
    if job.status is not JobStatus.STAGED or busy:
        staged = next_version(
            job,
            status=JobStatus.STAGED,
            submitting_at=None,
            busy_waits=job.busy_waits + (1 if busy else 0),
        )
        if not step.ports.jobs.replace(job, staged):
            return step.result("taken_by_another_copy", job)
    return step.result(why, staged, **step.send(staged, "submit", delay))
