"""A user's first day: the stack deployed against a freshly provisioned Marketo (standard
fields only, no lists) and a LiveChat with no webhook registered. The first run stops before
any write and loses nothing, `leadsync check` names what is missing, `--fix` creates it (a
second --fix changes nothing), and the next run delivers everything."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from local.check_run import CheckRun, run_check
from local.sync_run import run_cycle
from local.world import LocalWorld
from tests.support.local_world import started_world, stored_errors

pytestmark = pytest.mark.e2e

CHATS = 80
MISSING = {
    "livechatFirstChat",
    "livechatLastChat",
    "livechatChatCount",
    "livechatTags",
    "livechatReferrer",
    "livechatLandingPage",
    "timezone",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    with started_world(tmp_path_factory, "first-day", chats=CHATS, seed=23, fresh=True) as running:
        yield running


def _mark(world: LocalWorld) -> datetime | None:
    assert world.stack is not None
    item = world.client("dynamodb").get_item(
        TableName=world.stack.outputs["StateTableName"],
        Key={"pk": {"S": "source#livechat"}, "sk": {"S": "hwm"}},
    )
    raw = item.get("Item", {}).get("mark", {}).get("S")
    return datetime.fromisoformat(raw) if raw else None


def _health(world: LocalWorld) -> tuple[int, dict[str, Any]]:
    url = f"{world.http_api().url}/health"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


def _failed(run: CheckRun) -> set[str]:
    return {
        line.split(":", 1)[0].removeprefix("FAIL ").strip()
        for line in run.output.splitlines()
        if line.startswith("FAIL ")
    }


def test_the_first_day_from_a_fresh_instance_to_every_lead(world: LocalWorld) -> None:
    leads_before = len(world.marketo_leads())
    # 1. the first hourly run, before any fix: nothing written, nothing lost, one clear error
    first = run_cycle(world)
    assert first.fetch["stopped"].startswith("configuration / field_missing: ")
    assert (first.created, first.updated, first.field_errors) == (0, 0, 0)
    assert len(world.marketo_leads()) == leads_before
    assert world.queue_depth("SyncQueueUrl") == 0
    assert _mark(world) is not None  # rewound by the cycle, not moved past the chats
    errors = stored_errors(world)
    assert [(e["kind"]["S"], e["reason"]["S"]) for e in errors] == [
        ("configuration", "field_missing")
    ]
    assert "leadsync check --fix" in errors[0]["detail"]["S"]
    status, body = _health(world)
    assert status == 503
    assert any(r.startswith("schema: configuration / field_missing") for r in body["reasons"])

    # 2. leadsync check fails, naming each missing field and the webhook, with its fix
    before = run_check(world)
    assert before.code == 1, before.output
    assert _failed(before) == {f"field {name}" for name in MISSING} | {"webhook"}
    assert before.marketo_calls <= 6
    assert world.webhook_secret not in before.output

    # 3. --fix creates the fields and registers the webhook; a second --fix changes nothing
    fixed = run_check(world, "--fix")
    assert fixed.code == 0, fixed.output
    assert fixed.failed == 0
    assert sum(1 for line in fixed.output.splitlines() if "created (" in line) == len(MISSING)
    again = run_check(world, "--fix")
    assert again.code == 0, again.output
    assert "created" not in again.output
    assert "registered" not in again.output

    # 4. the next run delivers every visitor; Marketo refused no field
    second = run_cycle(world)
    assert second.fetch.get("stopped") is None
    assert second.field_errors == 0
    assert second.created + second.updated == second.visitors
    emails = {lead["email"] for lead in world.marketo_leads()}
    visitors = {v["email"] for v in world.livechat_visitors() if v.get("email")}
    assert visitors <= emails
    assert all(lead.get("livechatChatCount") for lead in world.marketo_leads_of(*visitors))
    status, body = _health(world)
    assert status == 200, body
