"""The upload: one queue message → Marketo writes that can never duplicate a lead.

- Creates go out as createOnly, and only while this message holds the e-mail's create claim:
  two overlapping creates of one e-mail are what makes Marketo duplicate a lead.
- A createOnly that meets 1005 (the lead appeared since the fetch looked) becomes an update,
  decided again under the same field policies against the lead as it is now.
- Updates go by lead id (updateOnly), which cannot create anything.
- When the budget is spent (the limiter's rate or daily quota, or Marketo's 606/607/615), the
  records not yet written go back to the queue with a delay; nothing is dropped.
- A record Marketo refuses goes to the error store with its reason and correlation id.
- A call that keeps failing for a transient cause (after the retries of resilience.Guard)
  sends the records not yet written back to the queue as a new message with the failure
  in its history and a growing delay; after `max_attempts` deliveries, or at once for a
  refusal no retry can change, the batch goes to the dead-letter queue with that history.
  While the destination's circuit breaker is open the work waits in the queue, its
  attempts untouched.
- A delivery that may repeat work already done (SQS delivered the message again, a retry,
  or a replay of a failed batch) first reads the leads and decides every record again:
  what Marketo already holds is not written twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, ValidationError

from leadsync.clock import utc_now
from leadsync.diff import Action, decide
from leadsync.errors import DependencyError, InvalidMessage, PermanentError
from leadsync.failures import ErrorEntry, from_record
from leadsync.fieldmap import FieldMap, default_field_map
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted
from leadsync.marketo.errors import MarketoError, MarketoQuotaExhausted, MarketoRateLimited
from leadsync.marketo.models import RecordResult
from leadsync.messages import FailureNote, SyncBatch, SyncRecord, keep_notes
from leadsync.observability import get_logger
from leadsync.planning import chosen_lead, lookup_fields
from leadsync.ports import (
    CreateClaimer,
    DeadLetterSink,
    Deferrer,
    ErrorSink,
    LeadWriter,
    StatsSink,
)
from leadsync.resilience import CircuitOpen, GaveUp

ALREADY_EXISTS = "1005"
NOT_FOUND = "1004"
SQS_MAX_DELAY_SECONDS = 900


@dataclass(frozen=True)
class UploadSettings:
    field_map: FieldMap | None = None
    # longer than the function's timeout: a live holder never loses its claim
    claim_lease: timedelta = timedelta(minutes=15)
    # how soon a record whose e-mail another message is creating is tried again
    claim_retry_seconds: int = 20
    # deliveries a batch may fail for a transient cause before it is dead-lettered
    max_attempts: int = 4
    # delay before the next delivery of a failed batch: doubled each attempt, at most 900 s
    retry_delay_seconds: int = 30


@dataclass
class UploadPorts:
    marketo: LeadWriter
    claims: CreateClaimer
    errors: ErrorSink
    deferrer: Deferrer
    stats: StatsSink | None = None
    dead_letters: DeadLetterSink | None = None


class UploadResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    correlation_id: str
    records: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    protected_kept: int = 0
    failed: int = 0
    deferred: int = 0
    deferred_seconds: int = 0
    wait_reason: str | None = None
    retried: int = 0  # records sent back after a failed call, for a later delivery
    dead_lettered: int = 0
    failure: str | None = None  # the code of the call that failed, when one did


def parse_batch(body: str | bytes) -> SyncBatch:
    """The message body as a SyncBatch; InvalidMessage says what is wrong, not the data."""
    try:
        return SyncBatch.model_validate_json(body)
    except ValidationError as exc:
        kinds = {error["type"] for error in exc.errors()}
        if "json_invalid" in kinds or "json_type" in kinds:
            raise InvalidMessage("message body is not JSON") from None
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        raise InvalidMessage(
            f"message body is not a valid batch ({len(exc.errors())} problem(s) in: "
            + ", ".join(fields[:10])
            + ")"
        ) from None


@dataclass
class _Run:
    batch: SyncBatch
    settings: UploadSettings
    ports: UploadPorts
    at: datetime
    fmap: FieldMap
    open: dict[int, SyncRecord] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[ErrorEntry] = field(default_factory=list)
    later: dict[int, SyncRecord] = field(default_factory=dict)  # retry soon (claim held)

    def settle(self, index: int, outcome: str) -> None:
        self.open.pop(index, None)
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def fail(self, index: int, result: RecordResult, request: str) -> None:
        record = self.open[index]
        code = ",".join(result.codes) or result.status
        detail = "; ".join(reason.message for reason in result.reasons if reason.message)
        self.errors.append(
            from_record(
                record,
                reason=f"marketo_{code}"[:100],
                detail=detail or "Marketo skipped the record",
                at=self.at,
                correlation_id=self.batch.correlation_id,
                code=code[:100],
                request=request,
                attempts=self.batch.attempts + 1,
                first_failure_at=self.batch.first_failure_at,
            )
        )
        self.settle(index, "failed")


def process(
    body: str | bytes,
    *,
    holder: str,
    ports: UploadPorts,
    settings: UploadSettings | None = None,
    now: Callable[[], datetime] = utc_now,
    redelivered: bool = False,
) -> UploadResult:
    """Write one message's records; `holder` names this delivery (the SQS message id).

    `redelivered`: SQS has delivered this message before (its receive count is above 1)."""
    batch = parse_batch(body)
    settings = settings or UploadSettings()
    started = now()
    if batch.not_before is not None and batch.not_before > started:
        delay = min(_seconds_until(batch.not_before, started), SQS_MAX_DELAY_SECONDS)
        ports.deferrer.defer(batch, delay)
        return UploadResult(
            correlation_id=batch.correlation_id,
            records=len(batch.records),
            deferred=len(batch.records),
            deferred_seconds=delay,
            wait_reason="daily_quota",
        )
    run = _Run(
        batch,
        settings,
        ports,
        started,
        settings.field_map or default_field_map(),
        dict(enumerate(batch.records)),
    )
    wait: tuple[int, str, datetime | None] | None = None
    gave_up: tuple[int, int, str] | None = None
    try:
        if redelivered or batch.attempts or batch.failures:
            _recheck(run)
        _write(run, holder)
    except (BudgetExhausted, MarketoRateLimited) as exc:
        wait = _wait_of(exc, started)
    except CircuitOpen as exc:
        wait = max(1, math.ceil(exc.retry_after_seconds)), "circuit_open", None
    except GaveUp as exc:
        gave_up = _give_back(
            run, exc.code, f"{exc.detail} (after {exc.tries} tries)", exc.request, permanent=False
        )
    except (PermanentError, DependencyError) as exc:
        if not isinstance(exc, MarketoError) or exc.retryable:
            raise
        # a refusal of the whole call: no retry can change it
        gave_up = _give_back(run, exc.code, exc.detail or str(exc), "", permanent=True)
    finally:
        if run.errors:
            ports.errors.record_errors(run.errors)
    deferred, seconds, reason = _defer(run, wait)
    retried = dead_lettered = 0
    if gave_up is not None:
        retried, dead_lettered, failure_code = gave_up
        if retried and reason is None:
            seconds, reason = _retry_delay(run), "retry"
    result = UploadResult(
        correlation_id=batch.correlation_id,
        records=len(batch.records),
        created=run.counts.get("created", 0),
        updated=run.counts.get("updated", 0),
        unchanged=run.counts.get("unchanged", 0),
        protected_kept=run.counts.get("protected", 0),
        failed=run.counts.get("failed", 0),
        deferred=deferred,
        deferred_seconds=seconds,
        wait_reason=reason,
        retried=retried,
        dead_lettered=dead_lettered,
        failure=failure_code if gave_up is not None else None,
    )
    if ports.stats is not None:
        ports.stats.add(
            {
                "upload_messages": 1,
                "leads_created": result.created,
                "leads_updated": result.updated,
                "visitors_unchanged": result.unchanged,
                "protected_kept": result.protected_kept,
                "records_failed": result.failed,
                "records_deferred": result.deferred,
                "records_retried": result.retried,
                "records_dead_lettered": result.dead_lettered,
            }
        )
    return result


def _recheck(run: _Run) -> None:
    """Decide every record again against the leads as they are now, before any write, so a
    delivery that repeats work already done writes nothing twice."""
    indexes = list(run.open)
    if not indexes:
        return
    emails = [run.open[i].email for i in indexes]
    found = run.ports.marketo.lookup_by_email(emails, lookup_fields(run.fmap))
    for i in indexes:
        record = run.open[i]
        lead = chosen_lead(found.get(record.email, []))
        if lead is None:
            continue  # not there: a create still to make, or an update that will say so
        decision = decide(record.fields, (lead.id, lead.fields), run.fmap, record.last_chat_at)
        if decision.action is Action.UNCHANGED:
            run.settle(i, "unchanged")
            continue
        run.open[i] = record.model_copy(
            update={"action": "update", "lead_id": lead.id, "fields": decision.fields}
        )


def _retry_delay(run: _Run) -> int:
    delay = run.settings.retry_delay_seconds * 2 ** min(run.batch.attempts, 10)
    return int(min(delay, SQS_MAX_DELAY_SECONDS))


def _give_back(
    run: _Run, code: str, message: str, request: str, *, permanent: bool
) -> tuple[int, int, str]:
    """The records not yet written, with this failure in their history: back to the queue
    for a later delivery, or to the dead-letter queue. Returns (retried, dead-lettered, code)."""
    code = (code or "unknown")[:100]
    waiting = [run.open.pop(i) for i in sorted(run.open)]
    if not waiting:
        return 0, 0, code
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
        "records": len(waiting),
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
        return 0, len(waiting), code
    run.ports.deferrer.defer(failed, _retry_delay(run))
    logger.info("batch sent back for a later attempt", extra=context)
    return len(waiting), 0, code


def _write(run: _Run, holder: str) -> None:
    creates = [i for i, r in run.open.items() if r.action == "create"]
    updates = [i for i, r in run.open.items() if r.action == "update"]
    if creates:
        updates += _create(run, creates, holder)
    if updates:
        _update(run, updates)


def _create(run: _Run, indexes: list[int], holder: str) -> list[int]:
    """createOnly under claims; returns the records that turned into updates."""
    emails = [run.open[i].email for i in indexes]
    outcome = run.ports.claims.claim(emails, holder, run.settings.claim_lease)
    claimed = set(outcome.claimed)
    mine = [i for i in indexes if run.open[i].email in claimed]
    for i in indexes:
        if run.open[i].email not in claimed:
            run.later[i] = run.open.pop(i)
    if not mine:
        return []
    existing: list[int] = []
    try:
        results = run.ports.marketo.create_only([run.open[i].fields for i in mine])
        for i, result in zip(mine, results, strict=True):
            if result.status == "created":
                run.settle(i, "created")
            elif ALREADY_EXISTS in result.codes:
                existing.append(i)
            else:
                run.fail(i, result, f"createOnly {len(mine)} records")
    finally:
        run.ports.claims.release(list(outcome.claimed), holder)
    return _redecide(run, existing) if existing else []


def _redecide(run: _Run, indexes: list[int]) -> list[int]:
    """The lead exists after all: diff against it as it is now, under the same policies."""
    emails = [run.open[i].email for i in indexes]
    found = run.ports.marketo.lookup_by_email(emails, lookup_fields(run.fmap))
    updates: list[int] = []
    for i in indexes:
        record = run.open[i]
        lead = chosen_lead(found.get(record.email, []))
        if lead is None:  # gone again (deleted meanwhile): try the whole record later
            run.later[i] = run.open.pop(i)
            continue
        decision = decide(record.fields, (lead.id, lead.fields), run.fmap, record.last_chat_at)
        if decision.protected:
            run.counts["protected"] = run.counts.get("protected", 0) + 1
        if decision.action is Action.UNCHANGED:
            run.settle(i, "unchanged")
            continue
        run.open[i] = record.model_copy(
            update={"action": "update", "lead_id": lead.id, "fields": decision.fields}
        )
        updates.append(i)
    return updates


def _update(run: _Run, indexes: Sequence[int]) -> None:
    payload = [{"id": run.open[i].lead_id, **run.open[i].fields} for i in indexes]
    results = run.ports.marketo.update_only(payload, "id")
    for i, result in zip(indexes, results, strict=True):
        if result.status == "updated":
            run.settle(i, "updated")
        else:
            run.fail(i, result, f"updateOnly {len(indexes)} records by id")


def _wait_of(exc: Exception, at: datetime) -> tuple[int, str, datetime | None]:
    """(delay seconds, reason, not-before) for work that must wait for the budget."""
    if isinstance(exc, DailyQuotaExhausted):
        return _seconds_until(exc.resumes_at, at), "daily_quota", exc.resumes_at
    if isinstance(exc, MarketoQuotaExhausted):
        resumes = exc.resumes_at
        if resumes is None and exc.retry_after is not None:
            resumes = at + timedelta(seconds=exc.retry_after)
        return (_seconds_until(resumes, at) if resumes else 3600), "daily_quota", resumes
    if isinstance(exc, BudgetExhausted):
        return max(1, math.ceil(exc.retry_after_seconds)), "rate", None
    retry = getattr(exc, "retry_after", None)
    return max(1, math.ceil(retry or 20)), "marketo_rate", None


def _seconds_until(when: datetime, at: datetime) -> int:
    return max(1, math.ceil((when - at).total_seconds()))


def _defer(run: _Run, wait: tuple[int, str, datetime | None] | None) -> tuple[int, int, str | None]:
    """Send what is not done back to the queue; returns (records, delay, reason)."""
    deferred = 0
    seconds = 0
    reason: str | None = None
    batch = run.batch
    if wait is not None and run.open:
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
        deferred += len(waiting)
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
