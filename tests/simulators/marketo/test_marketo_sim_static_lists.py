"""Static lists: Get Lists and Get List by Id (lead database), create and find by name
(asset API); a list made through the asset API is a lead database list at once."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim

LISTS = "/rest/v1/lists.json"
CREATE = "/rest/asset/v1/staticLists.json"
BY_NAME = "/rest/asset/v1/staticList/byName.json"
CONFIGURED = [
    {"id": 1001, "name": "Chats"},
    {"id": 1002, "name": "Buyers", "programName": "Spring Launch", "description": "paid"},
    {"id": 1003, "name": "EU buyers", "programName": "Spring Launch", "workspaceName": "Europe"},
]


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    start = "2026-09-01T10:00:00Z"
    with running_sim(bulk_start_delay_seconds=0, lists=CONFIGURED, start_time=start) as s:
        s.seed_leads([{"email": f"l{i}@x.com"} for i in range(1, 4)])
        yield s


def _ids(body: dict[str, Any]) -> list[int]:
    assert body["success"] is True, body
    return [item["id"] for item in body["result"]]


def _create(client: SimClient, name: str, folder: Any = None, **form: str) -> dict[str, Any]:
    folder = {"id": 1034, "type": "Program"} if folder is None else folder
    raw = folder if isinstance(folder, str) else json.dumps(folder)
    _status, body = client.request("POST", CREATE, form={"folder": raw, "name": name, **form})
    assert isinstance(body, dict)
    return body


def test_get_lists_filters(client: SimClient) -> None:
    every = client.get(LISTS)
    assert _ids(every) == [1001, 1002, 1003]
    assert every["result"][1] == {
        "id": 1002,
        "name": "Buyers",
        "description": "paid",
        "programName": "Spring Launch",
        "workspaceName": "Default",
        "createdAt": every["result"][1]["createdAt"],
        "updatedAt": every["result"][1]["updatedAt"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", every["result"][1]["createdAt"])
    assert _ids(client.get(LISTS, id="1003,1001,77")) == [1001, 1003]
    _status, repeated = client.request("GET", LISTS, params={"id": ["1002", "1003"]})
    assert _ids(repeated) == [1002, 1003]
    assert _ids(client.get(LISTS, name="Buyers,EU buyers")) == [1002, 1003]
    assert _ids(client.get(LISTS, name="buyers")) == []  # names match exactly
    assert _ids(client.get(LISTS, programName="Spring Launch")) == [1002, 1003]
    assert _ids(client.get(LISTS, workspaceName="Europe")) == [1003]
    assert _ids(client.get(LISTS, programName="Spring Launch", workspaceName="Default")) == [1002]
    assert client.get(LISTS, id="abc")["errors"][0]["code"] == "1003"


def test_get_lists_pages(client: SimClient) -> None:
    for i in range(5):
        assert _create(client, f"Extra {i}")["success"] is True
    first = client.get(LISTS, batchSize=3)
    assert (_ids(first), first["moreResult"]) == ([1001, 1002, 1003], True)
    second = client.get(LISTS, batchSize=3, nextPageToken=first["nextPageToken"])
    assert len(_ids(second)) == 3
    last = client.get(LISTS, batchSize=3, nextPageToken=second["nextPageToken"])
    assert (len(_ids(last)), last["moreResult"]) == (2, False)
    assert "nextPageToken" not in last


def test_get_list_by_id(client: SimClient) -> None:
    body = client.get("/rest/v1/lists/1003.json")
    assert _ids(body) == [1003]
    assert body["result"][0]["workspaceName"] == "Europe"
    assert client.get("/rest/v1/lists/4242.json")["errors"][0]["code"] == "1013"
    assert client.get("/rest/v1/lists/abc.json")["errors"][0]["code"] == "1003"
    status, body = client.request("POST", "/rest/v1/lists/1001.json", json_body={})
    assert (status, body["errors"][0]["code"]) == (200, "605")


def test_create_static_list_and_find_it_by_name(sim: MarketoSimulator, client: SimClient) -> None:
    made = _create(client, "LiveChat visitors", description="kept by leadsync")
    assert made["success"] is True
    assert made["warnings"] == []
    [item] = made["result"]
    assert item["id"] == 1004
    assert item["name"] == "LiveChat visitors"
    assert item["description"] == "kept by leadsync"
    assert item["folder"] == {"id": 1034, "type": "Program"}
    assert item["computedUrl"].endswith("#ST1004A1")
    assert item["createdAt"] == item["updatedAt"] == "2026-09-01T10:00:00Z+0000"
    found = client.get(BY_NAME, name="LiveChat visitors")
    assert found["result"] == [item]
    plain = _create(client, "No description", folder={"id": 12, "type": "Folder"})
    assert "description" not in plain["result"][0]


def test_by_name_is_exact_and_empty_search_warns(client: SimClient) -> None:
    assert _ids(client.get(BY_NAME, name="Chats")) == [1001]
    for name in ("chats", "Chat", "Chats "):
        body = client.get(BY_NAME, name=name)
        assert body["success"] is True
        assert "result" not in body
        assert body["warnings"] == ["No assets found for the given search criteria."]
    assert client.get(BY_NAME)["errors"][0]["code"] == "701"


def test_create_refusals(client: SimClient) -> None:
    assert _create(client, "Chats")["errors"][0]["code"] == "709"
    assert _create(client, "CHATS")["errors"][0]["code"] == "709"  # taken in any case
    assert _create(client, "  ")["errors"][0]["code"] == "701"
    _status, body = client.request("POST", CREATE, form={"name": "No folder"})
    assert body["errors"][0]["code"] == "701"
    assert _create(client, "Bad type", folder={"id": 1, "type": "Email"})["errors"][0]["code"] == (
        "1003"
    )
    assert _create(client, "Bad id", folder={"id": "1", "type": "Folder"})["errors"][0]["code"] == (
        "1003"
    )
    assert _create(client, "Not JSON", folder="{id:1")["errors"][0]["code"] == "1003"
    json_body = {"name": "As JSON", "folder": {"id": 1, "type": "Folder"}}
    _status, body = client.request("POST", CREATE, json_body=json_body)
    assert body["errors"][0]["code"] == "612"


def test_created_list_is_usable_at_once(sim: MarketoSimulator, client: SimClient) -> None:
    list_id = _create(client, "Fresh list")["result"][0]["id"]
    added = client.post(f"/rest/v1/lists/{list_id}/leads.json", {"input": [{"id": 1}, {"id": 2}]})
    assert [r["status"] for r in added["result"]] == ["added", "added"]
    member = client.get(f"/rest/v1/lists/{list_id}/leads/ismember.json", id="1,3")
    assert [r["status"] for r in member["result"]] == ["memberof", "notmemberof"]
    assert _ids(client.get(LISTS, name="Fresh list")) == [list_id]
    assert _ids(client.get(f"/rest/v1/lists/{list_id}.json")) == [list_id]
    _status, submitted = client.bulk_import(
        b"email\nl3@x.com\n", {"format": "csv", "listId": str(list_id)}
    )
    assert submitted["success"] is True
    sim.clock.advance(5)
    batch = client.get(f"/bulk/v1/leads/batch/{submitted['result'][0]['batchId']}.json")
    assert batch["result"][0]["status"] == "Complete"
    assert sorted(sim.store.members(list_id)) == [1, 2, 3]
    listed = {entry["name"]: entry for entry in client.sim("GET", "/_sim/lists")["lists"]}
    assert sorted(listed["Fresh list"]["members"]) == [1, 2, 3]


def test_reset_forgets_created_lists(sim: MarketoSimulator, client: SimClient) -> None:
    _create(client, "Short lived")
    sim.reset()
    assert _ids(client.get(LISTS)) == [1001, 1002, 1003]
