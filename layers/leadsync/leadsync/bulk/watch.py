"""A job given up on at Marketo, watched until Marketo ends it.

Marketo cannot cancel an import: a job whose records went to the REST path may still run,
and then it writes its file's values, decided when the file was staged, over the newer ones
the REST path wrote meanwhile. So the job is still looked at: first `watch_first` after it
was given up, then about twice as long each time, at most every `watch_longest`, for
`watch_for`. Each look is one status call through the same client and limiter as every
poll; SQS delays a message 15 minutes at most, so a longer wait is a few messages that make
no call. When Marketo reports it Complete with rows processed (or Failed with rows
processed since it was given up), the fetch is asked to read the chats again from the
file's staging time (`sync/fetch/reread.py`). Nothing imported, a batch Marketo no longer
knows, or the watch limit end the watch.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from leadsync.bulk.jobs import BulkJob
from leadsync.bulk.schedule import BulkSettings, watch_delay
from leadsync.bulk.step import MAX_DETAIL, Step, StepResult, code_of, next_version
from leadsync.errors import DependencyError, PermanentError
from leadsync.limiter.api import BudgetExhausted
from leadsync.marketo.errors import MarketoError, MarketoRateLimited
from leadsync.marketo.models import ImportJob
from leadsync.runtime.clock import iso_utc
from leadsync.runtime.observability import get_logger
from leadsync.sync.fetch.reread import Reread
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS

NOT_FOUND = "1013"  # the batch id is unknown (expired after 7 days, or never taken)
# Marketo's clock and ours: a lead it updated is matched to the late import with this margin
CLOCK_SLACK = timedelta(minutes=1)


def first_look(now: datetime, settings: BulkSettings) -> datetime:
    """When a job given up on `now` is first looked at again."""
    return now + watch_delay(timedelta(0), settings)


def next_look(step: Step, job: BulkJob) -> dict[str, Any]:
    """The message towards the job's next look, or one hop of it."""
    due = job.next_poll_at or step.now
    left = math.ceil((due - step.now).total_seconds())
    return step.send(job, "poll", max(1, min(left, SQS_MAX_DELAY_SECONDS)), job.polls)


def watch(step: Step, job: BulkJob) -> StepResult:
    """One look at a rerouted job: its status asked when due, the next look sent, or the
    watch ended."""
    if not job.watched or job.batch_id is None or job.next_poll_at is None:
        return step.result("not_watched", job)
    if step.message.seq != job.polls:
        return step.result("stale_poll", job)
    if step.now < job.next_poll_at:
        return step.result("watch_waiting", job, **next_look(step, job))
    try:
        answer = step.ports.marketo.import_status(job.batch_id)
    except (BudgetExhausted, MarketoRateLimited) as exc:
        sent = step.send(job, "poll", step.retry_after(exc), job.polls)
        return step.result("deferred", job, **sent)
    except PermanentError as exc:
        if code_of(exc) != NOT_FOUND:
            raise
        return _let_go(step, job, job, f"Marketo no longer knows batch {job.batch_id}", warn=True)
    except (DependencyError, MarketoError):
        sent = step.send(job, "poll", SQS_MAX_DELAY_SECONDS, job.polls)
        return step.result("poll_failed", job, **sent)
    polled = next_version(job, polls=job.polls + 1, marketo_status=answer.status)
    # rows processed since the job was given up (its count then is kept until it ends)
    moved = answer.processed > job.rows_processed
    if answer.status in ("Complete", "Failed"):
        # complete: any row it counted may have landed after the give-up; failed: only
        # rows processed since then can have been written
        wrote = answer.processed > 0 if answer.status == "Complete" else moved
        if wrote:
            return _imported_late(step, job, polled, answer)
        why = f"{answer.status} at Marketo after it was given up; no row imported"
        return _let_go(step, job, polled, why, warn=False)
    return _still_waiting(step, job, polled, quiet=not moved)


def _still_waiting(step: Step, stored: BulkJob, polled: BulkJob, *, quiet: bool) -> StepResult:
    settings, now = step.settings, step.now
    rerouted_at = stored.finished_at or stored.waiting_since()
    watched = now - rerouted_at
    if watched >= settings.watch_for:
        why = "still unfinished at Marketo when the watch ended; it may yet import"
        return _let_go(step, stored, polled, why, warn=True)
    look = min(now + watch_delay(watched, settings), rerouted_at + settings.watch_for)
    waiting = next_version(polled, next_poll_at=look, quiet_at=now if quiet else stored.quiet_at)
    if not step.ports.jobs.replace(stored, waiting):
        return step.result("taken_by_another_copy", stored)
    return step.result("watching", waiting, **next_look(step, waiting))


def _imported_late(step: Step, stored: BulkJob, polled: BulkJob, answer: ImportJob) -> StepResult:
    """Marketo imported the file after its records went to the REST path: its old values may
    be over newer ones, so the fetch reads the chats since the file was staged again."""
    ports, now = step.ports, step.now
    staged_at = stored.created_at
    # no row was processed at the last quiet look: the late rows were written after it
    wrote_from = (stored.quiet_at or stored.finished_at or staged_at) - CLOCK_SLACK
    if ports.rereads is not None:
        ports.rereads.request(
            Reread(
                read_from=staged_at,
                staged_at=staged_at,
                imported_from=wrote_from,
                imported_until=now + CLOCK_SLACK,
            )
        )
        note = f"imported late; chats since {staged_at:%Y-%m-%d %H:%M} UTC read again"
    else:
        note = "imported late; chats not read again"
    done = next_version(
        polled,
        next_poll_at=None,
        imported_late_at=now,
        rows_processed=answer.processed,
        rows_failed=answer.failed,
        rows_warned=answer.warnings,
        message=note[:MAX_DETAIL],
    )
    if not ports.jobs.replace(stored, done):
        return step.result("taken_by_another_copy", stored)
    step.count({"bulk_late_imports": 1})
    get_logger().warning(
        "bulk import finished after its records went to the REST path; chats since its "
        "staging read again",
        extra={
            "job_id": stored.job_id,
            "batch_id": stored.batch_id,
            "correlation_id": stored.correlation_id,
            "marketo_status": answer.status,
            "rows_processed": answer.processed,
            "read_again_from": iso_utc(staged_at),
            "requested": ports.rereads is not None,
        },
    )
    return step.result("imported_late", done)


def _let_go(step: Step, stored: BulkJob, polled: BulkJob, why: str, *, warn: bool) -> StepResult:
    ended = next_version(polled, next_poll_at=None, message=why[:MAX_DETAIL])
    if not step.ports.jobs.replace(stored, ended):
        return step.result("taken_by_another_copy", stored)
    log = get_logger().warning if warn else get_logger().info
    log(
        "rerouted bulk job no longer watched",
        extra={"job_id": stored.job_id, "batch_id": stored.batch_id, "why": why},
    )
    return step.result("watch_ended", ended)
