"""What one delivery leaves behind: what it learnt kept (the write ledger, the lead
directory, the error store), and its result, counted in the day's counters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from leadsync.errors import DependencyError
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import SyncBatch
from leadsync.sync.upload.giveback import GaveBack, retry_delay
from leadsync.sync.upload.ports import Deferrer
from leadsync.sync.upload.state import UploadRun


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
    # written, but the lead had appeared or gone since the lookup (see `UploadRun.raced`)
    raced: int = 0
    # left out: another path wrote the same values since this batch was decided
    written_elsewhere: int = 0
    # chat activities added, refused by Marketo, found written already (never twice)
    activities_written: int = 0
    activities_refused: int = 0
    activities_already_written: int = 0


def wait_whole(batch: SyncBatch, deferrer: Deferrer, delay: int, reason: str) -> UploadResult:
    """The whole message back to the queue before any work, to be delivered in `delay`."""
    deferrer.defer(batch, delay)
    return UploadResult(
        correlation_id=batch.correlation_id,
        records=batch.lead_count,
        deferred=batch.lead_count,
        deferred_seconds=delay,
        wait_reason=reason,
    )


def keep(run: UploadRun) -> None:
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


# the result's counts, each the number of times the run tallied it (`UploadRun.tally`)
TALLIES = (
    "created",
    "updated",
    "unchanged",
    "protected_kept",
    "failed",
    "list_added",
    "list_removed",
    "leads_deleted",
    "raced",
    "written_elsewhere",
    "activities_written",
    "activities_refused",
    "activities_already_written",
)


def result_of(
    run: UploadRun,
    batch: SyncBatch,
    deferred: tuple[int, int, str | None],
    gave_back: GaveBack,
) -> UploadResult:
    """The result of the run of `batch` (the message as it came): `deferred` is (records,
    delay, reason) of what waits in the queue, `gave_back` what a failed call sent back
    (with its own delay, when nothing else waits)."""
    waiting, seconds, reason = deferred
    if gave_back.retried and reason is None:
        seconds, reason = retry_delay(run), "retry"
    tallies: dict[str, Any] = {name: run.counts.get(name, 0) for name in TALLIES}
    return UploadResult(
        correlation_id=batch.correlation_id,
        records=batch.lead_count,
        deferred=waiting,
        deferred_seconds=seconds,
        wait_reason=reason,
        retried=gave_back.retried,
        dead_lettered=gave_back.dead_lettered,
        failure=gave_back.code,
        **tallies,
    )


def metrics(result: UploadResult) -> dict[str, int]:
    """The result as the day's counters."""
    return {
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
        "activities_written": result.activities_written,
        "activities_refused": result.activities_refused,
    }
