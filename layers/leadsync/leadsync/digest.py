"""The digest e-mail, rendered from error-store entries: text and HTML, nothing in clear."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadsync.clock import iso_utc
from leadsync.failures import ErrorEntry
from leadsync.observability import mask_email

MAX_EXAMPLES = 5
_DETAIL_LENGTH = 120


@dataclass(frozen=True)
class DigestGroup:
    kind: str
    reason: str
    count: int  # distinct failures (the same chat failing twice counts once)
    occurrences: int
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    errors: int
    dead_letters: int

    @property
    def all_clear(self) -> bool:
        return self.errors == 0 and self.dead_letters == 0


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
            reason=reason,
            count=len(distinct[(kind, reason)]),
            occurrences=occurrences[(kind, reason)],
            examples=[describe(e) for e in list(distinct[(kind, reason)].values())[:max_examples]],
        )
        for kind, reason in occurrences
    ]
    return sorted(groups, key=lambda g: (-g.count, g.kind, g.reason))


def describe(entry: ErrorEntry) -> str:
    """One masked line: chat ids, masked e-mail, detail, correlation id, time."""
    parts = [f"chats {', '.join(entry.chat_ids[:5]) or '-'}"]
    email = _email_of(entry.record)
    if email:
        parts.append(f"e-mail {mask_email(email)}")
    if entry.detail:
        parts.append(entry.detail[:_DETAIL_LENGTH])
    if entry.correlation_id:
        parts.append(f"correlation {entry.correlation_id}")
    parts.append(f"at {iso_utc(entry.last_failure_at)}")
    return " | ".join(parts)


def render(
    entries: Sequence[ErrorEntry],
    dead_letters: int,
    *,
    since: datetime | None,
    until: datetime,
    max_examples: int = MAX_EXAMPLES,
) -> Digest:
    groups = group_errors(entries, max_examples)
    errors = sum(group.count for group in groups)
    if errors or dead_letters:
        subject = f"leadsync digest: {errors} new error(s), {dead_letters} dead letter(s)"
    else:
        subject = "leadsync digest: all clear"
    period = f"{iso_utc(since) if since else 'the beginning of retention'} to {iso_utc(until)}"
    return Digest(
        subject=subject,
        text=_text(groups, dead_letters, period),
        html=_html(groups, dead_letters, period),
        errors=errors,
        dead_letters=dead_letters,
    )


def _text(groups: list[DigestGroup], dead_letters: int, period: str) -> str:
    lines = [f"leadsync errors from {period}", ""]
    lines.append(f"Dead-letter queue: {dead_letters} message(s) waiting.")
    if not groups:
        lines.append("No new errors.")
    for group in groups:
        lines.append("")
        lines.append(
            f"{group.kind} / {group.reason}: {group.count} ({group.occurrences} occurrence(s))"
        )
        lines.extend(f"  - {example}" for example in group.examples)
    lines.append("")
    lines.append("Full records, needed to replay, are kept in the state table's error store.")
    return "\n".join(lines) + "\n"


def _html(groups: list[DigestGroup], dead_letters: int, period: str) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><body>",
        f"<h1>leadsync errors</h1><p>From {esc(period)}.</p>",
        f"<p>Dead-letter queue: <strong>{dead_letters}</strong> message(s) waiting.</p>",
    ]
    if not groups:
        parts.append("<p>No new errors.</p>")
    for group in groups:
        parts.append(
            f"<h2>{esc(group.kind)} / {esc(group.reason)}: {group.count}"
            f" <small>({group.occurrences} occurrence(s))</small></h2>"
        )
        parts.append("<ul>")
        parts.extend(f"<li>{esc(example)}</li>" for example in group.examples)
        parts.append("</ul>")
    parts.append(
        "<p>Full records, needed to replay, are kept in the state table's error store.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def _email_of(record: dict[str, Any] | None) -> str | None:
    if not record:
        return None
    visitor = record.get("visitor")
    if isinstance(visitor, dict) and isinstance(visitor.get("email"), str):
        return str(visitor["email"])
    value = record.get("value")
    return value if isinstance(value, str) else None
