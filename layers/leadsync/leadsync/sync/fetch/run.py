"""The fetch: new LiveChat chats since the high-water mark → visitors → the writes they need.

Visitors are looked up in Marketo (through the client and the shared limiter), diffed field
by field under the field map's policies, and only real changes are queued (`prepare`). The
mark moves only after every batch is on the queue and every rejection is stored, so a failed
run is simply read again by the next one. What the sync does beyond lead writes (erasures,
e-mail changes, lists, the bulk route) are the steps of `whole`. When a bulk import finished
late, the window starts where the chats must be read again (`reread`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from leadsync.errors import ConditionFailed
from leadsync.mapping.fieldmap import FieldMap
from leadsync.ports import BatchSink, LeadLookup, StatsSink
from leadsync.readiness.fields import summary as problem_summary
from leadsync.readiness.gate import SchemaCheck
from leadsync.runtime.clock import Clock, iso_utc, utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import (
    ErrorEntry,
    ErrorKind,
    activity_too_large,
    from_record,
    from_rejection,
)
from leadsync.sync.fetch.batching import BatchLimits, new_correlation_id
from leadsync.sync.fetch.ports import ArchiveSource, FetchState, RereadRequests
from leadsync.sync.fetch.prepare import Prepared, prepare
from leadsync.sync.fetch.reread import Reread, StaleAware
from leadsync.sync.fetch.summary import FetchSummary, report, summarize
from leadsync.sync.fetch.whole import WholeSync, confirm_erasures, remember_identities

FIRST_RUN_LOOKBACK = timedelta(hours=1)
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


def fetch_window(
    mark: datetime | None,
    now: datetime,
    settings: FetchSettings,
    reread_from: datetime | None = None,
) -> tuple[datetime, datetime]:
    """(since, until]: from the mark (or the earlier time chats must be read again from)
    minus the overlap, at most `max_window` long."""
    if mark is None:
        since = settings.first_start or now - FIRST_RUN_LOOKBACK
    else:
        since = min(mark, reread_from or mark) - settings.overlap
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
    rereads: RereadRequests | None = None,
) -> FetchSummary:
    logger = get_logger()
    run_id = new_correlation_id()
    started = now()
    stopping = schema.problems() if schema is not None else None
    mark = state.get_high_water_mark(SOURCE)
    again = rereads.pending() if rereads is not None and mark is not None else None
    since, until = fetch_window(mark, started, settings, again.read_from if again else None)
    if stopping:
        reasons = problem_summary(stopping)
        logger.error("run stopped before any write", extra={"run_id": run_id, "why": reasons})
        return FetchSummary(
            run_id=run_id, since=since, until=until, stopped=f"configuration / {reasons}"
        )
    if until <= since or (mark is not None and until <= mark and again is None):
        logger.warning(
            "high-water mark is ahead of the clock; nothing to fetch",
            extra={"run_id": run_id, "mark": mark.isoformat() if mark else None},
        )
        return FetchSummary(run_id=run_id, since=since, until=until)
    whole = whole or WholeSync()
    if again is not None:
        destination, whole = _reading_again(again, destination, whole, mark, since, until, run_id)
    try:
        prepared = prepare(
            source, destination, whole, settings, since=since, until=until, started=started
        )
        summary = _queue(prepared, state, queue, stats, whole, run_id, mark=mark, again=again)
        if again is not None and rereads is not None:
            _settle_reread(rereads, again, until, mark, run_id)
        return summary
    except Exception as exc:
        _report_failure(state, exc, run_id, started, since, until)
        raise


def _queue(
    prepared: Prepared,
    state: FetchState,
    queue: BatchSink,
    stats: StatsSink | None,
    whole: WholeSync,
    run_id: str,
    *,
    mark: datetime | None,
    again: Reread | None,
) -> FetchSummary:
    """The rejections stored, the messages queued, what the whole sync keeps for the next run
    kept, then the mark moved past the window (a window read again that ends before the mark
    leaves it where it is)."""
    state.record_errors(_errors(prepared, run_id))
    batches = prepared.batches.batches
    messages = queue.send_batches(
        [
            *batches,
            *prepared.list_messages,
            *prepared.erasing.messages,
            *prepared.activities.messages,
        ]
    )
    for batch in batches:
        # where each chat went: its correlation id follows it to the lead and the digest
        get_logger().info(
            "batch queued",
            extra={
                "run_id": run_id,
                "correlation_id": batch.correlation_id,
                "records": len(batch.records),
                "chat_ids": [chat for record in batch.records for chat in record.chat_ids],
            },
        )
    confirm_erasures(whole, prepared.erasing, run_id)
    remember_identities(whole, prepared.moves, prepared.found)
    behind = mark is not None and prepared.until < mark
    advanced = not behind and _advance_mark(state, prepared.until, run_id)
    summary = summarize(
        prepared,
        run_id=run_id,
        messages=messages,
        advanced=advanced,
        read_again_from=again.read_from if again is not None else None,
    )
    report(summary, prepared, stats)
    return summary


def _errors(prepared: Prepared, run_id: str) -> list[ErrorEntry]:
    """The chats that could not become visitors, and the visitors too large for a message."""
    at = prepared.started
    errors = [from_rejection(r, at=at, correlation_id=run_id) for r in prepared.mapped.rejections]
    errors += [
        from_record(
            record,
            reason="record_too_large",
            detail="visitor does not fit in one message",
            at=at,
            correlation_id=run_id,
        )
        for record in prepared.batches.oversized
    ]
    errors += [
        activity_too_large(activity, at=at, correlation_id=run_id)
        for activity in prepared.activities.oversized
    ]
    return errors


def _advance_mark(state: FetchState, until: datetime, run_id: str) -> bool:
    try:
        state.put_high_water_mark(until, SOURCE)
    except ConditionFailed:
        get_logger().warning("a newer high-water mark is already stored", extra={"run_id": run_id})
        return False
    return True


def _reading_again(
    again: Reread,
    destination: LeadLookup,
    whole: WholeSync,
    mark: datetime | None,
    since: datetime,
    until: datetime,
    run_id: str,
) -> tuple[LeadLookup, WholeSync]:
    """The lookup and the whole sync of a window read again after a late import."""
    if mark is not None and until < mark:
        # chats read once already, and not the newest: the e-mail changes they show were
        # followed then, and the address remembered since is newer
        whole = replace(whole, identities=None)
    get_logger().info(
        "reading chats again: a bulk import finished after its records went to the REST path",
        extra={"run_id": run_id, "since": iso_utc(since), "until": iso_utc(until)},
    )
    return StaleAware(destination, again), whole


def _settle_reread(
    rereads: RereadRequests, again: Reread, until: datetime, mark: datetime | None, run_id: str
) -> None:
    """The request read is done once the window reached the mark, else it goes on from the
    window's end; a request that changed during the run (a new one merged in) is kept whole
    for the next run."""
    done = mark is None or until >= mark
    settled = rereads.clear(again) if done else rereads.advance(again, until)
    get_logger().info(
        "chats read again" if done else "chats read again up to the window's end",
        extra={
            "run_id": run_id,
            "read_from": iso_utc(again.read_from),
            "until": iso_utc(until),
            "request_changed": not settled,
        },
    )


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
