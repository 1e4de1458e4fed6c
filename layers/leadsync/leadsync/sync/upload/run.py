"""The upload: one queue message → Marketo writes that can never duplicate a lead.

- Creates go out as createOnly, and only while this message holds the e-mail's create claim:
  two overlapping creates of one e-mail are what makes Marketo duplicate a lead.
- A createOnly that meets 1005 (the lead appeared since the fetch looked) becomes an update,
  decided again under the same field policies against the lead as it is now.
- Updates go by lead id (updateOnly), which cannot create anything.
- A batch holding both creates and updates whose lookup is fresh (`combine_window`) writes
  them in one createOrUpdate call by e-mail instead of two calls. The creates still hold
  their claims. A lead that appeared (or vanished) between the lookup and the write is
  written all the same and goes to the error store as `raced`, for a person to look at; an
  e-mail that matches several leads (1007) is written by id after all. Older batches use the
  two calls, which never race another writer.
- When the budget is spent (the limiter's rate or daily quota, or Marketo's 606/607/615), the
  records not yet written go back to the queue with a delay; nothing is dropped.
- A record Marketo refuses goes to the error store with its reason and correlation id.
- A call that keeps failing for a transient cause (after the retries of marketo.guard.Guard)
  sends the records not yet written back to the queue as a new message with the failure
  in its history and a growing delay; after `max_attempts` deliveries, or at once for a
  refusal no retry can change, the batch goes to the dead-letter queue with that history.
  While the destination's circuit breaker is open the work waits in the queue, its
  attempts untouched.
- A delivery that may repeat work already done (SQS delivered the message again, a retry,
  or a replay of a failed batch) first reads the leads and decides every record again:
  what Marketo already holds is not written twice.
- A create marked `announce` makes its lead id known to the run's list operations (the lead
  directory), or that the create failed for good.
- A list operation (one static list, add or remove, at most 300 leads) waits in the queue
  until the run has created the leads it names by e-mail (at most MAX_LIST_WAITS
  deferrals), then goes out as one call; "lead not found" (1004) and "not in list" (1015)
  count as done. A delete (erasure requests) goes out as one call; "lead not found" counts
  as done. Both share the budget, retry, give-back and dead-letter paths of the records,
  and always go back to the queue whole.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, ValidationError

from leadsync.errors import ConfigurationError, DependencyError, InvalidMessage, PermanentError
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted
from leadsync.mapping.fieldmap import FieldMap, default_field_map
from leadsync.marketo.errors import MarketoError, MarketoQuotaExhausted, MarketoRateLimited
from leadsync.marketo.guard import CircuitOpen, GaveUp
from leadsync.marketo.models import RecordResult
from leadsync.ports import ErrorSink, LeadWriter, StatsSink
from leadsync.readiness.gate import WAIT_SECONDS as SCHEMA_WAIT_SECONDS
from leadsync.readiness.gate import SchemaCheck
from leadsync.runtime.clock import utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record
from leadsync.sync.fetch.decide import Action, decide
from leadsync.sync.fetch.writes import chosen_lead, lookup_fields
from leadsync.sync.messages import (
    SQS_MAX_DELAY_SECONDS,
    DeleteOperation,
    FailureNote,
    ListOperation,
    SyncBatch,
    SyncRecord,
    keep_notes,
    keeps_email,
)
from leadsync.sync.upload.ports import (
    CreateClaimer,
    DeadLetterSink,
    Deferrer,
    LeadDirectory,
    WriteLedger,
)

ALREADY_EXISTS = "1005"
MANY_MATCH = "1007"
NOT_FOUND = "1004"
NOT_IN_LIST = "1015"
# deferrals a list operation waits for the leads of the run still being created; then it
# goes out with the leads known, and the others go to the error store
MAX_LIST_WAITS = 30


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
    # how old a lookup may be for creates and updates to go out in one createOrUpdate call;
    # zero: never, always createOnly and updateOnly by id
    combine_window: timedelta = timedelta(minutes=5)


@dataclass
class UploadPorts:
    marketo: LeadWriter
    claims: CreateClaimer
    errors: ErrorSink
    deferrer: Deferrer
    stats: StatsSink | None = None
    dead_letters: DeadLetterSink | None = None
    # lead ids of the run's creates, for its list operations, and the lists leads are in
    leads: LeadDirectory | None = None
    # what was written to each lead lately, by any path: never written twice
    ledger: WriteLedger | None = None
    # a lead schema that does not fit the field map holds every lead write back
    schema: SchemaCheck | None = None


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
    list_added: int = 0
    list_removed: int = 0
    leads_deleted: int = 0
    # written, but the lead had appeared or gone since the lookup (see `_Run.raced`)
    raced: int = 0
    # left out: another path wrote the same values since this batch was decided
    written_elsewhere: int = 0


def peek_correlation_id(body: str | bytes) -> str | None:
    """The body's correlation id, if it has a usable one (for the logs, before parsing)."""
    try:
        value = json.loads(body).get("correlation_id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return value[:128] if isinstance(value, str) and value else None


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
    # the batch's list operation or delete is still to do (it always moves whole)
    operation: bool = False
    # the list operation waits for leads the run is still creating
    operation_later: bool = False
    # lead ids of announced creates, and announced creates refused for good
    announced: dict[str, int] = field(default_factory=dict)
    announce_failed: list[str] = field(default_factory=list)
    # e-mail → the values written to its lead by this run, for the write ledger
    written: dict[str, dict[str, object]] = field(default_factory=dict)

    def settle(self, index: int, outcome: str) -> None:
        record = self.open.pop(index, None)
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if record is not None and outcome in ("created", "updated"):
            self.written[record.email] = dict(record.fields)

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
        if record.action == "create" and record.announce:
            self.announce_failed.append(record.email)
        self.settle(index, "failed")

    def raced(self, index: int, result: RecordResult, request: str) -> None:
        """Written, but not as the lookup foresaw: a create updated a lead that appeared
        meanwhile (its values may have replaced protected ones), or an update by e-mail
        created a lead for one that was gone."""
        record = self.open[index]
        if record.action == "create":
            reason = "create_met_existing_lead"
            detail = (
                "a lead with this e-mail appeared between the lookup and the write; it was "
                "updated with every mapped value, protected ones included"
            )
        else:
            reason = "update_recreated_lead"
            detail = (
                "the lead was gone between the lookup and the write; a new lead was created "
                "with the changed values only"
            )
        self.errors.append(
            ErrorEntry(
                kind=ErrorKind.RACED,
                reason=reason,
                detail=detail,
                chat_ids=record.chat_ids,
                correlation_id=self.batch.correlation_id,
                record={**record.model_dump(mode="json"), "lead_id": result.id},
                first_failure_at=self.at,
                last_failure_at=self.at,
                request=request,
                attempts=self.batch.attempts + 1,
            )
        )
        self.counts["raced"] = self.counts.get("raced", 0) + 1

    def fail_operation(
        self, reason: str, detail: str, record: dict[str, object], code: str, request: str
    ) -> None:
        """One lead of a list operation or delete that cannot be done."""
        self.errors.append(
            ErrorEntry(
                kind=ErrorKind.UNDELIVERABLE,
                reason=reason[:100],
                detail=detail,
                correlation_id=self.batch.correlation_id,
                record=record,
                first_failure_at=self.batch.first_failure_at or self.at,
                last_failure_at=self.at,
                code=code[:100] or None,
                request=request[:200] or None,
                attempts=self.batch.attempts + 1,
            )
        )
        self.counts["failed"] = self.counts.get("failed", 0) + 1


def _size(batch: SyncBatch) -> int:
    """The leads a batch names: its records, or the leads of its list operation or delete."""
    if batch.list_operation is not None:
        return len(batch.list_operation.lead_ids) + len(batch.list_operation.pending_emails)
    if batch.delete is not None:
        return len(batch.delete.lead_ids)
    return len(batch.records)


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
            records=_size(batch),
            deferred=_size(batch),
            deferred_seconds=delay,
            wait_reason="daily_quota",
        )
    if batch.records and ports.schema is not None and ports.schema.problems():
        # Marketo would refuse every record (1006): the message waits, losing nothing
        ports.deferrer.defer(batch, SCHEMA_WAIT_SECONDS)
        return UploadResult(
            correlation_id=batch.correlation_id,
            records=_size(batch),
            deferred=_size(batch),
            deferred_seconds=SCHEMA_WAIT_SECONDS,
            wait_reason="configuration",
        )
    run = _Run(
        batch,
        settings,
        ports,
        started,
        settings.field_map or default_field_map(),
        dict(enumerate(batch.records)),
        operation=batch.list_operation is not None or batch.delete is not None,
    )
    wait: tuple[int, str, datetime | None] | None = None
    gave_up: tuple[int, int, str] | None = None
    try:
        # A list add or remove and a delete need no re-check on a delivery that may repeat
        # them: Marketo makes them idempotent (adding a member again, removing a non-member
        # or deleting a lead already gone only answers "skipped", which counts as done).
        if batch.list_operation is not None:
            _list_operation(run, batch.list_operation)
        elif batch.delete is not None:
            _delete(run, batch.delete)
        else:
            looked = started - batch.created_at
            if redelivered or batch.attempts or batch.failures or batch.lookup_first:
                _recheck(run)
                looked = timedelta(0)
            if ports.ledger is not None:
                _leave_out_written(run, ports.ledger, started - looked)
            window = settings.combine_window
            _write(run, holder, combine=window > timedelta(0) and looked <= window)
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
        _keep(run)
    deferred, seconds, reason = _defer(run, wait)
    retried = dead_lettered = 0
    if gave_up is not None:
        retried, dead_lettered, failure_code = gave_up
        if retried and reason is None:
            seconds, reason = _retry_delay(run), "retry"
    result = UploadResult(
        correlation_id=batch.correlation_id,
        records=_size(batch),
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
        list_added=run.counts.get("list_added", 0),
        list_removed=run.counts.get("list_removed", 0),
        leads_deleted=run.counts.get("leads_deleted", 0),
        raced=run.counts.get("raced", 0),
        written_elsewhere=run.counts.get("written_elsewhere", 0),
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
                "list_added": result.list_added,
                "list_removed": result.list_removed,
                "leads_deleted": result.leads_deleted,
                "writes_raced": result.raced,
                "written_elsewhere": result.written_elsewhere,
            }
        )
    return result


def _recheck(run: _Run, only: Sequence[int] | None = None) -> None:
    """Decide every record (or those of `only`) again against the leads as they are now,
    before any write, so a delivery that repeats work already done writes nothing twice."""
    indexes = list(run.open) if only is None else [i for i in only if i in run.open]
    if not indexes:
        return
    emails = [run.open[i].email for i in indexes]
    found = run.ports.marketo.lookup_by_email(emails, lookup_fields(run.fmap))
    for i in indexes:
        record = run.open[i]
        lead = chosen_lead(found.get(record.email, []))
        if lead is None:
            continue  # not there: a create still to make, or an update that will say so
        if record.action == "create" and record.announce:
            run.announced[record.email] = lead.id  # made by an earlier delivery
        decision = decide(record.fields, (lead.id, lead.fields), run.fmap, record.last_chat_at)
        if decision.action is Action.UNCHANGED:
            run.settle(i, "unchanged")
            continue
        update = record.model_copy(
            update={"action": "update", "lead_id": lead.id, "fields": decision.fields}
        )
        sole = len(found.get(record.email, [])) == 1
        run.open[i] = update.model_copy(update={"by_email": sole and keeps_email(update)})


def _leave_out_written(run: _Run, ledger: WriteLedger, decided_at: datetime) -> None:
    """Leave out what another path (a webhook, another run) wrote to the lead since these
    records were decided: the same change is never written twice."""
    if not run.open:
        return
    recent = ledger.written([record.email for record in run.open.values()])
    moved_on: list[int] = []
    for i in list(run.open):
        record = run.open[i]
        written = recent.get(record.email)
        if written is None or written.at < decided_at:
            continue
        if any(written.differs(k, v) for k, v in record.fields.items() if k != "email"):
            # other values of these fields went to the lead since this record was decided
            # (a newer chat, or an older one): which is newer, only the lead can say
            moved_on.append(i)
            continue
        left = {k: v for k, v in record.fields.items() if not written.holds(k, v)}
        if not left:
            run.settle(i, "unchanged")
            run.counts["written_elsewhere"] = run.counts.get("written_elsewhere", 0) + 1
        elif record.action == "update" and (set(left) - {"email"}):
            # the lead's key stays in a write by e-mail
            keep = {**left, "email": record.fields["email"]} if "email" in record.fields else left
            run.open[i] = record.model_copy(update={"fields": keep})
    if moved_on:
        _recheck(run, moved_on)


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
    count = len(waiting)
    if run.operation:  # the list operation or delete goes back whole
        run.operation = False
        count = _size(run.batch)
    if not count:
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
        return 0, count, code
    run.ports.deferrer.defer(failed, _retry_delay(run))
    logger.info("batch sent back for a later attempt", extra=context)
    return count, 0, code


def _write(run: _Run, holder: str, *, combine: bool) -> None:
    creates = [i for i, r in run.open.items() if r.action == "create"]
    updates = [i for i, r in run.open.items() if r.action == "update"]
    by_email = [i for i in updates if run.open[i].by_email]
    if combine and creates and by_email:
        # one call instead of two; alone, either kind is as cheap and safer on its own call
        updates = [i for i in updates if not run.open[i].by_email]
        updates += _create_or_update(run, creates, by_email, holder)
    elif creates:
        updates += _create(run, creates, holder)
    if updates:
        _update(run, updates)


def _create_or_update(run: _Run, creates: list[int], updates: list[int], holder: str) -> list[int]:
    """Creates (under claims) and by-e-mail updates in one createOrUpdate call; returns the
    records still to update by id."""
    emails = [run.open[i].email for i in creates]
    outcome = run.ports.claims.claim(emails, holder, run.settings.claim_lease)
    claimed = set(outcome.claimed)
    for i in creates:
        if run.open[i].email not in claimed:
            run.later[i] = run.open.pop(i)
    together = [i for i in creates if i in run.open] + updates
    by_id: list[int] = []
    existing: list[int] = []
    request = f"createOrUpdate {len(together)} records by email"
    try:
        payload = [
            {"email": run.open[i].email, **run.open[i].fields}
            if run.open[i].action == "update"
            else run.open[i].fields
            for i in together
        ]
        results = run.ports.marketo.create_or_update(payload, "email")
        for i, result in zip(together, results, strict=True):
            record = run.open[i]
            if result.status in ("created", "updated"):
                if record.announce and result.id is not None:
                    run.announced[record.email] = result.id
                expected = "created" if record.action == "create" else "updated"
                if result.status != expected:
                    run.raced(i, result, request)
                run.settle(i, result.status)
            elif MANY_MATCH in result.codes:
                (by_id if record.action == "update" else existing).append(i)
            else:
                run.fail(i, result, request)
    finally:
        run.ports.claims.release(list(outcome.claimed), holder)
    return by_id + (_redecide(run, existing) if existing else [])


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
                if run.open[i].announce and result.id is not None:
                    run.announced[run.open[i].email] = result.id
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
        if record.announce:
            run.announced[record.email] = lead.id
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
        deferred += len(waiting) or _size(batch)
        run.operation = False
    if run.operation_later:
        delay = run.settings.claim_retry_seconds
        run.ports.deferrer.defer(batch.model_copy(update={"deferrals": batch.deferrals + 1}), delay)
        deferred += _size(batch)
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


def _keep(run: _Run) -> None:
    """What the run learnt: announced lead ids first, then the error entries."""
    try:
        if run.ports.ledger is not None and run.written:
            try:
                run.ports.ledger.record(run.written)
            except DependencyError:  # a later write of the same change will only look again
                get_logger().warning(
                    "write ledger not updated",
                    extra={"correlation_id": run.batch.correlation_id, "leads": len(run.written)},
                )
        leads = run.ports.leads
        if leads is not None:
            if run.announced:
                leads.announce(run.announced)
            if run.announce_failed:
                leads.announce_failed(run.announce_failed)
    finally:
        if run.errors:
            run.ports.errors.record_errors(run.errors)


def _list_operation(run: _Run, op: ListOperation) -> None:
    """One list add or remove: wait for the run's creates it names, then one call."""
    ids = list(op.lead_ids)
    if op.pending_emails:
        if run.ports.leads is None:
            raise ConfigurationError("a list operation waits for created leads: no lead directory")
        known = run.ports.leads.ids_of(op.pending_emails)
        unknown = [email for email in op.pending_emails if email not in known]
        failed = [email for email in op.pending_emails if email in known and known[email] is None]
        ids += [lead for email in op.pending_emails if (lead := known.get(email)) is not None]
        if unknown and run.batch.deferrals < MAX_LIST_WAITS:
            # the leads known go into the message; the others are still being created
            run.batch = run.batch.model_copy(
                update={
                    "list_operation": op.model_copy(
                        update={"lead_ids": _unique(ids), "pending_emails": unknown}
                    )
                }
            )
            run.operation, run.operation_later = False, True
            return
        for email in unknown:
            run.fail_operation(
                "list_lead_unknown",
                f"no lead id for this e-mail after {run.batch.deferrals} waits; "
                f"not {'added to' if op.action == 'add' else 'removed from'} list {op.list_id}",
                {"list_id": op.list_id, "action": op.action, "email": email},
                "",
                "",
            )
        if failed:  # their creates failed, with an entry in the error store of their own
            get_logger().info(
                "list operation drops leads whose create failed",
                extra={"correlation_id": run.batch.correlation_id, "dropped": len(failed)},
            )
    ids = _unique(ids)
    # resolved: a delivery after this one (a give-back, a deferral) carries the ids only
    run.batch = run.batch.model_copy(
        update={"list_operation": op.model_copy(update={"lead_ids": ids, "pending_emails": []})}
    )
    if not ids:
        run.operation = False
        return
    if op.action == "add":
        request = f"add {len(ids)} leads to list {op.list_id}"
        results = run.ports.marketo.add_to_list(op.list_id, ids)
    else:
        request = f"remove {len(ids)} leads from list {op.list_id}"
        results = run.ports.marketo.remove_from_list(op.list_id, ids)
    run.operation = False
    done: list[int] = []
    absent: list[int] = []  # not found, or not in the list: in it no longer, either way
    outcome = "list_added" if op.action == "add" else "list_removed"
    for lead_id, result in zip(ids, results, strict=True):
        if result.status in ("added", "removed"):
            done.append(lead_id)
            run.counts[outcome] = run.counts.get(outcome, 0) + 1
        elif NOT_FOUND in result.codes or NOT_IN_LIST in result.codes:
            absent.append(lead_id)
        else:
            code = ",".join(result.codes) or result.status
            detail = "; ".join(reason.message for reason in result.reasons if reason.message)
            run.fail_operation(
                f"marketo_{code}",
                detail or "Marketo skipped the lead",
                {"list_id": op.list_id, "action": op.action, "lead_id": lead_id},
                code,
                request,
            )
    directory = run.ports.leads
    if directory is not None:
        if op.action == "add" and done:
            directory.add_members(op.list_id, done)
        gone = absent + (done if op.action == "remove" else [])
        if gone:
            directory.remove_members(op.list_id, gone)


def _delete(run: _Run, op: DeleteOperation) -> None:
    """One delete call for erasure requests; logged with the requests' references only."""
    request = f"delete {len(op.lead_ids)} leads"
    results = run.ports.marketo.delete(op.lead_ids)
    run.operation = False
    aligned = len(op.references) == len(op.lead_ids)
    gone = 0
    for index, (lead_id, result) in enumerate(zip(op.lead_ids, results, strict=True)):
        if result.status == "deleted":
            run.counts["leads_deleted"] = run.counts.get("leads_deleted", 0) + 1
        elif NOT_FOUND in result.codes:
            gone += 1  # deleted already
        else:
            code = ",".join(result.codes) or result.status
            detail = "; ".join(reason.message for reason in result.reasons if reason.message)
            record: dict[str, object] = {"action": "delete", "lead_id": lead_id}
            if aligned:
                record["reference"] = op.references[index]
            run.fail_operation(
                f"marketo_{code}", detail or "Marketo skipped the delete", record, code, request
            )
    get_logger().info(
        "leads deleted",
        extra={
            "correlation_id": run.batch.correlation_id,
            "deleted": run.counts.get("leads_deleted", 0),
            "already_gone": gone,
            "failed": run.counts.get("failed", 0),
            "references": list(op.references),
        },
    )


def _unique(ids: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(ids))
