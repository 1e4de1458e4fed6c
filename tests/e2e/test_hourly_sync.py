"""The hourly sync on the local world: the simulator's final lead table is exactly what the
field rules say for the generated dataset, two overlapping runs duplicate nothing, and a
second pass over the same chats writes nothing."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.models import Visitor
from local.sync_run import SEEDED_GEOGRAPHY, CycleReport, run_cycle, seed_known_visitors
from local.world import LocalWorld
from tests.support.local_world import started_world

pytestmark = pytest.mark.e2e

CHATS = 300
GEOGRAPHY = {"country": "country", "state": "region", "city": "city", "timezone": "timezone"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    with started_world(tmp_path_factory, "sync-world", chats=CHATS, seed=23) as running:
        yield running


@pytest.fixture(scope="module")
def seeded(world: LocalWorld) -> dict[str, dict[str, Any]]:
    return {lead["email"]: lead for lead in seed_known_visitors(world)}


@pytest.fixture(scope="module")
def visitors(world: LocalWorld) -> dict[str, Visitor]:
    """The visitors the generated chats hold, as the canonical mapping reads them."""
    url = f"{world.livechat_url}/_sim/chats?limit=100000"
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        chats = json.loads(answer.read())["chats"]
    entries = [
        {**{k: v for k, v in chat.items() if k != "threads"}, "thread": thread}
        for chat in chats
        for thread in chat["threads"]
    ]
    return {v.email: v for v in map_entries(entries).visitors}


@pytest.fixture(scope="module")
def overlapping(world: LocalWorld, seeded: dict[str, Any]) -> dict[str, Any]:
    """Two fetch runs over the same chats, both queued before any upload runs."""
    start = world.chats_start - timedelta(seconds=1) + timedelta(minutes=10)
    runs = []
    for _ in range(2):
        world.rewind_fetch_mark(start)
        runs.append(world.fire_schedule("FetchFunction").result)
    drained = world.drain_queue("UploadFunction")
    return {"runs": runs, "drained": drained, "leads": world.marketo_leads()}


@pytest.fixture(scope="module")
def second_pass(world: LocalWorld, overlapping: dict[str, Any]) -> CycleReport:
    return run_cycle(world)


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(microsecond=0)


def test_the_simulator_agrees_on_who_the_visitors_are(
    world: LocalWorld, visitors: dict[str, Visitor]
) -> None:
    assert sorted(v["email"] for v in world.livechat_visitors()) == sorted(visitors)


def test_overlapping_runs_create_every_visitor_exactly_once(
    overlapping: dict[str, Any], visitors: dict[str, Visitor], seeded: dict[str, Any]
) -> None:
    first, second = overlapping["runs"]
    assert first["creates"] == second["creates"] == len(visitors) - len(seeded)
    assert overlapping["drained"].errors == []
    emails = Counter(lead["email"] for lead in overlapping["leads"])
    assert sorted(emails) == sorted(visitors)
    assert max(emails.values()) == 1, "a lead was duplicated"


def test_the_lead_table_is_exactly_what_the_rules_say(
    overlapping: dict[str, Any], visitors: dict[str, Visitor], seeded: dict[str, Any]
) -> None:
    leads = {lead["email"]: lead for lead in overlapping["leads"]}
    for email, visitor in visitors.items():
        lead = leads[email]
        known = seeded.get(email)
        for field, source in GEOGRAPHY.items():
            if known is not None and field in SEEDED_GEOGRAPHY and "country" in known:
                # Marketo had geography: if_empty keeps it
                assert lead[field] == SEEDED_GEOGRAPHY[field], (email, field)
                continue
            assert lead[field] == getattr(visitor, source), (email, field)
        assert lead["firstName"] == visitor.first_name
        assert lead["lastName"] == visitor.last_name
        assert lead["phone"] == visitor.phone
        assert lead["leadSource"] == ("Website" if known else "LiveChat")  # never overwritten
        assert lead["livechatChatCount"] == visitor.chat_count
        assert _instant(lead["livechatLastChat"]) == _instant(
            visitor.last_chat_at.isoformat() if visitor.last_chat_at else None
        )
        assert (lead["livechatTags"] or "") == ", ".join(visitor.tags)


def test_a_second_pass_over_the_same_chats_writes_nothing(
    world: LocalWorld,
    second_pass: CycleReport,
    overlapping: dict[str, Any],
    visitors: dict[str, Visitor],
) -> None:
    assert (second_pass.created, second_pass.updated) == (0, 0)
    assert second_pass.unchanged == len(visitors)
    assert second_pass.chats == CHATS
    calls = {k: v for k, v in second_pass.calls_by_action.items() if k != "stats:usage"}
    assert set(calls) == {"lookup"}, calls  # no write of any kind
    assert calls["lookup"] == -(-len(visitors) // 300)
    assert world.marketo_leads() == overlapping["leads"]


def test_the_limits_were_kept(second_pass: CycleReport, world: LocalWorld) -> None:
    audit = world.marketo_audit(limit=0)
    assert audit["limit_errors"]["counts"] == {"606": 0, "607": 0, "615": 0}
    assert audit["peak_calls_in_window"] <= 50
    assert audit["peak_in_flight"] <= 5
    assert world.queue_depth("DeadLetterQueueUrl") == 0
    assert second_pass.limit_errors == 0


def test_rejected_chats_each_have_a_reason_in_the_error_store(
    world: LocalWorld, overlapping: dict[str, Any]
) -> None:
    assert world.stack is not None
    table = world.stack.outputs["StateTableName"]
    items = world.client("dynamodb").scan(TableName=table)["Items"]
    errors = [item for item in items if item["pk"]["S"].startswith("error#")]
    rejected = overlapping["runs"][0]["rejected"]
    assert rejected > 0
    assert len(errors) >= rejected
    assert all(item["chat_ids"]["L"] and item["reason"]["S"] for item in errors)
    assert not [item for item in items if item["pk"]["S"].startswith("claim#")], "claims leaked"
