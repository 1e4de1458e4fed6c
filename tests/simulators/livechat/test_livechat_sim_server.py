"""The LiveChat simulator over real HTTP on loopback: auth, validation, paging, faults, /_sim."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.simulators.livechat import GenerationParams, LiveChatSimulator
from tests.support.livechat_api import post_action

PARAMS = GenerationParams(seed=5, chats=60)
WINDOW = {"from": "2026-01-01T00:00:00.000000+00:00", "to": "2026-01-31T00:00:00.000000+00:00"}


@pytest.fixture(scope="module")
def shared() -> Iterator[LiveChatSimulator]:
    """For tests that only read (no faults, no added chats)."""
    with LiveChatSimulator(PARAMS) as sim:
        yield sim


@pytest.fixture
def sim() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(PARAMS) as fresh:
        yield fresh


def archives(
    sim: LiveChatSimulator, body: Any, *, auth: str | None = "ok", version: str = "3.6"
) -> requests.Response:
    return post_action(sim, "agent/action/list_archives", body, auth=auth, version=version)


def walk(sim: LiveChatSimulator, body: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    answer = archives(sim, body).json()
    while True:
        entries.extend(answer["chats"])
        if "next_page_id" not in answer:
            return entries
        answer = archives(sim, {"page_id": answer["next_page_id"]}).json()


def expected_entries(sim: LiveChatSimulator) -> list[tuple[str, str, str]]:
    chats = requests.get(f"{sim.base_url}/_sim/chats", timeout=5).json()["chats"]
    rows = [(t["created_at"], c["id"], t["id"]) for c in chats for t in c["threads"]]
    return sorted(rows)


def keys(entries: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(e["thread"]["created_at"], e["id"], e["thread"]["id"]) for e in entries]


def test_health(shared: LiveChatSimulator) -> None:
    answer = requests.get(f"{shared.base_url}/_sim/health", timeout=5).json()
    assert answer["status"] == "ok"
    assert answer["chats"] == PARAMS.chats
    assert answer["entries"] > PARAMS.chats


@pytest.mark.parametrize(
    "auth",
    [None, "Basic !!!", "Bearer abc", "Basic bGVhZHN5bmMtc2ltLWFjY291bnQ6d3Jvbmc="],
)
def test_requests_without_valid_basic_auth_get_401(shared: LiveChatSimulator, auth: Any) -> None:
    answer = archives(shared, {"filters": WINDOW}, auth=auth)
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "authentication"
    assert answer.json()["error"]["message"]


def test_a_token_without_the_archive_scope_gets_403() -> None:
    with LiveChatSimulator(PARAMS.replace(chats=1), scopes=("agents--all:ro",)) as sim:
        answer = archives(sim, {})
    assert answer.status_code == 403
    assert answer.json()["error"]["type"] == "authorization"


@pytest.mark.parametrize(
    "body",
    [
        {"filters": {"from": "2026-01-01T00:00:00Z"}},
        {"filters": {"from": "2026-01-01T00:00:00+00:00"}},
        {"filters": {"to": "2026-01-01 00:00:00.000000+00:00"}},
        {"filters": {"to": "yesterday"}},
        {"filters": {"from": 1767225600}},
        {"filters": "all"},
        {"limit": 0},
        {"limit": 101},
        {"limit": "10"},
        {"limit": True},
        {"sort_order": "newest"},
        {"page_id": "no-such-page"},
        {"filters": {"customer_email": "not-an-email"}},
        {"filters": {"chat_ids": ["x"] * 1001}},
        [],
        b"{not json",
    ],
)
def test_invalid_requests_get_validation_errors(shared: LiveChatSimulator, body: Any) -> None:
    answer = archives(shared, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "validation"


@pytest.mark.parametrize("extra", [{"filters": WINDOW}, {"limit": 5}, {"sort_order": "asc"}])
def test_page_id_must_come_alone(shared: LiveChatSimulator, extra: dict[str, Any]) -> None:
    first = archives(shared, {"filters": WINDOW, "limit": 5}).json()
    answer = archives(shared, {"page_id": first["next_page_id"], **extra})
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "validation"


def test_default_answer_is_ten_newest_entries(shared: LiveChatSimulator) -> None:
    answer = archives(shared, {})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"chats", "found_chats", "next_page_id"}
    assert "previous_page_id" not in body
    assert keys(body["chats"]) == list(reversed(expected_entries(shared)))[:10]
    assert body["found_chats"] == len(expected_entries(shared))


def test_one_entry_per_thread_in_ascending_order(shared: LiveChatSimulator) -> None:
    entries = walk(shared, {"filters": WINDOW, "sort_order": "asc", "limit": 7})
    assert keys(entries) == expected_entries(shared)
    assert all("thread" in e and "threads" not in e for e in entries)
    per_chat: dict[str, list[str]] = {}
    for entry in entries:
        per_chat.setdefault(entry["id"], []).append(entry["thread"]["id"])
    assert any(len(threads) > 1 for threads in per_chat.values())


def test_descending_walk_is_the_reverse(shared: LiveChatSimulator) -> None:
    entries = walk(shared, {"filters": WINDOW, "limit": 100})
    assert keys(entries) == list(reversed(expected_entries(shared)))


def test_previous_page_id_returns_the_previous_page(shared: LiveChatSimulator) -> None:
    first = archives(shared, {"filters": WINDOW, "limit": 4, "sort_order": "asc"}).json()
    second = archives(shared, {"page_id": first["next_page_id"]}).json()
    back = archives(shared, {"page_id": second["previous_page_id"]}).json()
    assert keys(back["chats"]) == keys(first["chats"])
    assert "previous_page_id" not in back


def test_time_window_is_inclusive_on_thread_start(shared: LiveChatSimulator) -> None:
    rows = expected_entries(shared)
    moment = rows[5][0].replace("Z", "+00:00")
    end = rows[9][0].replace("Z", "+00:00")
    entries = walk(shared, {"filters": {"from": moment, "to": end}, "sort_order": "asc"})
    assert keys(entries) == rows[5:10]
    shifted = "2026-01-01T01:00:00.000000+01:00"  # midnight UTC, written with an offset
    utc = walk(shared, {"filters": {"to": shifted}, "limit": 100})
    assert all(e["thread"]["created_at"] <= "2026-01-01T00:00:00.000000Z" for e in utc)


def test_customer_email_and_chat_id_filters(shared: LiveChatSimulator) -> None:
    rows = expected_entries(shared)
    chats = requests.get(f"{shared.base_url}/_sim/chats", timeout=5).json()["chats"]
    with_email = next(
        c
        for c in chats
        if "@" in (c["users"][0].get("email") or "x")
        and c["users"][0]["email"] == c["users"][0]["email"].strip()
    )
    email = with_email["users"][0]["email"]
    found = walk(shared, {"filters": {"customer_email": email.upper()}, "limit": 100})
    assert found
    assert {e["users"][0]["email"] for e in found} == {email}
    by_id = walk(shared, {"filters": {"chat_ids": [rows[0][1]]}})
    assert {e["id"] for e in by_id} == {rows[0][1]}


def test_other_api_versions_and_unknown_routes(shared: LiveChatSimulator) -> None:
    assert archives(shared, {}, version="3.5").status_code == 200
    answer = requests.post(f"{shared.base_url}/v3.6/agent/action/list_chats", json={}, timeout=5)
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "not_found"


def test_too_many_requests_on_demand(sim: LiveChatSimulator) -> None:
    control = requests.post(f"{sim.base_url}/_sim/faults", json={"rate_limit_next": 2}, timeout=5)
    assert control.status_code == 200
    statuses = [archives(sim, {}).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    assert archives(sim, {"limit": 1}).status_code == 200
    sim.set_faults(rate_limit_every=3)
    statuses = [archives(sim, {}).status_code for _ in range(6)]
    assert statuses.count(429) == 2
    sim.faults.reset()
    sim.set_faults(rate_limit_next=1)
    answer = archives(sim, {})
    assert answer.json()["error"]["type"] == "too_many_requests"


def test_internal_errors_on_demand(sim: LiveChatSimulator) -> None:
    requests.post(f"{sim.base_url}/_sim/faults", json={"internal_next": 1}, timeout=5)
    answer = archives(sim, {})
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "internal"
    assert archives(sim, {}).status_code == 200
    bad = requests.post(f"{sim.base_url}/_sim/faults", json={"meteor": 1}, timeout=5)
    assert bad.status_code == 400


def test_audit_records_every_api_request(sim: LiveChatSimulator) -> None:
    archives(sim, {"filters": WINDOW, "limit": 3})
    archives(sim, {}, auth=None)
    audit = requests.get(f"{sim.base_url}/_sim/audit", timeout=5).json()
    assert audit["total"] == 2
    first, second = audit["requests"]
    assert first["status"] == 200
    assert first["request"] == {"filters": WINDOW, "limit": 3}
    assert first["returned"] == 3
    assert second["status"] == 401
    assert second["error"] == "authentication"
    assert "time" in first


def test_added_chats_are_served_and_reset_forgets_them(sim: LiveChatSimulator) -> None:
    chats = requests.get(f"{sim.base_url}/_sim/chats?limit=1", timeout=5).json()["chats"]
    new = dict(chats[0], id="NEWCHAT001")
    new["threads"] = [
        dict(t, id=f"NEWTHREAD{i}", created_at="2026-02-15T10:00:00.000000Z")
        for i, t in enumerate(new["threads"])
    ]
    added = requests.post(f"{sim.base_url}/_sim/chats", json={"chats": [new]}, timeout=5)
    assert added.json()["added"] == 1
    window = {"from": "2026-02-15T00:00:00.000000+00:00", "to": "2026-02-16T00:00:00.000000+00:00"}
    entries = walk(sim, {"filters": window})
    assert {e["id"] for e in entries} == {"NEWCHAT001"}
    new["users"][0]["name"] = "Renamed"
    again = requests.post(f"{sim.base_url}/_sim/chats", json=[new], timeout=5).json()
    assert again["replaced"] == 1
    assert walk(sim, {"filters": window})[0]["users"][0]["name"] == "Renamed"
    generated = requests.post(
        f"{sim.base_url}/_sim/chats",
        json={
            "generate": {
                "seed": 9,
                "chats": 5,
                "start": "2026-03-01T00:00:00Z",
                "end": "2026-03-02T00:00:00Z",
            }
        },
        timeout=5,
    ).json()
    assert generated["total_chats"] == PARAMS.chats + 6
    broken = requests.post(f"{sim.base_url}/_sim/chats", json=[{"id": "X"}], timeout=5)
    assert broken.status_code == 400
    requests.post(f"{sim.base_url}/_sim/reset", timeout=5)
    assert walk(sim, {"filters": window}) == []
    health = requests.get(f"{sim.base_url}/_sim/health", timeout=5).json()
    assert health["chats"] == PARAMS.chats


def test_visitors_endpoint_matches_the_helper(shared: LiveChatSimulator) -> None:
    answer = requests.get(f"{shared.base_url}/_sim/visitors", timeout=5).json()
    assert answer["count"] == len(answer["visitors"]) > 0
    windowed = requests.get(
        f"{shared.base_url}/_sim/visitors",
        params={"from": "2026-01-10T00:00:00Z", "to": "2026-01-12T00:00:00Z"},
        timeout=5,
    ).json()
    assert windowed["count"] < answer["count"]
    assert {"email", "source", "customer_ids", "chat_ids"} <= set(answer["visitors"][0])
