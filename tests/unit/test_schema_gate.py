"""The schema gate: a run stops before any write while a mapped field is missing, the work
waits (mark kept, messages given back), one entry a day reaches the error store, and the
instance is described at most once an hour whatever runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo.errors import MarketoNoAnswer
from leadsync.marketo.schema import LeadField
from leadsync.models import Visitor
from leadsync.readiness.fields import FieldProblem
from leadsync.readiness.gate import WAIT_SECONDS, SchemaGate
from leadsync.readiness.verdict import SchemaVerdict
from leadsync.sync.failures import ErrorKind
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.run import FetchSettings, run
from leadsync.sync.messages import SyncBatch
from leadsync.sync.upload.ports import UploadPorts
from leadsync.sync.upload.run import process
from tests.support.chats import customer, entry
from tests.support.fakes import FakeMarketo, FakeQueue, FakeSource, FakeState
from tests.support.records import record_for
from tests.support.upload_fakes import FakeClaims, FakeDeferrer

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
STANDARD = [
    LeadField(name=n, dataType="email" if n == "email" else "string", length=255)
    for n in ("email", "firstName", "lastName", "phone", "country", "state", "city", "leadSource")
]
MISSING = FieldProblem(
    field="livechatTags", reason="field_missing", detail="no such field", fix="run --fix"
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Verdicts:
    def __init__(self) -> None:
        self.stored: SchemaVerdict | None = None

    def get(self) -> SchemaVerdict | None:
        return self.stored

    def put(self, verdict: SchemaVerdict) -> None:
        self.stored = verdict


class Describe:
    def __init__(self, fields: list[LeadField]) -> None:
        self.fields = fields
        self.calls = 0
        self.error: Exception | None = None

    def __call__(self) -> list[LeadField]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.fields


class Stopped:
    def problems(self) -> list[FieldProblem]:
        return [MISSING]


def _gate(describe: Describe, verdicts: Verdicts, state: FakeState, clock: Clock) -> SchemaGate:
    return SchemaGate(default_field_map(), describe, verdicts, state, clock=clock)


def test_missing_fields_are_described_once_an_hour_across_copies_and_reported_once() -> None:
    describe, verdicts, state, clock = Describe(STANDARD), Verdicts(), FakeState(), Clock()
    first = _gate(describe, verdicts, state, clock)
    assert {p.field for p in first.problems()} >= {"livechatTags", "livechatChatCount"}
    another_copy = _gate(describe, verdicts, state, clock)
    clock.now += timedelta(minutes=30)
    assert another_copy.problems()
    assert first.problems()
    assert describe.calls == 1
    assert [(e.kind, e.reason) for e in state.errors] == [
        (ErrorKind.CONFIGURATION, "field_missing")
    ]
    clock.now += timedelta(minutes=31)
    assert _gate(describe, verdicts, state, clock).problems()
    assert describe.calls == 2
    assert len(state.errors) == 1  # same problems, same day


def test_a_fixed_schema_is_seen_once_check_refreshes_the_shared_verdict() -> None:
    describe, verdicts, state, clock = Describe(STANDARD), Verdicts(), FakeState(), Clock()
    gate = _gate(describe, verdicts, state, clock)
    assert gate.problems()
    verdicts.stored = SchemaVerdict(
        fingerprint=verdicts.stored.fingerprint if verdicts.stored else "", checked_at=clock.now
    )
    clock.now += timedelta(minutes=2)
    assert gate.problems() == ()
    assert describe.calls == 1


def test_the_gate_never_stops_the_sync_for_its_own_trouble() -> None:
    describe, verdicts, state, clock = Describe(STANDARD), Verdicts(), FakeState(), Clock()
    describe.error = MarketoNoAnswer("local:timeout", "no answer")
    assert _gate(describe, verdicts, state, clock).problems() == ()
    assert state.errors == []


def test_a_stopped_fetch_reads_nothing_writes_nothing_and_keeps_its_mark() -> None:
    mark = NOW - timedelta(hours=1)
    source = FakeSource([entry("C1", user=customer(email="a@example.com"))])
    state, queue, marketo = FakeState(mark=mark), FakeQueue(), FakeMarketo()
    summary = run(
        source=source,
        state=state,
        queue=queue,
        destination=marketo,
        settings=FetchSettings(limits=BatchLimits(2, 200_000)),
        now=lambda: NOW,
        schema=Stopped(),
    )
    assert summary.stopped == "configuration / field_missing: livechatTags"
    assert not summary.mark_advanced
    assert state.mark == mark
    assert source.windows == []
    assert queue.batches == []


def test_an_upload_gives_its_message_back_while_the_schema_does_not_fit() -> None:
    visitor = Visitor.model_validate({"email": "a@example.com", "chat_ids": ["C1"]})
    batch = SyncBatch.model_validate(
        {"correlation_id": "c", "created_at": NOW, "records": [record_for(visitor)]}
    )
    deferrer, marketo = FakeDeferrer(), FakeMarketo()
    ports = UploadPorts(marketo, FakeClaims(), FakeState(), deferrer, schema=Stopped())
    result = process(batch.model_dump_json(), holder="m", ports=ports, now=lambda: NOW)
    assert (result.deferred, result.wait_reason, result.created) == (1, "configuration", 0)
    assert deferrer.deferred == [(batch, WAIT_SECONDS)]
    assert marketo.calls == []
