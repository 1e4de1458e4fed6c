"""What the upload alone needs from the outside world: create claims, the write ledger, the
lead directory, the activity ledger, and the queues it defers to and dead-letters into;
`UploadPorts` bundles them with the shared ports (the Marketo writer, the error store, the
day's counters)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from leadsync.marketo.activities import ActivityResult, StoredActivity
from leadsync.ports import ErrorSink, LeadWriter, StatsSink
from leadsync.readiness.gate import SchemaCheck
from leadsync.sync.messages import SyncBatch


class Written(Protocol):
    """What was last written to one lead, and when."""

    @property
    def at(self) -> datetime: ...

    def holds(self, name: str, value: Any) -> bool: ...

    def differs(self, name: str, value: Any) -> bool: ...


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


class ActivityClaimsView(Protocol):
    @property
    def claimed(self) -> tuple[str, ...]: ...

    @property
    def written(self) -> tuple[str, ...]: ...

    @property
    def held(self) -> tuple[str, ...]: ...

    @property
    def in_doubt(self) -> dict[str, datetime]: ...


class ActivityLedger(Protocol):
    """Which chats' activities Marketo holds or are on their way (a chat written once)."""

    def claim(
        self, chat_ids: Sequence[str], holder: str, lease: timedelta
    ) -> ActivityClaimsView: ...

    def take_over(self, chat_ids: Iterable[str], holder: str, lease: timedelta) -> None: ...

    def mark_written(self, guids: Mapping[str, str]) -> None: ...

    def release(self, chat_ids: Iterable[str]) -> None: ...


class ActivityApi(Protocol):
    """Marketo's custom-activity records: add, and read back."""

    def add(self, records: Sequence[Mapping[str, Any]]) -> list[ActivityResult]: ...

    def read_back(
        self, type_id: int, lead_ids: Sequence[int], since: datetime
    ) -> Iterable[StoredActivity]: ...


@dataclass(frozen=True)
class ActivityPorts:
    """What an activity message needs: Marketo's activity calls, the activity ledger, and
    the id of leadsync's activity type (None while it is missing or not approved)."""

    api: ActivityApi
    ledger: ActivityLedger
    type_id: Callable[[], int | None]


class Deferrer(Protocol):
    def defer(self, batch: SyncBatch, delay_seconds: int) -> None: ...


class DeadLetterSink(Protocol):
    """Where a batch goes, with its history, when no further delivery can help."""

    def send_batch(self, batch: SyncBatch) -> str: ...

    def send(self, body: str, attributes: Mapping[str, str]) -> str: ...


@dataclass
class UploadPorts:
    marketo: LeadWriter
    claims: CreateClaimer
    errors: ErrorSink
    deferrer: Deferrer
    stats: StatsSink | None = None
    dead_letters: DeadLetterSink | None = None
    # lead ids of the run's creates, for its list operations, and the lists leads are in
    leads: LeadDirectory | None = None
    # what was written to each lead lately, by any path: never written twice
    ledger: WriteLedger | None = None
    # a lead schema that does not fit the field map holds every lead write back
    schema: SchemaCheck | None = None
    # chat activities: each chat's activity written once
    activities: ActivityPorts | None = None
