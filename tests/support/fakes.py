"""In-memory stand-ins for the ports, for logic tests without AWS."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadsync.errors import ConditionFailed
from leadsync.failures import ErrorEntry
from leadsync.messages import SyncBatch


@dataclass
class FakeSource:
    entries: list[Any] = field(default_factory=list)
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    error: Exception | None = None

    def list_archives(self, since: datetime, until: datetime) -> Iterator[Any]:
        self.windows.append((since, until))
        if self.error is not None:
            raise self.error
        yield from self.entries


@dataclass
class FakeState:
    mark: datetime | None = None
    digest_mark: datetime | None = None
    errors: list[ErrorEntry] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def get_high_water_mark(self, source: str = "livechat") -> datetime | None:
        return self.mark

    def put_high_water_mark(self, mark: datetime, source: str = "livechat") -> None:
        if self.mark is not None and self.mark > mark:
            raise ConditionFailed("newer mark stored")
        self.log.append("mark")
        self.mark = mark

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int:
        added = list(entries)
        self.log.append("errors")
        self.errors.extend(added)
        return len(added)

    def get_digest_watermark(self) -> datetime | None:
        return self.digest_mark

    def put_digest_watermark(self, mark: datetime) -> None:
        self.log.append("digest_mark")
        self.digest_mark = mark

    def errors_between(self, since: datetime | None, until: datetime) -> list[ErrorEntry]:
        return [
            e
            for e in self.errors
            if (since is None or e.last_failure_at > since) and e.last_failure_at <= until
        ]


@dataclass
class FakeQueue:
    batches: list[SyncBatch] = field(default_factory=list)
    error: Exception | None = None
    depth: int = 0

    def send_batches(self, batches: Sequence[SyncBatch]) -> int:
        if self.error is not None:
            raise self.error
        self.batches.extend(batches)
        return len(batches)

    def approximate_depth(self) -> int:
        return self.depth


@dataclass
class FakeMailer:
    sent: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None

    def send(self, to: Sequence[str], subject: str, text: str, html: str) -> str:
        if self.error is not None:
            raise self.error
        self.sent.append({"to": list(to), "subject": subject, "text": text, "html": html})
        return f"msg-{len(self.sent)}"
