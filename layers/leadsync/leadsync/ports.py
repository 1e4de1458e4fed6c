"""What more than one slice needs from the outside world; adapters (and test fakes) provide it.

What one slice alone needs is in that slice's own `ports` (sync/fetch, sync/upload, report,
bulk).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from leadsync.marketo.models import Lead, RecordResult
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.messages import SyncBatch


class BatchSink(Protocol):
    def send_batches(self, batches: Sequence[SyncBatch]) -> int: ...


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


class StatsSink(Protocol):
    def add(self, counters: Mapping[str, int], *, at: datetime | None = ...) -> None: ...


class ErrorSink(Protocol):
    def record_errors(self, entries: Iterable[ErrorEntry]) -> int: ...
