"""The upload against in-memory fakes of its ports: `World` wires them, `visitor` and
`sync_batch` build what it is sent, `NOW` is its clock."""

from __future__ import annotations

from datetime import UTC, datetime

from leadsync.models import Visitor
from leadsync.sync.messages import SyncBatch, SyncRecord
from leadsync.sync.upload.run import UploadPorts, UploadResult, process
from tests.support.fakes import FakeClaims, FakeDeferrer, FakeMarketo, FakeState, FakeStats

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
