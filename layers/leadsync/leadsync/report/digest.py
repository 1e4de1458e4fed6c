"""The digest e-mail: failures grouped by cause, the day's totals, the bulk imports to look
at; its subject and its figures, written as text (`digest_text`) and HTML (`digest_html`)
from one view of what it says (`digest_view`). Every value that came from a chat or an
answer is cleaned first (`cleaning`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from leadsync.adapters.dead_letters import DeadLetter
from leadsync.bulk.report import JobLine
from leadsync.report.cleaning import clean, when
from leadsync.report.digest_html import html
from leadsync.report.digest_text import text
from leadsync.report.digest_view import DigestView
from leadsync.report.failures import (
    MAX_EXAMPLES,
    DeadLetterGroup,
    DigestGroup,
    group_dead_letters,
    group_errors,
)
from leadsync.report.totals import Totals
from leadsync.sync.failures import ErrorEntry

MAX_GROUPS = 25  # causes listed per source; the rest are summed on one line
_BULK_LINE_LENGTH = 400


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
    view = DigestView(
        period=f"{when(since) if since else 'the beginning of retention'} to {when(until)}",
        groups=groups[:MAX_GROUPS],
        more_groups=groups[MAX_GROUPS:],
        letter_groups=letter_groups[:MAX_GROUPS],
        more_letter_groups=letter_groups[MAX_GROUPS:],
        letters_read=read,
        letters_waiting=waiting,
        totals=totals,
        bulk_lines=[clean(line.describe(), _BULK_LINE_LENGTH) for line in bulk_jobs],
    )
    return Digest(
        subject=_subject(errors, waiting, len(bulk_jobs)),
        text=text(view),
        html=html(view),
        errors=errors,
        dead_letters=waiting,
        groups=groups,
        dead_letter_groups=letter_groups,
        bulk_jobs=len(bulk_jobs),
    )


def _subject(errors: int, dead_letters: int, bulk_jobs: int) -> str:
    if bulk_jobs:
        return (
            f"leadsync digest: {errors} new error(s), {dead_letters} dead letter(s), "
            f"{bulk_jobs} bulk import(s) to look at"
        )
    if errors or dead_letters:
        return f"leadsync digest: {errors} new error(s), {dead_letters} dead letter(s)"
    return "leadsync digest: all clear"
