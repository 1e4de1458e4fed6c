"""The upload against in-memory fakes of its ports: `World` wires them (`GuardedWorld` with
Marketo behind the guard), `visitor` and `sync_batch` build what it is sent, `NOW` is its
clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leadsync.marketo.guard import Guard, GuardedWriter, RetryPolicy
from leadsync.models import Visitor
from leadsync.sync.messages import SyncBatch, SyncRecord
from leadsync.sync.upload.outcome import UploadResult
from leadsync.sync.upload.ports import UploadPorts
from leadsync.sync.upload.run import process
from leadsync.sync.upload.state import UploadSettings
from tests.support.fakes import FakeMarketo, FakeState
from tests.support.upload_fakes import (
    FakeClaims,
    FakeDeadLetterWriter,
    FakeDeferrer,
    FakeLeadDirectory,
    FakeStats,
    SwitchableBreaker,
)

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)
CHAT = datetime(2026, 1, 15, 12, 40, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.marketo = FakeMarketo()
        self.claims = FakeClaims()
        self.state = FakeState()
        self.queue = FakeDeferrer()
        self.stats = FakeStats()
        self.ports = UploadPorts(self.marketo, self.claims, self.state, self.queue, self.stats)

    def upload(self, batch: SyncBatch, holder: str = "m-1") -> UploadResult:
        return process(batch.model_dump_json(), holder=holder, ports=self.ports, now=lambda: NOW)


class GuardedWorld:
    """The upload with Marketo behind the guard: a breaker the test opens by hand, no wait
    between tries (a failed call is not tried again), the dead letters kept; `directory`
    wires the lead directory in."""

    def __init__(
        self,
        *,
        breaker: SwitchableBreaker,
        dead: FakeDeadLetterWriter,
        settings: UploadSettings,
        directory: bool = False,
    ) -> None:
        self.marketo = FakeMarketo()
        self.breaker = breaker
        guard = Guard(breaker, RetryPolicy(delays_s=()), sleep=lambda _: None)
        self.state = FakeState()
        self.queue = FakeDeferrer()
        self.stats = FakeStats()
        self.dead = dead
        self.leads = FakeLeadDirectory()
        self.settings = settings
        self.ports = UploadPorts(
            GuardedWriter(self.marketo, guard),
            FakeClaims(),
            self.state,
            self.queue,
            self.stats,
            self.dead,
            leads=self.leads if directory else None,
        )

    def upload(self, batch: SyncBatch, *, holder: str = "m-1", **kw: Any) -> UploadResult:
        return process(
            batch.model_dump_json(),
            holder=holder,
            ports=self.ports,
            settings=self.settings,
            now=lambda: NOW,
            **kw,
        )


def visitor(n: int, **values: object) -> Visitor:
    base: dict[str, object] = {
        "email": f"v{n}@example.com",
        "first_name": f"First{n}",
        "country": "Germany",
        "city": "Berlin",
        "last_chat_at": CHAT,
        "chat_ids": [f"C{n}"],
    }
    return Visitor.model_validate({**base, **values})


def sync_batch(*records: SyncRecord, **extra: object) -> SyncBatch:
    return SyncBatch.model_validate(
        {"correlation_id": "corr-1", "created_at": NOW, "records": list(records), **extra}
    )
