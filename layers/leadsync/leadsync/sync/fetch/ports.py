"""What the fetch alone needs from the outside world: the archives it reads and its state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

from leadsync.sync.failures import ErrorEntry


class ArchiveSource(Protocol):
    def list_archives(self, since: datetime, until: datetime) -> Iterator[Any]: ...


class FetchState(Protocol):
    def get_high_water_mark(self, source: str = ...) -> datetime | None: ...

    def put_high_water_mark(self, mark: datetime, source: str = ...) -> None: ...

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int: ...
