"""What the logic needs from the outside world; adapters (and test fakes) provide it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from leadsync.failures import ErrorEntry
from leadsync.marketo.models import Lead, RecordResult
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


class LeadLookup(Protocol):
    def lookup_by_email(
        self, emails: Iterable[str], fields: Sequence[str] = ...
    ) -> dict[str, list[Lead]]: ...


class LeadWriter(LeadLookup, Protocol):
    def create_only(
        self, records: Sequence[Mapping[str, Any]], lookup_field: str = ...
    ) -> list[RecordResult]: ...

    def update_only(
        self, records: Sequence[Mapping[str, Any]], lookup_field: str = ...
    ) -> list[RecordResult]: ...

    def create_or_update(
        self, records: Sequence[Mapping[str, Any]], lookup_field: str = ...
    ) -> list[RecordResult]: ...

    def add_to_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]: ...

    def remove_from_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]: ...

    def delete(self, ids: Sequence[int]) -> list[RecordResult]: ...


class Written(Protocol):
    """What was last written to one lead, and when."""

    @property
    def at(self) -> datetime: ...

    def holds(self, name: str, value: Any) -> bool: ...


class WriteLedger(Protocol):
    def written(self, emails: Iterable[str]) -> Mapping[str, Written]: ...

    def record(self, writes: Mapping[str, Mapping[str, Any]]) -> int: ...


class LeadDirectory(Protocol):
    """Lead ids of the leads a run creates, for the list operations that wait for them, and
    the static lists leadsync put leads in."""

    def announce(self, ids: Mapping[str, int]) -> int: ...

    def announce_failed(self, emails: Iterable[str]) -> int: ...

    def ids_of(self, emails: Iterable[str]) -> dict[str, int | None]:
        """E-mail → lead id, or None when its create failed; unknown e-mails are absent."""
        ...

    def add_members(self, list_id: int, ids: Iterable[int]) -> int: ...

    def remove_members(self, list_id: int, ids: Iterable[int]) -> int: ...


class ListMemberships(Protocol):
    def memberships(self, ids: Iterable[int], list_ids: Iterable[int]) -> dict[int, frozenset[int]]:
        """Lead id → the lists among `list_ids` leadsync put it in."""
        ...


class StatsSink(Protocol):
    def add(self, counters: Mapping[str, int], *, at: datetime | None = ...) -> None: ...


class ErrorSink(Protocol):
    def record_errors(self, entries: Iterable[ErrorEntry]) -> int: ...


class CreateClaimer(Protocol):
    """Only one writer at a time may create the lead of an e-mail (Marketo duplicates
    overlapping creates)."""

    def claim(self, emails: Sequence[str], holder: str, lease: timedelta) -> ClaimOutcome: ...

    def release(self, emails: Sequence[str], holder: str) -> None: ...


class ClaimOutcome(Protocol):
    @property
    def claimed(self) -> tuple[str, ...]: ...

    @property
    def held(self) -> tuple[str, ...]: ...


class Deferrer(Protocol):
    def defer(self, batch: SyncBatch, delay_seconds: int) -> None: ...


class DeadLetterSink(Protocol):
    """Where a batch goes, with its history, when no further delivery can help."""

    def send_batch(self, batch: SyncBatch) -> str: ...

    def send(self, body: str, attributes: Mapping[str, str]) -> str: ...
