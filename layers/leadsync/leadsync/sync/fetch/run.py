"""The fetch: new LiveChat chats since the high-water mark → visitors → the writes they need.

Visitors are looked up in Marketo (through the client and the shared limiter), diffed field
by field under the field map's policies, and only real changes are queued. The mark moves
only after every batch is on the queue and every rejection is stored, so a failed run is
simply read again by the next one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict

from leadsync.bulk.choice import BulkRoute, Routed
from leadsync.erasure.deletes import (
    ErasureMarkers,
    ErasureRequest,
    collapse,
    erasures_from_chats,
    plan_deletes,
)
from leadsync.errors import ConditionFailed
from leadsync.lists.rules import ListRules
from leadsync.mapping.fieldmap import FieldMap, default_field_map
from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.ports import BatchSink, LeadLookup, StatsSink
from leadsync.readiness.fields import summary as problem_summary
from leadsync.readiness.gate import SchemaCheck
from leadsync.runtime.clock import Clock, iso_utc, utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record, from_rejection
from leadsync.sync.fetch.batching import BatchLimits, new_correlation_id, plan_batches, write_kind
from leadsync.sync.fetch.email_changes import (
    detect_changes,
    found_after,
    lookup_emails,
    renames,
    resolve_email_changes,
)
from leadsync.sync.fetch.operations import (
    announcing,
    delete_batches,
    lead_keys,
    list_batches,
    list_changes_for,
    with_renames,
)
from leadsync.sync.fetch.ports import ArchiveSource, FetchState
from leadsync.sync.fetch.writes import lookup_fields, plan_writes
from leadsync.sync.messages import SyncBatch

FIRST_RUN_LOOKBACK = timedelta(hours=1)
# how far past the window a chat's own time may be before it is not believed
SOURCE_CLOCK_SKEW = timedelta(hours=1)
SOURCE = "livechat"


@dataclass(frozen=True)
class FetchSettings:
    limits: BatchLimits
    overlap: timedelta = timedelta(minutes=10)
    max_window: timedelta = timedelta(hours=24)
    first_start: datetime | None = None
    field_map: FieldMap | None = None
    # creates and by-e-mail updates share messages: one createOrUpdate call each
    combine_writes: bool = True


class MembershipReader(Protocol):
    def memberships(
        self, lead_ids: Iterable[int], list_ids: Iterable[int]
    ) -> Mapping[int, frozenset[int]]: ...


class IdentityMemory(Protocol):
    def get_many(self, customer_ids: Iterable[str]) -> dict[str, str]: ...

    def put_many(self, identities: Mapping[str, str]) -> int: ...


class ErasureInbox(Protocol):
    """Erasure requests waiting (a queue, a file); confirmed once their deletes are queued."""

    def take(self) -> list[ErasureRequest]: ...

    def confirm(self) -> None: ...


@dataclass(frozen=True)
class WholeSync:
    """What the sync does beyond lead writes; each part is off when left out."""

    lists: ListRules | None = None
    memberships: MembershipReader | None = None
    identities: IdentityMemory | None = None
    erasures: ErasureInbox | None = None
    erasure_markers: ErasureMarkers = field(default_factory=ErasureMarkers)
    # the bulk-import path for large runs; off when left out (every write by REST)
    bulk: BulkRoute | None = None


class FetchSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    since: AwareDatetime
    until: AwareDatetime
    entries: int = 0
    chats: int = 0
    visitors: int = 0
    rejected: int = 0
    creates: int = 0
    updates: int = 0
    unchanged: int = 0
    protected_kept: int = 0
    duplicate_leads: int = 0
    messages: int = 0
    records: int = 0
    oversized: int = 0
    list_messages: int = 0
    delete_messages: int = 0
    erasures: int = 0
    erasures_not_found: int = 0
    email_changes: int = 0
    possible_duplicates: int = 0
    mark_advanced: bool = False
    # the schema does not fit the field map: nothing read, nothing written, the mark kept
    stopped: str | None = None
    # the path the writes took, and what each would have cost in write calls
    path: str = "rest"
    path_reason: str = ""
    rest_write_calls: int = 0
    bulk_write_calls: int = 0
    bulk_jobs: int = 0
    bulk_records: int = 0


def fetch_window(
    mark: datetime | None, now: datetime, settings: FetchSettings
) -> tuple[datetime, datetime]:
    """(since, until]: from the mark minus the overlap, at most `max_window` long."""
    if mark is None:
        since = settings.first_start or now - FIRST_RUN_LOOKBACK
    else:
        since = mark - settings.overlap
    return since, min(now, since + settings.max_window)


def run(
    *,
    source: ArchiveSource,
    state: FetchState,
    queue: BatchSink,
    destination: LeadLookup,
    settings: FetchSettings,
    stats: StatsSink | None = None,
    now: Clock = utc_now,
    whole: WholeSync | None = None,
    schema: SchemaCheck | None = None,
) -> FetchSummary:
    logger = get_logger()
    run_id = new_correlation_id()
    started = now()
    if schema is not None and (stopping := schema.problems()):
        mark = state.get_high_water_mark(SOURCE)
        since, until = fetch_window(mark, started, settings)
        reasons = problem_summary(stopping)
        logger.error("run stopped before any write", extra={"run_id": run_id, "why": reasons})
        return FetchSummary(
            run_id=run_id, since=since, until=until, stopped=f"configuration / {reasons}"
        )
    mark = state.get_high_water_mark(SOURCE)
    since, until = fetch_window(mark, started, settings)
    if until <= since or (mark is not None and until <= mark):
        logger.warning(
            "high-water mark is ahead of the clock; nothing to fetch",
            extra={"run_id": run_id, "mark": mark.isoformat() if mark else None},
        )
        return FetchSummary(run_id=run_id, since=since, until=until)

    try:
        return _run(
            source,
            state,
            queue,
            destination,
            settings,
            stats,
            run_id,
            started,
            since,
            until,
            whole or WholeSync(),
        )
    except Exception as exc:
        _report_failure(state, exc, run_id, started, since, until)
        raise


def _report_failure(
    state: FetchState,
    exc: Exception,
    run_id: str,
    at: datetime,
    since: datetime,
    until: datetime,
) -> None:
    """A failed run reaches the digest: its chats are read again by the next run, but an
    admin must hear when runs keep failing."""
    code = str(getattr(exc, "code", "") or type(exc).__name__)[:100]
    entry = ErrorEntry(
        kind=ErrorKind.RUN_FAILED,
        reason="fetch_failed",
        detail=f"{type(exc).__name__}: {exc}"[:1000],
        correlation_id=run_id,
        record={"since": iso_utc(since), "until": iso_utc(until)},
        first_failure_at=at,
        last_failure_at=at,
        code=code,
        request=str(getattr(exc, "request", "") or "")[:200] or None,
    )
    try:
        state.record_errors([entry])
    except Exception:  # the run's own failure is the one to raise
        get_logger().exception("could not record the failed run", extra={"run_id": run_id})


def _run(
    source: ArchiveSource,
    state: FetchState,
    queue: BatchSink,
    destination: LeadLookup,
    settings: FetchSettings,
    stats: StatsSink | None,
    run_id: str,
    started: datetime,
    since: datetime,
    until: datetime,
    whole: WholeSync,
) -> FetchSummary:
    logger = get_logger()
    entries = list(source.list_archives(since, until))
    mapped = map_entries(entries, not_after=until + SOURCE_CLOCK_SKEW)
    fmap = settings.field_map or default_field_map()
    requests = erasures_from_chats(entries, whole.erasure_markers, requested_at=started)
    if whole.erasures is not None:
        requests = collapse([*requests, *whole.erasures.take()])
    erased = {request.email for request in requests}
    # an erased visitor is deleted, never written again
    visitors = [visitor for visitor in mapped.visitors if visitor.email not in erased]
    pairs = [(v.email, v.customer_id) for v in visitors if v.customer_id]
    remembered = (
        whole.identities.get_many({cid for _, cid in pairs})
        if whole.identities is not None and pairs
        else {}
    )
    changes = detect_changes(pairs, remembered)
    wanted = lookup_emails([v.email for v in visitors], changes)
    wanted += [email for email in sorted(erased) if email not in set(wanted)]
    found = destination.lookup_by_email(wanted, lookup_fields(fmap))
    decisions = resolve_email_changes(changes, found, in_use=[v.email for v in visitors])
    after = found_after(decisions, found) if decisions else found
    writes = plan_writes(visitors, after, fmap)
    records = with_renames(
        writes.records, renames(decisions), chat_ids={v.email: v.chat_ids for v in visitors}
    )
    list_messages: list[SyncBatch] = []
    if whole.lists is not None and whole.lists.list_ids:
        keys = lead_keys(visitors, after)
        ids = [key for key in keys.values() if isinstance(key, int)]
        known = (
            whole.memberships.memberships(ids, whole.lists.list_ids)
            if whole.memberships is not None and ids
            else {}
        )
        list_messages, pending = list_batches(
            list_changes_for(visitors, keys, known, whole.lists),
            created_at=started,
            max_ids=settings.limits.max_records,
        )
        records = announcing(records, pending)
    deletes = plan_deletes(requests, found, max_per_call=settings.limits.max_records)
    delete_messages = delete_batches(deletes, created_at=started)
    # each message one kind of write, so one Marketo call: creates (with the updates that
    # may go with them), then updates by id
    combine = settings.combine_writes
    # a large run's writes that an import can carry are staged as bulk jobs instead
    routed = whole.bulk.route(records, now=started, combine=combine) if whole.bulk else None
    if routed is not None:
        records = routed.rest
    ordered = sorted(records, key=lambda record: write_kind(record, combine) == "update")
    plan = plan_batches(ordered, settings.limits, created_at=started, combine=combine)
    errors = [from_rejection(r, at=started, correlation_id=run_id) for r in mapped.rejections]
    errors += [
        from_record(
            record,
            reason="record_too_large",
            detail="visitor does not fit in one message",
            at=started,
            correlation_id=run_id,
        )
        for record in plan.oversized
    ]
    state.record_errors(errors)
    messages = queue.send_batches([*plan.batches, *list_messages, *delete_messages])
    for batch in plan.batches:
        # where each chat went: its correlation id follows it to the lead and the digest
        logger.info(
            "batch queued",
            extra={
                "run_id": run_id,
                "correlation_id": batch.correlation_id,
                "records": len(batch.records),
                "chat_ids": [chat for record in batch.records for chat in record.chat_ids],
            },
        )
    if whole.erasures is not None:
        whole.erasures.confirm()  # their deletes are queued
    if deletes.erasures:
        logger.info("erasures planned", extra={"run_id": run_id, **deletes.summary()})
    if whole.identities is not None:
        # the address each customer has now, so that a change in a later run moves the lead
        # (a lead created this run included); a change found in this run is remembered only
        # once Marketo holds the new address, so until then each run sees it and moves it
        moving = {change.customer_id for change in changes}
        held = {cid: email for email, cid in pairs if cid not in moving or found.get(email)}
        if held:
            whole.identities.put_many(held)

    advanced = True
    try:
        state.put_high_water_mark(until, SOURCE)
    except ConditionFailed:
        advanced = False
        logger.warning("a newer high-water mark is already stored", extra={"run_id": run_id})

    summary = FetchSummary(
        run_id=run_id,
        since=since,
        until=until,
        entries=len(entries),
        chats=mapped.chats,
        visitors=len(mapped.visitors),
        rejected=len(mapped.rejections),
        creates=writes.creates,
        updates=writes.updates,
        unchanged=writes.unchanged,
        protected_kept=writes.protected_kept,
        duplicate_leads=writes.duplicate_leads,
        messages=messages,
        records=plan.records,
        oversized=len(plan.oversized),
        list_messages=len(list_messages),
        delete_messages=len(delete_messages),
        erasures=len(requests),
        erasures_not_found=deletes.not_found,
        email_changes=len(changes),
        possible_duplicates=sum(len(d.possible_duplicates) for d in decisions),
        mark_advanced=advanced,
        **(_routed_summary(routed) if routed is not None else {}),
    )
    if stats is not None:
        stats.add(
            {
                "fetch_runs": 1,
                "chats_read": summary.chats,
                "visitors_seen": summary.visitors,
                "chats_rejected": summary.rejected,
                "planned_creates": summary.creates,
                "planned_updates": summary.updates,
                "visitors_unchanged": summary.unchanged,
                "protected_kept": summary.protected_kept,
                "records_queued": summary.records,
            }
        )
    reasons = Counter(rejection.reason.value for rejection in mapped.rejections)
    logger.info(
        "fetch done",
        extra={
            **summary.model_dump(mode="json"),
            "rejections": dict(reasons),
            "correlation_ids": [b.correlation_id for b in plan.batches],
        },
    )
    return summary


def _routed_summary(routed: Routed) -> dict[str, Any]:
    staged = routed.staged
    return {
        "path": routed.choice.path.value,
        "path_reason": routed.choice.reason,
        "rest_write_calls": routed.choice.rest_calls,
        "bulk_write_calls": routed.choice.bulk_calls,
        "bulk_jobs": len(staged.jobs) if staged is not None else 0,
        "bulk_records": staged.records if staged is not None else 0,
    }
