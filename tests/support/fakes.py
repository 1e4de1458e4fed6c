"""In-memory stand-ins for the fetch's ports and for Marketo, for logic tests without AWS."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from leadsync.errors import ConditionFailed
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.reread import Reread
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
class FakeRereads:
    """The request to read chats again, versioned as the state table keeps it."""

    stored: Reread | None = None
    log: list[str] = field(default_factory=list)

    def request(self, wanted: Reread) -> Reread:
        merged = wanted if self.stored is None else self.stored.merged(wanted)
        version = self.stored.version + 1 if self.stored is not None else 1
        self.stored = replace(merged, version=version)
        return self.stored

    def pending(self) -> Reread | None:
        return self.stored

    def clear(self, read: Reread) -> bool:
        if self.stored is None or self.stored.version != read.version:
            self.log.append("kept")
            return False
        self.log.append("cleared")
        self.stored = None
        return True

    def advance(self, read: Reread, to: datetime) -> bool:
        if self.stored is None or self.stored.version != read.version:
            self.log.append("kept")
            return False
        self.log.append("advanced")
        self.stored = replace(read, read_from=to, version=read.version + 1)
        return True


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

    def _each(self, kind: str, records: Sequence[Any], write: Any) -> list[Any]:
        """One call of `kind`: `write(index, record)` gives each record's result, in order."""
        self._call(kind)
        return [write(index, record) for index, record in enumerate(records)]

    def create_only(self, records: Sequence[Any], lookup_field: str = "email") -> list[Any]:
        from leadsync.marketo.models import MarketoReason, RecordResult

        def create(index: int, record: Any) -> Any:
            email = record["email"]
            if email in self.refuse:
                return _skipped(index, self.refuse[email])
            if self.by_email(email):
                return RecordResult(
                    index=index, status="skipped", reasons=(MarketoReason(code="1005"),)
                )
            return RecordResult(index=index, id=self.add(**record), status="created")

        return self._each("create_only", records, create)

    def update_only(self, records: Sequence[Any], lookup_field: str = "id") -> list[Any]:
        from leadsync.marketo.models import RecordResult

        def update(index: int, record: Any) -> Any:
            lead_id = record["id"]
            lead = self.leads.get(lead_id)
            if lead is None:
                return _skipped(index, "1004")
            if lead.get("email") in self.refuse:
                return _skipped(index, self.refuse[lead["email"]])
            lead.update({k: v for k, v in record.items() if k != "id"})
            return RecordResult(index=index, id=lead_id, status="updated")

        return self._each("update_only", records, update)

    def create_or_update(self, records: Sequence[Any], lookup_field: str = "email") -> list[Any]:
        from leadsync.marketo.models import RecordResult

        def upsert(index: int, record: Any) -> Any:
            email = record["email"]
            found = self.by_email(email)
            if email in self.refuse:
                return _skipped(index, self.refuse[email])
            if len(found) > 1:
                return _skipped(index, "1007")
            if found:
                self.leads[found[0]].update(record)
                return RecordResult(index=index, id=found[0], status="updated")
            return RecordResult(index=index, id=self.add(**record), status="created")

        return self._each("create_or_update", records, upsert)

    # static lists: list id → member lead ids; record-level refusals by lead id: code
    lists: dict[int, set[int]] = field(default_factory=lambda: {1001: set()})
    refuse_ids: dict[int, str] = field(default_factory=dict)
    # (kind, list id or 0, ids) of every list and delete call
    id_calls: list[tuple[str, int, list[int]]] = field(default_factory=list)

    def _by_id(self, kind: str, list_id: int, ids: Sequence[int], apply: Any) -> list[Any]:
        from leadsync.marketo.models import RecordResult

        def by_id(index: int, lead_id: int) -> Any:
            if lead_id not in self.leads:
                return _skipped(index, "1004")
            if lead_id in self.refuse_ids:
                return _skipped(index, self.refuse_ids[lead_id])
            status = apply(lead_id)
            if status.isdigit():
                return _skipped(index, status)
            return RecordResult(index=index, id=lead_id, status=status)

        results = self._each(kind, ids, by_id)
        self.id_calls.append((kind, list_id, list(ids)))
        return results

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
