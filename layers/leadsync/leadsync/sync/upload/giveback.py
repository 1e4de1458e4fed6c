"""Work that is not done goes back to the queue; nothing is dropped.

- Waits: when the budget is spent (the limiter's rate or daily quota, or Marketo's
  606/607/615) or the breaker is open, what is not written goes back with a delay, its
  attempts untouched; so do creates whose e-mail another message is creating, and a list
  operation that waits for the run's creates (`defer`).
- Give-back: a call that keeps failing for a transient cause sends what is not written back
  as a new message with the failure in its history and a growing delay; after
  `max_attempts` deliveries, or at once for a refusal no retry can change, the batch goes to
  the dead-letter queue with that history (`give_back`).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import NamedTuple

from leadsync.errors import DependencyError
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted
from leadsync.marketo.errors import MarketoQuotaExhausted
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS, FailureNote, keep_notes
from leadsync.sync.upload.state import UploadRun

# (delay seconds, reason, not-before) of work that waits for the budget or the breaker
Wait = tuple[int, str, datetime | None]


class GaveBack(NamedTuple):
    """What a failed call sent back: records for a later delivery, records dead-lettered,
    and the call's failure code (None when no call failed)."""

    retried: int = 0
    dead_lettered: int = 0
    code: str | None = None


def seconds_until(when: datetime, at: datetime) -> int:
    return max(1, math.ceil((when - at).total_seconds()))


def wait_of(exc: Exception, at: datetime) -> Wait:
    """(delay seconds, reason, not-before) for work that must wait for the budget."""
    if isinstance(exc, DailyQuotaExhausted):
        return seconds_until(exc.resumes_at, at), "daily_quota", exc.resumes_at
    if isinstance(exc, MarketoQuotaExhausted):
        resumes = exc.resumes_at
        if resumes is None and exc.retry_after is not None:
            resumes = at + timedelta(seconds=exc.retry_after)
        return (seconds_until(resumes, at) if resumes else 3600), "daily_quota", resumes
    if isinstance(exc, BudgetExhausted):
        return max(1, math.ceil(exc.retry_after_seconds)), "rate", None
    retry = getattr(exc, "retry_after", None)
    return max(1, math.ceil(retry or 20)), "marketo_rate", None


def defer(run: UploadRun, wait: Wait | None) -> tuple[int, int, str | None]:
    """Send what is not done back to the queue; returns (records, delay, reason)."""
    deferred = 0
    seconds = 0
    reason: str | None = None
    batch = run.batch
    if wait is not None and (run.open or run.operation):
        seconds, reason, not_before = wait
        waiting = [run.open[i] for i in sorted(run.open)]
        run.ports.deferrer.defer(
            batch.model_copy(
                update={
                    "records": waiting,
                    "not_before": not_before,
                    "deferrals": batch.deferrals + 1,
                }
            ),
            min(seconds, SQS_MAX_DELAY_SECONDS),
        )
        deferred += len(waiting) or batch.lead_count
        run.operation = False
    if run.operation_later:
        delay = run.settings.claim_retry_seconds
        run.ports.deferrer.defer(batch.model_copy(update={"deferrals": batch.deferrals + 1}), delay)
        deferred += batch.lead_count
        run.operation_later = False
        if reason is None:
            seconds, reason = delay, "create_in_progress"
    if run.later:
        later = [run.later[i] for i in sorted(run.later)]
        delay = run.settings.claim_retry_seconds
        run.ports.deferrer.defer(
            batch.model_copy(update={"records": later, "deferrals": batch.deferrals + 1}), delay
        )
        deferred += len(later)
        if reason is None:
            seconds, reason = delay, "create_in_progress"
    if deferred:
        get_logger().info(
            "records wait for the budget",
            extra={
                "correlation_id": batch.correlation_id,
                "deferred": deferred,
                "delay_seconds": min(seconds, SQS_MAX_DELAY_SECONDS),
                "reason": reason,
            },
        )
    return deferred, min(seconds, SQS_MAX_DELAY_SECONDS), reason


def retry_delay(run: UploadRun) -> int:
    delay = run.settings.retry_delay_seconds * 2 ** min(run.batch.attempts, 10)
    return int(min(delay, SQS_MAX_DELAY_SECONDS))


def give_back(
    run: UploadRun, code: str, message: str, request: str, *, permanent: bool
) -> GaveBack:
    """The records not yet written, with this failure in their history: back to the queue
    for a later delivery, or to the dead-letter queue."""
    code = (code or "unknown")[:100]
    waiting = [run.open.pop(i) for i in sorted(run.open)]
    count = len(waiting)
    if run.operation:  # the list operation or delete goes back whole
        run.operation = False
        count = run.batch.lead_count
    if not count:
        return GaveBack(code=code)
    batch = run.batch
    attempt = batch.attempts + 1
    note = FailureNote(
        at=run.at, attempt=attempt, code=code, message=message[:1000], request=request[:200]
    )
    failed = batch.model_copy(
        update={
            "records": waiting,
            "attempts": attempt,
            "failures": keep_notes([*batch.failures, note]),
            "not_before": None,
        }
    )
    logger = get_logger()
    context = {
        "correlation_id": batch.correlation_id,
        "records": count,
        "attempt": attempt,
        "code": code,
        "request": request,
    }
    if permanent or attempt >= run.settings.max_attempts or run.ports.dead_letters is None:
        if run.ports.dead_letters is None:
            raise DependencyError(
                f"{code}: {message}", dependency="marketo", retryable=not permanent
            )
        run.ports.dead_letters.send_batch(failed)
        logger.warning("batch dead-lettered", extra=context)
        # the run's list operations need not wait for these leads any longer
        run.announce_failed.extend(r.email for r in waiting if r.action == "create" and r.announce)
        return GaveBack(dead_lettered=count, code=code)
    run.ports.deferrer.defer(failed, retry_delay(run))
    logger.info("batch sent back for a later attempt", extra=context)
    return GaveBack(retried=count, code=code)
