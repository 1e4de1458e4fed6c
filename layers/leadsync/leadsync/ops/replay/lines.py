"""A line for each dead letter and each group of error-store records a replay handles: its
records (e-mails masked), its chats, its failures, and what became of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from leadsync.ops.replay.gather import Entry, Letter
from leadsync.ops.replay.messages import Resend
from leadsync.ops.replay.report import ReplayReport, counted, counts, scrub, span, when
from leadsync.runtime.observability import mask_email
from leadsync.sync.messages import SyncBatch, SyncRecord


def describe(plan: Resend, report: ReplayReport, outcome: str) -> None:
    """Say what happened to each dead letter and each group: `outcome` is dry, sent or
    failed (the sync queue did not take the messages)."""
    for letter in plan.letters:
        report.say("dead letters", _letter_line(letter, outcome))
    for correlation_id, (group, batches) in plan.groups.items():
        report.say("record groups", _group_line(correlation_id, group, batches, outcome))


def _letter_line(item: Letter, outcome: str) -> str:
    batch, letter = item.batch, item.letter
    parts = [
        f"dead letter {letter.message_id}: correlation {batch.correlation_id}",
        _records_text(batch.records),
    ]
    if batch.failures:
        last = batch.failures[-1]
        what = f"last {last.code}"
        if last.message:
            what += f": {scrub(last.message)[:120]}"
        if last.request:
            what += f" ({last.request})"
        parts.append(
            f"{counted(batch.attempts, 'attempt')}, failed {span(batch.failures[0].at, last.at)}, "
            + what
        )
    else:
        code = "" if letter.code == "unknown" else f" ({letter.code})"
        parts.append(
            f"moved here {when(item.at)} by the queue's redrive with no failure recorded{code}"
        )
    parts.append(_chats_text(batch.records))
    dropped = len(batch.records) - len(item.kept)
    if dropped:
        parts.append(f"{counted(dropped, 'record')} going with a later failure")
    if outcome == "failed":
        verb = "left in the dead-letter queue"
    elif batch.records and not item.kept:
        verb = "would be deleted" if outcome == "dry" else "deleted"
    else:
        verb = "would be re-driven" if outcome == "dry" else "re-driven"
    return ", ".join(parts) + f" → {verb}"


def _group_line(
    correlation_id: str, group: Sequence[Entry], batches: Sequence[SyncBatch], outcome: str
) -> str:
    records = [item.record for item in group]
    reasons = Counter(item.entry.reason for item in group)
    first = min(item.entry.first_failure_at for item in group)
    last = max(item.entry.last_failure_at for item in group)
    parts = [
        f"error store: correlation {correlation_id}: {counted(len(group), 'entry')} "
        f"({counts(reasons)})",
        _records_text(records),
        f"failed {span(first, last)}",
        _chats_text(records),
    ]
    dropped = sum(1 for item in group if not item.kept)
    if dropped:
        parts.append(f"{counted(dropped, 'record')} going with a later failure")
    messages = counted(len(batches), "message")
    verb = {"dry": f"would go as {messages}", "sent": f"sent as {messages}"}.get(
        outcome, "not sent"
    )
    return ", ".join(parts) + f" → {verb}"


def _records_text(records: Sequence[SyncRecord]) -> str:
    kinds = Counter(str(record.action) for record in records)
    examples = ", ".join(mask_email(record.email) for record in records[:3])
    more = ", …" if len(records) > 3 else ""
    return f"{counted(len(records), 'record')} ({counts(kinds)}: {examples}{more})"


def _chats_text(records: Sequence[SyncRecord]) -> str:
    ids = sorted({chat for record in records for chat in record.chat_ids})
    if not ids:
        return "no chat ids"
    more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    return f"chats {', '.join(ids[:5])}{more}"
