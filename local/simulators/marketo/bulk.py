"""Asynchronous bulk lead import: queued, imported at a configured row rate, then read back.

Progress is replayed from the simulated clock when a call arrives, so tests move time
instead of waiting: the simulator settles the queue before it serves any REST call, so a
job's rows land at its finish time, before every later read or write, as on Marketo's own
clock. Injected faults (bulk_faults.py) are decided at submit.
"""

from __future__ import annotations

import csv
import io
import math
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from . import bulk_faults
from .bulk_faults import BUSY, FAILED_JOB, KINDS, STUCK, JobFaults
from .bulk_job import IMPORTING, QUEUED, ImportJob, finish, start, view
from .context import CallContext, Services
from .envelope import ApiError
from .http_io import Response

DELIMITERS = {"csv": ",", "tsv": "\t", "ssv": ";"}
RETENTION_S = 7 * 24 * 3600


class BulkImports:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._jobs: dict[int, ImportJob] = {}
            self._next_id = 1001
            self._last_finish = 0.0
            self._injected: Counter[str] = Counter()
            self._firsts_taken = 0  # of the faults the first submits meet
            # the simulated time of the next start, finish or expiry: until then a call has
            # nothing to replay
            self._due = math.inf

    def _first(self, svc: Services, kind: str) -> bool:
        """Whether this submit meets `kind` as the next of the first faults (under the lock)."""
        if bulk_faults.first(svc, self._firsts_taken) != kind:
            return False
        self._firsts_taken += 1
        return True

    def _meets(self, svc: Services, kind: str, draw: Callable[[Services], bool]) -> bool:
        """Whether this submit meets `kind`: while listed first faults remain, only as the
        next of them (none is drawn by chance, so each is met in turn); then by a draw."""
        if bulk_faults.first(svc, self._firsts_taken) is not None:
            return self._first(svc, kind)
        return draw(svc)

    def fault_counts(self) -> dict[str, int]:
        """Injected faults by kind, every kind present, for the audit."""
        with self._lock:
            return {kind: self._injected[kind] for kind in KINDS}

    def tick(self, svc: Services) -> float:
        """Bring jobs up to the simulated now and return it: a call served at that time sees
        every import that finished before it. One comparison while nothing is due."""
        now = svc.clock.now()
        if now >= self._due:
            with self._lock:
                self._advance(svc, now)
        return now

    def wake(self) -> None:
        """The queue's settings changed: replay on the next call whatever is due."""
        with self._lock:
            self._due = -math.inf

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
            if self._meets(svc, BUSY, bulk_faults.busy):
                self._injected[BUSY] += 1
                raise ApiError("1016", "Too many imports")
            if list_id is not None and any(j.list_id == list_id for j in active):
                raise ApiError("1019", f"Import in progress on list '{list_id}'")
            faults = JobFaults()
            if broken is None and self._meets(svc, FAILED_JOB, bulk_faults.failed_job):
                broken = bulk_faults.FAILED_JOB_MESSAGE
                self._injected[FAILED_JOB] += 1
            elif broken is None:
                faults = bulk_faults.plan(svc, len(rows), stuck=self._first(svc, STUCK))
                if faults.stuck_seconds is not None:
                    self._injected[STUCK] += 1
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
                faults=faults,
            )
            self._jobs[job.batch_id] = job
            self._next_id += 1
            self._due = min(self._due, job.ready_at)
            return ctx.ok([view(job, now)])

    def status(self, svc: Services, ctx: CallContext) -> dict[str, Any]:
        ctx.action = "bulk:status"
        now = svc.clock.now()
        with self._lock:
            self._advance(svc, now)
            return ctx.ok([view(self._job(ctx), now)])

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
        if now < self._due:
            return
        slots = svc.config.bulk_running_slots
        while True:
            running = [j for j in self._jobs.values() if j.status == IMPORTING]
            queued = [j for j in self._jobs.values() if j.status == QUEUED]
            finish_next = min(running, key=lambda j: j.finish_at) if running else None
            start_at: float | None = None
            if queued and len(running) < slots:
                start_at = max(queued[0].ready_at, self._last_finish)
            if (
                finish_next is not None
                and finish_next.finish_at <= now
                and (start_at is None or finish_next.finish_at <= start_at)
            ):
                finish(svc, finish_next, self._injected)
                self._last_finish = finish_next.finish_at
            elif start_at is not None and start_at <= now:
                start(queued[0], start_at, max(svc.config.bulk_rows_per_second, 1e-9))
            else:
                break
        due = [self._expire(now)]
        if finish_next is not None:
            due.append(finish_next.finish_at)
        if start_at is not None:
            due.append(start_at)
        self._due = min(due)

    def _expire(self, now: float) -> float:
        """Forget jobs done more than the retention ago; when the next one is due to go."""
        for batch_id in [
            b for b, j in self._jobs.items() if not j.active and j.finish_at < now - RETENTION_S
        ]:
            del self._jobs[batch_id]
        done = [j.finish_at for j in self._jobs.values() if not j.active]
        return min(done) + RETENTION_S if done else math.inf


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
