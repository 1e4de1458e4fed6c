"""What the digest needs from the outside world: its watermark and the error store, the
dead-letter queue's depth, and a mail sender."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from leadsync.sync.failures import ErrorEntry


class DigestState(Protocol):
    def get_digest_watermark(self) -> datetime | None: ...

    def put_digest_watermark(self, mark: datetime) -> None: ...

    def errors_between(self, since: datetime | None, until: datetime) -> list[ErrorEntry]: ...


class QueueDepth(Protocol):
    def approximate_depth(self) -> int: ...


class MailSender(Protocol):
    def send(self, to: Sequence[str], subject: str, text: str, html: str) -> str: ...
