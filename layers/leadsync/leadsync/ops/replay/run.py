"""`replay`: gather what failed, build the messages, send them, and only then delete the dead
letters and mark the entries replayed (see the package's docstring)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leadsync.adapters.dead_letters import DeadLetter
from leadsync.adapters.state import ERROR_RETENTION
from leadsync.errors import LeadsyncError
from leadsync.ops.replay.gather import (
    ActivityEntry,
    DeadLetterQueue,
    Entry,
    Letter,
    receive_all,
    usable_activities,
    usable_entries,
    usable_letters,
)
from leadsync.ops.replay.lines import describe
from leadsync.ops.replay.messages import Resend, activity_batches, fitting, resend
from leadsync.ops.replay.report import ReplayReport, counted
from leadsync.ports import BatchSink
from leadsync.runtime.clock import Clock, utc_now
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.batching import BatchLimits

# long enough for a whole run: a dead letter taken stays out of sight until it is deleted or
# released, so two replays at once never send the same letter
DEFAULT_VISIBILITY_SECONDS = 900
_EVERYTHING = 1_000_000_000


class ErrorStore(Protocol):
    def errors_between(self, since: datetime | None, until: datetime) -> list[ErrorEntry]: ...

    def mark_replayed(self, key: str, at: datetime | None = ...) -> bool: ...


@dataclass(frozen=True)
class ReplayOptions:
    limits: BatchLimits
    since: datetime | None = None  # exclusive
    until: datetime | None = None  # inclusive; now when not given
    dry_run: bool = False
    max_failures: int | None = None  # dead letters and error entries, together
    visibility_seconds: int = DEFAULT_VISIBILITY_SECONDS

    def __post_init__(self) -> None:
        if self.max_failures is not None and self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")


def replay(
    *,
    dead_letters: DeadLetterQueue,
    errors: ErrorStore,
    queue: BatchSink,
    options: ReplayOptions,
    now: Clock = utc_now,
) -> ReplayReport:
    """Re-drive the dead letters and the undeliverable records; see the package's docstring."""
    started = now()
    until = min(options.until or started, started)
    oldest = started - ERROR_RETENTION
    since = max(options.since, oldest) if options.since else None
    report = ReplayReport(dry_run=options.dry_run, since=since or oldest, until=until)
    budget = options.max_failures or _EVERYTHING
    taken = receive_all(dead_letters, budget, options.visibility_seconds)
    to_release = list(taken)
    try:
        letters = usable_letters(taken, since, until, report)
        found = errors.errors_between(since, until)
        entries, activities = usable_entries(found, report), usable_activities(found)
        room = budget - len(letters)
        if len(taken) >= budget or len(entries) + len(activities) > room:
            report.more_waiting = True
            entries = entries[: max(0, room)]
            activities = activities[: max(0, room - len(entries))]
        plan = _messages(letters, entries, options, started, report)
        plan.batches += activity_batches(activities, options.limits, started, report)
        report.error_entries += len(activities)
        report.messages_sent = len(plan.batches)
        if options.dry_run or not (plan.letters or plan.entries or activities):
            describe(plan, report, "dry" if options.dry_run else "sent")
            return report
        if not _sent(queue, plan, report):
            return report
        done = [item.letter for item in plan.letters]
        if _deleted(dead_letters, done, report):
            to_release = [letter for letter in taken if letter not in done]
        _mark(errors, [*plan.entries, *activities], started, report)
        return report
    finally:
        report.finish()
        if to_release:
            with contextlib.suppress(LeadsyncError):
                # else they come back anyway when their visibility timeout ends
                dead_letters.release(to_release)


def _messages(
    letters: list[Letter],
    entries: list[Entry],
    options: ReplayOptions,
    at: datetime,
    report: ReplayReport,
) -> Resend:
    """The messages to send, counted in the report."""
    entries = fitting(entries, options.limits, at, report)
    plan = resend(letters, entries, options.limits, at, report)
    report.dead_letters = len(plan.letters)
    report.error_entries = len(plan.entries)
    report.messages_sent = len(plan.batches)
    report.records = sum(len(batch.records) for batch in plan.batches)
    if report.more_waiting:
        report.say(
            "notes",
            f"--max {options.max_failures} reached: more failures may wait; run replay again",
        )
    return plan


def _sent(queue: BatchSink, plan: Resend, report: ReplayReport) -> bool:
    """Every message on the sync queue; else nothing counts as re-driven."""
    try:
        queue.send_batches(plan.batches)
    except LeadsyncError as exc:
        describe(plan, report, "failed")
        report.dead_letters = report.error_entries = report.messages_sent = 0
        report.records = 0
        report.problems.append(
            f"the sync queue did not take every message ({exc}); nothing was deleted or "
            "marked. Run replay again: what was sent already, the upload writes once"
        )
        return False
    describe(plan, report, "sent")
    return True


def _deleted(port: DeadLetterQueue, done: Sequence[DeadLetter], report: ReplayReport) -> bool:
    try:
        port.delete(done)
    except LeadsyncError as exc:
        report.problems.append(
            f"the messages were sent but the dead letters could not be deleted ({exc}); "
            "the next replay sends them again, which the upload writes once"
        )
        return False
    return True


def _mark(
    errors: ErrorStore,
    entries: Sequence[Entry | ActivityEntry],
    at: datetime,
    report: ReplayReport,
) -> None:
    already = 0
    for item in entries:
        key = item.entry.key
        if key is None:
            continue
        try:
            if not errors.mark_replayed(key, at):
                already += 1
        except LeadsyncError as exc:
            report.problems.append(
                f"error entry {key} was re-driven but could not be marked ({exc}); the next "
                "replay sends it again, which the upload writes once"
            )
    if already:
        report.say("notes", f"{counted(already, 'error entry')} marked by another replay meanwhile")
