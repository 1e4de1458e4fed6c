"""The LiveChat simulator driven by LiveChat's own Python SDK (lc-sdk-python)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from livechat.agent.web.base import AgentWeb
from livechat.utils.structures import AccessToken, TokenType

from local.simulators.livechat import GenerationParams, LiveChatSimulator

pytestmark = pytest.mark.contract

WINDOW = {"from": "2026-01-05T00:00:00.000000+00:00", "to": "2026-01-20T00:00:00.000000+00:00"}


@pytest.fixture(scope="module")
def sim() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(GenerationParams(seed=21, chats=80)) as simulator:
        yield simulator


def client(sim: LiveChatSimulator, version: str = "3.6", token: str | None = None) -> Any:
    raw = f"{sim.account_id}:{token or 'leadsync-sim-token'}".encode()
    access = AccessToken(scheme=TokenType.BASIC, token=base64.b64encode(raw).decode())
    agent = AgentWeb.get_client(access_token=access, version=version, disable_logging=True)
    # The SDK builds https://{base_url}/v{version}/agent/action; the simulator speaks http.
    agent.api_url = f"{sim.base_url}/v{version}/agent/action"
    return agent


@pytest.mark.parametrize("version", ["3.5", "3.6", "3.7"])
def test_sdk_lists_and_pages_archives(sim: LiveChatSimulator, version: str) -> None:
    agent = client(sim, version)
    answer = agent.list_archives(filters=WINDOW, limit=9, sort_order="asc")
    assert answer.status_code == 200
    body = answer.json()
    found = body["found_chats"]
    seen: list[tuple[str, str, str]] = []
    while True:
        seen.extend((e["thread"]["created_at"], e["id"], e["thread"]["id"]) for e in body["chats"])
        if "next_page_id" not in body:
            break
        answer = agent.list_archives(page_id=body["next_page_id"])
        assert answer.status_code == 200
        body = answer.json()
    assert len(seen) == found == len(set(seen))
    assert seen == sorted(seen)
    assert all("2026-01-05" <= created[:10] < "2026-01-20" for created, _, _ in seen)
    assert len({chat_id for _, chat_id, _ in seen}) <= len(seen)


def test_sdk_sees_livechat_errors(sim: LiveChatSimulator) -> None:
    wrong = client(sim, token="wrong").list_archives(filters=WINDOW)
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication"
    agent = client(sim)
    invalid = agent.list_archives(filters={"from": "2026-01-05"}, limit=9)
    assert invalid.status_code == 400
    assert invalid.json()["error"]["type"] == "validation"
    first = agent.list_archives(filters=WINDOW, limit=5).json()
    mixed = agent.list_archives(page_id=first["next_page_id"], limit=5)
    assert mixed.status_code == 400
    sim.set_faults(rate_limit_next=1)
    limited = agent.list_archives(filters=WINDOW)
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "too_many_requests"
    assert agent.list_archives(filters=WINDOW).status_code == 200


def test_sdk_payload_entries_have_the_documented_shape(sim: LiveChatSimulator) -> None:
    body = client(sim).list_archives(filters=WINDOW, limit=100).json()
    for entry in body["chats"]:
        assert {"id", "users", "thread", "properties", "access"} <= set(entry)
        assert {"id", "created_at", "active", "events", "tags"} <= set(entry["thread"])
        kinds = {user["type"] for user in entry["users"]}
        assert kinds == {"customer", "agent"}
