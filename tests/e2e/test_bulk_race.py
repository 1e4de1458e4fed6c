"""The bulk path's races. With the priority lane: a visitor's webhook is served between the
fetch that staged an import for it and the import's submit. The import is an insert-or-
update by e-mail; sent as staged it would put the older chat back over the webhook's. The
write ledger tells the bulk function which leads moved on, and only those are decided
again. With the REST path: an import given up on at Marketo (its records written by REST)
runs after all, over a newer chat REST wrote meanwhile; the bulk function, still watching
it, has the next fetch read the chats again, and the lead gets the newer chat back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.bulk_run import drain_bulk
from local.ports import post_json
from local.simulators.livechat.authored import authored_chat
from local.simulators.livechat.webhooks import WebhookSender, incoming_chat
from local.sync_run import read_dataset_from_start
from local.world import LocalWorld, WorldOptions
from tests.support.polling import until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    options = WorldOptions(
        stack_name="leadsync-bulk-race",
        chats=400,
        seed=37,
        state_dir=tmp_path_factory.mktemp("bulk-race-world"),
        # 20 records a call: the REST path would cost more calls than one import
        parameters={
            "BulkThresholdRecords": "20",
            "BulkPollDelaysSeconds": "1,2",
            "MarketoRecordsPerCall": "20",
            "BulkStuckAfterMinutes": "30",
            "BulkGiveUpAfterHours": "1",
        },
        marketo_args=["--bulk-rows-per-second", "50", "--bulk-start-delay-seconds", "0"],
        movable_clock=True,
    )
    with LocalWorld(options) as running:
        yield running


def _leads(world: LocalWorld, email: str) -> list[dict[str, Any]]:
    return [lead for lead in world.marketo_leads() if lead.get("email") == email]


@pytest.fixture(scope="module")
def raced(world: LocalWorld) -> dict[str, Any]:
    read_dataset_from_start(world)
    fetched: dict[str, Any] = world.fire_schedule("FetchFunction").result
    ours = sorted(world.livechat_visitors(), key=lambda v: v["email"])[0]
    seq = int(world.marketo_audit(limit=0).get("total_requests", 0))
    # the visitor chats again: the webhook is served before the import
    at = datetime.now(UTC) - timedelta(seconds=30)
    newer = authored_chat(
        "RACE0001", email=ours["email"], at=at, customer_id="race-ours", country="Portugal"
    )
    world.add_livechat_chats([newer])
    listening = world.listen("PriorityUploadFunction")
    sender = WebhookSender(f"{world.http_api().url}/webhooks/livechat", retries=0)
    assert sender.post(incoming_chat(newer, secret_key=world.webhook_secret)) == 202
    until(lambda: _leads(world, ours["email"]), "the webhook's lead")
    for source in listening:
        source.stop()
    bulk = drain_bulk(world, advance_s=30, deadline_s=120)
    audit = world.marketo_audit(since=seq, limit=100_000)["requests"]
    return {"fetch": fetched, "bulk": bulk, "ours": ours, "at": at, "audit": audit}


def test_the_visitors_were_staged_for_an_import(raced: dict[str, Any]) -> None:
    assert raced["fetch"]["path"] == "bulk", raced["fetch"]
    assert raced["bulk"].errors == []


def test_a_lead_the_priority_lane_created_meanwhile_keeps_the_newer_chat(
    world: LocalWorld, raced: dict[str, Any]
) -> None:
    leads = _leads(world, raced["ours"]["email"])
    assert len(leads) == 1
    assert leads[0]["country"] == "Portugal"
    last = datetime.fromisoformat(str(leads[0]["livechatLastChat"]).replace("Z", "+00:00"))
    assert last >= raced["at"] - timedelta(seconds=1)


def test_only_the_lead_that_moved_on_was_looked_up_again(raced: dict[str, Any]) -> None:
    lookups = [r for r in raced["audit"] if str(r["action"]).startswith("lookup")]
    submits = [r for r in raced["audit"] if r["action"] == "bulk:submit"]
    assert len(submits) == raced["fetch"]["bulk_jobs"]
    # the webhook's own lookup, and the bulk function's lookup of the one lead
    assert len(lookups) <= 2, lookups


# visitors of the import given up on: enough that one import costs fewer calls than REST
LATE = 100


def _late_chats(now: datetime, name: str, numbers: range) -> list[dict[str, Any]]:
    return [
        authored_chat(
            f"LATE{n:04d}" + ("N" if name != "Ada Older" else ""),
            email=f"late.{n}@bulk-race.example.com",
            at=now,
            customer_id=f"late-{n}",
            name=name,
        )
        for n in numbers
    ]


def _rerouted_jobs(world: LocalWorld) -> list[dict[str, Any]]:
    assert world.stack is not None
    answer = world.client("dynamodb").query(
        TableName=world.stack.outputs["StateTableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "bulk#job"}},
        ConsistentRead=True,
    )
    jobs = [json.loads(item["job"]["S"]) for item in answer["Items"]]
    return [job for job in jobs if job["status"] == "rerouted"]


@pytest.fixture(scope="module")
def late(world: LocalWorld, raced: dict[str, Any]) -> dict[str, Any]:
    assert world.clock is not None
    faults = f"{world.marketo_url}/_sim/faults"
    start = world.clock.now()
    world.add_livechat_chats(_late_chats(start - timedelta(minutes=3), "Ada Older", range(LATE)))
    # Marketo takes the file and stalls halfway for three hours
    post_json(faults, {"bulk_stuck_probability": 1.0, "bulk_stuck_seconds": 3 * 3600})
    staged: dict[str, Any] = world.fire_schedule("FetchFunction").result
    world.drain_queue("BulkFunction", deadline_s=5)
    post_json(faults, {"bulk_stuck_probability": 0.0})
    # past the give-up deadline: the records go to the REST path, the job is watched on
    world.move_clocks_to(start + timedelta(hours=1, minutes=30))
    world.drain_queue("BulkFunction", deadline_s=5)
    world.drain_queue("UploadFunction", wait_in_flight=True, deadline_s=120)
    # later, the first visitor chats again: REST writes the newer chat
    world.move_clocks_to(start + timedelta(hours=1, minutes=45))
    newer_at = world.clock.now() - timedelta(minutes=1)
    world.add_livechat_chats(_late_chats(newer_at, "Grace Newer", range(1)))
    world.fire_schedule("FetchFunction")
    world.drain_queue("UploadFunction", wait_in_flight=True, deadline_s=120)
    ours = "late.0@bulk-race.example.com"
    before = dict(_leads(world, ours)[0])
    # the stall ends: Marketo imports the file's older values over it
    world.move_clocks_to(start + timedelta(hours=5))
    overwritten = dict(_leads(world, ours)[0])
    seq = int(world.marketo_audit(limit=0).get("total_requests", 0))
    world.drain_queue("BulkFunction", deadline_s=5)
    watched = world.marketo_audit(since=seq, limit=1000)["requests"]
    again: dict[str, Any] = world.fire_schedule("FetchFunction").result
    world.drain_queue("UploadFunction", wait_in_flight=True, deadline_s=120)
    return {
        "staged": staged,
        "newer_at": newer_at,
        "before": before,
        "overwritten": overwritten,
        "watched": watched,
        "again": again,
        "jobs": _rerouted_jobs(world),
        "after": _leads(world, ours)[0],
        "others": [
            lead
            for lead in world.marketo_leads()
            if str(lead.get("email")).startswith("late.") and lead.get("email") != ours
        ],
    }


def _last_chat(lead: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(lead["livechatLastChat"]).replace("Z", "+00:00"))


def test_an_import_given_up_on_that_runs_late_puts_the_older_chat_back(
    late: dict[str, Any],
) -> None:
    assert late["staged"]["path"] == "bulk", late["staged"]
    [job] = late["jobs"]
    assert job["batch_id"] is not None
    # REST wrote the newer chat; the late import wrote the file's older values over it
    assert late["before"]["firstName"] == "Grace"
    assert _last_chat(late["before"]) >= late["newer_at"] - timedelta(seconds=1)
    assert late["overwritten"]["firstName"] == "Ada"
    assert _last_chat(late["overwritten"]) < late["newer_at"] - timedelta(seconds=1)


def test_the_watch_sees_it_and_the_next_fetch_writes_the_newer_chat_again(
    late: dict[str, Any],
) -> None:
    [job] = late["jobs"]
    assert job["imported_late_at"] is not None
    assert job["next_poll_at"] is None  # no longer watched
    assert "read again" in job["message"]
    statuses = [r for r in late["watched"] if r["action"] == "bulk:status"]
    assert len(statuses) == 1  # one look: Marketo said Complete
    assert late["again"]["read_again_from"] is not None
    after = late["after"]
    assert after["firstName"] == "Grace"
    assert _last_chat(after) >= late["newer_at"] - timedelta(seconds=1)
    # the other visitors had no newer chat: the import's values are their latest
    assert len(late["others"]) == LATE - 1
    assert {lead["firstName"] for lead in late["others"]} == {"Ada"}
