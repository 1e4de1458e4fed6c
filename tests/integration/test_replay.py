"""`leadsync replay` for real: moto's queues and table, the upload handler, the Marketo simulator.

Some visitors failed before Marketo had them, one failed after the first attempt had in fact
created the lead, some leads exist already: after the replay and one delivery of what it sent,
each of them is in Marketo exactly once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadsync.adapters.dead_letters import ERROR_CODE, ERROR_MESSAGE, DeadLetters
from leadsync.adapters.state import StateStore
from leadsync.ops.cli import main
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record
from leadsync.sync.messages import FailureNote, SyncBatch, SyncRecord
from local.event_sources import sqs_event
from local.simulators.marketo import MarketoSimulator
from tests.support.handlers import start_marketo
from tests.support.lambda_context import FakeLambdaContext
from tests.support.queues import queue_depth

pytestmark = pytest.mark.integration
REGION = "us-east-1"
ANN, BOB, CARL, DORA, EVE, FAY = (
    f"{name}.replay@example.com" for name in ("ann", "bob", "carl", "dora", "eve", "fay")
)
CARL_ID = 2001


@pytest.fixture
def marketo() -> Iterator[MarketoSimulator]:
    # the seeded leads were last updated two hours ago
    sim = start_marketo(start_time=(datetime.now(UTC) - timedelta(hours=2)).isoformat())
    yield sim
    sim.stop()


def _record(email: str, first: str, **fields: Any) -> SyncRecord:
    values = {"email": email, "firstName": first, "lastName": "Replay", **fields}
    return SyncRecord(action="create", email=email, fields=values, chat_ids=[f"chat-{first}"])


def _dead_batch(correlation_id: str, records: list[SyncRecord], hours_ago: int) -> SyncBatch:
    now = datetime.now(UTC)
    return SyncBatch(
        correlation_id=correlation_id,
        created_at=now - timedelta(hours=hours_ago + 1),
        records=records,
        attempts=4,
        not_before=now + timedelta(hours=2),
        failures=[
            FailureNote(
                at=now - timedelta(hours=hours_ago, minutes=30),
                attempt=1,
                code="HTTP 503",
                message="Service Unavailable",
                request=f"createOnly {len(records)} records",
            ),
            FailureNote(
                at=now - timedelta(hours=hours_ago),
                attempt=4,
                code="604",
                message="Request timed out",
                request=f"createOnly {len(records)} records",
            ),
        ],
    )


def _undeliverable(record: SyncRecord, correlation_id: str, minutes_ago: int) -> ErrorEntry:
    return from_record(
        record,
        reason="marketo_1006",
        detail="Field 'firstName' not found",
        at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        correlation_id=correlation_id,
        code="1006",
        request="createOnly 2 records",
    )


def _seed_failures(marketo: MarketoSimulator, state_table: str, dlq: str) -> None:
    eve = _record(EVE, "Eve")
    dead = DeadLetters(dlq)
    # Ann failed before Marketo had her; Bob's create was in fact applied before the timeout
    dead.send_batch(_dead_batch("dl-1", [_record(ANN, "Ann"), _record(BOB, "Bob")], 3))
    dead.send_batch(_dead_batch("dl-2", [eve], 2))  # Eve failed again later, below
    dead.send("not json", {ERROR_CODE: "invalid_message", ERROR_MESSAGE: "body is not JSON"})
    marketo.seed_leads(
        [
            {"email": BOB, "firstName": "Bob", "lastName": "Replay"},
            {"id": CARL_ID, "email": CARL, "firstName": "Karl", "lastName": "Replay"},
            {"email": DORA, "firstName": "Dora", "lastName": "Replay"},
        ]
    )
    carl = SyncRecord(  # Carl chatted after his lead was last updated: newest wins
        action="update",
        email=CARL,
        lead_id=CARL_ID,
        fields={"firstName": "Carl"},
        last_chat_at=datetime.now(UTC) - timedelta(minutes=30),
        chat_ids=["c"],
    )
    store = StateStore(state_table)
    store.record_errors(
        [
            _undeliverable(carl, "fetch-9", 50),
            _undeliverable(_record(DORA, "Dora", city="Lyon"), "fetch-9", 45),
            _undeliverable(eve, "up-7", 30),
            _undeliverable(_record(FAY, "Fay"), "up-8", 20),
            ErrorEntry(
                kind=ErrorKind.UNDELIVERABLE,
                reason="invalid_message",
                detail="body is not JSON; the body is in the dead-letter queue as it came",
                record={"message_id": "m-1", "bytes": 8},
                first_failure_at=datetime.now(UTC),
                last_failure_at=datetime.now(UTC),
                code="invalid_message",
            ),
            ErrorEntry(
                kind=ErrorKind.REJECTED,
                reason="invalid_email",
                chat_ids=["chat-x"],
                first_failure_at=datetime.now(UTC),
                last_failure_at=datetime.now(UTC),
            ),
        ]
    )
    # Fay was replayed already: not again
    [fay] = [e for e in _entries(state_table) if e.chat_ids == ["chat-Fay"]]
    assert fay.key is not None
    assert store.mark_replayed(fay.key)


def _entries(state_table: str) -> list[ErrorEntry]:
    return StateStore(state_table).errors_between(None, datetime.now(UTC))


def _take_all(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    taken: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        taken.extend(dict(message) for message in batch)
    return taken


def _arn(url: str) -> str:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["QueueArn"]
    )["Attributes"]
    return attributes["QueueArn"]


def _stack(queues: dict[str, str], state_table: str) -> str:
    """A stack with the outputs and parameters of leadsync's template."""
    name = f"leadsync-{uuid.uuid4().hex[:8]}"
    template = {
        "Parameters": {"MarketoRecordsPerCall": {"Type": "Number", "Default": 2}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "SyncQueueUrl": {"Value": queues["sync"]},
            "DeadLetterQueueUrl": {"Value": queues["dlq"]},
            "StateTableName": {"Value": state_table},
        },
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


def _summary(out: str) -> dict[str, str]:
    last = out.strip().splitlines()[-1]
    assert last.startswith("replay: ")
    return dict(pair.split("=", 1) for pair in last.removeprefix("replay: ").split())


def test_replay_re_drives_every_failure_once_and_marketo_gets_no_duplicate(
    capsys: pytest.CaptureFixture[str],
    marketo: MarketoSimulator,
    upload: Any,
    state_table: str,
    queues: dict[str, str],
    lambda_context: FakeLambdaContext,
) -> None:
    _seed_failures(marketo, state_table, queues["dlq"])
    explicit = [
        "--sync-queue-url",
        queues["sync"],
        "--dead-letter-queue-url",
        queues["dlq"],
        "--state-table",
        state_table,
        "--region",
        REGION,
    ]

    # a dry run says the same and changes nothing
    assert main(["replay", *explicit, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert _summary(dry) == {
        "dead_letters": "2",
        "records": "5",
        "error_entries": "3",
        "duplicates": "1",
        # the two dead letters, and fetch-9's update and create (a message holds one kind)
        "messages_sent": "4",
        "not_replayable": "2",
        "rejected_left": "1",
        "dry_run": "true",
    }
    assert queue_depth(queues["sync"]) == 0
    assert queue_depth(queues["dlq"]) == 3
    assert not any(e.replayed_at for e in _entries(state_table) if e.chat_ids != ["chat-Fay"])

    assert main(["replay", *explicit]) == 0
    out = capsys.readouterr().out
    assert _summary(out) == {**_summary(dry), "dry_run": "false"}
    assert "rewinding the fetch mark" in out
    assert "body is not a batch (invalid_message: body is not JSON)" in out
    assert not any(email.split("@")[0] in out for email in (ANN, BOB, CARL, DORA, EVE))
    assert "a***@e***.com" in out

    # only the letter that is not a batch is left, visible at once
    [left] = DeadLetters(queues["dlq"]).peek(10)
    assert left.body == "not json"
    replayed = {e.chat_ids[0] for e in _entries(state_table) if e.replayed_at is not None}
    assert replayed == {"c", "chat-Dora", "chat-Eve", "chat-Fay"}

    messages = _take_all(queues["sync"])
    batches = {
        b.correlation_id: b for b in (SyncBatch.model_validate_json(m["Body"]) for m in messages)
    }
    assert set(batches) == {"dl-1", "fetch-9", "up-7"}
    assert (batches["dl-1"].attempts, batches["dl-1"].not_before) == (0, None)
    assert [note.code for note in batches["dl-1"].failures] == ["HTTP 503", "604"]
    assert [note.code for note in batches["fetch-9"].failures] == ["1006", "1006"]

    # the event source mapping delivers them to the upload
    response = upload.handler(sqs_event(messages, _arn(queues["sync"]), REGION), lambda_context)
    assert response == {"batchItemFailures": []}
    boto3.client("sqs").delete_message_batch(
        QueueUrl=queues["sync"],
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
        ],
    )
    leads = marketo.leads()
    emails = sorted(lead["email"] for lead in leads)
    assert emails == sorted([ANN, BOB, CARL, DORA, EVE])  # each once; Fay was done before
    by_email = {lead["email"]: lead for lead in leads}
    assert by_email[CARL]["firstName"] == "Carl"
    assert by_email[CARL]["id"] == CARL_ID
    assert by_email[DORA]["city"] == "Lyon"
    assert queue_depth(queues["dlq"]) == 1  # nothing failed again

    # a second replay, by the stack's name this time, has nothing left to re-drive
    stack = _stack(queues, state_table)
    assert main(["replay", "--stack", stack, "--region", REGION]) == 0
    again = _summary(capsys.readouterr().out)
    assert again == {
        "dead_letters": "0",
        "records": "0",
        "error_entries": "0",
        "duplicates": "0",
        "messages_sent": "0",
        "not_replayable": "2",
        "rejected_left": "1",
        "dry_run": "false",
    }
    assert queue_depth(queues["sync"]) == 0
    assert sorted(lead["email"] for lead in marketo.leads()) == emails


def test_the_stack_names_the_queues_the_table_and_the_batch_size(
    capsys: pytest.CaptureFixture[str], state_table: str, queues: dict[str, str]
) -> None:
    store = StateStore(state_table)
    store.record_errors(
        [_undeliverable(_record(f"p{n}.replay@example.com", f"P{n}"), "f-1", 5) for n in range(3)]
    )
    stack = _stack(queues, state_table)

    assert main(["replay", "--stack", stack, "--region", REGION]) == 0

    out = capsys.readouterr().out
    assert f"stack {stack}: sync queue {queues['sync']}" in out
    assert _summary(out)["messages_sent"] == "2"  # MarketoRecordsPerCall=2: 2 + 1 records
    sizes = sorted(len(json.loads(m["Body"])["records"]) for m in _take_all(queues["sync"]))
    assert sizes == [1, 2]


def test_a_missing_stack_is_said_plainly_with_exit_2(
    capsys: pytest.CaptureFixture[str], moto_server: str
) -> None:
    assert main(["replay", "--stack", "no-such-stack", "--region", REGION]) == 2
    assert "no stack named 'no-such-stack' in us-east-1" in capsys.readouterr().err
