"""What failed, as the digest groups it: error-store entries by (kind, reason), dead letters
by their last failure's code, biggest first, each group with a few examples as one masked
line each."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadsync.adapters.dead_letters import (
    ATTEMPTS,
    CORRELATION_ID,
    ERROR_MESSAGE,
    FIRST_FAILURE_AT,
    LAST_FAILURE_AT,
    DeadLetter,
)
from leadsync.report.cleaning import clean, when
from leadsync.runtime.clock import parse_iso
from leadsync.runtime.observability import mask_email
from leadsync.sync.failures import ErrorEntry

MAX_EXAMPLES = 3
CAUSE_LENGTH = 100
_DETAIL_LENGTH = 160
_ID_LENGTH = 64
_REQUEST_LENGTH = 120
_CHAT_IDS = 5


@dataclass(frozen=True)
class DigestGroup:
    """Error-store entries with one (kind, reason)."""

    kind: str
    reason: str
    count: int  # distinct failures (the same chat failing twice counts once)
    occurrences: int
    examples: list[str] = field(default_factory=list)

    @property
    def cause(self) -> str:
        return f"{self.kind} / {self.reason}"


@dataclass(frozen=True)
class DeadLetterGroup:
    """Dead letters with one cause (the last failure's code)."""

    code: str
    count: int
    new: int  # failed after the last digest
    records: int
    examples: list[str] = field(default_factory=list)

    @property
    def cause(self) -> str:
        return self.code


def group_errors(
    entries: Sequence[ErrorEntry], max_examples: int = MAX_EXAMPLES
) -> list[DigestGroup]:
    """Group by (kind, reason), biggest first; examples are masked one-line descriptions."""
    occurrences: Counter[tuple[str, str]] = Counter()
    distinct: dict[tuple[str, str], dict[tuple[str, ...], ErrorEntry]] = {}
    for entry in entries:
        key = (entry.kind.value, entry.reason)
        occurrences[key] += 1
        identity = tuple(entry.chat_ids) or (entry.key or str(id(entry)),)
        distinct.setdefault(key, {}).setdefault(identity, entry)
    groups = [
        DigestGroup(
            kind=kind,
            reason=clean(reason, CAUSE_LENGTH) or "unknown",
            count=len(distinct[(kind, reason)]),
            occurrences=occurrences[(kind, reason)],
            examples=[describe(e) for e in list(distinct[(kind, reason)].values())[:max_examples]],
        )
        for kind, reason in occurrences
    ]
    return sorted(groups, key=lambda g: (-g.count, g.kind, g.reason))


def group_dead_letters(
    letters: Sequence[DeadLetter],
    *,
    since: datetime | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> list[DeadLetterGroup]:
    """Group by cause, biggest first; `new` counts those that failed after `since`."""
    by_code: dict[str, list[DeadLetter]] = {}
    seen: set[str] = set()
    for letter in letters:
        if letter.message_id and letter.message_id in seen:
            continue
        seen.add(letter.message_id)
        code = clean(letter.code, CAUSE_LENGTH) or "unknown"
        by_code.setdefault(code, []).append(letter)
    groups = []
    for code, members in by_code.items():
        new = 0
        records = 0
        for letter in members:
            failed_at = _failed_at(letter)
            if since is None or failed_at is None or failed_at > since:
                new += 1
            batch = letter.batch
            records += len(batch.records) if batch is not None else 0
        groups.append(
            DeadLetterGroup(
                code=code,
                count=len(members),
                new=new,
                records=records,
                examples=[describe_dead_letter(letter) for letter in members[:max_examples]],
            )
        )
    return sorted(groups, key=lambda g: (-g.count, g.code))


def describe(entry: ErrorEntry) -> str:
    """One masked line: chat ids, masked e-mail, detail, request, code, correlation id, time."""
    chats = ", ".join(clean(chat, _ID_LENGTH) for chat in entry.chat_ids[:_CHAT_IDS])
    if len(entry.chat_ids) > _CHAT_IDS:
        chats += f" (+{len(entry.chat_ids) - _CHAT_IDS})"
    parts = [f"chats {chats or '-'}"]
    email = _email_of(entry.record)
    if email:
        parts.append(f"e-mail {clean(mask_email(email), _ID_LENGTH)}")
    if entry.detail:
        parts.append(clean(entry.detail, _DETAIL_LENGTH))
    if entry.request:
        parts.append(f"request {clean(entry.request, _REQUEST_LENGTH)}")
    if entry.code:
        parts.append(f"code {clean(entry.code, CAUSE_LENGTH)}")
    if entry.attempts > 1:
        parts.append(f"{entry.attempts} attempts")
    if entry.correlation_id:
        parts.append(f"correlation {clean(entry.correlation_id, _ID_LENGTH)}")
    parts.append(f"at {when(entry.last_failure_at)}")
    if entry.replayed_at is not None:
        parts.append(f"replayed {when(entry.replayed_at)}")
    return " | ".join(part for part in parts if part)


def describe_dead_letter(letter: DeadLetter) -> str:
    """One line: correlation id, attempts, first and last failure, records, request, error."""
    batch = letter.batch
    attributes = letter.attributes
    if batch is not None:
        correlation = batch.correlation_id
        attempts: int | None = batch.attempts or len(batch.failures) or None
        first, last = batch.first_failure_at, batch.last_failure_at
        records = f"{len(batch.records)} record(s)"
        note = batch.failures[-1] if batch.failures else None
        request = note.request if note is not None else ""
        error = f"{note.code}: {note.message}" if note is not None else ""
    else:
        correlation = attributes.get(CORRELATION_ID, "")
        attempts = _int(attributes.get(ATTEMPTS))
        first = _time(attributes.get(FIRST_FAILURE_AT))
        last = _time(attributes.get(LAST_FAILURE_AT))
        records = "body is not a batch"
        request = ""
        error = f"{letter.code}: {attributes.get(ERROR_MESSAGE, '')}"
    if correlation:
        parts = [f"correlation {clean(correlation, _ID_LENGTH)}"]
    else:
        parts = [f"message {clean(letter.message_id, _ID_LENGTH)}"]
    if attempts:
        parts.append(f"{attempts} attempt(s)")
    if first is not None:
        parts.append(f"first failure {when(first)}")
    if last is not None:
        parts.append(f"last failure {when(last)}")
    elif letter.sent_at is not None:
        parts.append(f"dead-lettered {when(letter.sent_at)}")
    parts.append(records)
    if request:
        parts.append(f"request {clean(request, _REQUEST_LENGTH)}")
    if error.strip(": "):
        parts.append(clean(error, _DETAIL_LENGTH))
    return " | ".join(part for part in parts if part)


def _failed_at(letter: DeadLetter) -> datetime | None:
    batch = letter.batch
    if batch is not None and batch.last_failure_at is not None:
        return batch.last_failure_at
    return _time(letter.attributes.get(LAST_FAILURE_AT)) or letter.sent_at


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _email_of(record: dict[str, Any] | None) -> str | None:
    if not record:
        return None
    visitor = record.get("visitor")
    if isinstance(visitor, dict) and isinstance(visitor.get("email"), str):
        return str(visitor["email"])
    email = record.get("email")
    if isinstance(email, str):
        return email
    value = record.get("value")
    return value if isinstance(value, str) else None
