"""In-memory stand-ins for the upload's own ports: claims, deferrals, counters, the lead
directory, the write ledger, the dead letters, and a breaker opened by hand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadsync.marketo.guard import CircuitOpen
from leadsync.sync.messages import SyncBatch


@dataclass(frozen=True)
class FakeClaimResult:
    claimed: tuple[str, ...]
    held: tuple[str, ...]


@dataclass
class FakeClaims:
    holders: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    def claim(self, emails: Sequence[str], holder: str, lease: Any) -> FakeClaimResult:
        claimed, held = [], []
        for email in dict.fromkeys(emails):
            if self.holders.get(email, holder) == holder:
                self.holders[email] = holder
                claimed.append(email)
            else:
                held.append(email)
        return FakeClaimResult(tuple(claimed), tuple(held))

    def release(self, emails: Sequence[str], holder: str) -> None:
        for email in emails:
            if self.holders.get(email) == holder:
                del self.holders[email]
                self.released.append(email)


@dataclass
class FakeDeferrer:
    deferred: list[tuple[SyncBatch, int]] = field(default_factory=list)

    def defer(self, batch: SyncBatch, delay_seconds: int) -> None:
        self.deferred.append((batch, delay_seconds))


@dataclass
class FakeStats:
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, counters: Any, *, at: datetime | None = None) -> None:
        for name, value in counters.items():
            self.totals[name] = self.totals.get(name, 0) + value


@dataclass
class FakeLeadDirectory:
    """The lead directory and list membership, in memory (e-mails as given, normalized)."""

    ids: dict[str, int | None] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def announce(self, ids: Any) -> int:
        self.log.append(f"announce {len(ids)}")
        for email, lead_id in ids.items():
            self.ids[email.strip().lower()] = lead_id
        return len(ids)

    def announce_failed(self, emails: Iterable[str]) -> int:
        given = list(emails)
        self.log.append(f"announce_failed {len(given)}")
        for email in given:
            self.ids[email.strip().lower()] = None
        return len(given)

    def ids_of(self, emails: Iterable[str]) -> dict[str, int | None]:
        self.log.append("ids_of")
        return {e: self.ids[e.strip().lower()] for e in emails if e.strip().lower() in self.ids}

    def add_members(self, list_id: int, ids: Iterable[int]) -> int:
        given = set(ids)
        self.members.setdefault(list_id, set()).update(given)
        return len(given)

    def remove_members(self, list_id: int, ids: Iterable[int]) -> int:
        given = set(ids)
        self.members.setdefault(list_id, set()).difference_update(given)
        return len(given)

    def memberships(self, ids: Iterable[int], list_ids: Iterable[int]) -> dict[int, frozenset[int]]:
        lists = list(list_ids)
        return {
            i: frozenset(lst for lst in lists if i in self.members.get(lst, set())) for i in ids
        }


@dataclass
class FakeLedger:
    """The write ledger in memory: e-mail → (when, field → value)."""

    entries: dict[str, tuple[datetime, dict[str, Any]]] = field(default_factory=dict)
    now: datetime = datetime(2026, 1, 15, 13, 0, 30, tzinfo=UTC)

    def written(self, emails: Iterable[str]) -> dict[str, Any]:
        from leadsync.adapters.ledger import LedgerEntry, value_digest

        return {
            email: LedgerEntry(at, {k: value_digest(v) for k, v in values.items()})
            for email in emails
            if email in self.entries
            for at, values in [self.entries[email]]
        }

    def record(self, writes: Mapping[str, Mapping[str, Any]]) -> int:
        for email, values in writes.items():
            before = self.entries.get(email, (self.now, {}))[1]
            self.entries[email] = (self.now, {**before, **values})
        return len(writes)


@dataclass
class FakeDeadLetterWriter:
    """Where the upload puts what it gives up on: whole batches, or raw bodies it could not
    read."""

    batches: list[SyncBatch] = field(default_factory=list)
    bodies: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def send_batch(self, batch: SyncBatch) -> str:
        self.batches.append(batch)
        return f"dl-{len(self.batches)}"

    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        self.bodies.append((body, dict(attributes)))
        return f"dl-body-{len(self.bodies)}"


class SwitchableBreaker:
    """A circuit breaker the test opens by setting `open`: open, it refuses every call and
    says it closes again in `retry_after` seconds; closed, it lets every call through."""

    def __init__(self, retry_after: float) -> None:
        self.open = False
        self.retry_after = retry_after

    def before_call(self) -> None:
        if self.open:
            raise CircuitOpen("marketo", self.retry_after)

    def succeeded(self) -> None:
        return None

    def failed(self) -> None:
        return None
