from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadsync.errors import InvalidMessage
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted
from leadsync.marketo.errors import MarketoConcurrencyLimited
from leadsync.sync.messages import SyncRecord, parse_batch
from leadsync.sync.upload.run import process
from tests.support.records import record_for
from tests.support.upload_world import NOW, World, sync_batch, visitor

ROOT = Path(__file__).resolve().parents[2]


def test_the_sample_event_batch_is_written() -> None:
    event = json.loads((ROOT / "events" / "upload_sqs.json").read_text())
    world = World()
    world.marketo.add(email="max.mustermann@example.org")
    world.marketo.leads[1042] = world.marketo.leads.pop(world.marketo.next_id)
    result = process(event["Records"][0]["body"], holder="m", ports=world.ports)
    assert (result.created, result.updated, result.failed, result.deferred) == (1, 1, 0, 0)
    assert world.marketo.calls == ["create_only", "update_only"]
    assert world.marketo.leads[1042]["city"] == "Berlin"


def test_new_visitors_are_created_and_counted() -> None:
    world = World()
    result = world.upload(sync_batch(record_for(visitor(1)), record_for(visitor(2))))
    assert result.created == 2
    assert sorted(lead["email"] for lead in world.marketo.leads.values()) == [
        "v1@example.com",
        "v2@example.com",
    ]
    assert world.claims.holders == {}  # every claim given back
    assert world.stats.totals["leads_created"] == 2


def test_a_lead_that_appeared_since_the_fetch_is_updated_under_the_same_policies() -> None:
    world = World()
    lead_id = world.marketo.add(email="v1@example.com", country="France", city=None)
    result = world.upload(sync_batch(record_for(visitor(1))))
    assert (result.created, result.updated, result.protected_kept) == (0, 1, 1)
    lead = world.marketo.leads[lead_id]
    assert lead["country"] == "France"  # if_empty: Marketo's value stays
    assert lead["city"] == "Berlin"
    assert world.marketo.calls == ["create_only", "lookup", "update_only"]
    assert len(world.marketo.by_email("v1@example.com")) == 1


def test_a_message_delivered_twice_writes_once_and_duplicates_nothing() -> None:
    world = World()
    batch = sync_batch(record_for(visitor(1)), record_for(visitor(2)))
    first = world.upload(batch)
    second = world.upload(batch)
    assert first.created == 2
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert len(world.marketo.leads) == 2
    assert world.marketo.calls[-1] == "lookup"  # nothing left to write


def test_an_email_another_message_is_creating_waits_and_is_not_written() -> None:
    world = World()
    world.claims.holders["v1@example.com"] = "other-message"
    result = world.upload(sync_batch(record_for(visitor(1)), record_for(visitor(2))))
    assert (result.created, result.deferred) == (1, 1)
    [(deferred, delay)] = world.queue.deferred
    assert [r.email for r in deferred.records] == ["v1@example.com"]
    assert deferred.correlation_id == "corr-1"
    assert deferred.deferrals == 1
    assert delay == 20
    assert world.marketo.by_email("v1@example.com") == []


def test_a_spent_rate_budget_sends_the_rest_back_with_a_delay() -> None:
    world = World()
    world.marketo.fail_on_call[1] = BudgetExhausted("no permit", retry_after_seconds=3.2)
    result = world.upload(sync_batch(record_for(visitor(1)), record_for(visitor(2))))
    assert (result.created, result.deferred, result.deferred_seconds) == (0, 2, 4)
    assert result.wait_reason == "rate"
    [(deferred, delay)] = world.queue.deferred
    assert len(deferred.records) == 2
    assert delay == 4
    assert world.claims.holders == {}


def test_marketo_615_mid_message_keeps_what_was_done_and_defers_the_rest() -> None:
    world = World()
    existing = world.marketo.add(email="v2@example.com", firstName="Old")
    update = SyncRecord(
        action="update",
        email="v2@example.com",
        lead_id=existing,
        fields={"firstName": "New"},
        chat_ids=["C2"],
    )
    world.marketo.fail_on_call[2] = MarketoConcurrencyLimited("615", "Concurrent access limit")
    result = world.upload(sync_batch(record_for(visitor(1)), update))
    assert (result.created, result.updated, result.deferred) == (1, 0, 1)
    [(deferred, _)] = world.queue.deferred
    assert deferred.records == [update]


def test_a_spent_daily_quota_parks_the_work_until_the_reset() -> None:
    world = World()
    resumes = datetime(2026, 1, 16, 6, tzinfo=UTC)  # midnight in Chicago
    world.marketo.fail_on_call[1] = DailyQuotaExhausted(
        "spent", resumes_at=resumes, retry_after_seconds=61200
    )
    result = world.upload(sync_batch(record_for(visitor(1))))
    assert result.wait_reason == "daily_quota"
    [(parked, delay)] = world.queue.deferred
    assert parked.not_before == resumes
    assert delay == 900  # SQS's longest delay; the message carries the rest
    # received again before the reset: straight back, no Marketo call
    again = process(parked.model_dump_json(), holder="m-2", ports=world.ports, now=lambda: NOW)
    assert again.deferred == 1
    assert world.marketo.calls == ["create_only"]
    # after the reset: written
    done = process(
        parked.model_dump_json(),
        holder="m-3",
        ports=world.ports,
        now=lambda: resumes + timedelta(seconds=1),
    )
    assert done.created == 1


def test_records_marketo_refuses_go_to_the_error_store_with_their_context() -> None:
    world = World()
    world.marketo.refuse["v1@example.com"] = "1003"
    gone = SyncRecord(
        action="update", email="v3@example.com", lead_id=999, fields={"city": "X"}, chat_ids=["C3"]
    )
    result = world.upload(sync_batch(record_for(visitor(1)), record_for(visitor(2)), gone))
    assert (result.created, result.failed) == (1, 2)
    reasons = sorted(e.reason for e in world.state.errors)
    assert reasons == ["marketo_1003", "marketo_1004"]
    for error in world.state.errors:
        assert error.correlation_id == "corr-1"
        assert error.record is not None
        assert error.chat_ids
        assert error.attempts == 1
        assert error.first_failure_at == error.last_failure_at == NOW
    requests = {e.code: e.request for e in world.state.errors}
    assert requests == {"1003": "createOnly 2 records", "1004": "updateOnly 1 records by id"}
    assert world.stats.totals["records_failed"] == 2


@pytest.mark.parametrize("body", ["", "not json", "[1,2", "\x00"])
def test_a_body_that_is_not_json(body: str) -> None:
    with pytest.raises(InvalidMessage, match="not JSON"):
        parse_batch(body)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "42",
        '{"correlation_id": "x"}',
        '{"correlation_id": "x", "created_at": "2026-01-15T13:00:00Z", "records": []}',
        '{"correlation_id": "x", "created_at": "2026-01-15T13:00:00Z",'
        ' "records": [{"action": "create", "email": "not-an-email", "fields": {}}]}',
        '{"correlation_id": "x", "created_at": "2026-01-15T13:00:00Z",'
        ' "records": [{"action": "update", "email": "a@b.co", "fields": {"city": "x"}}]}',
        '{"correlation_id": "x", "created_at": "2026-01-15T13:00:00Z",'
        ' "records": [{"action": "create", "email": "a@b.co", "fields": {"bad name": "x"}}]}',
    ],
)
def test_a_body_that_is_not_a_batch(body: str) -> None:
    with pytest.raises(InvalidMessage, match="not a valid batch") as caught:
        parse_batch(body)
    assert "not-an-email" not in str(caught.value)
