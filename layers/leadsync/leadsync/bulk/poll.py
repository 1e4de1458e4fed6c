"""A poll of a job at Marketo: still waiting (the next poll, slower once stuck), complete
(its rows read back), failed (submitted again), or held past the give-up deadline; a job
given up on is watched (bulk/watch.py)."""

from __future__ import annotations

from datetime import timedelta

from leadsync.bulk.give_up import marketo_failed, reroute
from leadsync.bulk.jobs import AT_MARKETO, BulkJob, JobStatus
from leadsync.bulk.read_back import finish
from leadsync.bulk.schedule import poll_delay
from leadsync.bulk.step import MAX_DETAIL, Step, StepResult, code_of, next_version, status_of
from leadsync.bulk.watch import watch
from leadsync.errors import DependencyError, PermanentError
from leadsync.limiter.api import BudgetExhausted
from leadsync.marketo.errors import MarketoError, MarketoRateLimited
from leadsync.runtime.observability import get_logger

NOT_FOUND = "1013"  # the batch id is unknown (expired after 7 days, or never taken)


def poll(step: Step, job: BulkJob) -> StepResult:
    if job.status is JobStatus.REROUTED:
        return watch(step, job)
    ports, settings, now = step.ports, step.settings, step.now
    if job.status not in AT_MARKETO or job.batch_id is None:
        return step.result("not_at_marketo", job)
    if step.message.seq != job.polls:
        return step.result("stale_poll", job)
    try:
        answer = ports.marketo.import_status(job.batch_id)
    except (BudgetExhausted, MarketoRateLimited) as exc:
        delay = step.retry_after(exc)
        return step.result("deferred", job, **step.send(job, "poll", delay, job.polls))
    except PermanentError as exc:
        if code_of(exc) == NOT_FOUND:
            why = f"Marketo no longer knows batch {job.batch_id}"
            return marketo_failed(step, job, job, why)
        raise
    except (DependencyError, MarketoError):
        delay = poll_delay(job.polls, settings)
        return step.result("poll_failed", job, **step.send(job, "poll", delay, job.polls))
    polled = next_version(
        job,
        polls=job.polls + 1,
        marketo_status=answer.status,
        message=answer.message[:MAX_DETAIL],
        rows_processed=answer.processed,
        rows_failed=answer.failed,
        rows_warned=answer.warnings,
    )
    if answer.status == "Complete":
        return finish(step, job, polled, answer)
    if answer.status == "Failed":
        return marketo_failed(step, job, polled, answer.message or "Import failed")
    waited = now - job.waiting_since()
    if waited > settings.give_up_after:
        return reroute(step, job, polled)
    stuck = waited > settings.stuck_after
    delay = poll_delay(polled.polls, settings, stuck=stuck)
    polled = next_version(
        polled,
        status=status_of(answer),
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
