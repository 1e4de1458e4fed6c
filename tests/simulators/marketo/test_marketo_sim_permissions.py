"""The API role's permissions: a call outside them answers 603 after authentication, and
counts like any call Marketo answered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import ROUTES, MarketoSimulator, SimulatorConfig
from local.simulators.marketo.__main__ import config_from_args
from local.simulators.marketo.permissions import AREAS
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim

PATH_ARGS = {"listId": "1001", "batchId": "1", "fieldApiName": "email", "apiName": "chat"}


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim() as s:
        s.seed_leads([{"email": "a@x.com"}])
        yield s


def _code(body: Any) -> str:
    if isinstance(body, dict) and body.get("success") is False:
        return str(body["errors"][0]["code"])
    return "ok"


def _call(client: SimClient, method: str, template: str) -> str:
    path = template
    for name, value in PATH_ARGS.items():
        path = path.replace("{" + name + "}", value)
    if path.startswith("/rest/asset/"):
        form = {"name": "x", "folder": json.dumps({"id": 1, "type": "Folder"})}
        return _code(client.request(method, path, form=form)[1])
    if path == "/bulk/v1/leads.json":
        return _code(client.bulk_import(b"email\nb@x.com\n", {"format": "csv"})[1])
    body = {"input": [{"id": 1}]} if method in {"POST", "DELETE"} else None
    return _code(client.request(method, path, json_body=body)[1])


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.template}")
def test_every_route_needs_its_permission(
    sim: MarketoSimulator, client: SimClient, route: Any
) -> None:
    assert _call(client, route.method, route.template) != "603"
    sim.set_config({"denied_permissions": sorted(AREAS)})
    assert _call(client, route.method, route.template) == "603"


_TYPE = "/rest/v1/activities/external/type/{apiName}"
AREA_CALLS: dict[str, list[tuple[str, str]]] = {
    "lead_write": [
        ("POST", "/rest/v1/leads.json"),
        ("POST", "/rest/v1/leads/delete.json"),
        ("DELETE", "/rest/v1/leads.json"),
        ("POST", "/rest/v1/lists/{listId}/leads.json"),
        ("DELETE", "/rest/v1/lists/{listId}/leads.json"),
        # every bulk import call needs Read-Write Lead as well
        ("POST", "/bulk/v1/leads.json"),
        ("GET", "/bulk/v1/leads/batch/{batchId}.json"),
        ("GET", "/bulk/v1/leads/batch/{batchId}/failures.json"),
        ("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json"),
    ],
    "schema": [
        ("GET", "/rest/v1/leads/schema/fields.json"),
        ("POST", "/rest/v1/leads/schema/fields.json"),
        ("GET", "/rest/v1/leads/schema/fields/{fieldApiName}.json"),
        ("POST", "/rest/v1/leads/schema/fields/{fieldApiName}.json"),
    ],
    "assets": [
        ("POST", "/rest/asset/v1/staticLists.json"),
        ("GET", "/rest/asset/v1/staticList/byName.json"),
    ],
    "bulk_import": [
        ("POST", "/bulk/v1/leads.json"),
        ("GET", "/bulk/v1/leads/batch/{batchId}.json"),
        ("GET", "/bulk/v1/leads/batch/{batchId}/failures.json"),
        ("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json"),
    ],
    "usage": [("GET", "/rest/v1/stats/usage.json"), ("GET", "/rest/v1/stats/errors.json")],
    # Read-Only / Read-Write Activity Metadata
    "activity_metadata": [
        ("GET", "/rest/v1/activities/external/types.json"),
        ("POST", "/rest/v1/activities/external/type.json"),
        ("POST", f"{_TYPE}.json"),
        ("GET", f"{_TYPE}/describe.json"),
        ("POST", f"{_TYPE}/attributes/create.json"),
        ("POST", f"{_TYPE}/attributes/update.json"),
        ("POST", f"{_TYPE}/attributes/delete.json"),
        ("POST", f"{_TYPE}/approve.json"),
        ("POST", f"{_TYPE}/discardDraft.json"),
        ("POST", f"{_TYPE}/delete.json"),
    ],
    # Read-Only / Read-Write Activity
    "activity": [
        ("GET", "/rest/v1/activities/types.json"),
        ("GET", "/rest/v1/activities/pagingtoken.json"),
        ("GET", "/rest/v1/activities.json"),
        ("POST", "/rest/v1/activities/external.json"),
    ],
}
READS = [
    ("GET", "/rest/v1/leads.json"),
    ("GET", "/rest/v1/leads/describe.json"),
    ("GET", "/rest/v1/leads/describe2.json"),
    ("GET", "/rest/v1/lists.json"),
    ("GET", "/rest/v1/lists/{listId}.json"),
    ("GET", "/rest/v1/lists/{listId}/leads.json"),
    ("GET", "/rest/v1/lists/{listId}/leads/ismember.json"),
]


@pytest.mark.parametrize("area", sorted(AREA_CALLS))
def test_one_area_denied_refuses_its_routes_only(
    sim: MarketoSimulator, client: SimClient, area: str
) -> None:
    sim.set_config({"denied_permissions": [area]})
    denied = AREA_CALLS[area]
    for method, path in denied:
        assert _call(client, method, path) == "603", (method, path)
    for route in ROUTES:
        if (route.method, route.template) not in denied:
            assert _call(client, route.method, route.template) != "603", route


def test_read_write_lead_includes_reading(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_config({"denied_permissions": ["lead_read"]})
    assert all(_call(client, m, p) != "603" for m, p in READS)
    sim.set_config({"denied_permissions": ["lead_read", "lead_write"]})
    assert all(_call(client, m, p) == "603" for m, p in READS)
    sim.set_config({"denied_permissions": ["lead_write"]})
    assert all(_call(client, m, p) != "603" for m, p in READS)


def test_activity_metadata_and_activity_are_separate_permissions(
    sim: MarketoSimulator, client: SimClient
) -> None:
    chat = {
        "apiName": "chat",
        "name": "Chat",
        "triggerName": "Chats",
        "filterName": "Chatted",
        "primaryAttribute": {"apiName": "chatId", "name": "Chat ID"},
    }
    record = {
        "leadId": 1,
        "activityDate": "2026-03-01T10:00:00Z",
        "primaryAttributeValue": "c1",
        "attributes": [],
    }
    sim.set_config({"denied_permissions": ["activity"]})
    made = client.post("/rest/v1/activities/external/type.json", chat)
    assert _code(made) == "ok"
    assert _code(client.post("/rest/v1/activities/external/type/chat/approve.json", None)) == "ok"
    record["activityTypeId"] = made["result"][0]["id"]
    assert _code(client.post("/rest/v1/activities/external.json", {"input": [record]})) == "603"
    sim.set_config({"denied_permissions": ["activity_metadata"]})
    assert _code(client.get("/rest/v1/activities/external/types.json")) == "603"
    added = client.post("/rest/v1/activities/external.json", {"input": [record]})
    assert added["result"][0]["status"] == "added"
    assert len(sim.activities()) == 1


def test_603_comes_after_authentication_and_counts(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_config({"denied_permissions": ["usage"]})
    _status, body = client.request("GET", "/rest/v1/stats/usage.json", token="not-a-token")
    assert _code(body) == "601"
    assert _code(client.get("/rest/v1/stats/usage.json")) == "603"
    assert _code(client.get("/rest/v1/stats/errors.json")) == "603"
    audit = sim.audit()
    assert audit["quota_used"] == 2
    assert audit["by_code"] == {"601": 1, "603": 2}
    calls = [r for r in audit["requests"] if r["action"] != "identity"]
    assert [r["counted"] for r in calls] == [False, True, True]
    assert audit["requests"][-1]["action"] == "denied"
    sim.set_config({"denied_permissions": []})
    usage = client.get("/rest/v1/stats/usage.json")["result"][0]
    assert usage["total"] == 3
    errors = client.get("/rest/v1/stats/errors.json")["result"][0]
    assert {e["errorCode"]: e["count"] for e in errors["errors"]} == {"601": 1, "603": 2}


def test_permissions_change_at_runtime_through_sim_config(client: SimClient) -> None:
    config = client.sim("POST", "/_sim/config", {"denied_permissions": "lead_write,schema"})
    assert config["denied_permissions"] == ["lead_write", "schema"]
    assert _code(client.upsert([{"email": "b@x.com"}])) == "603"
    assert client.sim("GET", "/_sim/config")["denied_permissions"] == ["lead_write", "schema"]
    client.sim("POST", "/_sim/config", {"denied_permissions": []})
    assert _code(client.upsert([{"email": "b@x.com"}])) == "ok"
    status, body = client.request(
        "POST", "/_sim/config", json_body={"denied_permissions": ["nope"]}, auth=False
    )
    assert status == 400
    assert "nope" in body["error"]


def test_permissions_from_flags_and_config() -> None:
    config = config_from_args(["--denied-permissions", "lead_write,schema"])
    assert config.denied_permissions == ["lead_write", "schema"]
    assert config_from_args([]).denied_permissions == []
    assert SimulatorConfig(denied_permissions=["assets"]).denied_permissions == ["assets"]
    with pytest.raises(ValueError, match="unknown permission"):
        SimulatorConfig(denied_permissions=["leads"])
