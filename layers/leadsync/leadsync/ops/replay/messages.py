"""The messages a replay sends: each record once (the latest failure wins), the dead letters'
batches as they were (an operation whole), the error store's records batched again per
correlation id with their failures as history and its chat activities in messages of up to
300, every message within the queue's limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter

from leadsync.activities.config import default_activity_map
from leadsync.ops.replay.gather import ActivityEntry, Entry, Letter
from leadsync.ops.replay.report import ReplayReport, counted
from leadsync.sync.fetch.activities import pack_activities
from leadsync.sync.fetch.batching import BatchLimits, body_bytes, plan_batches
from leadsync.sync.messages import FailureNote, SyncBatch, SyncRecord, keep_notes

_NOTES = TypeAdapter(list[FailureNote])

RecordKey = tuple[str, str]  # e-mail, fields as canonical JSON
Slot = tuple[int, int]  # letter number (entries after the letters), record position


@dataclass
class Resend:
    """What goes back to the sync queue, and what it was made of."""

    letters: list[Letter]
    entries: list[Entry]
    batches: list[SyncBatch] = field(default_factory=list)
    # correlation id → the error store's entries and the messages made of their records
    groups: dict[str, tuple[list[Entry], list[SyncBatch]]] = field(default_factory=dict)


def fitting(
    entries: list[Entry], limits: BatchLimits, at: datetime, report: ReplayReport
) -> list[Entry]:
    """The entries whose record fits in a message of its own, with its group's history."""
    notes = _group_notes(entries)
    fits = []
    for item in entries:
        alone = SyncBatch(
            correlation_id=item.group,
            created_at=at,
            records=[item.record],
            failures=notes[item.group],
        )
        if body_bytes(alone) > limits.max_body_bytes:
            report.not_replayable += 1
            report.say(
                "not replayable",
                f"not replayable: error entry {item.entry.key}: the record does not fit in "
                "one message",
            )
        else:
            fits.append(item)
    return fits


def resend(
    letters: list[Letter],
    entries: list[Entry],
    limits: BatchLimits,
    at: datetime,
    report: ReplayReport,
) -> Resend:
    """Keep each record once (the latest failure wins), then build the messages."""
    winners = _latest_of_each(letters, entries, report)
    plan = Resend(letters, entries)
    for n, letter in enumerate(letters):
        if not letter.batch.records:
            # a list operation, a delete or chat activities: goes back whole, as it was
            plan.batches.append(letter.batch.model_copy(update={"attempts": 0, "not_before": None}))
            continue
        records = letter.batch.records
        letter.kept = [r for position, r in enumerate(records) if (n, position) in winners]
        if letter.kept:
            plan.batches.append(
                letter.batch.model_copy(
                    update={"records": letter.kept, "attempts": 0, "not_before": None}
                )
            )
    groups: dict[str, list[Entry]] = {}
    for m, entry in enumerate(entries):
        entry.kept = (len(letters) + m, 0) in winners
        groups.setdefault(entry.group, []).append(entry)
    notes = _group_notes(entries)
    for correlation_id, group in groups.items():
        batches = _group_batches(correlation_id, group, notes[correlation_id], limits, at)
        plan.batches += batches
        plan.groups[correlation_id] = (group, batches)
    return plan


def _latest_of_each(
    letters: Sequence[Letter], entries: Sequence[Entry], report: ReplayReport
) -> set[Slot]:
    """The slot of each distinct record's latest failure; the others count as duplicates."""
    best: dict[RecordKey, tuple[datetime, Slot]] = {}
    seen = 0
    for n, letter in enumerate(letters):
        for position, record in enumerate(letter.batch.records):
            _offer(best, _key(record), letter.at, (n, position))
            seen += 1
    for m, entry in enumerate(entries):
        _offer(best, _key(entry.record), entry.entry.last_failure_at, (len(letters) + m, 0))
        seen += 1
    report.duplicates = seen - len(best)
    return {slot for _, slot in best.values()}


def _key(record: SyncRecord) -> RecordKey:
    return record.email, json.dumps(record.fields, sort_keys=True, default=str)


def _offer(
    best: dict[RecordKey, tuple[datetime, Slot]], key: RecordKey, at: datetime, slot: Slot
) -> None:
    held = best.get(key)
    if held is None or at > held[0]:
        best[key] = (at, slot)


def _group_batches(
    correlation_id: str,
    group: list[Entry],
    notes: list[FailureNote],
    limits: BatchLimits,
    at: datetime,
) -> list[SyncBatch]:
    """One correlation id's records, in messages that still fit once their history is in."""
    records = [entry.record for entry in group if entry.kept]
    history = len(_NOTES.dump_json(notes)) - len(b"[]")
    sized = BatchLimits(limits.max_records, max(1, limits.max_body_bytes - history))
    split = plan_batches(records, sized, created_at=at, new_id=lambda: correlation_id)
    # every record fits alone (fitting), so none is set apart here
    return [batch.model_copy(update={"failures": notes}) for batch in split.batches]


def _group_notes(entries: Sequence[Entry]) -> dict[str, list[FailureNote]]:
    """Each group's failures as its batches' history, oldest first."""
    seen: dict[str, dict[tuple[datetime, str, str], FailureNote]] = {}
    for item in entries:
        entry = item.entry
        note = FailureNote(
            at=entry.last_failure_at,
            attempt=entry.attempts,
            code=(entry.code or entry.reason)[:100],
            message=entry.detail[:1000],
            request=(entry.request or "")[:200],
        )
        seen.setdefault(item.group, {}).setdefault((note.at, note.code, note.message), note)
    return {
        group: keep_notes(sorted(notes.values(), key=lambda note: note.at))
        for group, notes in seen.items()
    }


def activity_batches(
    items: Sequence[ActivityEntry], limits: BatchLimits, at: datetime, report: ReplayReport
) -> list[SyncBatch]:
    """The error store's chat activities, each chat once (its latest failure), in messages of
    up to 300; the upload's activity ledger still writes each chat once."""
    latest: dict[str, ActivityEntry] = {}
    for item in sorted(items, key=lambda i: i.entry.last_failure_at):
        latest[item.activity.chat_id] = item
    report.duplicates += len(items) - len(latest)
    api_name = default_activity_map().type.api_name
    activities = [item.activity for item in latest.values()]
    batches, oversized = pack_activities(activities, api_name, limits, at)
    for activity in oversized:
        report.not_replayable += 1
        report.say(
            "not replayable",
            f"not replayable: the activity of chat {activity.chat_id} does not fit in one message",
        )
    if activities:
        report.say(
            "record groups",
            f"chat activities: {counted(len(activities), 'chat')} from the error store in "
            f"{counted(len(batches), 'message')}",
        )
    return batches
