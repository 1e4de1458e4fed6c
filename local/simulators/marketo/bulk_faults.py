"""Injected bulk import faults: rows that fail or warn, jobs that stall or fail, refused
submits. A client cannot tell them from Marketo's own; the audit can.

Every decision is drawn from the seeded fault injector while the submit is served, in a
fixed order (busy, failed job, stuck, then each row), so a seed and a sequence of calls
always misbehave the same way, whenever the job later runs. A share of 0 draws nothing:
with the defaults the injector's sequence, and so every other fault, is unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .context import Services

ROW_FAILED, ROW_WARNED, STUCK, FAILED_JOB, BUSY = (
    "row_failed",
    "row_warned",
    "stuck",
    "failed_job",
    "busy",
)
KINDS = (ROW_FAILED, ROW_WARNED, STUCK, FAILED_JOB, BUSY)
FAILED_JOB_MESSAGE = "Import failed: internal error"


@dataclass
class JobFaults:
    """What was decided for one job at submit, applied when it runs."""

    stuck_seconds: float | None = None  # None: runs straight through; inf: never resumes
    rows: dict[int, str] = field(default_factory=dict)  # data row index -> ROW_FAILED | ROW_WARNED
    # kept from submit time, so a later change of faults does not reword a decided fault
    failure_reason: str = ""
    warning_reason: str = ""


@dataclass(frozen=True)
class Stall:
    """Where a running job stops: it reaches `rows` at `start`, then holds until `until`."""

    start: float
    until: float
    rows: int
    rate: float


def first(svc: Services, taken: int) -> str | None:
    """The next of the faults the first submits meet, once `taken` of them were."""
    listed = svc.faults.current.bulk_first_faults
    return listed[taken] if taken < len(listed) else None


def busy(svc: Services) -> bool:
    return svc.faults.chance(svc.faults.current.bulk_busy_probability)


def failed_job(svc: Services) -> bool:
    return svc.faults.chance(svc.config.bulk_fail_probability)


def plan(svc: Services, rows: int, *, stuck: bool = False) -> JobFaults:
    f = svc.faults.current
    out = JobFaults(
        failure_reason=f.bulk_row_failure_reason, warning_reason=f.bulk_row_warning_reason
    )
    if stuck:
        out.stuck_seconds = _held(f.bulk_first_stuck_seconds or f.bulk_stuck_seconds)
    elif svc.faults.chance(f.bulk_stuck_probability):
        out.stuck_seconds = _held(f.bulk_stuck_seconds)
    if f.bulk_row_failure_probability <= 0 and f.bulk_row_warning_probability <= 0:
        return out
    for index in range(rows):
        if svc.faults.chance(f.bulk_row_failure_probability):
            out.rows[index] = ROW_FAILED
        elif svc.faults.chance(f.bulk_row_warning_probability):
            out.rows[index] = ROW_WARNED
    return out


def _held(seconds: float) -> float:
    return seconds if seconds > 0 else math.inf


def stall(faults: JobFaults, started: float, rows: int, rate: float) -> Stall | None:
    """Halfway through, so a client first sees progress and then sees it stop."""
    if faults.stuck_seconds is None:
        return None
    held = rows // 2
    start = started + held / rate
    return Stall(start, start + faults.stuck_seconds, held, rate)


def processed(stalled: Stall, started: float, now: float, rows: int) -> int:
    """Rows a stalled job has processed by now: the count does not move during the stall."""
    if now < stalled.start:
        done = int((now - started) * stalled.rate)
    elif now < stalled.until:
        done = stalled.rows
    else:
        done = stalled.rows + int((now - stalled.until) * stalled.rate)
    return max(0, min(done, rows))


def reason(template: str, columns: list[str], lookup_field: str) -> str:
    """The reason with "{field}" naming the first imported column besides the lookup field,
    the column a genuine invalid-value failure would name."""
    name = next((c for c in columns if c != lookup_field), lookup_field)
    return template.replace("{field}", name)
