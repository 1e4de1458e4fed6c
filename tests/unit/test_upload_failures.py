"""When Marketo keeps failing: the work goes back with its history, then to the dead letters;
while the breaker is open it waits untouched; a repeated delivery writes nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadsync.marketo.errors import MarketoPermanent, MarketoRetryable
from leadsync.models import Visitor
from leadsync.sync.messages import FailureNote, SyncBatch, SyncRecord
from leadsync.sync.upload.state import UploadSettings
from tests.support.records import record_for
from tests.support.upload_fakes import (
    FakeDeadLetterWriter,
    SwitchableBreaker,
)
from tests.support.upload_world import GuardedWorld

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)
CHAT = datetime(2026, 1, 15, 12, 40, tzinfo=UTC)


class World(GuardedWorld):
    def __init__(self) -> None:
        # no waiting between tries here: the first failure is the last (test_resilience
        # covers the 1/4/16 s retries)
        super().__init__(
            breaker=SwitchableBreaker(retry_after=37.2),
            dead=FakeDeadLetterWriter(),
            settings=UploadSettings(max_attempts=3),
        )


def _record(n: int) -> SyncRecord:
    visitor = Visitor(
        email=f"v{n}@example.com",
        first_name=f"First{n}",
        country="Germany",
        last_chat_at=CHAT,
        chat_ids=[f"C{n}"],
    )
    return record_for(visitor)


def _batch(*records: SyncRecord, **extra: object) -> SyncBatch:
    return SyncBatch.model_validate(
        {"correlation_id": "corr-7", "created_at": NOW, "records": list(records), **extra}
    )


def test_a_failing_call_sends_the_batch_back_with_the_failure_in_its_history() -> None:
    world = World()
    world.marketo.fail_on_call[1] = MarketoRetryable("HTTP 503", "service unavailable")
    result = world.upload(_batch(_record(1), _record(2)))
    assert (result.retried, result.dead_lettered, result.failure) == (2, 0, "HTTP 503")
    assert result.wait_reason == "retry"
    [(again, delay)] = world.queue.deferred
    assert delay == 30
    assert again.attempts == 1
    assert [r.email for r in again.records] == ["v1@example.com", "v2@example.com"]
    [note] = again.failures
    assert (note.attempt, note.code, note.request) == (1, "HTTP 503", "createOnly 2 records")
    assert "service unavailable" in note.message
    assert note.at == NOW
    assert world.marketo.leads == {}
    assert world.dead.batches == []


def test_the_last_attempt_dead_letters_the_batch_with_every_failure_kept() -> None:
    world = World()
    first = FailureNote(at=NOW - timedelta(hours=1), attempt=1, code="604", request="x")
    second = FailureNote(at=NOW - timedelta(minutes=30), attempt=2, code="HTTP 500")
    batch = _batch(_record(1), attempts=2, failures=[first, second])
    world.marketo.fail_on_call[2] = MarketoRetryable("HTTP 502", "bad gateway")
    result = world.upload(batch)  # a retry: the leads are read first (call 1), then create
    assert (result.retried, result.dead_lettered) == (0, 1)
    [dead] = world.dead.batches
    assert dead.attempts == 3
    assert [n.code for n in dead.failures] == ["604", "HTTP 500", "HTTP 502"]
    assert dead.first_failure_at == first.at
    assert dead.last_failure_at == NOW
    assert dead.correlation_id == "corr-7"
    assert [r.chat_ids for r in dead.records] == [["C1"]]
    assert world.queue.deferred == []


def test_a_refusal_of_the_whole_call_is_dead_lettered_at_once() -> None:
    world = World()
    world.marketo.fail_on_call[1] = MarketoPermanent("609", "Invalid JSON")
    result = world.upload(_batch(_record(1)))
    assert result.dead_lettered == 1
    [dead] = world.dead.batches
    assert (dead.attempts, dead.failures[0].code) == (1, "609")


def test_only_what_was_not_written_goes_back() -> None:
    world = World()
    lead_id = world.marketo.add(email="v2@example.com", firstName="Old")
    update = _record(2).model_copy(
        update={"action": "update", "lead_id": lead_id, "fields": {"firstName": "First2"}}
    )
    world.marketo.fail_on_call[2] = MarketoRetryable("HTTP 500", "down")  # the update call
    result = world.upload(_batch(_record(1), update))
    assert (result.created, result.retried) == (1, 1)
    [(again, _)] = world.queue.deferred
    assert [r.email for r in again.records] == ["v2@example.com"]


def test_an_open_breaker_makes_the_work_wait_without_counting_an_attempt() -> None:
    world = World()
    world.breaker.open = True
    result = world.upload(_batch(_record(1)))
    assert world.marketo.calls == []
    assert (result.deferred, result.wait_reason, result.deferred_seconds) == (1, "circuit_open", 38)
    [(waiting, delay)] = world.queue.deferred
    assert (waiting.attempts, waiting.failures, delay) == (0, [], 38)


def test_a_delivery_after_the_writes_were_accepted_writes_nothing_again() -> None:
    world = World()
    batch = _batch(_record(1), _record(2))
    world.upload(batch)
    writes = [c for c in world.marketo.calls if c != "lookup"]
    # the function died before SQS deleted the message: it comes again
    result = world.upload(batch, redelivered=True)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert [c for c in world.marketo.calls if c != "lookup"] == writes
    assert world.marketo.calls[-1] == "lookup"
    assert len(world.marketo.leads) == 2


def test_a_retry_after_an_applied_but_unanswered_create_updates_nothing_twice() -> None:
    world = World()
    batch = _batch(_record(1))
    world.upload(batch)  # Marketo applied it, but the answer was lost: the batch comes back
    retry = batch.model_copy(
        update={"attempts": 1, "failures": [FailureNote(at=NOW, attempt=1, code="local:timeout")]}
    )
    result = world.upload(retry)
    assert result.unchanged == 1
    assert world.marketo.calls == ["create_only", "lookup"]
