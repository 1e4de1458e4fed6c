"""REST or bulk for a run's writes, with what each would cost; the fork that stages the
bulk ones (bulk/staging.py).

Both paths need the same lookups (the decisions are made from what Marketo holds), so
the choice weighs the writes: REST writes 300 records a call, one call per kind of write
and message; an import costs a submit, its polls and at most two read-backs per file,
whatever its size. Records an import cannot carry (csvfile.ineligible) take the REST path
either way. Bulk is chosen when it costs fewer calls and either the run is large
(`threshold` records or more) or what is left of the day's budget cannot pay for REST.
A threshold of 0 turns the bulk path off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from leadsync.bulk.csvfile import ineligible, pack_files
from leadsync.bulk.ports import BulkSender, JobStore, StagedFiles
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.staging import Staged, stage
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import SyncRecord

# Marketo imports on the order of a few hundred rows a second; used to guess the polls
DEFAULT_ROWS_PER_SECOND = 200.0


class SyncPath(StrEnum):
    REST = "rest"
    BULK = "bulk"


@dataclass(frozen=True)
class Choice:
    path: SyncPath
    reason: str
    rest_calls: int  # the writes all by REST (lookups left out: both paths make them)
    bulk_calls: int  # the bulk files' calls plus the REST writes of what bulk cannot carry
    lookups: int
    bulk_records: int  # records an import can carry
    rest_records: int  # records that take the REST path whatever the choice
    files: int

    @property
    def cost(self) -> int:
        """The chosen path's calls, lookups included."""
        return self.lookups + (self.bulk_calls if self.path is SyncPath.BULK else self.rest_calls)

    def describe(self) -> str:
        chosen = self.path.value
        return (
            f"path: {chosen} ({self.reason}); writes by REST {self.rest_calls} call(s), "
            f"by bulk {self.bulk_calls} call(s) ({self.files} file(s) of "
            f"{self.bulk_records} record(s), {self.rest_records} record(s) still by REST); "
            f"lookups {self.lookups} either way"
        )


def rest_write_calls(
    records: Sequence[SyncRecord], per_call: int = 300, *, combine: bool = False
) -> int:
    """Write calls of ≤ per_call records, one kind a call: createOnly and updateOnly, or
    with `combine` one createOrUpdate for creates and by-e-mail updates together."""
    creates = sum(1 for r in records if r.action == "create")
    by_email = sum(1 for r in records if r.action == "update" and r.by_email)
    if combine:
        first = creates + by_email
        return math.ceil(first / per_call) + math.ceil((len(records) - first) / per_call)
    return math.ceil(creates / per_call) + math.ceil((len(records) - creates) / per_call)


def polls_for(seconds: float, delays: Sequence[int]) -> int:
    """Polls until an import of `seconds` is seen complete, on the poll schedule."""
    polls, waited = 1, float(delays[0])
    while waited < seconds:
        waited += delays[min(polls, len(delays) - 1)]
        polls += 1
    return polls


def bulk_file_calls(rows: int, settings: BulkSettings, rows_per_second: float) -> int:
    """A submit, the polls, and (at worst) the failures and the warnings read back."""
    seconds = rows / max(rows_per_second, 1e-9)
    return 1 + polls_for(seconds, settings.poll_delays) + 2


def choose_path(
    records: Sequence[SyncRecord],
    *,
    quota_left: int | None,
    threshold: int,
    settings: BulkSettings | None = None,
    per_call: int = 300,
    lookups: int | None = None,
    rows_per_second: float = DEFAULT_ROWS_PER_SECOND,
    combine: bool = False,
) -> Choice:
    settings = settings or BulkSettings()
    carried = [r for r in records if ineligible(r) is None]
    kept = [r for r in records if ineligible(r) is not None]
    plan = pack_files(carried, settings.max_file_bytes) if carried and threshold > 0 else None
    files = plan.files if plan is not None else []
    rest = rest_write_calls(records, per_call, combine=combine)
    bulk = sum(bulk_file_calls(len(f), settings, rows_per_second) for f in files)
    left_over = [*kept, *(plan.oversized if plan else [])]
    bulk += rest_write_calls(left_over, per_call, combine=combine)
    looked = lookups if lookups is not None else math.ceil(len(records) / per_call)

    def made(path: SyncPath, reason: str) -> Choice:
        return Choice(path, reason, rest, bulk, looked, len(carried), len(kept), len(files))

    if threshold <= 0:
        return made(SyncPath.REST, "bulk path off")
    if not files or bulk >= rest:
        return made(SyncPath.REST, "REST costs no more")
    if len(carried) >= threshold:
        return made(SyncPath.BULK, f"{len(carried)} records, threshold {threshold}")
    if quota_left is not None and rest > quota_left:
        return made(SyncPath.BULK, f"budget left {quota_left} calls, REST needs {rest}")
    return made(SyncPath.REST, f"{len(carried)} records, under threshold {threshold}")


@dataclass(frozen=True)
class Routed:
    choice: Choice
    rest: list[SyncRecord]  # the records for the REST path (all of them when it was chosen)
    staged: Staged | None = None


@dataclass(frozen=True)
class BulkRoute:
    """The fetch's fork: a run's writes to the REST path, or staged as bulk jobs.

    `dry` (a plan) chooses and prices without staging anything."""

    files: StagedFiles
    jobs: JobStore
    queue: BulkSender
    settings: BulkSettings
    threshold: int
    quota_left: Callable[[], int | None] = lambda: None
    per_call: int = 300
    dry: bool = False

    def route(
        self, records: Sequence[SyncRecord], *, now: datetime, combine: bool = False
    ) -> Routed:
        left = self.quota_left() if records and self.threshold > 0 else None
        choice = choose_path(
            records,
            quota_left=left,
            threshold=self.threshold,
            settings=self.settings,
            per_call=self.per_call,
            combine=combine,
        )
        get_logger().info(
            "sync path chosen",
            extra={
                "path": choice.path.value,
                "reason": choice.reason,
                "rest_calls": choice.rest_calls,
                "bulk_calls": choice.bulk_calls,
                "records": len(records),
            },
        )
        if choice.path is SyncPath.REST or self.dry:
            return Routed(choice, list(records))
        staged = stage(
            records,
            files=self.files,
            jobs=self.jobs,
            queue=self.queue,
            settings=self.settings,
            now=now,
        )
        return Routed(choice, staged.rest, staged)
