"""Every chat an activity on its visitor's lead, written once: `leadsync check --fix` makes
the type, the fetch plans the activities beside the lead writes, and the real upload handler
writes them to the Marketo simulator; a message delivered again, a replay and a lost answer
never add a chat twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from leadsync.activities.config import default_activity_map
from leadsync.activities.records import ChatActivity
from leadsync.adapters.activity_ledger import DynamoDBActivityLedger
from leadsync.adapters.state import StateStore
from leadsync.erasure.chats import ErasureMarkers
from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.marketo import MarketoClient, MarketoEndpoints
from leadsync.ops.replay.run import ReplayOptions, replay
from leadsync.readiness.activity_type import check_activity_type
from leadsync.readiness.report import Report
from leadsync.sync.fetch import run as fetch
from leadsync.sync.fetch.activities import ActivityRoute, plan_activities
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.whole import WholeSync
from leadsync.sync.messages import ActivityOperation, SyncBatch
from leadsync.sync.upload.run import process
from local.simulators.marketo import MarketoSimulator
from tests.support.chats import customer, entry, message, thread
from tests.support.credentials import SECRET
from tests.support.fakes import FakeMarketo, FakeQueue, FakeSource, FakeState
from tests.support.handlers import put_secret, upload_handler
from tests.support.lambda_context import FakeLambdaContext
from tests.support.limiters import RecordingLimiter
from tests.support.replay_fakes import FakeDeadLetterQueue, FakeSyncQueue
from tests.support.upload_fakes import FakeDeferrer

pytestmark = pytest.mark.integration
SQS_RECORD = {
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:leadsync-sync",
    "awsRegion": "us-east-1",
    "receiptHandle": "r",
    "attributes": {
        "ApproximateReceiveCount": "1",
        "SentTimestamp": "1768478400000",
        "SenderId": "AIDA",
        "ApproximateFirstReceiveTimestamp": "1768478400000",
    },
    "messageAttributes": {},
    "md5OfBody": "",
}


@pytest.fixture
def client(marketo: MarketoSimulator) -> Iterator[MarketoClient]:
    endpoints = MarketoEndpoints(f"{marketo.base_url}/rest", f"{marketo.base_url}/identity")
    with MarketoClient(
        endpoints, SECRET["marketo_client_id"], SECRET["marketo_client_secret"], RecordingLimiter()
    ) as made:
        yield made


@pytest.fixture
def upload(
    monkeypatch: pytest.MonkeyPatch,
    marketo: MarketoSimulator,
    state_table: str,
    queues: dict[str, str],
) -> Iterator[ModuleType]:
    module = upload_handler(
        monkeypatch, put_secret(marketo), state_table, queues, CHAT_ACTIVITIES="true"
    )
    yield module
    module.environment.cache_clear()
    module.wired.cache_clear()


def _chats(n: int) -> list[dict[str, Any]]:
    """n visitors, one chat each, with an agent's answer."""
    return [
        entry(
            f"CHAT{i}",
            user=customer(email=f"visitor{i}@example.com", user_id=f"cust-{i}"),
            thread_=thread(
                f"T{i}",
                events=[
                    message("Hello, pricing?", author=f"cust-{i}"),
                    message(
                        "Sure!",
                        author="alice0@support.example.com",
                        event_id="m2",
                        created_at="2026-01-15T12:01:10.000000Z",
                    ),
                ],
                tags=["pricing"],
            ),
        )
        for i in range(n)
    ]


def _run_fetch(entries: list[dict[str, Any]], state_table: str) -> tuple[Any, list[SyncBatch]]:
    """One hourly run over `entries` with chat activities on: its summary and messages."""
    queue = FakeQueue()
    route = ActivityRoute(default_activity_map(), DynamoDBActivityLedger(state_table))
    summary = fetch.run(
        source=FakeSource(entries),
        state=FakeState(),
        queue=queue,
        destination=FakeMarketo(),
        settings=fetch.FetchSettings(limits=BatchLimits(50, 200_000)),
        whole=WholeSync(activities=route),
        now=lambda: datetime(2026, 1, 15, 13, tzinfo=UTC),
    )
    return summary, list(queue.batches)


def _fetched(entries: list[dict[str, Any]], state_table: str) -> list[SyncBatch]:
    summary, batches = _run_fetch(entries, state_table)
    assert summary.activities == len(entries)
    return batches


def _deliver(
    upload: ModuleType, batches: list[SyncBatch], context: FakeLambdaContext, prefix: str = "m"
) -> dict[str, Any]:
    records = [
        {**SQS_RECORD, "messageId": f"{prefix}-{i}", "body": b.model_dump_json()}
        for i, b in enumerate(batches)
    ]
    answer: dict[str, Any] = upload.handler({"Records": records}, context)
    return answer


def test_check_fix_makes_the_type_and_each_chat_becomes_one_activity(
    upload: ModuleType,
    marketo: MarketoSimulator,
    client: MarketoClient,
    state_table: str,
    lambda_context: FakeLambdaContext,
) -> None:
    report = Report()
    check_activity_type(client, default_activity_map(), report, fix=True)
    assert report.ok, report.text()
    batches = _fetched(_chats(3), state_table)
    writes = [b for b in batches if b.records]
    activities = [b for b in batches if b.activities is not None]
    assert [len(b.activities.activities) for b in activities if b.activities] == [3]
    assert _deliver(upload, writes, lambda_context) == {"batchItemFailures": []}
    assert _deliver(upload, activities, lambda_context, prefix="a") == {"batchItemFailures": []}
    stored = marketo.activities("livechatChat")
    assert sorted(a["primaryAttributeValue"] for a in stored) == ["CHAT0", "CHAT1", "CHAT2"]
    leads = {lead["id"]: lead["email"] for lead in marketo.leads()}
    for activity in stored:
        index = activity["primaryAttributeValue"][-1]
        assert leads[activity["leadId"]] == f"visitor{index}@example.com"
        values = activity["attributesByApiName"]
        assert values["messageCount"] == 2
        assert "pricing" in values["chatTags"]
        assert values["agentNames"] == "Alice Agent"
    # delivered again as another message (a replay, a give-back): nothing added
    assert _deliver(upload, activities, lambda_context, prefix="again") == {"batchItemFailures": []}
    assert len(marketo.activities("livechatChat")) == 3
    # and the next run leaves out the chats Marketo holds
    again = _fetched_again(_chats(3), state_table)
    assert again == []


def _fetched_again(entries: list[dict[str, Any]], state_table: str) -> list[SyncBatch]:
    return [b for b in _run_fetch(entries, state_table)[1] if b.activities is not None]


def _leads_written(
    upload: ModuleType, client: MarketoClient, state_table: str, context: FakeLambdaContext
) -> list[SyncBatch]:
    """The type made, two visitors' run fetched and its leads written: its activity messages."""
    check_activity_type(client, default_activity_map(), Report(), fix=True)
    batches = _fetched(_chats(2), state_table)
    _deliver(upload, [b for b in batches if b.records], context)
    return [b for b in batches if b.activities is not None]


def test_a_send_whose_answer_was_lost_is_read_back_not_sent_twice(
    upload: ModuleType,
    marketo: MarketoSimulator,
    client: MarketoClient,
    state_table: str,
    lambda_context: FakeLambdaContext,
) -> None:
    [op] = _leads_written(upload, client, state_table, lambda_context)
    # a first delivery claimed both chats and Marketo added CHAT0, then the answer was lost
    ledger = DynamoDBActivityLedger(state_table)
    ledger.claim(["CHAT0", "CHAT1"], "lost-0", timedelta(minutes=15))
    type_id = client.activities.custom_types()[0].id
    lead = {lead["email"]: lead["id"] for lead in marketo.leads()}["visitor0@example.com"]
    client.activities.add(
        [
            {
                "leadId": lead,
                "activityDate": "2026-01-15T12:00:00Z",
                "activityTypeId": type_id,
                "primaryAttributeValue": "CHAT0",
                "attributes": [],
            }
        ]
    )
    # SQS delivers the same message again
    assert _deliver(upload, [op], lambda_context, prefix="lost") == {"batchItemFailures": []}
    stored = sorted(a["primaryAttributeValue"] for a in marketo.activities("livechatChat"))
    assert stored == ["CHAT0", "CHAT1"]


def test_a_refused_activity_is_reported_then_replayed_once(
    upload: ModuleType,
    marketo: MarketoSimulator,
    client: MarketoClient,
    state_table: str,
    lambda_context: FakeLambdaContext,
) -> None:
    activities = _leads_written(upload, client, state_table, lambda_context)
    marketo.set_faults(record_reject_probability=1.0)
    _deliver(upload, activities, lambda_context, "a")
    marketo.set_faults(record_reject_probability=0.0)
    assert marketo.activities("livechatChat") == []
    refused = StateStore(state_table).errors_between(None, datetime.now(UTC))
    assert sorted(e.reason for e in refused) == ["activity_1003", "activity_1003"]
    assert all(e.detail for e in refused)

    queue = FakeSyncQueue()
    report = replay(
        dead_letters=FakeDeadLetterQueue(),
        errors=StateStore(state_table),
        queue=queue,
        options=ReplayOptions(limits=BatchLimits(300, 200_000)),
    )
    assert (report.error_entries, report.messages_sent) == (2, 1)
    _deliver(upload, queue.batches, lambda_context, "replayed")
    _deliver(upload, queue.batches, lambda_context, "replayed-again")
    stored = sorted(a["primaryAttributeValue"] for a in marketo.activities("livechatChat"))
    assert stored == ["CHAT0", "CHAT1"]


def _pending(email: str, chat: str, *, created_hours_ago: float) -> SyncBatch:
    """An activity message whose lead the run was to create, after its last wait."""
    at = datetime.now(UTC) - timedelta(hours=created_hours_ago)
    activity = ChatActivity(
        chat_id=chat, email=email, lead_id=None, activity_date=at, primary_value=chat
    )
    return SyncBatch(
        correlation_id=f"run-{chat}",
        created_at=at,
        deferrals=30,
        activities=ActivityOperation(type_api_name="livechatChat", activities=[activity]),
    )


def test_an_imported_lead_is_found_by_e_mail_and_a_lead_never_made_is_reported(
    upload: ModuleType,
    marketo: MarketoSimulator,
    client: MarketoClient,
    state_table: str,
    lambda_context: FakeLambdaContext,
) -> None:
    check_activity_type(client, default_activity_map(), Report(), fix=True)
    marketo.seed_leads([{"email": "imported@example.com"}])  # an import made it
    found = _pending("imported@example.com", "CHAT-I", created_hours_ago=1)
    waiting = _pending("later@example.com", "CHAT-L", created_hours_ago=1)
    never = _pending("never@example.com", "CHAT-N", created_hours_ago=30)
    assert _deliver(upload, [found, waiting, never], lambda_context) == {"batchItemFailures": []}
    [written] = marketo.activities("livechatChat")
    assert written["primaryAttributeValue"] == "CHAT-I"
    # the lead not there yet waits for a later look, without a call before it
    wired = upload.wired()
    deferrer = FakeDeferrer()
    ports = replace(wired.ports, deferrer=deferrer)
    result = process(waiting.model_dump_json(), holder="h-2", ports=ports, settings=wired.settings)
    assert result.deferred == 1
    [(again, _)] = deferrer.deferred
    assert again.not_before is not None
    assert again.not_before > datetime.now(UTC) + timedelta(minutes=10)
    # the lead a day old run never made: reported, not written
    [entry] = StateStore(state_table).errors_between(None, datetime.now(UTC))
    assert entry.reason == "activity_lead_unknown"
    assert entry.record is not None
    assert entry.record["activity"]["chat_id"] == "CHAT-N"


def test_the_activities_of_imported_leads_wait_for_the_import_then_find_them(
    state_table: str,
) -> None:
    entries = _chats(3)
    route = ActivityRoute(default_activity_map(), DynamoDBActivityLedger(state_table))
    started = datetime(2026, 1, 15, 13, tzinfo=UTC)
    imported = frozenset({"visitor1@example.com", "visitor2@example.com"})
    plan = plan_activities(
        entries,
        map_entries(entries).visitors,
        {},
        route,
        limits=BatchLimits(50, 200_000),
        created_at=started,
        imported=imported,
    )
    [rest, later] = plan.messages
    assert rest.activities is not None
    assert later.activities is not None
    assert [a.chat_id for a in rest.activities.activities] == ["CHAT0"]
    assert (rest.activities.by_import, rest.not_before) == (False, None)
    assert sorted(a.chat_id for a in later.activities.activities) == ["CHAT1", "CHAT2"]
    assert later.activities.by_import
    assert later.not_before == started + timedelta(minutes=10)
    assert plan.pending == {"visitor0@example.com"}  # only a REST create announces its id


def test_a_chat_of_an_erased_visitor_gets_no_activity_then_or_later(state_table: str) -> None:
    erased = entry(
        "CHAT-E",
        user=customer(email="erase.me@example.com", user_id="cust-e"),
        thread_=thread("TE", tags=["gdpr-erase"]),
    )
    route = ActivityRoute(default_activity_map(), DynamoDBActivityLedger(state_table))
    whole = WholeSync(activities=route, erasure_markers=ErasureMarkers.of(tags=["gdpr-erase"]))
    for _ in range(2):  # the run, and a later one reading the same chats
        queue = FakeQueue()
        summary = fetch.run(
            source=FakeSource([erased, *_chats(1)]),
            state=FakeState(),
            queue=queue,
            destination=FakeMarketo(),
            settings=fetch.FetchSettings(limits=BatchLimits(50, 200_000)),
            whole=whole,
            now=lambda: datetime(2026, 1, 15, 13, tzinfo=UTC),
        )
        assert summary.erasures == 1
        chats = [a.chat_id for b in queue.batches if b.activities for a in b.activities.activities]
        assert chats == ["CHAT0"]
