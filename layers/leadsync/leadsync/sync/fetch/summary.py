"""What one fetch did, as its summary: returned, logged (`fetch done`) and counted in the
day's counters."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from leadsync.bulk.choice import Routed
from leadsync.ports import StatsSink
from leadsync.runtime.observability import get_logger
from leadsync.sync.fetch.prepare import Prepared


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
    activity_messages: int = 0
    activities: int = 0  # chat activities queued
    activities_already_written: int = 0  # chats whose activity Marketo holds: left out
    erasures: int = 0
    erasures_not_found: int = 0
    email_changes: int = 0
    possible_duplicates: int = 0
    mark_advanced: bool = False
    # chats read again from this time (a bulk import finished late), else None
    read_again_from: AwareDatetime | None = None
    # the schema does not fit the field map: nothing read, nothing written, the mark kept
    stopped: str | None = None
    # the path the writes took, and what each would have cost in write calls
    path: str = "rest"
    path_reason: str = ""
    rest_write_calls: int = 0
    bulk_write_calls: int = 0
    bulk_jobs: int = 0
    bulk_records: int = 0


def summarize(
    prepared: Prepared,
    *,
    run_id: str,
    messages: int,
    advanced: bool,
    read_again_from: datetime | None = None,
) -> FetchSummary:
    """The summary of a run whose messages are queued (`messages` of them)."""
    writes, mapped, erasing = prepared.writes, prepared.mapped, prepared.erasing
    return FetchSummary(
        run_id=run_id,
        since=prepared.since,
        until=prepared.until,
        entries=len(prepared.entries),
        chats=mapped.chats,
        visitors=len(mapped.visitors),
        rejected=len(mapped.rejections),
        creates=writes.creates,
        updates=writes.updates,
        unchanged=writes.unchanged,
        protected_kept=writes.protected_kept,
        duplicate_leads=writes.duplicate_leads,
        messages=messages,
        records=prepared.batches.records,
        oversized=len(prepared.batches.oversized),
        list_messages=len(prepared.list_messages),
        delete_messages=len(erasing.messages),
        activity_messages=len(prepared.activities.messages),
        activities=prepared.activities.activities,
        activities_already_written=prepared.activities.already_written,
        erasures=len(erasing.requests),
        erasures_not_found=erasing.deletes.not_found,
        email_changes=len(prepared.moves.changes),
        possible_duplicates=sum(len(d.possible_duplicates) for d in prepared.moves.decisions),
        mark_advanced=advanced,
        read_again_from=read_again_from,
        **(_routed_summary(prepared.routed) if prepared.routed is not None else {}),
    )


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


def report(summary: FetchSummary, prepared: Prepared, stats: StatsSink | None) -> None:
    """The run counted in the day's counters and logged, with the rejections by reason and
    the correlation id of every message."""
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
    reasons = Counter(rejection.reason.value for rejection in prepared.mapped.rejections)
    get_logger().info(
        "fetch done",
        extra={
            **summary.model_dump(mode="json"),
            "rejections": dict(reasons),
            "correlation_ids": [b.correlation_id for b in prepared.batches.batches],
        },
    )
