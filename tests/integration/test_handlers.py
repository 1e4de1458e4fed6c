"""Each handler invoked with its events/ sample, against moto and the LiveChat simulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from leadsync.adapters.dead_letters import DeadLetters
from leadsync.adapters.state import StateStore
from leadsync.errors import DependencyError, InvalidEvent
from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.marketo.guard import CircuitOpen
from leadsync.models import Rejection, RejectionReason
from leadsync.sync.failures import from_rejection
from local.simulators.livechat.data import GenerationParams
from local.simulators.livechat.server import DEFAULT_TOKEN, LiveChatSimulator
from local.simulators.marketo import MarketoSimulator
from tests.support.handlers import (
    LIMITS,
    checked_schema,
    event,
    fresh_handler,
    put_secret,
    start_marketo,
    upload_handler,
)
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def simulator() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(GenerationParams(chats=200, start=START, end=END, seed=3)) as sim:
        yield sim


def _secret(marketo: MarketoSimulator, simulator: LiveChatSimulator) -> str:
    return put_secret(
        marketo,
        livechat_account_id=simulator.account_id,
        livechat_token=DEFAULT_TOKEN,
        livechat_api_url=simulator.base_url,
    )


@pytest.fixture
def secret(simulator: LiveChatSimulator, marketo: MarketoSimulator) -> str:
    return _secret(marketo, simulator)


@dataclass(frozen=True)
class Env:
    """What the handlers here run against: moto's table and queues, the environment each
    function reads, the Lambda context they are called with."""

    monkeypatch: pytest.MonkeyPatch
    state_table: str
    queues: dict[str, str]
    context: FakeLambdaContext

    def for_fetch(self, secret: str) -> None:
        self._set(
            **LIMITS,
            STATE_TABLE=self.state_table,
            CREDENTIALS_SECRET=secret,
            SYNC_QUEUE_URL=self.queues["sync"],
            FETCH_OVERLAP_MINUTES="10",
            FETCH_START=START.isoformat(),
        )

    def for_upload(self, secret: str, **limits: str) -> None:
        upload_handler(self.monkeypatch, secret, self.state_table, self.queues, **limits)

    def for_digest(self, sender: str) -> None:
        self._set(
            STATE_TABLE=self.state_table,
            CREDENTIALS_SECRET="unused",
            DEAD_LETTER_QUEUE_URL=self.queues["dlq"],
            ADMIN_EMAIL="admin@example.com,ops@example.com",
            SENDER_EMAIL=sender,
        )

    def _set(self, **values: str) -> None:
        for key, value in values.items():
            self.monkeypatch.setenv(key, value)


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch,
    state_table: str,
    queues: dict[str, str],
    lambda_context: FakeLambdaContext,
) -> Env:
    return Env(monkeypatch, state_table, queues, lambda_context)


def _received(url: str) -> list[dict[str, Any]]:
    client = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while messages := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        bodies.extend(json.loads(m["Body"]) for m in messages)
    return bodies


def test_fetch_handler_queues_what_marketo_lacks_and_moves_the_mark(
    env: Env, secret: str, simulator: LiveChatSimulator, marketo: MarketoSimulator
) -> None:
    env.for_fetch(secret)
    state_table, queues, lambda_context = env.state_table, env.queues, env.context
    entries = [
        {**{k: v for k, v in chat.items() if k != "threads"}, "thread": t}
        for chat in simulator.all_chats()
        for t in chat["threads"]
    ]
    expected = map_entries(entries)
    known = expected.visitors[0]
    marketo.seed_leads([{"email": known.email.upper(), "country": "Atlantis"}])

    summary = fresh_handler("fetch").handler(event("fetch_schedule.json"), lambda_context)

    assert summary["until"] == "2026-01-02T00:00:00Z"
    assert summary["visitors"] == len(expected.visitors) > 0
    assert summary["rejected"] == len(expected.rejections) > 0
    assert (summary["creates"], summary["updates"]) == (len(expected.visitors) - 1, 1)
    assert summary["mark_advanced"] is True

    batches = _received(queues["sync"])
    assert len(batches) == summary["messages"]
    assert all(len(b["records"]) <= 50 for b in batches)
    records = [r for b in batches for r in b["records"]]
    assert sorted(r["email"] for r in records) == sorted(v.email for v in expected.visitors)
    [update] = [r for r in records if r["action"] == "update"]
    assert update["email"] == known.email
    assert "country" not in update["fields"]  # Marketo's geography is kept
    lookups = [e for e in marketo.audit()["requests"] if e["action"] == "lookup"]
    assert 0 < len(lookups) <= -(-len(expected.visitors) // 50)
    store = StateStore(state_table)
    assert store.get_high_water_mark() == END
    assert len(store.errors_between(None, datetime.now(UTC))) == summary["rejected"]


def test_fetch_handler_refuses_other_events(lambda_context: FakeLambdaContext) -> None:
    with pytest.raises(InvalidEvent):
        fresh_handler("fetch").handler(event("upload_sqs.json"), lambda_context)


def test_upload_handler_writes_the_sample_and_dead_letters_the_broken_messages(
    env: Env, secret: str, marketo: MarketoSimulator
) -> None:
    env.for_upload(secret)
    state_table, queues, lambda_context = env.state_table, env.queues, env.context
    marketo.seed_leads([{"id": 1042, "email": "max.mustermann@example.org", "city": None}])
    sample = event("upload_sqs.json")
    records: list[dict[str, Any]] = sample["Records"]  # type: ignore[assignment]
    poison = {**records[0], "messageId": "poison-1", "body": "not json"}
    wrong = {**records[0], "messageId": "poison-2", "body": '{"records": []}'}
    response = fresh_handler("upload").handler(
        {"Records": [records[0], poison, wrong]}, lambda_context
    )
    # the broken messages are dealt with, not retried: kept as they came, with the reason
    assert response == {"batchItemFailures": []}
    letters = DeadLetters(queues["dlq"]).peek(10)
    assert sorted(letter.body for letter in letters) == sorted([poison["body"], wrong["body"]])
    assert {letter.attributes["error_code"] for letter in letters} == {"invalid_message"}
    entries = StateStore(state_table).errors_between(None, datetime.now(UTC))
    assert sorted(e.reason for e in entries) == ["invalid_message", "invalid_message"]
    leads = {lead["email"]: lead for lead in marketo.leads()}
    assert leads["jane.doe@example.com"]["country"] == "United States"
    assert leads["max.mustermann@example.org"]["city"] == "Berlin"
    # delivered again: nothing written twice, no second lead
    assert fresh_handler("upload").handler(sample, lambda_context) == {"batchItemFailures": []}
    assert len(marketo.leads()) == 2


def _seed_error(state_table: str) -> None:
    rejection = Rejection(chat_id="C1", reason=RejectionReason.INVALID_EMAIL, value="x@y")
    StateStore(state_table).record_error(from_rejection(rejection, at=datetime.now(UTC)))


def test_digest_handler_mails_then_moves_the_watermark(env: Env) -> None:
    state_table, queues, lambda_context = env.state_table, env.queues, env.context
    sender = f"leadsync-{uuid.uuid4().hex[:8]}@example.com"
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)
    env.for_digest(sender)
    _seed_error(state_table)
    boto3.client("sqs").send_message(QueueUrl=queues["dlq"], MessageBody="poison")

    summary = fresh_handler("digest").handler(event("digest_schedule.json"), lambda_context)
    assert summary["sent"] is True
    assert (summary["errors"], summary["dead_letters"]) == (1, 1)
    assert StateStore(state_table).get_digest_watermark() is not None


def test_digest_handler_marks_nothing_when_ses_refuses(env: Env) -> None:
    state_table, lambda_context = env.state_table, env.context
    env.for_digest("unverified@example.com")
    _seed_error(state_table)
    with pytest.raises(DependencyError):
        fresh_handler("digest").handler(event("digest_schedule.json"), lambda_context)
    assert StateStore(state_table).get_digest_watermark() is None


def _waiting(queue: str) -> dict[str, int]:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return {name: int(value) for name, value in attributes.items()}


def _logged_results(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [vars(record)["result"] for record in caplog.records if record.msg == "batch written"]


def test_a_spent_daily_cap_parks_the_rest_until_the_reset(
    env: Env, secret: str, marketo: MarketoSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env.for_upload(secret, MARKETO_DAILY_CAP="2")
    state_table, queues, lambda_context = env.state_table, env.queues, env.context
    checked_schema(state_table)  # `leadsync check` passed: no describe within the hour
    marketo.seed_leads([{"id": 1042, "email": "max.mustermann@example.org"}])
    response = fresh_handler("upload").handler(event("upload_sqs.json"), lambda_context)
    assert response == {"batchItemFailures": []}  # nothing failed: the rest waits
    assert [lead["email"] for lead in marketo.leads()].count("jane.doe@example.com") == 1
    # the instance's usage read first (it counts, like any call), then the create
    actions = [r["action"] for r in marketo.audit()["requests"] if r["action"] != "identity"]
    assert actions == ["stats:usage", "sync:createOnly"]
    [result] = _logged_results(caplog)
    assert (result["created"], result["deferred"], result["wait_reason"]) == (1, 1, "daily_quota")
    assert result["deferred_seconds"] == 900  # SQS's longest delay; the message says until when
    waiting = _waiting(queues["sync"])
    assert waiting == {"ApproximateNumberOfMessages": 0, "ApproximateNumberOfMessagesDelayed": 1}


def test_a_spent_rate_sends_the_rest_back_with_a_short_delay(
    env: Env, secret: str, marketo: MarketoSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env.for_upload(secret, MARKETO_CALLS_PER_WINDOW="2", MARKETO_BURST="1")
    queues = env.queues
    marketo.seed_leads([{"id": 1042, "email": "max.mustermann@example.org"}])
    short = FakeLambdaContext(remaining_ms=16_000)
    response = fresh_handler("upload").handler(event("upload_sqs.json"), short)
    assert response == {"batchItemFailures": []}
    used = marketo.audit()["quota_used"]
    assert 1 <= used < 3  # the usage read, maybe the create, then no permit in the time left
    assert _waiting(queues["sync"])["ApproximateNumberOfMessagesDelayed"] == 1
    [result] = _logged_results(caplog)
    assert result["wait_reason"] == "rate"
    assert result["deferred"] >= 1
    assert result["created"] + result["deferred"] == 2  # every record written or waiting
    assert 1 <= result["deferred_seconds"] <= 20


def _fresh(sample: dict[str, Any], message_id: str, receives: int = 1) -> dict[str, Any]:
    records: list[dict[str, Any]] = sample["Records"]
    record = {
        **records[0],
        "messageId": message_id,
        "attributes": {**records[0]["attributes"], "ApproximateReceiveCount": str(receives)},
    }
    return {"Records": [record]}


def test_marketo_failing_sends_the_batch_back_with_its_history_then_opens_the_breaker(
    env: Env, secret: str, marketo: MarketoSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env.for_upload(secret, BREAKER_FAILURE_THRESHOLD="2")
    state_table, queues = env.state_table, env.queues
    checked_schema(state_table)  # `leadsync check` passed: no describe within the hour
    marketo.seed_leads([{"id": 1042, "email": "max.mustermann@example.org"}])
    marketo.set_faults(http_5xx_probability=1.0, http_5xx_statuses=[503])
    short = FakeLambdaContext(remaining_ms=17_000)
    sample = event("upload_sqs.json")

    first = fresh_handler("upload").handler(_fresh(sample, "m-1"), short)
    assert first == {"batchItemFailures": []}  # dealt with: sent back for later
    [result] = _logged_results(caplog)
    assert (result["retried"], result["failure"], result["wait_reason"]) == (2, "HTTP 503", "retry")
    assert _waiting(queues["sync"])["ApproximateNumberOfMessagesDelayed"] == 1

    caplog.clear()
    fresh_handler("upload").handler(_fresh(sample, "m-2"), short)  # the second failure in a row
    caplog.clear()
    calls = len(marketo.audit()["requests"])
    third = fresh_handler("upload").handler(_fresh(sample, "m-3"), short)
    assert third == {"batchItemFailures": []}
    [result] = _logged_results(caplog)
    assert (result["deferred"], result["wait_reason"]) == (2, "circuit_open")
    assert result["retried"] == 0
    assert len(marketo.audit()["requests"]) == calls  # the open breaker made no call
    assert [lead["email"] for lead in marketo.leads()] == ["max.mustermann@example.org"]


def test_a_message_delivered_again_after_its_writes_were_accepted_writes_nothing(
    env: Env, secret: str, marketo: MarketoSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env.for_upload(secret)
    lambda_context = env.context
    marketo.seed_leads([{"id": 1042, "email": "max.mustermann@example.org"}])
    sample = event("upload_sqs.json")
    fresh_handler("upload").handler(_fresh(sample, "m-1"), lambda_context)
    writes = [r["action"] for r in marketo.audit()["requests"] if r["action"].startswith("sync")]
    assert writes == ["sync:createOnly", "sync:updateOnly"]

    # the same message again (its result kept with the idempotency record): no call at all
    seen = len(marketo.audit()["requests"])
    assert fresh_handler("upload").handler(_fresh(sample, "m-1", 2), lambda_context) == {
        "batchItemFailures": []
    }
    assert len(marketo.audit()["requests"]) == seen

    # the process died after Marketo accepted, before anything was kept: SQS delivers again
    caplog.clear()
    fresh_handler("upload").handler(_fresh(sample, "m-1-lost", 2), lambda_context)
    after = [r["action"] for r in marketo.audit()["requests"][seen:] if r["action"] != "identity"]
    assert after == ["lookup"]  # read, found written, nothing written twice
    [result] = _logged_results(caplog)
    assert (result["unchanged"], result["created"], result["updated"]) == (2, 0, 0)
    assert [lead["email"] for lead in marketo.leads()].count("jane.doe@example.com") == 1


def test_fetch_stops_while_the_breaker_is_open_and_keeps_its_mark(
    env: Env, secret: str, marketo: MarketoSimulator
) -> None:
    env.for_fetch(secret)
    state_table, queues, lambda_context = env.state_table, env.queues, env.context
    # the upload found Marketo failing a moment ago
    boto3.client("dynamodb").put_item(
        TableName=state_table,
        Item={
            "pk": {"S": "breaker#marketo"},
            "sk": {"S": "state"},
            "state": {"S": "open"},
            "failures": {"N": "5"},
            "opened_ms": {"N": str(int(datetime.now(UTC).timestamp() * 1000))},
        },
    )
    with pytest.raises(CircuitOpen):
        fresh_handler("fetch").handler(event("fetch_schedule.json"), lambda_context)
    assert StateStore(state_table).get_high_water_mark() is None  # the next run reads again
    lookups = [r for r in marketo.audit()["requests"] if r["action"] == "lookup"]
    assert lookups == []
    assert _waiting(queues["sync"])["ApproximateNumberOfMessages"] == 0


def _message(sample: dict[str, Any], message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    fresh = _fresh(sample, message_id)
    [record] = fresh["Records"]
    return {"Records": [{**record, "body": json.dumps(body)}]}


def test_upload_handler_adds_a_created_lead_to_a_list_once_it_exists_then_deletes(
    env: Env, secret: str, marketo: MarketoSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    env.for_upload(secret)
    lambda_context = env.context
    [known] = marketo.seed_leads([{"email": "known@example.com"}])
    sample = event("upload_sqs.json")
    at = "2026-01-15T13:00:00Z"
    add = {
        "correlation_id": "run-1",
        "created_at": at,
        "list_operation": {
            "list_id": 1001,
            "action": "add",
            "lead_ids": [known],
            "pending_emails": ["new@example.com"],
        },
    }
    create = {
        "correlation_id": "run-1",
        "created_at": at,
        "records": [
            {
                "action": "create",
                "email": "new@example.com",
                "fields": {"email": "new@example.com", "firstName": "New"},
                "announce": True,
            }
        ],
    }
    handler = fresh_handler("upload").handler

    # the list add comes before the create: it waits, without a call to Marketo
    assert handler(_message(sample, "l-1", add), lambda_context) == {"batchItemFailures": []}
    [waited] = _logged_results(caplog)
    assert (waited["deferred"], waited["wait_reason"]) == (2, "create_in_progress")
    assert not [r for r in marketo.audit()["requests"] if r["action"].startswith("list")]

    caplog.clear()
    handler(_message(sample, "c-1", create), lambda_context)
    [created] = [lead["id"] for lead in marketo.leads() if lead["email"] == "new@example.com"]

    caplog.clear()
    handler(_message(sample, "l-2", {**add, "deferrals": 1}), lambda_context)
    [done] = _logged_results(caplog)
    assert (done["list_added"], done["deferred"], done["failed"]) == (2, 0, 0)
    assert sorted(marketo.store.members(1001)) == sorted([known, created])
    adds = [r for r in marketo.audit()["requests"] if r["action"] == "list:add"]
    assert len(adds) == 1  # both leads in one call

    caplog.clear()
    erase = {
        "correlation_id": "erasure-1",
        "created_at": at,
        "delete": {"lead_ids": [created, 987654], "references": ["fp-1", "fp-2"]},
    }
    handler(_message(sample, "d-1", erase), lambda_context)
    [deleted] = _logged_results(caplog)
    assert (deleted["leads_deleted"], deleted["failed"]) == (1, 0)  # 987654: gone already
    assert [lead["email"] for lead in marketo.leads()] == ["known@example.com"]
    assert marketo.store.members(1001) == [known]


def test_on_a_fresh_instance_the_upload_gives_its_batch_back_and_says_why_once(
    env: Env, simulator: LiveChatSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    state_table, queues, lambda_context = env.state_table, env.queues, env.context
    fresh = start_marketo(fresh=True)
    try:
        env.for_upload(_secret(fresh, simulator))
        for n in range(2):  # two deliveries of the batch (two SQS messages)
            sent = event("upload_sqs.json")
            sent["Records"][0]["messageId"] = f"message-{n}"  # type: ignore[index]
            response = fresh_handler("upload").handler(sent, lambda_context)
            assert response == {"batchItemFailures": []}  # nothing failed: the batch waits
        assert fresh.leads() == []
        actions = [r["action"] for r in fresh.audit()["requests"] if r["action"] != "identity"]
        assert actions.count("describe2") <= 1  # the verdict is shared: one describe an hour
        assert not [a for a in actions if a.startswith("sync:")]
        results = _logged_results(caplog)
        assert [(r["deferred"], r["wait_reason"]) for r in results] == [(2, "configuration")] * 2
        assert _waiting(queues["sync"])["ApproximateNumberOfMessagesDelayed"] == 2
        entries = StateStore(state_table).errors_between(None, datetime.now(UTC))
        assert [(e.kind.value, e.reason) for e in entries] == [("configuration", "field_missing")]
    finally:
        fresh.stop()
