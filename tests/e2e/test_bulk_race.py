"""The bulk path's race with the priority lane: a visitor's webhook is served between the
fetch that staged an import for it and the import's submit. The import is an insert-or-
update by e-mail; sent as staged it would put the older chat back over the webhook's. The
write ledger tells the bulk function which leads moved on, and only those are decided
again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.bulk_run import drain_bulk
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
        },
        marketo_args=["--bulk-rows-per-second", "50", "--bulk-start-delay-seconds", "0"],
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
