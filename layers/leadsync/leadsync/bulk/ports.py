"""What the bulk path needs from the outside world; adapters (and test fakes) provide it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from leadsync.bulk.jobs import BulkJob, BulkMessage, JobStatus, StagedFile
from leadsync.marketo.models import ImportJob
from leadsync.sync.fetch.reread import Reread


class JobStore(Protocol):
    def create(self, job: BulkJob) -> bool:
        """Store a new job; False when a job of that id exists already."""
        ...

    def get(self, job_id: str) -> BulkJob | None: ...

    def replace(self, old: BulkJob, new: BulkJob) -> bool:
        """Write `new`, as version `old.version + 1`, only if the stored job is still at
        `old`'s version; False when another copy wrote it first."""
        ...

    def jobs(self, statuses: Iterable[JobStatus] | None = None) -> list[BulkJob]: ...


class ImportSlots(Protocol):
    """leadsync's share of Marketo's import queue, counted by job (claiming twice is once)."""

    def claim(self, job_id: str, limit: int) -> bool: ...

    def release(self, job_id: str) -> None: ...

    def held(self) -> list[str]: ...


class StagedFiles(Protocol):
    def put(self, key: str, staged: StagedFile) -> None: ...

    def get(self, key: str) -> StagedFile: ...

    def delete(self, key: str) -> None: ...


class BulkApi(Protocol):
    def submit_import(
        self,
        csv_bytes: bytes,
        format: str = ...,
        lookup_field: str = ...,
        list_id: int | None = ...,
        partition_name: str | None = ...,
    ) -> ImportJob: ...

    def import_status(self, batch_id: int) -> ImportJob: ...

    def import_failures(self, batch_id: int) -> bytes: ...

    def import_warnings(self, batch_id: int) -> bytes: ...


class BulkSender(Protocol):
    def send_bulk(self, messages: Iterable[BulkMessage], delay_seconds: int = ...) -> int: ...


class WrittenAt(Protocol):
    @property
    def at(self) -> datetime: ...


class RecentWrites(Protocol):
    """What leadsync's own lanes (the upload, the priority lane) last wrote to each lead:
    the write ledger."""

    def written(self, emails: Iterable[str]) -> Mapping[str, WrittenAt]: ...


class RereadRequester(Protocol):
    """Where the fetch finds that it must read chats again (merged into any request there)."""

    def request(self, wanted: Reread) -> Reread: ...
