"""The local world as `make demo` runs it: the stack in moto, the simulators, the functions
driven by their schedule and their SQS event source mapping."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadsync.adapters.dead_letters import DeadLetters
from leadsync.ops.cli import main
from local.world import LocalWorld
from tests.support.handlers import forget_cached_clients
from tests.support.local_world import started_world, stored_errors

pytestmark = pytest.mark.e2e

CHATS = 120


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    with started_world(tmp_path_factory, "world", chats=CHATS, seed=11) as running:
        yield running


@pytest.fixture(scope="module")
def fetched(world: LocalWorld) -> dict[str, Any]:
    result: dict[str, Any] = world.fire_schedule("FetchFunction").result
    return result


def test_the_stack_exists_as_the_template_says(world: LocalWorld) -> None:
    described = world.describe()
    kinds = {logical: kind for logical, kind, _ in described["resources"]}
    assert {kinds["FetchFunction"], kinds["UploadFunction"], kinds["DigestFunction"]} == {
        "AWS::Lambda::Function"
    }
    assert kinds["SyncQueue"] == kinds["DeadLetterQueue"] == "AWS::SQS::Queue"
    assert kinds["StateTable"] == "AWS::DynamoDB::Table"
    assert all(status == "CREATE_COMPLETE" for _, _, status in described["resources"])


def test_a_plan_says_what_the_run_would_do_and_writes_nothing(
    world: LocalWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert world.stack is not None
    for name, value in world.aws_env.items():
        monkeypatch.setenv(name, value)
    calls_before = world.marketo_audit(limit=0)["total_requests"]

    # the command runs in this process: its AWS clients must reach this world's endpoint,
    # and must not outlive it
    forget_cached_clients()
    try:
        assert main(["plan", "--stack", world.stack.name]) == 0
    finally:
        forget_cached_clients()

    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("plan: creates=")
    figures = dict(part.split("=") for part in last.removeprefix("plan: ").split())
    assert int(figures["creates"]) > 0
    assert int(figures["rejected"]) > 0
    assert "@" not in out  # no e-mail in clear
    # nothing queued, stored or marked; Marketo was only read
    assert world.queue_depth("SyncQueueUrl") == 0
    table = world.stack.outputs["StateTableName"]
    mark = world.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "source#livechat"}, "sk": {"S": "hwm"}}
    )
    assert "Item" not in mark
    actions = {
        r["action"] for r in world.marketo_audit(since=calls_before, limit=100000)["requests"]
    }
    assert actions <= {"identity", "lookup"}


def test_the_schedule_fetches_every_chat_of_the_window(
    world: LocalWorld, fetched: dict[str, Any]
) -> None:
    chats = _get(f"{world.livechat_url}/_sim/chats?limit=100000")["chats"]
    assert fetched["chats"] == len(chats) == CHATS
    assert fetched["entries"] == sum(len(chat["threads"]) for chat in chats)
    assert fetched["visitors"] > 0
    assert fetched["mark_advanced"] is True
    assert fetched["messages"] >= 1
    assert world.queue_depth("SyncQueueUrl") == fetched["messages"]


def test_rejected_chats_are_kept_in_the_error_store(
    world: LocalWorld, fetched: dict[str, Any]
) -> None:
    errors = stored_errors(world)
    assert fetched["rejected"] > 0
    assert len(errors) == fetched["rejected"]
    assert all(item["chat_ids"]["L"] and item["reason"]["S"] for item in errors)


def test_the_event_source_mapping_feeds_upload_and_empties_the_queue(
    world: LocalWorld, fetched: dict[str, Any]
) -> None:
    report = world.drain_queue("UploadFunction")
    assert report.errors == []
    assert report.messages == report.deleted == fetched["messages"]
    assert world.queue_depth("SyncQueueUrl") == 0
    assert world.queue_depth("DeadLetterQueueUrl") == 0


def test_a_broken_message_is_dead_lettered_alone_and_not_lost(world: LocalWorld) -> None:
    assert world.stack is not None
    sqs = world.client("sqs")
    queue = world.stack.outputs["SyncQueueUrl"]
    dead_before = world.queue_depth("DeadLetterQueueUrl")
    sqs.send_message(QueueUrl=queue, MessageBody="this is not a batch")
    valid = Path("events/upload_sqs.json").read_text(encoding="utf-8")
    sqs.send_message(QueueUrl=queue, MessageBody=json.loads(valid)["Records"][0]["body"])
    report = world.drain_queue("UploadFunction")
    assert (report.messages, report.deleted, report.failed) == (2, 2, 0)
    # kept byte for byte, with the reason, where the digest and a person will see it
    assert world.queue_depth("SyncQueueUrl") == 0
    assert world.queue_depth("DeadLetterQueueUrl") == dead_before + 1
    letters = DeadLetters(world.stack.outputs["DeadLetterQueueUrl"], sqs).peek(10)
    [broken] = [letter for letter in letters if letter.body == "this is not a batch"]
    assert broken.attributes["error_code"] == "invalid_message"


def test_the_daily_schedule_mails_the_digest_through_ses(
    world: LocalWorld, fetched: dict[str, Any]
) -> None:
    result = world.fire_schedule("DigestFunction").result
    assert result["sent"] is True
    assert result["errors"] > 0
    mails = world.sent_emails()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["source"] == "leadsync@example.com"
    assert "admin@example.com" in json.dumps(mail["destinations"])
    assert str(result["errors"]) in (mail["subject"] or "")


def test_the_next_run_starts_from_the_high_water_mark(
    world: LocalWorld, fetched: dict[str, Any]
) -> None:
    again = world.fire_schedule("FetchFunction").result
    assert again["since"] > fetched["since"]
    assert again["mark_advanced"] is True
