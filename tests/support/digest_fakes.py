"""In-memory stand-ins for the digest's ports, and the digest job run against them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadsync.report.digest_job import DigestSummary, run
from tests.support.fakes import FakeState


@dataclass
class FakeMailer:
    sent: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None

    def send(self, to: Sequence[str], subject: str, text: str, html: str) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append({"to": list(to), "subject": subject, "text": text, "html": html})
        return f"msg-{len(self.sent)}"


@dataclass
class FakeDeadLetters:
    """A dead-letter queue to peek at: the letters stay, whatever is read."""

    letters: list[Any] = field(default_factory=list)
    depth: int | None = None  # None: as many as the letters
    peeks: list[int] = field(default_factory=list)

    def peek(self, limit: int = 100) -> list[Any]:
        self.peeks.append(limit)
        return list(self.letters[:limit])

    def approximate_depth(self) -> int:
        return len(self.letters) if self.depth is None else self.depth


@dataclass
class FakeDailyStats:
    """Counters by local day, as DailyStats.read returns them."""

    days: dict[Any, dict[str, int]] = field(default_factory=dict)
    reads: list[Any] = field(default_factory=list)

    def read(self, day: Any) -> dict[str, int]:
        self.reads.append(day)
        return dict(self.days.get(day, {}))


@dataclass
class FakeBudget:
    readout: Any

    def read(self) -> Any:
        return self.readout


def run_digest(
    state: FakeState,
    mailer: FakeMailer,
    *,
    at: datetime,
    letters: FakeDeadLetters | None = None,
    **options: Any,
) -> DigestSummary:
    """The digest job at `at`, mailing admin@example.com; `letters` (none by default) are both
    the dead letters it samples and the depth it reports."""
    dead = FakeDeadLetters() if letters is None else letters
    return run(
        state=state,
        dead_letters=dead,
        dead_letter_depth=dead,
        mailer=mailer,
        recipients=["admin@example.com"],
        now=lambda: at,
        **options,
    )
