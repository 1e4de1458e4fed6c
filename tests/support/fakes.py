"""In-memory stand-ins for the ports, for logic tests without AWS."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadsync.errors import ConditionFailed
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.messages import SyncBatch


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


@dataclass
class FakeMarketo:
    """An in-memory lead table with Marketo's createOnly / updateOnly / lookup semantics."""

    leads: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # raised by the call of that number (1-based), once
    fail_on_call: dict[int, Exception] = field(default_factory=dict)
    # record-level refusals by e-mail: code
    refuse: dict[str, str] = field(default_factory=dict)
    updated_at: str = "2026-01-15T12:00:00Z"
    next_id: int = 1000

    def add(self, **values: Any) -> int:
        self.next_id += 1
        self.leads[self.next_id] = {"updatedAt": self.updated_at, **values}
        return self.next_id

    def _call(self, kind: str) -> None:
        self.calls.append(kind)
        error = self.fail_on_call.pop(len(self.calls), None)
        if error is not None:
            raise error

    def by_email(self, email: str) -> list[int]:
        return sorted(i for i, lead in self.leads.items() if lead.get("email") == email)

    def lookup_by_email(self, emails: Iterable[str], fields: Sequence[str] = ()) -> dict[str, Any]:
        from leadsync.marketo.models import Lead

        wanted = list(emails)
        self._call("lookup")
        out: dict[str, list[Lead]] = {email: [] for email in wanted}
        for email in wanted:
            for lead_id in self.by_email(email):
                lead = self.leads[lead_id]
                out[email].append(
                    Lead(id=lead_id, fields={f: lead.get(f) for f in fields if f != "id"})
                )
        return out

    def create_only(self, records: Sequence[Any], lookup_field: str = "email") -> list[Any]:
        from leadsync.marketo.models import MarketoReason, RecordResult

        self._call("create_only")
        out = []
        for index, record in enumerate(records):
            email = record["email"]
            if email in self.refuse:
                out.append(_skipped(index, self.refuse[email]))
            elif self.by_email(email):
                out.append(
                    RecordResult(
                        index=index, status="skipped", reasons=(MarketoReason(code="1005"),)
                    )
                )
            else:
                out.append(RecordResult(index=index, id=self.add(**record), status="created"))
        return out

    def update_only(self, records: Sequence[Any], lookup_field: str = "id") -> list[Any]:
        from leadsync.marketo.models import RecordResult

        self._call("update_only")
        out = []
        for index, record in enumerate(records):
            lead_id = record["id"]
            lead = self.leads.get(lead_id)
            if lead is None:
                out.append(_skipped(index, "1004"))
            elif lead.get("email") in self.refuse:
                out.append(_skipped(index, self.refuse[lead["email"]]))
            else:
                lead.update({k: v for k, v in record.items() if k != "id"})
                out.append(RecordResult(index=index, id=lead_id, status="updated"))
        return out

    def create_or_update(self, records: Sequence[Any], lookup_field: str = "email") -> list[Any]:
        from leadsync.marketo.models import RecordResult

        self._call("create_or_update")
        out = []
        for index, record in enumerate(records):
            email = record["email"]
            found = self.by_email(email)
            if email in self.refuse:
                out.append(_skipped(index, self.refuse[email]))
            elif len(found) > 1:
                out.append(_skipped(index, "1007"))
            elif found:
                self.leads[found[0]].update(record)
                out.append(RecordResult(index=index, id=found[0], status="updated"))
            else:
                out.append(RecordResult(index=index, id=self.add(**record), status="created"))
        return out

    # static lists: list id → member lead ids; record-level refusals by lead id: code
    lists: dict[int, set[int]] = field(default_factory=lambda: {1001: set()})
    refuse_ids: dict[int, str] = field(default_factory=dict)
    # (kind, list id or 0, ids) of every list and delete call
    id_calls: list[tuple[str, int, list[int]]] = field(default_factory=list)

    def _by_id(self, kind: str, list_id: int, ids: Sequence[int], apply: Any) -> list[Any]:
        from leadsync.marketo.models import RecordResult

        self._call(kind)
        self.id_calls.append((kind, list_id, list(ids)))
        out = []
        for index, lead_id in enumerate(ids):
            if lead_id not in self.leads:
                out.append(_skipped(index, "1004"))
            elif lead_id in self.refuse_ids:
                out.append(_skipped(index, self.refuse_ids[lead_id]))
            else:
                status = apply(lead_id)
                if status.isdigit():
                    out.append(_skipped(index, status))
                else:
                    out.append(RecordResult(index=index, id=lead_id, status=status))
        return out

    def add_to_list(self, list_id: int, ids: Sequence[int]) -> list[Any]:
        members = self.lists.setdefault(list_id, set())

        def add(lead_id: int) -> str:
            members.add(lead_id)
            return "added"

        return self._by_id("list_add", list_id, ids, add)

    def remove_from_list(self, list_id: int, ids: Sequence[int]) -> list[Any]:
        members = self.lists.setdefault(list_id, set())

        def remove(lead_id: int) -> str:
            if lead_id not in members:
                return "1015"
            members.discard(lead_id)
            return "removed"

        return self._by_id("list_remove", list_id, ids, remove)

    def delete(self, ids: Sequence[int]) -> list[Any]:
        def delete(lead_id: int) -> str:
            del self.leads[lead_id]
            for members in self.lists.values():
                members.discard(lead_id)
            return "deleted"

        return self._by_id("delete", 0, ids, delete)


def _skipped(index: int, code: str) -> Any:
    from leadsync.marketo.models import MarketoReason, RecordResult

    return RecordResult(
        index=index,
        status="skipped",
        reasons=(MarketoReason(code=code, message=f"refused {code}"),),
    )


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
class FakeDeadLetters:
    """A dead-letter queue to peek at: the letters stay, whatever is read."""

    letters: list[Any] = field(default_factory=list)
    depth: int | None = None  # None: as many as the letters
    peeks: list[int] = field(default_factory=list)

    def peek(self, limit: int = 100) -> list[Any]:
        self.peeks.append(limit)
        return list(self.letters[:limit])

    def approximate_depth(self) -> int:
        return len(self.letters) if self.depth is None else self.depth


@dataclass
class FakeDailyStats:
    """Counters by local day, as DailyStats.read returns them."""

    days: dict[Any, dict[str, int]] = field(default_factory=dict)
    reads: list[Any] = field(default_factory=list)

    def read(self, day: Any) -> dict[str, int]:
        self.reads.append(day)
        return dict(self.days.get(day, {}))


@dataclass
class FakeBudget:
    readout: Any

    def read(self) -> Any:
        return self.readout


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
