"""In-memory stand-ins for what `leadsync replay` reads and writes: the error store, the
dead-letter queue, and the sync queue it sends to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadsync.sync.failures import ErrorEntry
from leadsync.sync.messages import SyncBatch
from tests.support.fakes import FakeQueue


@dataclass
class FakeSyncQueue(FakeQueue):
    """FakeQueue that also notes each send in a log shared with other fakes."""

    log: list[str] = field(default_factory=list)

    def send_batches(self, batches: Sequence[SyncBatch]) -> int:
        self.log.append(f"send {len(batches)}")
        return super().send_batches(batches)


@dataclass
class FakeDeadLetterQueue:
    """The dead-letter queue: a letter received stays out of sight until released or deleted."""

    visible: list[Any] = field(default_factory=list)  # DeadLetter
    hidden: list[Any] = field(default_factory=list)
    deleted: list[Any] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    visibility: list[int] = field(default_factory=list)
    delete_error: Exception | None = None

    def put(self, body: str, attributes: dict[str, str] | None = None, **kw: Any) -> Any:
        from leadsync.adapters.dead_letters import DeadLetter

        number = len(self.visible) + len(self.hidden) + len(self.deleted) + 1
        letter = DeadLetter(
            message_id=f"dl-{number}",
            receipt_handle=f"rh-{number}",
            body=body,
            attributes=attributes or {},
            **kw,
        )
        self.visible.append(letter)
        return letter

    def put_batch(self, batch: SyncBatch, **kw: Any) -> Any:
        return self.put(batch.model_dump_json(), **kw)

    def receive(self, limit: int = 10, *, visibility_seconds: int = 60) -> list[Any]:
        taken, self.visible = self.visible[:limit], self.visible[limit:]
        self.hidden.extend(taken)
        self.visibility.append(visibility_seconds)
        self.log.append(f"receive {len(taken)}")
        return taken

    def release(self, letters: Sequence[Any]) -> None:
        self.log.append(f"release {len(letters)}")
        for letter in letters:
            self.hidden.remove(letter)
            self.visible.append(letter)

    def delete(self, letters: Sequence[Any]) -> None:
        self.log.append(f"delete {len(letters)}")
        if self.delete_error is not None:
            raise self.delete_error
        for letter in letters:
            self.hidden.remove(letter)
            self.deleted.append(letter)


@dataclass
class FakeErrorStore:
    """The error store's replay side: entries by key, a replayed mark set at most once."""

    entries: dict[str, ErrorEntry] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    queried: list[tuple[datetime | None, datetime]] = field(default_factory=list)

    def add(self, entry: ErrorEntry) -> str:
        at = entry.last_failure_at
        key = f"error#{at.date().isoformat()}|{at.isoformat()}#{len(self.entries):04d}"
        self.entries[key] = entry.model_copy(update={"key": key})
        return key

    def errors_between(self, since: datetime | None, until: datetime) -> list[ErrorEntry]:
        self.queried.append((since, until))
        return [
            e
            for e in self.entries.values()
            if (since is None or e.last_failure_at > since) and e.last_failure_at <= until
        ]

    def mark_replayed(self, key: str, at: datetime | None = None) -> bool:
        self.log.append(f"mark {key}")
        entry = self.entries[key]
        if entry.replayed_at is not None:
            return False
        self.entries[key] = entry.model_copy(
            update={"replayed_at": at or datetime.now().astimezone()}
        )
        return True
