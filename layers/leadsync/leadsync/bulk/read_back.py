"""A complete import read back: the rows Marketo failed or warned about (read only when it
counted some) matched to their records and stored with them, the rest counted as imported,
the file forgotten and the job done; when leadsync wrote some of its leads while the import
waited at Marketo, their chats are read again."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from leadsync.bulk.csvfile import row_values
from leadsync.bulk.jobs import BulkJob, JobStatus, StagedFile
from leadsync.bulk.matching import Match, ResultRow, match_rows, parse_result_file
from leadsync.bulk.recheck import written_since
from leadsync.bulk.schedule import poll_delay
from leadsync.bulk.step import MAX_DETAIL, Step, StepResult, next_version
from leadsync.bulk.watch import CLOCK_SLACK
from leadsync.errors import DependencyError
from leadsync.limiter.api import BudgetExhausted
from leadsync.marketo.errors import MarketoError, MarketoRateLimited
from leadsync.marketo.models import ImportJob
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record
from leadsync.sync.fetch.reread import Reread

ROW_FAILED = "bulk_row_failed"
ROW_WARNING = "bulk_row_warning"
ROW_UNMATCHED = "bulk_row_unmatched"


def finish(step: Step, stored: BulkJob, job: BulkJob, answer: ImportJob) -> StepResult:
    """Read back the rows Marketo failed or warned about (only when it counted some), store
    each failure with its record, count the rest, forget the file."""
    ports, settings = step.ports, step.settings
    assert job.batch_id is not None
    staged = ports.files.get(job.staged_key)
    try:
        failed = _rows(ports.marketo.import_failures, job.batch_id) if answer.failed else []
        warned = _rows(ports.marketo.import_warnings, job.batch_id) if answer.warnings else []
    except (BudgetExhausted, MarketoRateLimited, DependencyError, MarketoError) as exc:
        # the job stays at Marketo; the next poll sees it complete again and reads again
        delay = (
            step.retry_after(exc)
            if isinstance(exc, BudgetExhausted | MarketoRateLimited)
            else poll_delay(job.polls, settings)
        )
        sent = step.send(stored, "poll", delay, stored.polls)
        return step.result("read_back_deferred", stored, **sent)
    accepted, unmatched = _store_rows(step, job, staged, failed, warned, job.batch_id)
    done = next_version(
        job,
        status=JobStatus.DONE,
        finished_at=step.now,
        next_poll_at=None,
        rows_failed=len(failed),
        rows_warned=len(warned),
        unmatched_rows=unmatched,
    )
    if not ports.jobs.replace(stored, done):
        return step.result("taken_by_another_copy", stored)
    ports.files.delete(job.staged_key)
    ports.slots.release(job.job_id)
    _report_done(step, job, len(staged.records), accepted, failed, warned, unmatched)
    _read_again_if_overtaken(step, job, staged)
    return step.result("done", done, rows_failed=len(failed), rows_warned=len(warned))


def _read_again_if_overtaken(step: Step, job: BulkJob, staged: StagedFile) -> None:
    """Marketo ran the import after leadsync's REST lanes wrote some of its leads (the
    write ledger says which: written after the submit): the import may have put the file's
    older values over theirs, so the fetch reads the chats since the file was staged again,
    as for a late import (bulk/watch.py)."""
    ports = step.ports
    if ports.written is None or ports.rereads is None or job.submitted_at is None:
        return
    overtaken = written_since(staged.records, ports.written, job.submitted_at)
    if not overtaken:
        return
    ports.rereads.request(
        Reread(
            read_from=job.created_at,
            staged_at=job.created_at,
            imported_from=job.submitted_at - CLOCK_SLACK,
            imported_until=step.now + CLOCK_SLACK,
        )
    )
    step.count({"bulk_overtaken_imports": 1})
    get_logger().warning(
        "leads written while their import waited at Marketo; chats since its staging read again",
        extra={"job_id": job.job_id, "batch_id": job.batch_id, "leads": len(overtaken)},
    )


def _rows(read: Callable[[int], bytes], batch_id: int) -> list[ResultRow]:
    return parse_result_file(read(batch_id))


def _store_rows(
    step: Step,
    job: BulkJob,
    staged: StagedFile,
    failed: list[ResultRow],
    warned: list[ResultRow],
    batch_id: int,
) -> tuple[int, int]:
    """Store the rows that failed (and those warned about, when warnings are failures) with
    their records; how many records were imported, and how many rows matched none."""
    warnings_fail = step.settings.warnings_are_failures
    sources = [row_values(record) for record in staged.records]
    failures = match_rows(sources, failed)
    warnings = match_rows(sources, warned)
    request = f"bulk import {batch_id} ({job.records} rows)"
    entries = _entries(step, staged, failures, ROW_FAILED, request, batch_id)
    if warnings_fail:
        entries += _entries(step, staged, warnings, ROW_WARNING, request, batch_id)
    step.ports.errors.record_errors(entries)
    rejected = {m.index for m in failures if m.index is not None}
    if warnings_fail:
        rejected |= {m.index for m in warnings if m.index is not None}
    accepted = sum(1 for i in range(len(staged.records)) if i not in rejected)
    unmatched = sum(1 for m in [*failures, *warnings] if m.index is None)
    return accepted, unmatched


def _report_done(
    step: Step,
    job: BulkJob,
    records: int,
    accepted: int,
    failed: list[ResultRow],
    warned: list[ResultRow],
    unmatched: int,
) -> None:
    step.count(
        {
            "bulk_jobs_done": 1,
            # Marketo's answer does not say which rows created a lead and which updated one
            # (a lead may have appeared since the file was decided): imported, not created
            "leads_imported": accepted,
            "records_failed": records - accepted,
            "bulk_rows_warned": len(warned),
        },
    )
    get_logger().info(
        "bulk job done",
        extra={
            "job_id": job.job_id,
            "correlation_id": job.correlation_id,
            "batch_id": job.batch_id,
            "records": job.records,
            "rows_failed": len(failed),
            "rows_warned": len(warned),
            "unmatched_rows": unmatched,
            "warnings_are_failures": step.settings.warnings_are_failures,
            "polls": job.polls,
        },
    )


def _entries(
    step: Step,
    staged: StagedFile,
    matches: Sequence[Match],
    reason: str,
    request: str,
    batch_id: int,
) -> list[ErrorEntry]:
    entries = []
    for match in matches:
        detail = match.row.reason[:MAX_DETAIL] or "no reason given"
        if match.index is not None:
            entries.append(
                from_record(
                    staged.records[match.index],
                    reason=reason,
                    detail=detail,
                    at=step.now,
                    correlation_id=staged.correlation_id,
                    code=f"bulk:{batch_id}",
                    request=request,
                )
            )
        else:
            entries.append(
                ErrorEntry(
                    kind=ErrorKind.UNDELIVERABLE,
                    reason=ROW_UNMATCHED,
                    detail=f"{reason}: {detail}; the row matched no staged record",
                    correlation_id=staged.correlation_id,
                    record={"row": dict(match.row.cells)},
                    first_failure_at=step.now,
                    last_failure_at=step.now,
                    code=f"bulk:{batch_id}",
                    request=request,
                )
            )
    return entries
