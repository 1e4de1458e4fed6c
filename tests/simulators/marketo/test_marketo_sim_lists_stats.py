"""Static lists, usage and error statistics, the /_sim controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, statuses

LIST = "/rest/v1/lists/1001/leads.json"


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(lists=[{"id": 1001, "name": "Chats"}]) as s:
        s.seed_leads([{"email": f"l{i}@x.com"} for i in range(1, 4)])
        yield s


def test_add_remove_and_membership(sim: MarketoSimulator, client: SimClient) -> None:
    assert statuses(client.post(LIST, {"input": [{"id": 1}, {"id": 2}, {"id": 77}]})) == [
        "added",
        "added",
        "1004",
    ]
    body = client.get("/rest/v1/lists/1001/leads/ismember.json", id="1,3")
    assert body["result"] == [{"id": 1, "status": "memberof"}, {"id": 3, "status": "notmemberof"}]
    assert statuses(client.delete(LIST, {"input": [{"id": 2}, {"id": 3}]})) == ["removed", "1015"]
    _status, body = client.request("DELETE", LIST, params={"id": "1"})
    assert statuses(body) == ["removed"]
    assert sim.store.lists() == [{"id": 1001, "name": "Chats", "members": []}]


def test_members_paged_and_lists_created_on_demand(client: SimClient) -> None:
    created = client.sim("POST", "/_sim/lists", {"name": "Extra", "members": [1, 2, 3]})
    path = f"/rest/v1/lists/{created['id']}/leads.json"
    first = client.get(path, batchSize=2, fields="email")
    assert [r["email"] for r in first["result"]] == ["l1@x.com", "l2@x.com"]
    rest = client.get(path, nextPageToken=first["nextPageToken"], batchSize=2)
    assert [r["id"] for r in rest["result"]] == [3]
    assert "nextPageToken" not in rest
    lists = client.sim("GET", "/_sim/lists")["lists"]
    assert {entry["name"] for entry in lists} == {"Chats", "Extra"}


def test_unknown_list_and_too_many_ids(client: SimClient) -> None:
    body = client.post("/rest/v1/lists/999/leads.json", {"input": [{"id": 1}]})
    assert body["errors"][0]["code"] == "1013"
    body = client.post(LIST, {"input": [{"id": i} for i in range(301)]})
    assert body["errors"][0]["code"] == "1003"


def test_deleting_a_lead_drops_its_memberships(sim: MarketoSimulator, client: SimClient) -> None:
    client.post(LIST, {"input": [{"id": 1}]})
    client.post("/rest/v1/leads/delete.json", {"input": [{"id": 1}]})
    assert sim.store.members(1001) == []


def test_usage_and_error_stats(sim: MarketoSimulator, client: SimClient) -> None:
    client.request("GET", "/rest/v1/stats/usage.json", token="bad", auth=True)
    client.post(LIST, {"input": [{"id": 1}]})
    client.post("/rest/v1/lists/5/leads.json", {"input": [{"id": 1}]})
    usage = client.get("/rest/v1/stats/usage.json")["result"][0]
    assert usage["total"] == 3
    assert usage["users"] == [{"userId": sim.config.api_user_id, "count": 3}]
    errors = client.get("/rest/v1/stats/errors.json")["result"][0]
    assert errors["date"] == usage["date"]
    assert {e["errorCode"]: e["count"] for e in errors["errors"]} == {"601": 1, "1013": 1}
    assert errors["total"] == 2


def test_sim_endpoints(sim: MarketoSimulator, client: SimClient) -> None:
    assert client.sim("GET", "/_sim/health")["status"] == "ok"
    ids = client.sim("POST", "/_sim/leads", {"leads": [{"email": "seeded@x.com"}]})["ids"]
    leads = client.sim("GET", "/_sim/leads")
    assert leads["count"] == 4
    assert leads["leads"][-1]["id"] == ids[0]
    before = client.sim("GET", "/_sim/clock")["epoch"]
    after = client.sim("POST", "/_sim/clock", {"advance_seconds": 3600})["epoch"]
    assert after - before >= 3600
    config = client.sim("POST", "/_sim/config", {"calls_per_window": 7})
    assert config["calls_per_window"] == 7
    status, _body = client.request("POST", "/_sim/config", json_body={"port": 1}, auth=False)
    assert status == 400
    client.get("/rest/v1/stats/usage.json")
    audit = client.sim("GET", "/_sim/audit?limit=1")
    assert audit["total_requests"] >= 2
    assert len(audit["requests"]) == 1
    assert audit["calls_per_window"] == 7
    assert client.sim("POST", "/_sim/reset")["status"] == "reset"
    assert client.sim("GET", "/_sim/leads")["count"] == 0
    assert client.sim("GET", "/_sim/audit")["quota_used"] == 0
    assert client.request("GET", "/_sim/nothing", auth=False)[0] == 404
