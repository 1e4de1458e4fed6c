"""What the fetch alone needs from the outside world: the archives it reads, its state and
the request to read chats again (`reread`); and, for what the sync does beyond lead writes,
the list memberships leadsync set, the address each customer had last time, and the
erasure requests waiting."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from leadsync.erasure.request import ErasureRequest
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.reread import Reread


class ArchiveSource(Protocol):
    def list_archives(self, since: datetime, until: datetime) -> Iterator[Any]: ...


class FetchState(Protocol):
    def get_high_water_mark(self, source: str = ...) -> datetime | None: ...

    def put_high_water_mark(self, mark: datetime, source: str = ...) -> None: ...

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int: ...


class RereadRequests(Protocol):
    """The request to read chats again, if any; a run clears it, or moves it past the
    window it read, only while it is still the request the run read (False otherwise)."""

    def pending(self) -> Reread | None: ...

    def clear(self, read: Reread) -> bool: ...

    def advance(self, read: Reread, to: datetime) -> bool: ...


class MembershipReader(Protocol):
    def memberships(
        self, lead_ids: Iterable[int], list_ids: Iterable[int]
    ) -> Mapping[int, frozenset[int]]: ...


class IdentityMemory(Protocol):
    def get_many(self, customer_ids: Iterable[str]) -> dict[str, str]: ...

    def put_many(self, identities: Mapping[str, str]) -> int: ...


class ErasureInbox(Protocol):
    """Erasure requests waiting (a queue, a file); confirmed once their deletes are queued."""

    def take(self) -> list[ErasureRequest]: ...

    def confirm(self) -> None: ...
