"""`leadsync replay`: after a fix, send what failed back through the upload, once.

Gathered:
- dead letters: batches whose deliveries were spent, each carrying its failure history;
- error-store entries of kind `undeliverable` not replayed yet: records Marketo refused, or
  that could not be queued;
- entries of kind `rejected` are counted only: a chat that could not become a visitor has no
  record to send. Fix it at the source, then rewind the fetch mark to read the chats again.

Sent to the sync queue: each dead letter's batch as it was, its history kept, with `attempts`
back to 0 and no `not_before`; the error store's records batched again per correlation id,
with the entries' failures as their history. A record found more than once (the same e-mail
with the same fields) goes once: the one that failed last. Only after the sync queue has
accepted every message are the dead letters deleted and the entries marked: a crash in
between loses nothing, and a repeat sends again what the upload writes without a duplicate
(creates under a claim, 1005 → an update decided again, updates by id).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pydantic import TypeAdapter, ValidationError

from leadsync.adapters.dead_letters import ERROR_MESSAGE, DeadLetter
from leadsync.adapters.state import ERROR_RETENTION
from leadsync.errors import LeadsyncError
from leadsync.ports import BatchSink
from leadsync.runtime.clock import Clock, iso_utc, utc_now
from leadsync.runtime.observability import mask_email
from leadsync.sync.failures import ErrorEntry, ErrorKind
from leadsync.sync.fetch.batching import BatchLimits, body_bytes, new_correlation_id, plan_batches
from leadsync.sync.messages import FailureNote, SyncBatch, SyncRecord, keep_notes

# long enough for a whole run: a dead letter taken stays out of sight until it is deleted or
# released, so two replays at once never send the same letter
DEFAULT_VISIBILITY_SECONDS = 900
# answers with no dead letter in a row that end the gathering
EMPTY_RECEIVES = 2
# lines of one kind said one by one; the rest are counted
MAX_LISTED = 25
# the order the lines are said in, whatever order they were found in
_KINDS = ("dead letters", "record groups", "not replayable", "notes")
_EVERYTHING = 1_000_000_000
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_NOTES = TypeAdapter(list[FailureNote])

RecordKey = tuple[str, str]  # e-mail, fields as canonical JSON


class DeadLetterQueue(Protocol):
    def receive(self, limit: int = ..., *, visibility_seconds: int = ...) -> list[DeadLetter]: ...

    def release(self, letters: Sequence[DeadLetter]) -> None: ...

    def delete(self, letters: Sequence[DeadLetter]) -> None: ...


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


@dataclass
class ReplayReport:
    dry_run: bool
    since: datetime
    until: datetime
    dead_letters: int = 0  # re-driven, so deleted from the dead-letter queue
    records: int = 0  # in the messages sent
    error_entries: int = 0  # re-driven, so marked replayed
    duplicates: int = 0  # records found more than once, sent once
    messages_sent: int = 0
    not_replayable: int = 0  # left where they are; the lines say why
    rejected_left: int = 0  # chats that never became visitors
    more_waiting: bool = False  # the --max limit was reached
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _said: dict[str, list[str]] = field(default_factory=dict)

    def say(self, kind: str, line: str) -> None:
        """Keep a line for `lines`, grouped by kind (one of _KINDS)."""
        self._said.setdefault(kind, []).append(line)

    def finish(self) -> None:
        for kind in _KINDS:
            said = self._said.pop(kind, [])
            self.lines += said[:MAX_LISTED]
            if len(said) > MAX_LISTED:
                self.lines.append(f"… and {len(said) - MAX_LISTED} more {kind}")

    def summary(self) -> str:
        return (
            f"replay: dead_letters={self.dead_letters} records={self.records} "
            f"error_entries={self.error_entries} duplicates={self.duplicates} "
            f"messages_sent={self.messages_sent} not_replayable={self.not_replayable} "
            f"rejected_left={self.rejected_left} dry_run={str(self.dry_run).lower()}"
        )


@dataclass
class _Letter:
    letter: DeadLetter
    batch: SyncBatch
    at: datetime
    kept: list[SyncRecord] = field(default_factory=list)


@dataclass
class _Entry:
    entry: ErrorEntry
    record: SyncRecord
    group: str  # the correlation id its batch carries
    kept: bool = False


@dataclass
class _Plan:
    letters: list[_Letter]
    entries: list[_Entry]
    batches: list[SyncBatch] = field(default_factory=list)
    # correlation id → the error store's entries and the messages made of their records
    groups: dict[str, tuple[list[_Entry], list[SyncBatch]]] = field(default_factory=dict)


def replay(
    *,
    dead_letters: DeadLetterQueue,
    errors: ErrorStore,
    queue: BatchSink,
    options: ReplayOptions,
    now: Clock = utc_now,
) -> ReplayReport:
    """Re-drive the dead letters and the undeliverable records; see the module's docstring."""
    started = now()
    until = min(options.until or started, started)
    oldest = started - ERROR_RETENTION
    since = max(options.since, oldest) if options.since else None
    report = ReplayReport(dry_run=options.dry_run, since=since or oldest, until=until)
    budget = options.max_failures or _EVERYTHING
    taken = _receive_all(dead_letters, budget, options.visibility_seconds)
    to_release = list(taken)
    try:
        letters = _usable_letters(taken, since, until, report)
        entries = _usable_entries(errors.errors_between(since, until), report)
        room = budget - len(letters)
        if len(taken) >= budget or len(entries) > room:
            report.more_waiting = True
            entries = entries[: max(0, room)]
        entries = _fitting(entries, options.limits, started, report)
        plan = _plan(letters, entries, options.limits, started, report)
        report.dead_letters = len(plan.letters)
        report.error_entries = len(plan.entries)
        report.messages_sent = len(plan.batches)
        report.records = sum(len(batch.records) for batch in plan.batches)
        if report.more_waiting:
            report.say(
                "notes",
                f"--max {options.max_failures} reached: more failures may wait; run replay again",
            )
        if options.dry_run or not (plan.letters or plan.entries):
            _describe(plan, report, "dry" if options.dry_run else "sent")
            return report
        try:
            queue.send_batches(plan.batches)
        except LeadsyncError as exc:
            _describe(plan, report, "failed")
            report.dead_letters = report.error_entries = report.messages_sent = 0
            report.records = 0
            report.problems.append(
                f"the sync queue did not take every message ({exc}); nothing was deleted or "
                "marked. Run replay again: what was sent already, the upload writes once"
            )
            return report
        _describe(plan, report, "sent")
        done = [item.letter for item in plan.letters]
        try:
            dead_letters.delete(done)
            to_release = [letter for letter in taken if letter not in done]
        except LeadsyncError as exc:
            report.problems.append(
                f"the messages were sent but the dead letters could not be deleted ({exc}); "
                "the next replay sends them again, which the upload writes once"
            )
        _mark(errors, plan.entries, started, report)
        return report
    finally:
        report.finish()
        if to_release:
            with contextlib.suppress(LeadsyncError):
                # else they come back anyway when their visibility timeout ends
                dead_letters.release(to_release)


def _receive_all(port: DeadLetterQueue, limit: int, visibility: int) -> list[DeadLetter]:
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


def _usable_letters(
    taken: Sequence[DeadLetter], since: datetime | None, until: datetime, report: ReplayReport
) -> list[_Letter]:
    usable: list[_Letter] = []
    outside = 0
    for letter in taken:
        batch = letter.batch
        if batch is None:
            report.not_replayable += 1
            reason = _scrub(letter.attributes.get(ERROR_MESSAGE, "")) or "no reason recorded"
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
        usable.append(_Letter(letter, batch, at))
    if outside:
        report.say(
            "notes",
            f"{_n(outside, 'dead letter')} failed outside the time range: left in the queue",
        )
    return sorted(usable, key=lambda item: item.at)


def _usable_entries(found: Sequence[ErrorEntry], report: ReplayReport) -> list[_Entry]:
    usable: list[_Entry] = []
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
        if record is None or entry.key is None:
            report.not_replayable += 1
            report.say(
                "not replayable",
                f"not replayable: error entry {entry.key or '-'} ({entry.reason}) holds no "
                "record to send",
            )
            continue
        usable.append(_Entry(entry, record, entry.correlation_id or fresh))
    if replayed_before:
        report.say("notes", f"{_n(replayed_before, 'error entry')} replayed before: skipped")
    if rejected:
        # the fetch's overlap reads a chat more than once: count each chat once
        report.rejected_left = len({tuple(e.chat_ids) or e.key for e in rejected})
        report.say("notes", _rejected_line(rejected, report.rejected_left))
    return sorted(usable, key=lambda item: item.entry.last_failure_at)


def _record_of(entry: ErrorEntry) -> SyncRecord | None:
    if entry.record is None:
        return None
    try:
        return SyncRecord.model_validate(entry.record)
    except ValidationError:
        return None


def _fitting(
    entries: list[_Entry], limits: BatchLimits, at: datetime, report: ReplayReport
) -> list[_Entry]:
    """The entries whose record fits in a message of its own, with its group's history."""
    notes = _group_notes(entries)
    fitting = []
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
            fitting.append(item)
    return fitting


def _key(record: SyncRecord) -> RecordKey:
    return record.email, json.dumps(record.fields, sort_keys=True, default=str)


def _plan(
    letters: list[_Letter],
    entries: list[_Entry],
    limits: BatchLimits,
    at: datetime,
    report: ReplayReport,
) -> _Plan:
    """Keep each record once (the latest failure wins), then build the messages."""
    # a slot is (letter number, record position); entries come after the letters
    best: dict[RecordKey, tuple[datetime, tuple[int, int]]] = {}
    seen = 0
    for n, letter in enumerate(letters):
        for position, record in enumerate(letter.batch.records):
            _offer(best, _key(record), letter.at, (n, position))
            seen += 1
    for m, entry in enumerate(entries):
        _offer(best, _key(entry.record), entry.entry.last_failure_at, (len(letters) + m, 0))
        seen += 1
    report.duplicates = seen - len(best)
    winners = {slot for _, slot in best.values()}

    plan = _Plan(letters, entries)
    for n, letter in enumerate(letters):
        records = letter.batch.records
        letter.kept = [r for position, r in enumerate(records) if (n, position) in winners]
        if letter.kept:
            plan.batches.append(
                letter.batch.model_copy(
                    update={"records": letter.kept, "attempts": 0, "not_before": None}
                )
            )
    groups: dict[str, list[_Entry]] = {}
    for m, entry in enumerate(entries):
        entry.kept = (len(letters) + m, 0) in winners
        groups.setdefault(entry.group, []).append(entry)
    notes = _group_notes(entries)
    for correlation_id, group in groups.items():
        batches = _group_batches(correlation_id, group, notes[correlation_id], limits, at)
        plan.batches += batches
        plan.groups[correlation_id] = (group, batches)
    return plan


def _offer(
    best: dict[RecordKey, tuple[datetime, tuple[int, int]]],
    key: RecordKey,
    at: datetime,
    slot: tuple[int, int],
) -> None:
    held = best.get(key)
    if held is None or at > held[0]:
        best[key] = (at, slot)


def _group_batches(
    correlation_id: str,
    group: list[_Entry],
    notes: list[FailureNote],
    limits: BatchLimits,
    at: datetime,
) -> list[SyncBatch]:
    """One correlation id's records, in messages that still fit once their history is in."""
    records = [entry.record for entry in group if entry.kept]
    history = len(_NOTES.dump_json(notes)) - len(b"[]")
    sized = BatchLimits(limits.max_records, max(1, limits.max_body_bytes - history))
    split = plan_batches(records, sized, created_at=at, new_id=lambda: correlation_id)
    # every record fits alone (_fitting), so none is set apart here
    return [batch.model_copy(update={"failures": notes}) for batch in split.batches]


def _group_notes(entries: Sequence[_Entry]) -> dict[str, list[FailureNote]]:
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


def _mark(
    errors: ErrorStore, entries: Sequence[_Entry], at: datetime, report: ReplayReport
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
        report.say("notes", f"{_n(already, 'error entry')} marked by another replay meanwhile")


# -- what is said -----------------------------------------------------------------------------


def _n(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1] + 'ies' if noun.endswith('ry') else noun + 's'}"


def _describe(plan: _Plan, report: ReplayReport, outcome: str) -> None:
    """Say what happened to each dead letter and each group: `outcome` is dry, sent or
    failed (the sync queue did not take the messages)."""
    for letter in plan.letters:
        report.say("dead letters", _letter_line(letter, outcome))
    for correlation_id, (group, batches) in plan.groups.items():
        report.say("record groups", _group_line(correlation_id, group, batches, outcome))


def _letter_line(item: _Letter, outcome: str) -> str:
    batch, letter = item.batch, item.letter
    parts = [
        f"dead letter {letter.message_id}: correlation {batch.correlation_id}",
        _records_text(batch.records),
    ]
    if batch.failures:
        last = batch.failures[-1]
        what = f"last {last.code}"
        if last.message:
            what += f": {_scrub(last.message)[:120]}"
        if last.request:
            what += f" ({last.request})"
        parts.append(
            f"{_n(batch.attempts, 'attempt')}, failed {_span(batch.failures[0].at, last.at)}, "
            + what
        )
    else:
        code = "" if letter.code == "unknown" else f" ({letter.code})"
        parts.append(
            f"moved here {_when(item.at)} by the queue's redrive with no failure recorded{code}"
        )
    parts.append(_chats_text(batch.records))
    dropped = len(batch.records) - len(item.kept)
    if dropped:
        parts.append(f"{_n(dropped, 'record')} going with a later failure")
    if outcome == "failed":
        verb = "left in the dead-letter queue"
    elif not item.kept:
        verb = "would be deleted" if outcome == "dry" else "deleted"
    else:
        verb = "would be re-driven" if outcome == "dry" else "re-driven"
    return ", ".join(parts) + f" → {verb}"


def _group_line(
    correlation_id: str, group: Sequence[_Entry], batches: Sequence[SyncBatch], outcome: str
) -> str:
    records = [item.record for item in group]
    reasons = Counter(item.entry.reason for item in group)
    first = min(item.entry.first_failure_at for item in group)
    last = max(item.entry.last_failure_at for item in group)
    parts = [
        f"error store: correlation {correlation_id}: {_n(len(group), 'entry')} "
        f"({_counts(reasons)})",
        _records_text(records),
        f"failed {_span(first, last)}",
        _chats_text(records),
    ]
    dropped = sum(1 for item in group if not item.kept)
    if dropped:
        parts.append(f"{_n(dropped, 'record')} going with a later failure")
    messages = _n(len(batches), "message")
    verb = {"dry": f"would go as {messages}", "sent": f"sent as {messages}"}.get(
        outcome, "not sent"
    )
    return ", ".join(parts) + f" → {verb}"


def _rejected_line(rejected: Sequence[ErrorEntry], chats: int) -> str:
    reasons = Counter(entry.reason for entry in rejected)
    first = min(entry.first_failure_at for entry in rejected)
    last = max(entry.last_failure_at for entry in rejected)
    return (
        f"rejected: {_n(chats, 'chat')} could not become visitors ({_counts(reasons)}), "
        f"recorded {_span(first, last)}; not replayable as records: fix at the source, then "
        f"re-read the chats by rewinding the fetch mark to before {_when(first)}"
    )


def _records_text(records: Sequence[SyncRecord]) -> str:
    kinds = Counter(str(record.action) for record in records)
    examples = ", ".join(mask_email(record.email) for record in records[:3])
    more = ", …" if len(records) > 3 else ""
    return f"{_n(len(records), 'record')} ({_counts(kinds)}: {examples}{more})"


def _chats_text(records: Sequence[SyncRecord]) -> str:
    ids = sorted({chat for record in records for chat in record.chat_ids})
    if not ids:
        return "no chat ids"
    more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    return f"chats {', '.join(ids[:5])}{more}"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in counter.most_common())


def _when(moment: datetime) -> str:
    return iso_utc(moment)[:19] + "Z"


def _span(first: datetime, last: datetime) -> str:
    return _when(first) if _when(first) == _when(last) else f"{_when(first)} … {_when(last)}"


def _scrub(text: str) -> str:
    """A message from elsewhere, with any e-mail address in it masked."""
    return _EMAIL.sub(lambda found: mask_email(found.group(0)), text)
