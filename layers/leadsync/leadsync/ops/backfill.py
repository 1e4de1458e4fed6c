"""`leadsync backfill --since DATE`: every chat from DATE to now, window by window, through
the same fetch as the hourly run (mapping, lookups, decisions, REST or bulk by volume).

The backfill keeps its own mark in the state table (one per starting date, apart from the
hourly high-water mark), moved only once a window's writes are all queued or staged: a
backfill that stops anywhere is started again with the same command and goes on from the
last whole window. A window read twice duplicates nothing: what was written meanwhile is
found unchanged by the lookups, a write queued twice is made once by the upload (create
claims, reads before writing), and a bulk file staged twice is the same job.

LiveChat keeps archives for a limited time (two months on its Starter plan, longer on
others): a start before the configured retention is refused, naming the oldest reachable
date, rather than silently syncing only part of the span.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from leadsync.errors import PermanentError
from leadsync.ops.stack import FetchSide, UsageError
from leadsync.ports import BatchSink, LeadLookup, StatsSink
from leadsync.runtime.clock import Clock, as_utc, utc_now
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.ports import ArchiveSource, FetchState
from leadsync.sync.fetch.run import FetchSettings, run
from leadsync.sync.fetch.summary import FetchSummary
from leadsync.sync.fetch.whole import WholeSync

MARK_PREFIX = "livechat-backfill-"


class OutOfReach(PermanentError):
    """The start lies before what LiveChat still keeps."""


def oldest_reachable(now: datetime, retention_days: int) -> datetime:
    return as_utc(now) - timedelta(days=retention_days)


def check_reach(since: datetime, now: datetime, retention_days: int) -> None:
    oldest = oldest_reachable(now, retention_days)
    if as_utc(since) < oldest:
        raise OutOfReach(
            f"{since:%Y-%m-%d} is out of reach: LiveChat keeps archives {retention_days} days "
            f"on this account (LIVECHAT_ARCHIVE_RETENTION_DAYS), so the oldest date a backfill "
            f"can read is {oldest:%Y-%m-%d %H:%M} UTC; chats before it are gone from LiveChat"
        )
    if as_utc(since) >= as_utc(now):
        raise OutOfReach(f"{since:%Y-%m-%d %H:%M} UTC is not in the past")


def mark_name(since: datetime) -> str:
    """The backfill's own mark: one per starting instant, so that the same command resumes
    and another start begins afresh."""
    return f"{MARK_PREFIX}{as_utc(since):%Y%m%dT%H%M%SZ}"


@dataclass
class BackfillMark:
    """The fetch's state, with the backfill's mark in place of the hourly one."""

    inner: FetchState
    name: str

    def get_high_water_mark(self, source: str = "livechat") -> datetime | None:
        return self.inner.get_high_water_mark(self.name)

    def put_high_water_mark(self, mark: datetime, source: str = "livechat") -> None:
        self.inner.put_high_water_mark(mark, self.name)

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int:
        return self.inner.record_errors(entries)


@dataclass
class BackfillReport:
    since: datetime
    until: datetime
    resumed_from: datetime | None = None
    windows: list[FetchSummary] = field(default_factory=list)
    reached: datetime | None = None  # the mark at the end

    @property
    def done(self) -> bool:
        return self.reached is not None and self.reached >= self.until

    def line(self) -> str:
        w = self.windows
        resumed = self.resumed_from.isoformat() if self.resumed_from else "start"
        return (
            f"backfill: since={self.since.isoformat()} until={self.until.isoformat()} "
            f"resumed_from={resumed} windows={len(w)} chats={sum(s.chats for s in w)} "
            f"visitors={sum(s.visitors for s in w)} rejected={sum(s.rejected for s in w)} "
            f"creates={sum(s.creates for s in w)} updates={sum(s.updates for s in w)} "
            f"rest_records={sum(s.records for s in w)} "
            f"bulk_records={sum(s.bulk_records for s in w)} "
            f"bulk_jobs={sum(s.bulk_jobs for s in w)} "
            f"messages={sum(s.messages for s in w)}"
        )


def window_line(summary: FetchSummary) -> str:
    return (
        f"window {summary.since.isoformat()} to {summary.until.isoformat()}: "
        f"chats={summary.chats} visitors={summary.visitors} creates={summary.creates} "
        f"updates={summary.updates} unchanged={summary.unchanged} path={summary.path}"
        + (f" ({summary.path_reason})" if summary.path_reason else "")
        + f" messages={summary.messages} bulk_jobs={summary.bulk_jobs}"
    )


def backfill(
    *,
    source: ArchiveSource,
    state: FetchState,
    queue: BatchSink,
    destination: LeadLookup,
    settings: FetchSettings,
    since: datetime,
    until: datetime | None = None,
    window: timedelta = timedelta(hours=24),
    retention_days: int,
    whole: WholeSync | None = None,
    stats: StatsSink | None = None,
    say: Callable[[str], None] = lambda _: None,
    now: Clock = utc_now,
) -> BackfillReport:
    started = now()
    check_reach(since, started, retention_days)
    end = min(as_utc(until), started) if until is not None else started
    mark = BackfillMark(state, mark_name(since))
    report = BackfillReport(since=as_utc(since), until=end)
    report.resumed_from = mark.get_high_water_mark()
    if report.resumed_from is not None:
        say(f"resuming from {report.resumed_from.isoformat()} (a previous backfill's mark)")
    windowed = replace(settings, first_start=as_utc(since), max_window=window, overlap=timedelta())
    while True:
        current = report.reached = mark.get_high_water_mark()
        if current is not None and current >= end:
            break
        summary = run(
            source=source,
            state=mark,
            queue=queue,
            destination=destination,
            settings=windowed,
            stats=stats,
            now=lambda: end,
            whole=whole,
        )
        report.windows.append(summary)
        say(window_line(summary))
        if not summary.mark_advanced:
            say("another backfill moved the mark first; stopping here")
            break
    return report


def command(args: argparse.Namespace) -> bool:
    """`leadsync backfill`: the stack's chats since --since; True once it reached now."""
    from leadsync.adapters.queue import SqsQueue
    from leadsync.adapters.state import StateStore
    from leadsync.adapters.stats import DailyStats
    from leadsync.runtime.config import BackfillEnv, load
    from leadsync.runtime.wiring.fetch import fetch_settings, whole_sync

    fetch = FetchSide.of(args)
    env, variables, clients = fetch.env, fetch.variables, fetch.clients
    reach = load(BackfillEnv, variables)
    retention = args.retention_days or reach.livechat_archive_retention_days
    window = timedelta(hours=args.window_hours or reach.backfill_window_hours)
    # erasure requests stay with the hourly run; the backfill writes and stages only
    whole = replace(whole_sync(env, variables), erasures=None)
    try:
        report = backfill(
            source=clients.source,
            state=StateStore(env.state_table),
            queue=SqsQueue(env.sync_queue_url),
            destination=clients.destination,
            settings=fetch_settings(env),
            since=args.since,
            window=window,
            retention_days=retention,
            whole=whole,
            stats=DailyStats(env.state_table, zone=env.marketo_quota_timezone),
            say=lambda line: print(f"  {line}", flush=True),
        )
    except OutOfReach as exc:
        raise UsageError(str(exc)) from None
    finally:
        clients.close()
    print(report.line(), flush=True)
    return report.done
