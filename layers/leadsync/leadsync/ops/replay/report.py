"""What a replay ends with: its counts, its lines grouped by kind, and the words they use
(counted nouns, times, e-mail addresses masked)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from leadsync.runtime.clock import iso_utc
from leadsync.runtime.observability import mask_email

# lines of one kind said one by one; the rest are counted
MAX_LISTED = 25
# the order the lines are said in, whatever order they were found in
_KINDS = ("dead letters", "record groups", "not replayable", "notes")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")


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


def counted(count: int, noun: str) -> str:
    """`1 entry`, `3 entries`, `2 dead letters`."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1] + 'ies' if noun.endswith('ry') else noun + 's'}"


def counts(counter: Counter[str]) -> str:
    return ", ".join(f"{count} {name}" for name, count in counter.most_common())


def when(moment: datetime) -> str:
    return iso_utc(moment)[:19] + "Z"


def span(first: datetime, last: datetime) -> str:
    return when(first) if when(first) == when(last) else f"{when(first)} … {when(last)}"


def scrub(text: str) -> str:
    """A message from elsewhere, with any e-mail address in it masked."""
    return _EMAIL.sub(lambda found: mask_email(found.group(0)), text)
