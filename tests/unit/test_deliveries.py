"""One queue delivery, before the logic proper: an upload message that is not a batch goes to
the dead-letter queue as it came and into the error store; a bulk message that is not a step
goes to the error store and is dropped; a delivery after the first decides again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from leadsync.bulk.delivery import NotAStep, take_step
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.step import BulkPorts
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.messages import SyncBatch
from leadsync.sync.upload.delivery import NotABatch, deliver
from leadsync.sync.upload.outcome import UploadResult
from leadsync.sync.upload.ports import UploadPorts
from leadsync.sync.upload.state import UploadSettings
from tests.support.bulk_staging import Jobs
from tests.support.fakes import FakeMarketo, FakeState
from tests.support.records import record_for
from tests.support.upload_fakes import FakeClaims, FakeDeferrer, FakeStats
from tests.support.upload_world import sync_batch, visitor


@dataclass
class DeadLetters:
    bodies: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def send_batch(self, batch: SyncBatch) -> str:
        raise AssertionError("no batch is dead-lettered here")

    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        self.bodies.append((body, dict(attributes)))
        return "dl-1"


def _upload_ports() -> tuple[UploadPorts, FakeMarketo, FakeState, DeadLetters]:
    marketo, state, dead = FakeMarketo(), FakeState(), DeadLetters()
    ports = UploadPorts(marketo, FakeClaims(), state, FakeDeferrer(), FakeStats(), dead)
    return ports, marketo, state, dead


def test_an_upload_body_that_is_not_a_batch_is_dead_lettered_as_it_came() -> None:
    ports, marketo, state, dead = _upload_ports()
    body = "{not json \u00e9"

    outcome = deliver(body, message_id="m-1", receives=3, ports=ports, settings=UploadSettings())

    assert isinstance(outcome, NotABatch)
    assert outcome.model_dump() == {
        "invalid_message": True,
        "message_id": "m-1",
        "reason": "message body is not JSON",
    }
    assert dead.bodies == [
        (body, {"error_code": "invalid_message", "error_message": "message body is not JSON"})
    ]
    [entry] = state.errors
    assert (entry.kind.value, entry.reason, entry.code) == (
        "undeliverable",
        "invalid_message",
        "invalid_message",
    )
    assert entry.record == {"message_id": "m-1", "bytes": len(body.encode())}
    assert entry.attempts == 3
    assert entry.detail.endswith("; the body is in the dead-letter queue as it came")
    assert marketo.calls == []


def test_a_first_delivery_writes_and_a_later_one_reads_the_leads_first() -> None:
    body = sync_batch(record_for(visitor(1))).model_dump_json()
    first, first_marketo, _, _ = _upload_ports()
    again, again_marketo, _, _ = _upload_ports()

    written = deliver(body, message_id="m-1", receives=1, ports=first, settings=UploadSettings())
    redone = deliver(body, message_id="m-1", receives=2, ports=again, settings=UploadSettings())

    assert isinstance(written, UploadResult)
    assert isinstance(redone, UploadResult)
    assert (written.created, redone.created) == (1, 1)
    assert "lookup" not in first_marketo.calls
    assert again_marketo.calls[0] == "lookup"


def _bulk_ports(state: FakeState) -> BulkPorts:
    unused = cast(Any, None)
    return BulkPorts(Jobs(), unused, unused, unused, unused, unused, state)


def test_a_bulk_body_that_is_not_a_step_is_stored_and_dropped() -> None:
    state = FakeState()
    outcome = take_step(
        "{not a step",
        message_id="b-1",
        ports=_bulk_ports(state),
        settings=BulkSettings(),
        limits=BatchLimits(300, 1_000_000),
    )
    assert isinstance(outcome, NotAStep)
    assert outcome.model_dump() == {"invalid_message": True, "message_id": "b-1"}
    [entry] = state.errors
    assert (entry.reason, entry.code, entry.attempts) == ("invalid_message", "invalid_message", 1)
    assert entry.detail.startswith("not a bulk step: 1 problem(s)")
    assert entry.detail.endswith("; dropped from the bulk queue")
    assert entry.record == {"message_id": "b-1", "bytes": len(b"{not a step")}


def test_a_bulk_step_goes_to_the_engine() -> None:
    state = FakeState()
    body = '{"job_id": "job-1", "step": "poll", "correlation_id": "corr-1"}'
    outcome = take_step(
        body,
        message_id="b-2",
        ports=_bulk_ports(state),
        settings=BulkSettings(),
        limits=BatchLimits(300, 1_000_000),
    )
    assert not isinstance(outcome, NotAStep)
    assert outcome.outcome == "unknown_job"
    assert state.errors == []
