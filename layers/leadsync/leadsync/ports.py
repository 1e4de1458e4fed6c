"""What the logic needs from the outside world; adapters (and test fakes) provide it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from leadsync.failures import ErrorEntry
from leadsync.messages import SyncBatch


class ArchiveSource(Protocol):
    def list_archives(self, since: datetime, until: datetime) -> Iterator[Any]: ...


class FetchState(Protocol):
    def get_high_water_mark(self, source: str = ...) -> datetime | None: ...

    def put_high_water_mark(self, mark: datetime, source: str = ...) -> None: ...

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int: ...


class BatchSink(Protocol):
    def send_batches(self, batches: Sequence[SyncBatch]) -> int: ...


class DigestState(Protocol):
    def get_digest_watermark(self) -> datetime | None: ...

    def put_digest_watermark(self, mark: datetime) -> None: ...

    def errors_between(self, since: datetime | None, until: datetime) -> list[ErrorEntry]: ...


class QueueDepth(Protocol):
    def approximate_depth(self) -> int: ...


class MailSender(Protocol):
    def send(self, to: Sequence[str], subject: str, text: str, html: str) -> str: ...
