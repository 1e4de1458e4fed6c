"""One bulk import job: its state, how its rows land in the lead table when it completes,
and how Marketo reports it while it runs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import bulk_faults
from .bulk_faults import ROW_FAILED, ROW_WARNED, JobFaults, Stall
from .context import Services
from .schema import InvalidValue, match_key, normalize

QUEUED, IMPORTING, COMPLETE, FAILED = "Queued", "Importing", "Complete", "Failed"


@dataclass
class ImportJob:
    batch_id: int
    fmt: str
    header: list[str]
    rows: list[list[str]]
    lookup_field: str
    list_id: int | None
    submitted_at: float
    ready_at: float
    broken: str | None = None
    status: str = QUEUED
    started_at: float = 0.0
    finish_at: float = 0.0
    message: str = "Queued for processing"
    imported: int = 0
    failures: list[tuple[list[str], str]] = field(default_factory=list)
    warnings: list[tuple[list[str], str]] = field(default_factory=list)
    faults: JobFaults = field(default_factory=JobFaults)
    stalled: Stall | None = None

    @property
    def active(self) -> bool:
        return self.status in {QUEUED, IMPORTING}


def start(job: ImportJob, at: float, rate: float) -> None:
    job.status = IMPORTING
    job.message = "Import in progress"
    job.started_at = at
    job.finish_at = at if job.broken else at + len(job.rows) / rate
    if not job.broken:
        job.stalled = bulk_faults.stall(job.faults, at, len(job.rows), rate)
    if job.stalled is not None:
        job.finish_at = job.stalled.until + (len(job.rows) - job.stalled.rows) / rate


def finish(svc: Services, job: ImportJob, injected: Counter[str]) -> None:
    """Apply the rows (none when the job failed); count the row faults injected."""
    if job.broken:
        job.status, job.message = FAILED, job.broken
        return
    for index, row in enumerate(job.rows):
        kind = _import_row(svc, job, job.faults.rows.get(index), row)
        if kind is not None:
            injected[kind] += 1
    job.status = COMPLETE
    failed = len(job.failures)
    members = f" ({job.imported} members)" if job.list_id is not None else ""
    if failed:
        job.message = (
            f"Import completed with errors, {job.imported} records imported{members}, "
            f"{failed} failed records"
        )
    else:
        job.message = f"Import succeeded, {job.imported} records imported{members}"


def _import_row(svc: Services, job: ImportJob, planned: str | None, row: list[str]) -> str | None:
    """Import one row; the fault kind injected into it, if any."""
    checked = _check_row(svc, job, row)
    if isinstance(checked, str):
        job.failures.append((row, checked))
        return None
    values, unknown, ids = checked
    # faults land only on rows Marketo would have taken, so no row is listed twice and no
    # genuine reason is hidden
    columns = [name for name in job.header if name in values]
    if planned == ROW_FAILED:
        why = bulk_faults.reason(job.faults.failure_reason, columns, job.lookup_field)
        job.failures.append((row, why))
        return ROW_FAILED
    store, now = svc.store, job.finish_at
    if not ids or not store.update(ids[0], values, now):
        ids = [store.insert(values, now)]
    if job.list_id is not None and store.has_list(job.list_id):
        store.list_op(job.list_id, ids, "add")
    job.imported += 1
    if unknown:
        job.warnings.append((row, f"Field(s) not found, ignored: {', '.join(unknown)}"))
    elif planned == ROW_WARNED:
        why = bulk_faults.reason(job.faults.warning_reason, columns, job.lookup_field)
        job.warnings.append((row, why))
        return ROW_WARNED
    return None


def _check_row(
    svc: Services, job: ImportJob, row: list[str]
) -> tuple[dict[str, Any], list[str], list[int]] | str:
    """(values, unknown columns, matching lead ids) of a row Marketo would import, else the
    reason it fails."""
    store, schema = svc.store, svc.store.schema
    if len(row) > len(job.header):
        return "Row has more columns than the header"
    values: dict[str, Any] = {}
    unknown: list[str] = []
    for name, cell in zip(job.header, row, strict=False):
        if cell == "":
            continue  # a blank cell never overwrites what Marketo holds
        fdef = schema.get(name)
        if fdef is None or fdef.read_only:
            unknown.append(name)
            continue
        try:
            values[name] = normalize(fdef, cell)
        except InvalidValue as exc:
            return str(exc)
    key = values.get(job.lookup_field)
    if key in (None, ""):
        return f"Value for lookup field '{job.lookup_field}' not found"
    ids = store.matches(job.lookup_field, [key]).get(match_key(schema[job.lookup_field], key), [])
    if len(ids) > 1:
        return "Multiple leads match the lookup criteria"
    return values, unknown, ids


def view(job: ImportJob, now: float) -> dict[str, Any]:
    """The job as Get Import Lead Status answers it; progress follows the simulated clock."""
    out: dict[str, Any] = {
        "batchId": job.batch_id,
        "importId": str(job.batch_id),
        "status": job.status,
        "numOfLeadsProcessed": job.imported,
        "numOfRowsFailed": len(job.failures),
        "numOfRowsWithWarning": len(job.warnings),
        "message": job.message,
    }
    if job.status == IMPORTING and job.stalled is not None:
        out["numOfLeadsProcessed"] = bulk_faults.processed(
            job.stalled, job.started_at, now, len(job.rows)
        )
    elif job.status == IMPORTING:
        rate = job.finish_at - job.started_at
        done = len(job.rows) if rate <= 0 else int(len(job.rows) * (now - job.started_at) / rate)
        out["numOfLeadsProcessed"] = min(done, len(job.rows))
    return out
