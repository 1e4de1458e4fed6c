"""What the digest says, before it is written as text or HTML: the period, the failures by
cause, the totals table, the budget line, the bulk imports to look at, and the fixed
wording around them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadsync.report.failures import DeadLetterGroup, DigestGroup
from leadsync.report.totals import TOTALS, DayTotals, Totals

ERROR_STORE = "error store"
DEAD_LETTER_QUEUE = "dead-letter queue"
BUSIEST_HOUR = "Busiest hour"

BULK_TITLE = "Bulk imports to look at"
BULK_NOTE = (
    "A stuck import keeps its records staged and is polled until it finishes or is given"
    " up on (its records then take the REST path); a failed one's records are in the error"
    " store, replayable."
)
FOOTER = (
    "Full records, needed to replay, are kept in the state table's error store, and dead"
    " letters stay in the DeadLetterQueue. After a fix, `leadsync replay --stack <stack>`"
    " (or `make replay STACK=<stack>`) sends both back to the sync queue; `--dry-run` first"
    " shows what it would send."
)
NOTHING = "No new errors; the dead-letter queue is empty."


@dataclass(frozen=True)
class DigestView:
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
            rows.append(_more(ERROR_STORE, self.more_groups))
        rows += [(DEAD_LETTER_QUEUE, group.cause, group.count) for group in self.letter_groups]
        if self.more_letter_groups:
            rows.append(_more(DEAD_LETTER_QUEUE, self.more_letter_groups))
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
        rows.append((BUSIEST_HOUR, [_busiest(day, self.totals.zone) for day in days]))
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


def letters(group: DeadLetterGroup) -> str:
    """How many of a cause's dead letters wait, how many are new, how many records."""
    text = f"{group.count:,} waiting, {group.new:,} new since the last digest"
    if group.records:
        text += f", {group.records:,} record(s)"
    return text


def _more(where: str, groups: Sequence[DigestGroup | DeadLetterGroup]) -> tuple[str, str, int]:
    """One row for the causes past the listed ones."""
    return (where, f"{len(groups)} more cause(s)", sum(g.count for g in groups))


def _day_label(day: DayTotals) -> str:
    return day.day.isoformat() if day.complete else f"{day.day.isoformat()} (so far)"


def _busiest(day: DayTotals, zone: str) -> str:
    busiest = day.busiest_hour()
    if busiest is None:
        return "-"
    hour, calls = busiest
    return f"{hour:02d}:00\N{EN DASH}{hour + 1:02d}:00 {zone}, {calls:,} calls"
