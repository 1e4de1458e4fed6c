"""One BulkQueue message → one step of a bulk job, and the message for the next step.

No Lambda waits for an import: every wait is a delayed message (a submit that found no free
slot, the next poll). Each step reads the job, does at most a few Marketo calls, and writes
the job back under its version, so a message delivered twice, or two copies of one message,
never submit a file twice at the same time nor run two chains of polls.

Submitting: the job is marked `submitting` (a conditional write) before Marketo is asked
and `queued` with the batch id after. When a copy dies in between, or Marketo's answer is
lost (a timeout), nobody knows whether Marketo took the file: once `submit_lease` has passed
the next delivery submits it again. An import is an insert-or-update by e-mail of the same
values, so a second import of one file writes nothing new and creates no lead twice; what
it costs is a call and a slot, and the first batch id is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from leadsync.bulk.csvfile import render, row_values
from leadsync.bulk.jobs import AT_MARKETO, BulkJob, BulkMessage, JobStatus, StagedFile
from leadsync.bulk.matching import Match, ResultRow, match_rows, parse_result_file
from leadsync.bulk.ports import (
    BulkApi,
    BulkSender,
    ImportSlots,
    JobStore,
    RecentWrites,
    StagedFiles,
)
from leadsync.bulk.recheck import late, redecide, redecide_some, written_since
from leadsync.bulk.schedule import BulkSettings, busy_delay, poll_delay
from leadsync.errors import DependencyError, PermanentError
from leadsync.limiter.api import BudgetExhausted
from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo.errors import MarketoBulkBusy, MarketoError, MarketoRateLimited
from leadsync.marketo.models import ImportJob
from leadsync.ports import BatchSink, ErrorSink, LeadLookup, StatsSink
from leadsync.runtime.clock import Clock, utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record
from leadsync.sync.fetch.batching import BatchLimits, plan_batches
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS, SyncRecord

NOT_FOUND = "1013"  # the batch id is unknown (expired after 7 days, or never taken)
ROW_FAILED = "bulk_row_failed"
ROW_WARNING = "bulk_row_warning"
ROW_UNMATCHED = "bulk_row_unmatched"
IMPORT_FAILED = "bulk_import_failed"
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
    # the leads as they are now, and what leadsync's own lanes wrote to them lately: a file
    # is decided again before it goes when its leads may have moved on (bulk/recheck.py)
    lookup: LeadLookup | None = None
    written: RecentWrites | None = None


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
class _Step:
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


def process(
    message: BulkMessage,
    ports: BulkPorts,
    settings: BulkSettings,
    *,
    limits: BatchLimits,
    now: Clock = utc_now,
) -> StepResult:
    step = _Step(ports, settings, limits, now(), message)
    job = ports.jobs.get(message.job_id)
    if job is None:
        get_logger().warning("bulk message for an unknown job", extra={"job_id": message.job_id})
        return step.result("unknown_job")
    if message.step == "submit":
        return _submit(step, job)
    return _poll(step, job)


# -- submit ---------------------------------------------------------------------------------
def _submit(step: _Step, job: BulkJob) -> StepResult:
    ports, settings, now = step.ports, step.settings, step.now
    logger = get_logger()
    if job.status in AT_MARKETO:
        # a submit delivered again after it was recorded: make sure a chain of polls runs
        # (a duplicate chain stops at its first poll, its number being taken)
        delay = poll_delay(job.polls, settings)
        return step.result("already_submitted", job, **step.send(job, "poll", delay, job.polls))
    if job.status not in (JobStatus.STAGED, JobStatus.SUBMITTING):
        return step.result("already_finished", job)
    if job.status is JobStatus.STAGED and now - job.waiting_since() > settings.give_up_after:
        # never got a slot (Marketo's queue kept full by others): REST writes it instead
        return _reroute(step, job, job)
    if job.status is JobStatus.SUBMITTING:
        since = job.submitting_at or job.created_at
        if now - since < settings.submit_lease:
            # another copy is submitting it now; look again once it must have finished
            left = int((settings.submit_lease - (now - since)).total_seconds()) + 1
            delay = min(max(left, 1), SQS_MAX_DELAY_SECONDS)
            return step.result("submit_in_progress", job, **step.send(job, "submit", delay))
        logger.warning(
            "a submit ended without recording Marketo's answer; submitting again",
            extra={"job_id": job.job_id, "correlation_id": job.correlation_id},
        )
    if not ports.slots.claim(job.job_id, settings.queued_slots) and not (
        _sweep_slots(step, job) and ports.slots.claim(job.job_id, settings.queued_slots)
    ):
        return _busy(step, job, "no_free_slot")
    submitting = _next(job, status=JobStatus.SUBMITTING, submitting_at=now)
    if not ports.jobs.replace(job, submitting):
        return step.result("taken_by_another_copy", job)
    staged = ports.files.get(job.staged_key)
    if ports.lookup is not None:
        try:
            records = _decided_now(staged.records, job, ports.lookup, ports.written)
        except (BudgetExhausted, DependencyError, MarketoError) as exc:
            delay = _retry_after(exc, settings)
            return _back_to_staged(step, submitting, "recheck_failed", delay)
        if not records:
            return _nothing_left(step, submitting)
        if len(records) != len(staged.records) or records != staged.records:
            staged = staged.model_copy(update={"records": records})
            ports.files.put(job.staged_key, staged)
    body = render(staged.records)
    try:
        answer = ports.marketo.submit_import(body, "csv", settings.lookup_field)
    except MarketoBulkBusy:
        return _busy(step, submitting, "marketo_busy")
    except (BudgetExhausted, MarketoRateLimited) as exc:
        return _back_to_staged(step, submitting, "budget", _retry_after(exc, settings))
    except PermanentError as exc:
        return _import_failed(step, submitting, staged, _code(exc), str(exc))
    except (DependencyError, MarketoError) as exc:
        # no answer, or a transient failure: Marketo may or may not hold the file; a second
        # import of it changes nothing (see the module's note)
        logger.warning(
            "bulk submit failed; trying again later",
            extra={"job_id": job.job_id, "code": _code(exc)},
        )
        return _back_to_staged(step, submitting, "submit_failed", settings.busy_delay_seconds)
    queued = _next(
        submitting,
        status=_status_of(answer),
        batch_id=answer.batch_id,
        submitted_at=now,
        submissions=submitting.submissions + 1,
        polls=0,
        marketo_status=answer.status,
        message=answer.message[:MAX_DETAIL],
        next_poll_at=now + timedelta(seconds=poll_delay(0, settings)),
        stuck_at=None,
    )
    if not ports.jobs.replace(submitting, queued):
        logger.warning("bulk job changed during its submit", extra={"job_id": job.job_id})
        return step.result("lost_after_submit", submitting)
    logger.info(
        "bulk file submitted",
        extra={
            "job_id": job.job_id,
            "correlation_id": job.correlation_id,
            "batch_id": answer.batch_id,
            "records": job.records,
            "bytes": len(body),
            "submission": queued.submissions,
        },
    )
    _count(step, {"bulk_submits": 1})
    sent = step.send(queued, "poll", poll_delay(0, step.settings))
    return step.result("submitted", queued, **sent)


def _decided_now(
    records: list[SyncRecord],
    job: BulkJob,
    lookup: LeadLookup,
    written: RecentWrites | None,
) -> list[SyncRecord]:
    """The file's records as they would be decided now (bulk/recheck.py)."""
    if late(job):
        return redecide(records, lookup, default_field_map())
    moved = written_since(records, written, job.created_at) if written is not None else set()
    if not moved:
        return records
    get_logger().info(
        "leads written since the file was staged; deciding them again",
        extra={"job_id": job.job_id, "correlation_id": job.correlation_id, "leads": len(moved)},
    )
    return redecide_some(records, moved, lookup, default_field_map())


def _nothing_left(step: _Step, job: BulkJob) -> StepResult:
    """Decided again, the file has nothing left to write: the job is done without Marketo."""
    done = _next(job, status=JobStatus.DONE, message="nothing left to write when decided again")
    step.ports.slots.release(job.job_id)
    if not step.ports.jobs.replace(job, done):
        return step.result("taken_by_another_copy", job)
    step.ports.files.delete(job.staged_key)
    _count(step, {"bulk_rechecked_empty": 1})
    return step.result("nothing_left", done)


def _sweep_slots(step: _Step, job: BulkJob) -> int:
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


def _busy(step: _Step, job: BulkJob, why: str) -> StepResult:
    waits = job.busy_waits
    delay = busy_delay(waits, step.settings)
    return _back_to_staged(step, job, why, delay, busy=True)


def _back_to_staged(
    step: _Step, job: BulkJob, why: str, delay: int, *, busy: bool = False
) -> StepResult:
    """The file waits, still staged; its slot goes back (another job may take it)."""
    step.ports.slots.release(job.job_id)
    staged = job
    if job.status is not JobStatus.STAGED or busy:
        staged = _next(
            job,
            status=JobStatus.STAGED,
            submitting_at=None,
            busy_waits=job.busy_waits + (1 if busy else 0),
        )
        if not step.ports.jobs.replace(job, staged):
            return step.result("taken_by_another_copy", job)
    return step.result(why, staged, **step.send(staged, "submit", delay))


# -- poll -----------------------------------------------------------------------------------
def _poll(step: _Step, job: BulkJob) -> StepResult:
    ports, settings, now = step.ports, step.settings, step.now
    if job.status not in AT_MARKETO or job.batch_id is None:
        return step.result("not_at_marketo", job)
    if step.message.seq != job.polls:
        return step.result("stale_poll", job)
    try:
        answer = ports.marketo.import_status(job.batch_id)
    except (BudgetExhausted, MarketoRateLimited) as exc:
        delay = _retry_after(exc, settings)
        return step.result("deferred", job, **step.send(job, "poll", delay, job.polls))
    except PermanentError as exc:
        if _code(exc) == NOT_FOUND:
            why = f"Marketo no longer knows batch {job.batch_id}"
            return _marketo_failed(step, job, job, why)
        raise
    except (DependencyError, MarketoError):
        delay = poll_delay(job.polls, settings)
        return step.result("poll_failed", job, **step.send(job, "poll", delay, job.polls))
    polled = _next(
        job,
        polls=job.polls + 1,
        marketo_status=answer.status,
        message=answer.message[:MAX_DETAIL],
        rows_processed=answer.processed,
        rows_failed=answer.failed,
        rows_warned=answer.warnings,
    )
    if answer.status == "Complete":
        return _finish(step, job, polled, answer)
    if answer.status == "Failed":
        return _marketo_failed(step, job, polled, answer.message or "Import failed")
    waited = now - job.waiting_since()
    if waited > settings.give_up_after:
        return _reroute(step, job, polled)
    stuck = waited > settings.stuck_after
    delay = poll_delay(polled.polls, settings, stuck=stuck)
    polled = _next(
        polled,
        status=_status_of(answer),
        next_poll_at=now + timedelta(seconds=delay),
        stuck_at=polled.stuck_at or (now if stuck else None),
    )
    if not ports.jobs.replace(job, polled):
        return step.result("taken_by_another_copy", job)
    if stuck and job.stuck_at is None:
        get_logger().warning(
            "bulk job stuck at Marketo",
            extra={
                "job_id": job.job_id,
                "batch_id": job.batch_id,
                "marketo_status": answer.status,
                "waited_s": int(waited.total_seconds()),
            },
        )
    return step.result("waiting", polled, **step.send(polled, "poll", delay, polled.polls))


def _finish(step: _Step, stored: BulkJob, job: BulkJob, answer: ImportJob) -> StepResult:
    """Read back the rows Marketo failed or warned about (only when it counted some), store
    each failure with its record, count the rest, forget the file."""
    ports, settings = step.ports, step.settings
    assert job.batch_id is not None
    staged = ports.files.get(job.staged_key)
    try:
        failed = _rows(ports.marketo.import_failures, job.batch_id) if answer.failed else []
        warned = _rows(ports.marketo.import_warnings, job.batch_id) if answer.warnings else []
    except (BudgetExhausted, MarketoRateLimited, DependencyError, MarketoError) as exc:
        # the job stays at Marketo; the next poll sees it complete again and reads again
        delay = (
            _retry_after(exc, settings)
            if isinstance(exc, BudgetExhausted | MarketoRateLimited)
            else poll_delay(job.polls, settings)
        )
        sent = step.send(stored, "poll", delay, stored.polls)
        return step.result("read_back_deferred", stored, **sent)
    sources = [row_values(record) for record in staged.records]
    failures = match_rows(sources, failed)
    warnings = match_rows(sources, warned)
    request = f"bulk import {job.batch_id} ({job.records} rows)"
    entries = _entries(step, staged, failures, ROW_FAILED, request, job.batch_id)
    if settings.warnings_are_failures:
        entries += _entries(step, staged, warnings, ROW_WARNING, request, job.batch_id)
    ports.errors.record_errors(entries)
    rejected = {m.index for m in failures if m.index is not None}
    if settings.warnings_are_failures:
        rejected |= {m.index for m in warnings if m.index is not None}
    accepted = [r for i, r in enumerate(staged.records) if i not in rejected]
    unmatched = sum(1 for m in [*failures, *warnings] if m.index is None)
    done = _next(
        job,
        status=JobStatus.DONE,
        finished_at=step.now,
        next_poll_at=None,
        rows_failed=len(failed),
        rows_warned=len(warned),
        unmatched_rows=unmatched,
    )
    if not ports.jobs.replace(stored, done):
        return step.result("taken_by_another_copy", stored)
    ports.files.delete(job.staged_key)
    ports.slots.release(job.job_id)
    _count(
        step,
        {
            "bulk_jobs_done": 1,
            # Marketo's answer does not say which rows created a lead and which updated one
            # (a lead may have appeared since the file was decided): imported, not created
            "leads_imported": len(accepted),
            "records_failed": len(staged.records) - len(accepted),
            "bulk_rows_warned": len(warned),
        },
    )
    get_logger().info(
        "bulk job done",
        extra={
            "job_id": job.job_id,
            "correlation_id": job.correlation_id,
            "batch_id": job.batch_id,
            "records": job.records,
            "rows_failed": len(failed),
            "rows_warned": len(warned),
            "unmatched_rows": unmatched,
            "warnings_are_failures": settings.warnings_are_failures,
            "polls": job.polls,
        },
    )
    return step.result("done", done, rows_failed=len(failed), rows_warned=len(warned))


def _rows(read: Callable[[int], bytes], batch_id: int) -> list[ResultRow]:
    return parse_result_file(read(batch_id))


def _entries(
    step: _Step,
    staged: StagedFile,
    matches: Sequence[Match],
    reason: str,
    request: str,
    batch_id: int,
) -> list[ErrorEntry]:
    entries = []
    for match in matches:
        detail = match.row.reason[:MAX_DETAIL] or "no reason given"
        if match.index is not None:
            entries.append(
                from_record(
                    staged.records[match.index],
                    reason=reason,
                    detail=detail,
                    at=step.now,
                    correlation_id=staged.correlation_id,
                    code=f"bulk:{batch_id}",
                    request=request,
                )
            )
        else:
            entries.append(
                ErrorEntry(
                    kind=ErrorKind.UNDELIVERABLE,
                    reason=ROW_UNMATCHED,
                    detail=f"{reason}: {detail}; the row matched no staged record",
                    correlation_id=staged.correlation_id,
                    record={"row": dict(match.row.cells)},
                    first_failure_at=step.now,
                    last_failure_at=step.now,
                    code=f"bulk:{batch_id}",
                    request=request,
                )
            )
    return entries


# -- failed, given up ----------------------------------------------------------------------
def _marketo_failed(step: _Step, stored: BulkJob, job: BulkJob, why: str) -> StepResult:
    """Marketo failed the whole import: submit it again, up to `max_submissions` times;
    then every record goes to the error store (replayable) and the job is reported."""
    ports, settings = step.ports, step.settings
    if job.submissions < settings.max_submissions:
        staged = _next(
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
    return _import_failed(step, job, staged_file, "bulk:Failed", why, previous=stored)


def _import_failed(
    step: _Step,
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
    failed = _next(job, status=JobStatus.FAILED, finished_at=step.now, message=why[:MAX_DETAIL])
    if not ports.jobs.replace(previous or job, failed):
        return step.result("taken_by_another_copy", job)
    ports.files.delete(job.staged_key)
    ports.slots.release(job.job_id)
    _count(step, {"bulk_jobs_failed": 1, "records_failed": len(staged.records)})
    get_logger().error(
        "bulk import failed for good; records in the error store",
        extra={"job_id": job.job_id, "correlation_id": job.correlation_id, "code": code},
    )
    return step.result("failed", failed)


def _reroute(step: _Step, stored: BulkJob, job: BulkJob) -> StepResult:
    """A job Marketo has held past the give-up deadline: its records take the REST path (an
    import finishing later writes the same values again, no lead twice)."""
    ports = step.ports
    staged = ports.files.get(job.staged_key)
    plan = plan_batches(_records(staged), step.limits, created_at=step.now)
    # decided when the file was staged, long ago: the upload decides each record again
    # against a fresh lookup, so no older value goes over a newer one
    ports.rest.send_batches([b.model_copy(update={"lookup_first": True}) for b in plan.batches])
    ports.errors.record_errors(
        from_record(
            record,
            reason="record_too_large",
            detail="visitor does not fit in one message",
            at=step.now,
            correlation_id=staged.correlation_id,
        )
        for record in plan.oversized
    )
    rerouted = _next(
        job,
        status=JobStatus.REROUTED,
        finished_at=step.now,
        next_poll_at=None,
        stuck_at=job.stuck_at or step.now,
    )
    if not ports.jobs.replace(stored, rerouted):
        return step.result("taken_by_another_copy", stored)
    ports.files.delete(job.staged_key)
    ports.slots.release(job.job_id)
    _count(step, {"bulk_jobs_rerouted": 1})
    get_logger().error(
        "bulk job given up at Marketo; records sent to the REST path",
        extra={
            "job_id": job.job_id,
            "batch_id": job.batch_id,
            "marketo_status": job.marketo_status,
            "messages": len(plan.batches),
        },
    )
    return step.result("rerouted", rerouted)


# -- helpers --------------------------------------------------------------------------------
def _records(staged: StagedFile) -> list[SyncRecord]:
    return sorted(staged.records, key=lambda record: record.action != "create")


def _next(job: BulkJob, **changes: object) -> BulkJob:
    """The job with `changes`, one version on."""
    return job.model_copy(update={**changes, "version": job.version + 1})


def _status_of(answer: ImportJob) -> JobStatus:
    return JobStatus.IMPORTING if answer.status == "Importing" else JobStatus.QUEUED


def _code(exc: Exception) -> str:
    return str(getattr(exc, "code", "") or type(exc).__name__)


def _retry_after(exc: Exception, settings: BulkSettings) -> int:
    seconds = getattr(exc, "retry_after_seconds", None) or getattr(exc, "retry_after", None)
    if not isinstance(seconds, int | float) or seconds <= 0:
        seconds = settings.busy_delay_seconds
    return max(1, min(int(seconds) + 1, SQS_MAX_DELAY_SECONDS))


def _count(step: _Step, counters: dict[str, int]) -> None:
    if step.ports.stats is not None:
        step.ports.stats.add({k: v for k, v in counters.items() if v}, at=step.now)
