"""The fetch: new LiveChat chats since the high-water mark → visitors → the writes they need.

Visitors are looked up in Marketo (through the client and the shared limiter), diffed field
by field under the field map's policies, and only real changes are queued. The mark moves
only after every batch is on the queue and every rejection is stored, so a failed run is
simply read again by the next one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from leadsync.batching import BatchLimits, new_correlation_id, plan_batches
from leadsync.clock import Clock, iso_utc, utc_now
from leadsync.errors import ConditionFailed
from leadsync.failures import ErrorEntry, ErrorKind, from_record, from_rejection
from leadsync.fieldmap import FieldMap, default_field_map
from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.observability import get_logger
from leadsync.planning import lookup_fields, plan_writes
from leadsync.ports import ArchiveSource, BatchSink, FetchState, LeadLookup, StatsSink

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
    mark_advanced: bool = False


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
) -> FetchSummary:
    logger = get_logger()
    run_id = new_correlation_id()
    started = now()
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
            source, state, queue, destination, settings, stats, run_id, started, since, until
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
) -> FetchSummary:
    logger = get_logger()
    entries = list(source.list_archives(since, until))
    mapped = map_entries(entries, not_after=until + SOURCE_CLOCK_SKEW)
    fmap = settings.field_map or default_field_map()
    found = destination.lookup_by_email(
        [visitor.email for visitor in mapped.visitors], lookup_fields(fmap)
    )
    writes = plan_writes(mapped.visitors, found, fmap)
    plan = plan_batches(writes.records, settings.limits, created_at=started)
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
    messages = queue.send_batches(plan.batches)

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
        mark_advanced=advanced,
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
