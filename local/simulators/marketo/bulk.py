"""Asynchronous bulk lead import: queued, imported at a configured row rate, then read back.

Progress is computed lazily from the simulated clock whenever a bulk call arrives, so tests
move time instead of waiting.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass, field
from typing import Any

from .context import CallContext, Services
from .envelope import ApiError
from .http_io import Response
from .schema import InvalidValue, match_key, normalize

DELIMITERS = {"csv": ",", "tsv": "\t", "ssv": ";"}
RETENTION_S = 7 * 24 * 3600
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

    @property
    def active(self) -> bool:
        return self.status in {QUEUED, IMPORTING}


class BulkImports:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._jobs: dict[int, ImportJob] = {}
            self._next_id = 1001
            self._last_finish = 0.0

    def tick(self, svc: Services) -> None:
        """Bring jobs up to the simulated now, e.g. before the lead table is read."""
        with self._lock:
            self._advance(svc, svc.clock.now())

    # -- routes ---------------------------------------------------------------------------
    def submit(self, svc: Services, ctx: CallContext) -> dict[str, Any]:
        ctx.action = "bulk:submit"
        req = ctx.request
        parts = req.multipart()

        def arg(name: str) -> str | None:
            if name in parts:
                return parts[name][0].decode("utf-8", "replace").strip()
            return req.param(name)

        if "file" not in parts:
            raise ApiError("1003", "File is required")
        fmt = (arg("format") or "").lower()
        if fmt not in DELIMITERS:
            raise ApiError("1003", f"Invalid format '{fmt}', expected csv, tsv or ssv")
        lookup_field = arg("lookupField") or "email"
        if lookup_field not in svc.store.schema or lookup_field == "id":
            raise ApiError("1006", f"Lookup field '{lookup_field}' not found")
        list_id = self._list_id(svc, arg("listId"))
        partition = arg("partitionName")
        if partition and partition not in svc.config.partitions:
            raise ApiError("1003", f"Invalid partition name '{partition}'")
        header, rows, broken = _parse(parts["file"][0], DELIMITERS[fmt], lookup_field)
        ctx.records = len(rows)
        now = svc.clock.now()
        with self._lock:
            self._advance(svc, now)
            active = [j for j in self._jobs.values() if j.active]
            if len(active) >= svc.config.bulk_queued_slots:
                raise ApiError("1016", "Too many imports")
            if list_id is not None and any(j.list_id == list_id for j in active):
                raise ApiError("1019", f"Import in progress on list '{list_id}'")
            if broken is None and svc.faults.chance(svc.config.bulk_fail_probability):
                broken = "Import failed: internal error"
            job = ImportJob(
                self._next_id,
                fmt,
                header,
                rows,
                lookup_field,
                list_id,
                now,
                now + svc.config.bulk_start_delay_seconds,
                broken,
            )
            self._jobs[job.batch_id] = job
            self._next_id += 1
            return ctx.ok([_view(job, now)])

    def status(self, svc: Services, ctx: CallContext) -> dict[str, Any]:
        ctx.action = "bulk:status"
        now = svc.clock.now()
        with self._lock:
            self._advance(svc, now)
            return ctx.ok([_view(self._job(ctx), now)])

    def failures(self, svc: Services, ctx: CallContext) -> Response:
        ctx.action = "bulk:failures"
        return self._file(svc, ctx, failures=True)

    def warnings(self, svc: Services, ctx: CallContext) -> Response:
        ctx.action = "bulk:warnings"
        return self._file(svc, ctx, failures=False)

    def _file(self, svc: Services, ctx: CallContext, failures: bool) -> Response:
        with self._lock:
            self._advance(svc, svc.clock.now())
            job = self._job(ctx)
            rows = job.failures if failures else job.warnings
            title = "Import Failure Reason" if failures else "Import Warning Reason"
            out = io.StringIO()
            writer = csv.writer(out, delimiter=DELIMITERS[job.fmt], lineterminator="\n")
            writer.writerow([*job.header, title])
            for row, why in rows:
                writer.writerow([*row, why])
        ctx.records = len(rows)
        return Response.text(200, out.getvalue(), "text/csv;charset=UTF-8")

    def _job(self, ctx: CallContext) -> ImportJob:
        raw = ctx.path_args["batchId"]
        job = self._jobs.get(int(raw)) if raw.isdigit() else None
        if job is None:
            raise ApiError("1013", f"Import batch '{raw}' not found")
        return job

    def _list_id(self, svc: Services, raw: str | None) -> int | None:
        if not raw:
            return None
        if not raw.isdigit() or not svc.store.has_list(int(raw)):
            raise ApiError("1013", f"Static list '{raw}' not found")
        return int(raw)

    # -- the scheduler --------------------------------------------------------------------
    def _advance(self, svc: Services, now: float) -> None:
        """Replay start and finish events in time order up to now."""
        slots = svc.config.bulk_running_slots
        while True:
            running = [j for j in self._jobs.values() if j.status == IMPORTING]
            queued = [j for j in self._jobs.values() if j.status == QUEUED]
            finish = min(running, key=lambda j: j.finish_at) if running else None
            start_at: float | None = None
            if queued and len(running) < slots:
                start_at = max(queued[0].ready_at, self._last_finish)
            if (
                finish is not None
                and finish.finish_at <= now
                and (start_at is None or finish.finish_at <= start_at)
            ):
                self._finish(svc, finish)
                self._last_finish = finish.finish_at
            elif start_at is not None and start_at <= now:
                self._start(svc, queued[0], start_at)
            else:
                break
        for batch_id in [
            b for b, j in self._jobs.items() if not j.active and j.finish_at < now - RETENTION_S
        ]:
            del self._jobs[batch_id]

    def _start(self, svc: Services, job: ImportJob, at: float) -> None:
        job.status = IMPORTING
        job.message = "Import in progress"
        job.started_at = at
        rate = max(svc.config.bulk_rows_per_second, 1e-9)
        job.finish_at = at if job.broken else at + len(job.rows) / rate

    def _finish(self, svc: Services, job: ImportJob) -> None:
        if job.broken:
            job.status, job.message = FAILED, job.broken
            return
        for row in job.rows:
            self._import_row(svc, job, row)
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

    def _import_row(self, svc: Services, job: ImportJob, row: list[str]) -> None:
        store, schema = svc.store, svc.store.schema
        if len(row) > len(job.header):
            job.failures.append((row, "Row has more columns than the header"))
            return
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
                job.failures.append((row, str(exc)))
                return
        key = values.get(job.lookup_field)
        if key in (None, ""):
            job.failures.append((row, f"Value for lookup field '{job.lookup_field}' not found"))
            return
        ids = store.matches(job.lookup_field, [key]).get(
            match_key(schema[job.lookup_field], key), []
        )
        if len(ids) > 1:
            job.failures.append((row, "Multiple leads match the lookup criteria"))
            return
        now = job.finish_at
        if not ids or not store.update(ids[0], values, now):
            ids = [store.insert(values, now)]
        if job.list_id is not None and store.has_list(job.list_id):
            store.list_op(job.list_id, ids, "add")
        job.imported += 1
        if unknown:
            job.warnings.append((row, f"Field(s) not found, ignored: {', '.join(unknown)}"))


def _parse(
    raw: bytes, delimiter: str, lookup_field: str
) -> tuple[list[str], list[list[str]], str | None]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [], "Import failed: the file is not UTF-8 text"
    try:
        table = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
    except csv.Error as exc:
        return [], [], f"Import failed: malformed file ({exc})"
    if not table:
        return [], [], "Import failed: empty file"
    header = [h.strip() for h in table[0]]
    if lookup_field not in header:
        return header, table[1:], f"Import failed: lookup field '{lookup_field}' not in header"
    return header, table[1:], None


def _view(job: ImportJob, now: float) -> dict[str, Any]:
    view: dict[str, Any] = {
        "batchId": job.batch_id,
        "importId": str(job.batch_id),
        "status": job.status,
        "numOfLeadsProcessed": job.imported,
        "numOfRowsFailed": len(job.failures),
        "numOfRowsWithWarning": len(job.warnings),
        "message": job.message,
    }
    if job.status == IMPORTING:
        rate = job.finish_at - job.started_at
        done = len(job.rows) if rate <= 0 else int(len(job.rows) * (now - job.started_at) / rate)
        view["numOfLeadsProcessed"] = min(done, len(job.rows))
    return view
