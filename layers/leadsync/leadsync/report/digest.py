"""The digest e-mail: failures grouped by cause, the day's totals, text and HTML.

Everything that came from a chat or from an answer (names, details, error messages, ids) is
cleaned (no control or invisible characters, one line), clipped, stripped of e-mail and IP
addresses, and escaped in the HTML part: it can neither inject markup nor grow the mail.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from leadsync.adapters.dead_letters import (
    ATTEMPTS,
    CORRELATION_ID,
    ERROR_MESSAGE,
    FIRST_FAILURE_AT,
    LAST_FAILURE_AT,
    DeadLetter,
)
from leadsync.bulk.report import JobLine
from leadsync.limiter.readout import BudgetReadout
from leadsync.mapping.sanitize import clean_text
from leadsync.runtime.clock import as_utc, parse_iso
from leadsync.runtime.observability import mask_email, mask_ip
from leadsync.sync.failures import ErrorEntry

MAX_EXAMPLES = 3
MAX_GROUPS = 25  # causes listed per source; the rest are summed on one line
_DETAIL_LENGTH = 160
_CAUSE_LENGTH = 100
_ID_LENGTH = 64
_REQUEST_LENGTH = 120
_CHAT_IDS = 5

ERROR_STORE = "error store"
DEAD_LETTER_QUEUE = "dead-letter queue"

# (label, counter) rows of the totals table, in order
TOTALS = (
    ("Chats read", "chats_read"),
    ("Leads created", "leads_created"),
    ("Leads updated", "leads_updated"),
    ("Leads imported", "leads_imported"),  # bulk: created or updated, Marketo does not say
    ("Chats rejected", "chats_rejected"),
    ("Records failed", "records_failed"),
    ("Marketo calls", "marketo_calls"),
)
HOUR_COUNTER = "marketo_calls_hour_"

_EMAIL_LIKE = re.compile(r"[^\s@<>()\[\]{}\"',;:]+@[^\s@<>()\[\]{}\"',;:]+")
_IPV4_LIKE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6_LIKE = re.compile(r"(?<![\w:.])[0-9A-Fa-f.:]{2,45}(?![\w:.])")


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


@dataclass(frozen=True)
class DayTotals:
    """One quota day's counters; `complete` once the day ended before the digest."""

    day: date
    counters: Mapping[str, int]
    complete: bool = True

    def get(self, name: str) -> int:
        return int(self.counters.get(name, 0))

    def busiest_hour(self) -> tuple[int, int] | None:
        """(hour, calls) of the local hour with the most Marketo calls; the earliest on ties."""
        hours: dict[int, int] = {}
        for name, value in self.counters.items():
            suffix = name.removeprefix(HOUR_COUNTER)
            if suffix != name and suffix.isdigit() and int(suffix) < 24 and value > 0:
                hours[int(suffix)] = int(value)
        if not hours:
            return None
        hour = min(hours, key=lambda h: (-hours[h], h))
        return hour, hours[hour]


@dataclass(frozen=True)
class Totals:
    zone: str
    days: Sequence[DayTotals] = ()
    budget: BudgetReadout | None = None


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str
    errors: int
    dead_letters: int
    groups: Sequence[DigestGroup] = ()
    dead_letter_groups: Sequence[DeadLetterGroup] = ()
    bulk_jobs: int = 0  # bulk imports stuck at Marketo or ended without their records

    @property
    def all_clear(self) -> bool:
        return self.errors == 0 and self.dead_letters == 0 and self.bulk_jobs == 0


# Grouping ---------------------------------------------------------------------------------


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
            reason=_clean(reason, _CAUSE_LENGTH) or "unknown",
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
        code = _clean(letter.code, _CAUSE_LENGTH) or "unknown"
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
    chats = ", ".join(_clean(chat, _ID_LENGTH) for chat in entry.chat_ids[:_CHAT_IDS])
    if len(entry.chat_ids) > _CHAT_IDS:
        chats += f" (+{len(entry.chat_ids) - _CHAT_IDS})"
    parts = [f"chats {chats or '-'}"]
    email = _email_of(entry.record)
    if email:
        parts.append(f"e-mail {_clean(mask_email(email), _ID_LENGTH)}")
    if entry.detail:
        parts.append(_clean(entry.detail, _DETAIL_LENGTH))
    if entry.request:
        parts.append(f"request {_clean(entry.request, _REQUEST_LENGTH)}")
    if entry.code:
        parts.append(f"code {_clean(entry.code, _CAUSE_LENGTH)}")
    if entry.attempts > 1:
        parts.append(f"{entry.attempts} attempts")
    if entry.correlation_id:
        parts.append(f"correlation {_clean(entry.correlation_id, _ID_LENGTH)}")
    parts.append(f"at {_when(entry.last_failure_at)}")
    if entry.replayed_at is not None:
        parts.append(f"replayed {_when(entry.replayed_at)}")
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
        parts = [f"correlation {_clean(correlation, _ID_LENGTH)}"]
    else:
        parts = [f"message {_clean(letter.message_id, _ID_LENGTH)}"]
    if attempts:
        parts.append(f"{attempts} attempt(s)")
    if first is not None:
        parts.append(f"first failure {_when(first)}")
    if last is not None:
        parts.append(f"last failure {_when(last)}")
    elif letter.sent_at is not None:
        parts.append(f"dead-lettered {_when(letter.sent_at)}")
    parts.append(records)
    if request:
        parts.append(f"request {_clean(request, _REQUEST_LENGTH)}")
    if error.strip(": "):
        parts.append(_clean(error, _DETAIL_LENGTH))
    return " | ".join(part for part in parts if part)


# Rendering --------------------------------------------------------------------------------


def render(
    entries: Sequence[ErrorEntry],
    dead_letters: Sequence[DeadLetter] = (),
    *,
    depth: int | None = None,
    since: datetime | None,
    until: datetime,
    totals: Totals | None = None,
    max_examples: int = MAX_EXAMPLES,
    bulk_jobs: Sequence[JobLine] = (),
) -> Digest:
    """`dead_letters`: those read from the queue; `depth`: how many it holds (at least);
    `bulk_jobs`: bulk imports stuck, failed or given up on."""
    groups = group_errors(entries, max_examples)
    letter_groups = group_dead_letters(dead_letters, since=since, max_examples=max_examples)
    read = sum(group.count for group in letter_groups)
    waiting = max(depth or 0, read)
    errors = sum(group.count for group in groups)
    if errors or waiting:
        subject = f"leadsync digest: {errors} new error(s), {waiting} dead letter(s)"
    else:
        subject = "leadsync digest: all clear"
    if bulk_jobs:
        subject = (
            f"leadsync digest: {errors} new error(s), {waiting} dead letter(s), "
            f"{len(bulk_jobs)} bulk import(s) to look at"
        )
    view = _View(
        period=f"{_when(since) if since else 'the beginning of retention'} to {_when(until)}",
        groups=groups[:MAX_GROUPS],
        more_groups=groups[MAX_GROUPS:],
        letter_groups=letter_groups[:MAX_GROUPS],
        more_letter_groups=letter_groups[MAX_GROUPS:],
        letters_read=read,
        letters_waiting=waiting,
        totals=totals,
        bulk_lines=[_clean(line.describe(), _BULK_LINE_LENGTH) for line in bulk_jobs],
    )
    return Digest(
        subject=subject,
        text=_text(view),
        html=_html(view),
        errors=errors,
        dead_letters=waiting,
        groups=groups,
        dead_letter_groups=letter_groups,
        bulk_jobs=len(bulk_jobs),
    )


@dataclass(frozen=True)
class _View:
    period: str
    groups: Sequence[DigestGroup]
    more_groups: Sequence[DigestGroup]
    letter_groups: Sequence[DeadLetterGroup]
    more_letter_groups: Sequence[DeadLetterGroup]
    letters_read: int
    letters_waiting: int
    totals: Totals | None
    bulk_lines: Sequence[str] = ()

    def rows(self) -> list[tuple[str, str, int]]:
        """(where, cause, count) of the summary table."""
        rows = [(ERROR_STORE, group.cause, group.count) for group in self.groups]
        if self.more_groups:
            rows.append(
                (
                    ERROR_STORE,
                    f"{len(self.more_groups)} more cause(s)",
                    sum(g.count for g in self.more_groups),
                )
            )
        rows += [(DEAD_LETTER_QUEUE, group.cause, group.count) for group in self.letter_groups]
        if self.more_letter_groups:
            rows.append(
                (
                    DEAD_LETTER_QUEUE,
                    f"{len(self.more_letter_groups)} more cause(s)",
                    sum(g.count for g in self.more_letter_groups),
                )
            )
        unread = self.letters_waiting - self.letters_read
        if unread > 0:
            rows.append((DEAD_LETTER_QUEUE, "not read for this digest", unread))
        return rows

    def totals_header(self) -> list[str]:
        assert self.totals is not None
        return [_day_label(day) for day in self.totals.days]

    def totals_rows(self) -> list[tuple[str, list[str]]]:
        assert self.totals is not None
        days = self.totals.days
        rows = [(label, [f"{day.get(name):,}" for day in days]) for label, name in TOTALS]
        rows.append(("Busiest hour", [_busiest(day, self.totals.zone) for day in days]))
        return rows

    def budget_line(self) -> str | None:
        budget = self.totals.budget if self.totals is not None else None
        if budget is None:
            return None
        line = (
            f"Marketo budget on {budget.day} ({budget.zone}): leadsync used {budget.used:,}"
            f" of its cap {budget.cap:,}, {budget.left:,} left"
        )
        if budget.instance_binds:
            line += " (the instance's quota is the tighter limit)"
        if budget.instance_used is None:
            line += (
                f"; the instance's usage has not been read today (its quota is {budget.quota:,})."
            )
        else:
            line += f"; the instance used {budget.instance_used:,} of {budget.quota:,}."
        if budget.quota_exhausted:
            line += " Marketo refused calls today (607): the instance's quota is spent."
        return line


_BULK_TITLE = "Bulk imports to look at"
_BULK_NOTE = (
    "A stuck import keeps its records staged and is polled until it finishes or is given"
    " up on (its records then take the REST path); a failed one's records are in the error"
    " store, replayable."
)
_BULK_LINE_LENGTH = 400

_FOOTER = (
    "Full records, needed to replay, are kept in the state table's error store, and dead"
    " letters stay in the DeadLetterQueue. After a fix, `leadsync replay --stack <stack>`"
    " (or `make replay STACK=<stack>`) sends both back to the sync queue; `--dry-run` first"
    " shows what it would send."
)


def _text(view: _View) -> str:
    lines = ["leadsync daily digest", f"From {view.period}.", "", "FAILURES BY CAUSE"]
    rows = view.rows()
    if rows:
        width = min(60, max(len(cause) for _, cause, _ in rows))
        lines.append(f"  {'where':<18}  {'cause':<{width}}  {'count':>7}")
        lines += [f"  {where:<18}  {cause:<{width}}  {count:>7,}" for where, cause, count in rows]
    else:
        lines.append("  No new errors; the dead-letter queue is empty.")
    if view.totals is not None:
        lines += ["", f"TOTALS (Marketo's day, {view.totals.zone})"]
        header = view.totals_header()
        if header:
            widths = [max(12, len(label)) for label in header]
            lines.append(
                "  "
                + " " * 16
                + "".join(f"  {label:>{w}}" for label, w in zip(header, widths, strict=True))
            )
            for label, values in view.totals_rows():
                if label == "Busiest hour":
                    continue
                cells = "".join(f"  {v:>{w}}" for v, w in zip(values, widths, strict=True))
                lines.append(f"  {label:<16}{cells}")
            for day, value in zip(header, view.totals_rows()[-1][1], strict=True):
                lines.append(f"  Busiest hour, {day}: {value}")
        budget = view.budget_line()
        if budget:
            lines += ["", budget]
    if view.bulk_lines:
        lines += ["", _BULK_TITLE.upper()]
        lines += [f"  - {line}" for line in view.bulk_lines]
        lines.append(f"  {_BULK_NOTE}")
    if view.groups or view.letter_groups:
        lines += ["", "EXAMPLES"]
    for group in view.groups:
        lines += ["", f"{group.cause}: {group.count} ({group.occurrences} occurrence(s))"]
        lines += [f"  - {example}" for example in group.examples]
    for letter_group in view.letter_groups:
        lines += ["", f"{DEAD_LETTER_QUEUE} / {letter_group.cause}: {_letters(letter_group)}"]
        lines += [f"  - {example}" for example in letter_group.examples]
    lines += ["", _FOOTER]
    return "\n".join(lines) + "\n"


# Inline styles only: mail clients drop <style> blocks. A plain, large sans-serif keeps the
# summary legible at a glance (and to a machine reading a screenshot).
_FONT = "font-family:'DejaVu Sans',Verdana,Arial,Helvetica,sans-serif"
_BODY = (
    f"margin:0;padding:24px;max-width:1100px;background:#ffffff;color:#1a1a1a;{_FONT};"
    "font-size:16px"
)
_H1 = "font-size:28px;margin:0 0 8px 0"
_H2 = "font-size:22px;margin:28px 0 10px 0;border-bottom:2px solid #d0d0d0"
_H3 = "font-size:17px;margin:18px 0 6px 0"
_TABLE = "border-collapse:collapse"
_CELL = "padding:6px 18px 6px 0;text-align:left;vertical-align:top"
_NUM = "padding:6px 0 6px 18px;text-align:right;vertical-align:top"
_BIG = "font-size:22px"
_EXAMPLES = "margin:4px 0 0 0;padding-left:22px"
_EXAMPLE = "font-size:14px;margin:3px 0;overflow-wrap:anywhere"


def _h(value: object) -> str:
    return html.escape(str(value), quote=True)


def _html(view: _View) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>leadsync daily digest</title></head>',
        f'<body style="{_BODY}">',
        f'<h1 style="{_H1}">leadsync daily digest</h1>',
        f"<p>From {_h(view.period)}.</p>",
        f'<h2 style="{_H2}">Failures by cause</h2>',
    ]
    rows = view.rows()
    if rows:
        parts.append(f'<table style="{_TABLE};{_BIG}">')
        parts.append(
            f'<tr><th style="{_CELL}">Where</th><th style="{_CELL}">Cause</th>'
            f'<th style="{_NUM}">Count</th></tr>'
        )
        parts += [
            f'<tr><td style="{_CELL}">{_h(where)}</td><td style="{_CELL}">{_h(cause)}</td>'
            f'<td style="{_NUM}">{count:,}</td></tr>'
            for where, cause, count in rows
        ]
        parts.append("</table>")
    else:
        parts.append(f'<p style="{_BIG}">No new errors; the dead-letter queue is empty.</p>')
    if view.totals is not None:
        parts.append(f'<h2 style="{_H2}">Totals (Marketo\'s day, {_h(view.totals.zone)})</h2>')
        header = view.totals_header()
        if header:
            parts.append(f'<table style="{_TABLE};font-size:18px">')
            parts.append(
                f'<tr><th style="{_CELL}"></th>'
                + "".join(f'<th style="{_NUM}">{_h(label)}</th>' for label in header)
                + "</tr>"
            )
            parts += [
                f'<tr><td style="{_CELL}">{_h(label)}</td>'
                + "".join(f'<td style="{_NUM}">{_h(value)}</td>' for value in values)
                + "</tr>"
                for label, values in view.totals_rows()
            ]
            parts.append("</table>")
        budget = view.budget_line()
        if budget:
            parts.append(f"<p>{_h(budget)}</p>")
    if view.bulk_lines:
        parts.append(f'<h2 style="{_H2}">{_h(_BULK_TITLE)}</h2>')
        parts.append(_examples(view.bulk_lines))
        parts.append(f"<p>{_h(_BULK_NOTE)}</p>")
    if view.groups or view.letter_groups:
        parts.append(f'<h2 style="{_H2}">Examples</h2>')
    for group in view.groups:
        parts.append(
            f'<h3 style="{_H3}">{_h(group.cause)}: {group.count:,}'
            f" <small>({group.occurrences:,} occurrence(s))</small></h3>"
        )
        parts.append(_examples(group.examples))
    for letter_group in view.letter_groups:
        parts.append(
            f'<h3 style="{_H3}">{DEAD_LETTER_QUEUE} / {_h(letter_group.cause)}:'
            f" {_h(_letters(letter_group))}</h3>"
        )
        parts.append(_examples(letter_group.examples))
    parts.append(f'<p style="font-size:13px;color:#555555;margin-top:28px">{_h(_FOOTER)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _examples(examples: Sequence[str]) -> str:
    items = "".join(f'<li style="{_EXAMPLE}">{_h(example)}</li>' for example in examples)
    return f'<ul style="{_EXAMPLES}">{items}</ul>'


# Helpers ----------------------------------------------------------------------------------


def scrub(text: str) -> str:
    """Mask e-mail addresses and IP addresses found anywhere in free text."""
    text = _EMAIL_LIKE.sub(lambda m: mask_email(m.group(0)), text)
    text = _IPV4_LIKE.sub(_mask_ip_match, text)
    return _IPV6_LIKE.sub(lambda m: _mask_ip_match(m) if m.group(0).count(":") > 1 else m[0], text)


def _mask_ip_match(match: re.Match[str]) -> str:
    candidate = match.group(0)
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return candidate
    return mask_ip(candidate)


def _clean(value: object, limit: int) -> str:
    """One visible line of at most `limit` characters, addresses masked."""
    text = clean_text(value, limit * 2) or ""
    text = scrub(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


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


def _failed_at(letter: DeadLetter) -> datetime | None:
    batch = letter.batch
    if batch is not None and batch.last_failure_at is not None:
        return batch.last_failure_at
    return _time(letter.attributes.get(LAST_FAILURE_AT)) or letter.sent_at


def _letters(group: DeadLetterGroup) -> str:
    text = f"{group.count:,} waiting, {group.new:,} new since the last digest"
    if group.records:
        text += f", {group.records:,} record(s)"
    return text


def _day_label(day: DayTotals) -> str:
    return day.day.isoformat() if day.complete else f"{day.day.isoformat()} (so far)"


def _busiest(day: DayTotals, zone: str) -> str:
    busiest = day.busiest_hour()
    if busiest is None:
        return "-"
    hour, calls = busiest
    return f"{hour:02d}:00\N{EN DASH}{hour + 1:02d}:00 {zone}, {calls:,} calls"


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
