"""Custom activity types: draft, attributes, approval, drafts of approved types, discard,
delete, the name rules and the limits (1027, 1028)."""

from __future__ import annotations

from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, sim_client

TYPES = "/rest/v1/activities/external/types.json"
CREATE = "/rest/v1/activities/external/type.json"
TYPE = "/rest/v1/activities/external/type/{}"
ALL_TYPES = "/rest/v1/activities/types.json"


def _body(api: str = "livechatChat", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiName": api,
        "name": f"{api} Chat",
        "triggerName": f"Has {api} chat",
        "filterName": f"Had {api} chat",
        "primaryAttribute": {"apiName": "chatId", "name": "Chat ID"},
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def _create(client: SimClient, api: str = "livechatChat", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.post(CREATE, _body(api, **over))
    return body


def _post(client: SimClient, api: str, action: str, body: Any = None) -> dict[str, Any]:
    answer: dict[str, Any] = client.post(TYPE.format(api) + action, body)
    return answer


def _attrs(client: SimClient, api: str, op: str, *attributes: dict[str, Any]) -> dict[str, Any]:
    return _post(client, api, f"/attributes/{op}.json", {"attributes": list(attributes)})


def _describe(client: SimClient, api: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get(TYPE.format(api) + "/describe.json", **params)
    return body


def _code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["code"]) if body["success"] is False else "ok"


def _attr(api: str, data_type: str = "string", **extra: Any) -> dict[str, Any]:
    return {"apiName": api, "name": api.capitalize(), "dataType": data_type, **extra}


def _names(version: dict[str, Any]) -> list[str]:
    return [a["apiName"] for a in version.get("attributes", [])]


@pytest.mark.parametrize("fresh", [False, True])
def test_no_custom_type_fresh_or_not(fresh: bool) -> None:
    with running_sim(fresh=fresh) as sim:
        client = sim_client(sim)
        assert client.get(TYPES)["result"] == []
        assert sim.activity_types() == []
        ids = {t["id"] for t in client.get(ALL_TYPES)["result"]}
        assert {1, 2, 12, 13, 24, 25} <= ids
        assert all(i < 100000 for i in ids)


def test_create_attributes_approve_describe(client: SimClient) -> None:
    made = _create(client, description="A LiveChat conversation")["result"][0]
    assert made["status"] == "draft"
    assert made["id"] == 100001
    assert made["primaryAttribute"] == {
        "apiName": "chatId",
        "name": "Chat ID",
        "dataType": "string",
    }
    assert "attributes" not in made
    assert {"createdAt", "updatedAt", "triggerName", "filterName", "description"} <= set(made)
    # a type never approved has no approved version to describe
    assert _code(_describe(client, "livechatChat")) == "1013"
    assert _describe(client, "livechatChat", draft="true")["result"][0]["status"] == "draft"
    added = _attrs(client, "livechatChat", "create", _attr("agent"), _attr("rating", "integer"))
    assert added["result"][0]["status"] == "draft"
    assert _names(added["result"][0]) == ["agent", "rating"]
    assert all(t["id"] != 100001 for t in client.get(ALL_TYPES)["result"])  # not approved
    approved = _post(client, "livechatChat", "/approve.json")["result"][0]
    assert approved["status"] == "approved"
    described = _describe(client, "livechatChat")["result"][0]
    assert described == approved
    assert _names(described) == ["agent", "rating"]
    listed = client.get(TYPES)["result"]
    assert [(t["apiName"], t["status"]) for t in listed] == [("livechatChat", "approved")]
    assert "attributes" not in listed[0]
    custom = [t for t in client.get(ALL_TYPES)["result"] if t["id"] == 100001]
    assert custom[0]["primaryAttribute"]["dataType"] == "string"
    assert [a["name"] for a in custom[0]["attributes"]] == ["Agent", "Rating"]


def test_changes_to_an_approved_type_go_to_a_draft(client: SimClient) -> None:
    _create(client)
    _attrs(client, "livechatChat", "create", _attr("agent"))
    _post(client, "livechatChat", "/approve.json")
    changed = _attrs(client, "livechatChat", "create", _attr("rating", "integer"))
    assert changed["result"][0]["status"] == "approved with draft"
    assert _names(changed["result"][0]) == ["agent", "rating"]
    assert _names(_describe(client, "livechatChat")["result"][0]) == ["agent"]
    assert _names(_describe(client, "livechatChat", draft="true")["result"][0]) == [
        "agent",
        "rating",
    ]
    renamed = _post(client, "livechatChat", ".json", {"name": "LiveChat Conversation"})
    assert renamed["result"][0]["name"] == "LiveChat Conversation"
    assert renamed["result"][0]["status"] == "approved with draft"
    assert client.get(TYPES)["result"][0]["name"] == "livechatChat Chat"  # approved version
    discarded = _post(client, "livechatChat", "/discardDraft.json")["result"][0]
    assert discarded["status"] == "approved"
    assert _names(discarded) == ["agent"]
    assert _code(_post(client, "livechatChat", "/discardDraft.json")) == "709"
    assert _code(_post(client, "livechatChat", "/approve.json")) == "709"
    _attrs(client, "livechatChat", "delete", {"apiName": "agent"})
    assert _post(client, "livechatChat", "/approve.json")["result"][0].get("attributes") is None


def test_discard_and_delete(sim: MarketoSimulator, client: SimClient) -> None:
    _create(client)
    # a draft never approved cannot be discarded: nothing would be left
    assert _code(_post(client, "livechatChat", "/discardDraft.json")) == "709"
    gone = _post(client, "livechatChat", "/delete.json")["result"][0]
    assert gone["status"] == "deleted"
    assert client.get(TYPES)["result"] == []
    assert _code(_describe(client, "livechatChat", draft="true")) == "1013"
    for action in (".json", "/approve.json", "/discardDraft.json", "/delete.json"):
        assert _code(_post(client, "livechatChat", action, {})) == "1013", action
    assert _code(_attrs(client, "livechatChat", "create", _attr("agent"))) == "1013"
    again = _create(client)["result"][0]
    assert again["id"] == 100002  # ids are not reused
    assert [t["status"] for t in sim.activity_types()] == ["draft"]


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"apiName": "livechat_chat"}, "1003"),
        ({"apiName": "12345"}, "1003"),
        ({"apiName": "a" * 256}, "1003"),
        ({"apiName": None}, "1003"),
        ({"name": None}, "1003"),
        ({"name": "Chat!"}, "1003"),
        ({"triggerName": None}, "1003"),
        ({"filterName": " "}, "1003"),
        ({"primaryAttribute": None}, "1003"),
        ({"primaryAttribute": {"apiName": "chatId"}}, "1003"),
        ({"primaryAttribute": {"apiName": "chat id", "name": "Chat"}}, "1003"),
        ({"primaryAttribute": {"apiName": "c", "name": "C", "dataType": "url"}}, "1003"),
        ({"primaryAttribute": {"apiName": "c", "name": "C", "dataType": ["string"]}}, "1003"),
        ({"input": []}, "1003"),
        ({"status": "approved"}, "1003"),
    ],
)
def test_invalid_types_are_refused(client: SimClient, over: dict[str, Any], code: str) -> None:
    assert _code(client.post(CREATE, _body(**over))) == code
    assert client.get(TYPES)["result"] == []


def test_api_name_allows_255_letters_and_digits(client: SimClient) -> None:
    assert _code(_create(client, "a1" * 127 + "b")) == "ok"
    assert (
        _code(_create(client, "2024chats", name="Other", triggerName="t", filterName="f")) == "ok"
    )


def test_names_are_unique(client: SimClient) -> None:
    assert _code(_create(client)) == "ok"
    assert _code(_create(client, "LIVECHATCHAT", name="x", triggerName="x", filterName="x")) == (
        "1017"
    )
    other = {"name": "Other", "triggerName": "Other t", "filterName": "Other f"}
    for key in ("name", "triggerName", "filterName"):
        clash = {**other, key: _body()[key].upper()}
        assert _code(_create(client, "otherType", **clash)) == "1017", key
    assert _code(_create(client, "newLeadCopy", **{**other, "name": "New Lead"})) == "1017"
    assert _code(_create(client, "otherType", **other)) == "ok"
    # an update of the draft is held to the same rule
    assert _code(_post(client, "otherType", ".json", {"name": "livechatChat Chat"})) == "1017"
    assert _code(_post(client, "otherType", ".json", {"apiName": "renamed"})) == "1003"


def test_eleventh_type_is_refused_with_1027(client: SimClient) -> None:
    for n in range(10):
        assert _code(_create(client, f"type{n}")) == "ok"
    refused = _create(client, "type10")
    assert _code(refused) == "1027"
    assert len(client.get(TYPES)["result"]) == 10
    _post(client, "type3", "/delete.json")
    assert _code(_create(client, "type10")) == "ok"


def test_twenty_first_secondary_attribute_is_refused_with_1028(client: SimClient) -> None:
    _create(client)
    too_many = [_attr(f"field{n}") for n in range(21)]
    assert _code(_attrs(client, "livechatChat", "create", *too_many)) == "1028"
    assert "attributes" not in _describe(client, "livechatChat", draft="true")["result"][0]
    assert _code(_attrs(client, "livechatChat", "create", *too_many[:20])) == "ok"
    assert _code(_attrs(client, "livechatChat", "create", _attr("extra"))) == "1028"
    # the primary attribute is not one of the twenty; demoting it makes it one
    demote = {"apiName": "chatId", "isPrimary": False}
    assert _code(_attrs(client, "livechatChat", "update", demote)) == "1028"
    draft = _describe(client, "livechatChat", draft="true")["result"][0]
    assert len(draft["attributes"]) == 20
    assert draft["primaryAttribute"]["apiName"] == "chatId"


def test_attribute_rules(client: SimClient) -> None:
    _create(client)
    assert _code(_attrs(client, "livechatChat", "create", _attr("agent"))) == "ok"
    for bad in (
        _attr("agent"),
        _attr("chatid"),  # the primary's apiName, case ignored
        {**_attr("other"), "name": "Agent"},
        _attr("x", "url"),
        {"apiName": "noType", "name": "No type"},
        _attr("x", isPrimary=True),  # the primary must be demoted first
        _attr("x", isPrimary="yes"),
        {**_attr("x"), "length": 10},
    ):
        assert _code(_attrs(client, "livechatChat", "create", bad)) in {"1003", "1017"}, bad
    assert _code(_attrs(client, "livechatChat", "update", {"apiName": "nope"})) == "1006"
    assert _code(_attrs(client, "livechatChat", "delete", {"apiName": "nope"})) == "1006"
    assert _code(_attrs(client, "livechatChat", "delete", {"apiName": "chatId"})) == "1003"
    assert _code(_post(client, "livechatChat", "/attributes/create.json", {"attributes": []})) == (
        "1003"
    )
    swapped = _attrs(
        client,
        "livechatChat",
        "update",
        {"apiName": "chatId", "isPrimary": False},
        {"apiName": "agent", "isPrimary": True, "name": "Agent Name", "dataType": "email"},
    )["result"][0]
    assert swapped["primaryAttribute"] == {
        "apiName": "agent",
        "name": "Agent Name",
        "dataType": "email",
    }
    assert _names(swapped) == ["chatId"]


def test_approval_needs_a_primary_attribute(client: SimClient) -> None:
    _create(client)
    _attrs(client, "livechatChat", "update", {"apiName": "chatId", "isPrimary": False})
    assert _code(_post(client, "livechatChat", "/approve.json")) == "709"
    _attrs(client, "livechatChat", "update", {"apiName": "chatId", "isPrimary": True})
    assert _code(_post(client, "livechatChat", "/approve.json")) == "ok"


def test_update_replaces_the_primary_attribute_of_the_draft(client: SimClient) -> None:
    _create(client)
    kept = _post(client, "livechatChat", ".json", {"primaryAttribute": {"name": "Chat"}})
    assert kept["result"][0]["primaryAttribute"] == {
        "apiName": "chatId",
        "name": "Chat",
        "dataType": "string",
    }
    new = {"apiName": "threadId", "name": "Thread", "dataType": "integer"}
    replaced = _post(client, "livechatChat", ".json", {"primaryAttribute": new})
    assert replaced["result"][0]["primaryAttribute"] == new
    assert _code(_post(client, "livechatChat", ".json", {"description": 5})) == "1003"
    assert _code(_post(client, "livechatChat", ".json", None)) == "609"


def test_type_changes_are_audited_and_counted(sim: MarketoSimulator, client: SimClient) -> None:
    _create(client)
    _post(client, "livechatChat", "/approve.json")
    _create(client)
    audit = sim.audit()
    calls = [r for r in audit["requests"] if r["action"] != "identity"]
    assert [r["action"] for r in calls] == [
        "activity_type:create",
        "activity_type:approve",
        "activity_type:create",
    ]
    assert [r["errors"] for r in calls] == [[], [], ["1017"]]
    assert all(r["counted"] for r in calls)
    assert audit["quota_used"] == 3
