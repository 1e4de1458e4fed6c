"""Chats on the lead's timeline, on the local world: the stack deployed with
ChatActivities=true, `leadsync check` names the missing activity type and `--fix` makes and
approves it; the hourly run then writes each visitor's chats as activities on its lead, once,
and a run that reads the same chats again adds none."""

from __future__ import annotations

import contextlib
import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from leadsync.ops.cli import main
from local.check_run import run_check
from local.sync_run import run_cycle
from local.world import LocalWorld
from tests.support.handlers import forget_cached_clients
from tests.support.local_world import started_world

pytestmark = pytest.mark.e2e

TYPE = "livechatChat"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    with started_world(
        tmp_path_factory,
        "activities",
        chats=120,
        seed=29,
        parameters={"ChatActivities": "true"},
    ) as running:
        yield running


@pytest.fixture(scope="module")
def synced(world: LocalWorld) -> dict[str, Any]:
    missing = run_check(world)
    fixed = run_check(world, "--fix")
    planned = _plan(world)
    first = run_cycle(world)
    after_first = world.marketo_activities(TYPE)
    again = run_cycle(world)  # the mark rewound: the same chats read again
    return {
        "missing": missing,
        "fixed": fixed,
        "planned": planned,
        "first": first,
        "again": again,
        "after_first": after_first,
        "after_again": world.marketo_activities(TYPE),
    }


def _plan(world: LocalWorld) -> str:
    """`leadsync plan --stack NAME`'s output, run as an operator runs it."""
    assert world.stack is not None
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out):
        for name, value in world.aws_env.items():
            patch.setenv(name, value)
        forget_cached_clients()
        assert main(["plan", "--stack", world.stack.name]) == 0
    forget_cached_clients()
    return out.getvalue()


def test_plan_counts_the_activities_and_their_lower_bound(synced: dict[str, Any]) -> None:
    lines = [x.strip() for x in synced["planned"].splitlines()]
    line = next((x for x in lines if x.startswith("chat activities:")), synced["planned"])
    written = len(synced["after_first"])
    least = -(-written // 300)
    assert line.startswith(f"chat activities: {written} in {least} call(s) (at least {least})")


def test_check_names_the_missing_type_and_fix_makes_it(synced: dict[str, Any]) -> None:
    assert synced["missing"].code != 0
    assert f"activity type {TYPE}" in synced["missing"].output
    assert synced["fixed"].code == 0, synced["fixed"].output
    assert "approved" in synced["fixed"].output


def test_each_chat_of_a_delivered_visitor_is_one_activity_on_its_lead(
    world: LocalWorld, synced: dict[str, Any]
) -> None:
    leads = {lead["email"].lower(): lead["id"] for lead in world.marketo_leads()}
    expected: dict[str, int] = {}
    for visitor in world.livechat_visitors():
        lead = leads.get(str(visitor.get("email") or "").lower())
        if lead is not None:
            expected.update(dict.fromkeys(visitor["chat_ids"], lead))
    written = {a["primaryAttributeValue"]: a["leadId"] for a in synced["after_first"]}
    assert expected
    assert written == expected  # none lost, each on its visitor's lead
    counts = Counter(a["primaryAttributeValue"] for a in synced["after_first"])
    assert max(counts.values()) == 1


def test_a_run_over_the_same_chats_adds_none(synced: dict[str, Any]) -> None:
    assert len(synced["after_again"]) == len(synced["after_first"])
    assert synced["again"].fetch["activities"] == 0
    assert synced["again"].fetch["activities_already_written"] == len(synced["after_first"])
