"""What a replay finds: the dead letters it takes from the queue and the error-store entries
it reads, each kept only when it holds something to send, in the time range, not replayed
before; the rest is said in the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError

from leadsync.activities.records import ChatActivity
from leadsync.adapters.dead_letters import ERROR_MESSAGE, DeadLetter
from leadsync.ops.replay.report import ReplayReport, counted, counts, scrub, span, when
from leadsync.sync.failures import ErrorEntry, ErrorKind
from leadsync.sync.fetch.batching import new_correlation_id
from leadsync.sync.messages import SyncBatch, SyncRecord

# answers with no dead letter in a row that end the gathering
EMPTY_RECEIVES = 2


class DeadLetterQueue(Protocol):
    def receive(self, limit: int = ..., *, visibility_seconds: int = ...) -> list[DeadLetter]: ...

    def release(self, letters: Sequence[DeadLetter]) -> None: ...

    def delete(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass
class Letter:
    """A dead letter whose body is a batch, with when it last failed."""

    letter: DeadLetter
    batch: SyncBatch
    at: datetime
    kept: list[SyncRecord] = field(default_factory=list)


@dataclass
class ActivityEntry:
    """An error-store entry of a chat activity Marketo refused (or that found no lead)."""

    entry: ErrorEntry
    activity: ChatActivity


@dataclass
class Entry:
    """An undeliverable entry of the error store with the record it holds."""

    entry: ErrorEntry
    record: SyncRecord
    group: str  # the correlation id its batch carries
    kept: bool = False


def receive_all(port: DeadLetterQueue, limit: int, visibility: int) -> list[DeadLetter]:
    """Up to `limit` dead letters. The adapter long-polls, which asks every SQS server;
    an empty answer is still confirmed by the next ones before the gathering ends."""
    taken: dict[str, DeadLetter] = {}
    empty = 0
    while len(taken) < limit and empty < EMPTY_RECEIVES:
        fresh = [
            letter
            for letter in port.receive(limit - len(taken), visibility_seconds=visibility)
            if letter.message_id not in taken
        ]
        empty = 0 if fresh else empty + 1
        taken.update((letter.message_id, letter) for letter in fresh)
    return list(taken.values())


def usable_letters(
    taken: Sequence[DeadLetter], since: datetime | None, until: datetime, report: ReplayReport
) -> list[Letter]:
    """The dead letters that hold a batch and failed in the range, oldest first."""
    usable: list[Letter] = []
    outside = 0
    for letter in taken:
        batch = letter.batch
        if batch is None:
            report.not_replayable += 1
            reason = scrub(letter.attributes.get(ERROR_MESSAGE, "")) or "no reason recorded"
            report.say(
                "not replayable",
                f"not replayable: dead letter {letter.message_id}: its body is not a batch "
                f"({letter.code}: {reason[:200]}); left in the dead-letter queue",
            )
            continue
        at = batch.last_failure_at or letter.sent_at or batch.created_at
        if (since is not None and at <= since) or at > until:
            outside += 1
            continue
        usable.append(Letter(letter, batch, at))
    if outside:
        report.say(
            "notes",
            f"{counted(outside, 'dead letter')} failed outside the time range: left in the queue",
        )
    return sorted(usable, key=lambda item: item.at)


def usable_entries(found: Sequence[ErrorEntry], report: ReplayReport) -> list[Entry]:
    """The undeliverable entries not replayed yet that hold a record, oldest first."""
    usable: list[Entry] = []
    rejected: list[ErrorEntry] = []
    replayed_before = 0
    fresh = new_correlation_id()
    for entry in found:
        if entry.kind is ErrorKind.REJECTED:
            rejected.append(entry)
            continue
        if entry.kind in (ErrorKind.RUN_FAILED, ErrorKind.RACED, ErrorKind.CONFIGURATION):
            # a failed fetch run: the next run reads its chats again; a raced write was made;
            # a configuration stop held its work back, which goes on once it is fixed
            continue
        if entry.replayed_at is not None:
            replayed_before += 1
            continue
        record = _record_of(entry)
        if record is None and _activity_of(entry) is not None:
            continue  # a chat activity: usable_activities
        if record is None or entry.key is None:
            report.not_replayable += 1
            report.say(
                "not replayable",
                f"not replayable: error entry {entry.key or '-'} ({entry.reason}) holds no "
                "record to send",
            )
            continue
        usable.append(Entry(entry, record, entry.correlation_id or fresh))
    if replayed_before:
        report.say("notes", f"{counted(replayed_before, 'error entry')} replayed before: skipped")
    if rejected:
        # the fetch's overlap reads a chat more than once: count each chat once
        report.rejected_left = len({tuple(e.chat_ids) or e.key for e in rejected})
        report.say("notes", _rejected_line(rejected, report.rejected_left))
    return sorted(usable, key=lambda item: item.entry.last_failure_at)


def usable_activities(found: Sequence[ErrorEntry]) -> list[ActivityEntry]:
    """The chat activities of undeliverable entries not replayed yet, oldest first."""
    usable = [
        ActivityEntry(entry, activity)
        for entry in found
        if entry.kind is ErrorKind.UNDELIVERABLE
        and entry.replayed_at is None
        and entry.key is not None
        and (activity := _activity_of(entry)) is not None
    ]
    return sorted(usable, key=lambda item: item.entry.last_failure_at)


def _activity_of(entry: ErrorEntry) -> ChatActivity | None:
    raw = entry.record.get("activity") if isinstance(entry.record, dict) else None
    if not isinstance(raw, dict):
        return None
    try:
        return ChatActivity.model_validate(raw)
    except ValidationError:
        return None


def _record_of(entry: ErrorEntry) -> SyncRecord | None:
    if entry.record is None:
        return None
    try:
        return SyncRecord.model_validate(entry.record)
    except ValidationError:
        return None


def _rejected_line(rejected: Sequence[ErrorEntry], chats: int) -> str:
    reasons = Counter(entry.reason for entry in rejected)
    first = min(entry.first_failure_at for entry in rejected)
    last = max(entry.last_failure_at for entry in rejected)
    return (
        f"rejected: {counted(chats, 'chat')} could not become visitors ({counts(reasons)}), "
        f"recorded {span(first, last)}; not replayable as records: fix at the source, then "
        f"re-read the chats by rewinding the fetch mark to before {when(first)}"
    )
