"""Lead Field Management: browse, read, create, update; a new field is usable at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, statuses

FIELDS = "/rest/v1/leads/schema/fields.json"
FIELD = "/rest/v1/leads/schema/fields/{}.json"
LEADS = "/rest/v1/leads.json"


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(fresh=True, bulk_start_delay_seconds=0) as s:
        yield s


def _field(name: str, label: str, data_type: str = "string", **extra: Any) -> dict[str, Any]:
    return {"name": name, "displayName": label, "dataType": data_type, **extra}


def _create(client: SimClient, *fields: Any) -> list[str]:
    return statuses(client.post(FIELDS, {"input": list(fields)}))


def test_browse_pages_through_every_field(sim: MarketoSimulator, client: SimClient) -> None:
    names: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"batchSize": 20}
        if token:
            params["nextPageToken"] = token
        body = client.get(FIELDS, **params)
        pages += 1
        assert len(body["result"]) <= 20
        names += [f["name"] for f in body["result"]]
        if not body["moreResult"]:
            assert "nextPageToken" not in body
            break
        token = body["nextPageToken"]
    assert names == list(sim.store.schema)
    assert pages == -(-len(names) // 20)
    everything = client.get(FIELDS, batchSize=1000)
    assert len(everything["result"]) == len(names)  # batchSize is capped at 300, not refused
    assert client.get(FIELDS, batchSize=0)["errors"][0]["code"] == "1003"
    assert client.get(FIELDS, nextPageToken="garbage")["errors"][0]["code"] == "1003"


def test_read_one_field_and_unknown_field(client: SimClient) -> None:
    body = client.get(FIELD.format("email"))
    assert body["result"] == [
        {
            "displayName": "Email Address",
            "name": "email",
            "description": None,
            "dataType": "email",
            "length": 255,
            "isHidden": False,
            "isHtmlEncodingInEmail": True,
            "isSensitive": True,
            "isCustom": False,
            "isApiCreated": False,
        }
    ]
    assert "length" not in client.get(FIELD.format("unsubscribed"))["result"][0]
    missing = client.get(FIELD.format("noSuchField"))
    assert missing["success"] is False
    assert missing["errors"][0]["code"] == "1013"


def test_created_field_is_usable_at_once(sim: MarketoSimulator, client: SimClient) -> None:
    statuses = _create(
        client,
        _field("livechatVisitorId", "LiveChat Visitor Id", description="from LiveChat"),
        _field("livechatChatCount", "LiveChat Chat Count", "integer", isHidden=True),
    )
    assert statuses == ["created", "created"]
    record = client.get(FIELD.format("livechatVisitorId"))["result"][0]
    assert record == {
        "displayName": "LiveChat Visitor Id",
        "name": "livechatVisitorId",
        "description": "from LiveChat",
        "dataType": "string",
        "length": 255,
        "isHidden": False,
        "isHtmlEncodingInEmail": True,
        "isSensitive": False,
        "isCustom": True,
        "isApiCreated": True,
    }
    assert client.get(FIELD.format("livechatChatCount"))["result"][0]["isHidden"] is True
    synced = client.upsert(
        [{"email": "a@x.com", "livechatVisitorId": "v-1", "livechatChatCount": 3}]
    )
    assert synced["result"][0]["status"] == "created"
    found = client.get(
        LEADS, filterType="livechatVisitorId", filterValues="v-1", fields="email,livechatChatCount"
    )
    assert found["result"] == [{"id": 1, "email": "a@x.com", "livechatChatCount": 3}]
    described = client.get("/rest/v1/leads/describe.json")["result"]
    assert "livechatVisitorId" in {f["rest"]["name"] for f in described}
    described2 = client.get("/rest/v1/leads/describe2.json")["result"][0]
    assert ["livechatVisitorId"] in described2["searchableFields"]
    assert ["livechatChatCount"] in described2["searchableFields"]
    _status, submitted = client.bulk_import(
        b"email,livechatVisitorId\nb@x.com,v-2\n", {"format": "csv"}
    )
    sim.clock.advance(5)
    batch = client.get(f"/bulk/v1/leads/batch/{submitted['result'][0]['batchId']}.json")
    assert batch["result"][0]["numOfRowsWithWarning"] == 0
    assert {lead["email"]: lead.get("livechatVisitorId") for lead in sim.leads()} == {
        "a@x.com": "v-1",
        "b@x.com": "v-2",
    }
    assert (
        client.upsert([{"email": "c@x.com", "livechatChatCount": "many"}])["result"][0]["reasons"][
            0
        ]["code"]
        == "1003"
    )


def test_duplicate_and_invalid_fields_are_skipped(client: SimClient) -> None:
    assert _create(client, _field("acmeCode", "Acme Code")) == ["created"]
    statuses = _create(
        client,
        _field("acmeCode", "Another Label"),  # name taken
        _field("ACMECODE", "Third Label"),  # repeats the record above (names ignore case)
        _field("acmeOther", "acme code"),  # display name taken, any case
        _field("email", "Mail"),  # a standard field's name
        _field("acmeFresh", "Email Address"),  # a standard field's label
        _field("acmeTwin", "Twin"),
        _field("acmeTwin", "Twin Again"),  # repeated within the input
        _field("1acme", "Starts With Digit"),
        _field("acme-code", "Has Dash"),
        _field("acme code", "Has Space"),
        _field("acmeBang", "Bang!"),
        _field("acmeNote", "Note", "text"),  # no text area through the API
        _field("acmeRef", "Ref", "reference"),
        _field("acmeLong", "Long", length=2000),  # no length input
        {"name": "acmeNoType", "displayName": "No Type"},
        _field("acmeFlag", "Flag", isHidden="yes"),
        "not an object",
    )
    assert statuses == [
        "1017",
        "1036",
        "1017",
        "1017",
        "1017",
        "created",
        "1036",
        "1003",
        "1003",
        "1003",
        "1003",
        "1003",
        "1003",
        "1003",
        "1003",
        "1003",
        "1003",
    ]
    assert _create(client, _field("ACMECODE", "Fifth Label")) == ["1017"]  # names ignore case
    body = client.post(FIELDS, {"input": [_field("acmeCode", "X"), "junk"]})
    assert body["result"][0]["name"] == "acmeCode"
    assert "name" not in body["result"][1]


def test_every_creatable_type_and_call_level_errors(client: SimClient) -> None:
    types = [
        "boolean",
        "currency",
        "date",
        "datetime",
        "email",
        "float",
        "integer",
        "percent",
        "phone",
        "score",
        "string",
        "url",
    ]
    statuses = _create(client, *[_field(f"f{t.title()}", f"F {t}", t) for t in types])
    assert statuses == ["created"] * len(types)
    lengths = {
        t: client.get(FIELD.format(f"f{t.title()}"))["result"][0].get("length") for t in types
    }
    assert lengths["string"] == lengths["email"] == lengths["url"] == lengths["phone"] == 255
    assert lengths["integer"] is None
    assert client.post(FIELDS, {"input": []})["errors"][0]["code"] == "1003"
    too_many = [_field(f"bulk{i}", f"Bulk {i}") for i in range(101)]
    assert client.post(FIELDS, {"input": too_many})["errors"][0]["code"] == "1003"
    _status, body = client.request(
        "POST", FIELDS, data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert body["errors"][0]["code"] == "609"
    _status, body = client.request("POST", FIELDS, form={"input": "x"})
    assert body["errors"][0]["code"] == "612"


def test_update_rules(client: SimClient) -> None:
    _create(client, _field("acmeCode", "Acme Code"), _field("acmeOther", "Acme Other"))
    ok = client.post(
        FIELD.format("acmeCode"),
        {"input": [{"displayName": "Acme Access Code", "description": "d", "isHidden": True}]},
    )
    assert ok["result"] == [{"name": "acmeCode", "status": "updated"}]
    record = client.get(FIELD.format("acmeCode"))["result"][0]
    assert (record["displayName"], record["description"], record["isHidden"]) == (
        "Acme Access Code",
        "d",
        True,
    )
    standard = client.post(FIELD.format("email"), {"input": [{"isSensitive": False}]})
    assert standard["result"][0]["status"] == "updated"
    assert client.get(FIELD.format("email"))["result"][0]["isSensitive"] is False

    def refused(name: str, change: dict[str, Any]) -> str:
        body = client.post(FIELD.format(name), {"input": [change]})
        assert body["result"][0]["name"] == name
        return str(body["result"][0]["reasons"][0]["code"])

    assert refused("email", {"displayName": "Mail"}) == "1003"
    assert refused("email", {"isHidden": True}) == "1003"
    assert refused("acmeCode", {"dataType": "integer"}) == "1003"
    assert refused("acmeCode", {"name": "renamed"}) == "1003"
    assert refused("acmeCode", {"displayName": "Acme Other"}) == "1017"
    assert refused("acmeCode", {}) == "1003"
    too_many = client.post(FIELD.format("acmeCode"), {"input": [{}, {}]})
    assert too_many["errors"][0]["code"] == "1003"
    assert (
        client.post(FIELD.format("nope"), {"input": [{"description": "x"}]})["errors"][0]["code"]
        == "1013"
    )


def test_update_of_is_hidden_needs_an_api_created_field() -> None:
    config = SimulatorConfig(client_id="c", client_secret="s")
    with MarketoSimulator(config) as sim:
        client = SimClient(sim.base_url, "c", "s")
        made_in_admin = client.get(FIELD.format("livechatTags"))["result"][0]
        assert (made_in_admin["isCustom"], made_in_admin["isApiCreated"]) == (True, False)
        body = client.post(FIELD.format("livechatTags"), {"input": [{"isHidden": True}]})
        assert body["result"][0]["reasons"][0]["code"] == "1003"
        body = client.post(FIELD.format("livechatTags"), {"input": [{"displayName": "Tags"}]})
        assert body["result"][0]["status"] == "updated"


def test_reset_returns_to_the_configured_schema(sim: MarketoSimulator, client: SimClient) -> None:
    _create(client, _field("acmeCode", "Acme Code"))
    client.post(FIELD.format("email"), {"input": [{"description": "changed"}]})
    sim.reset()
    assert client.get(FIELD.format("acmeCode"))["errors"][0]["code"] == "1013"
    assert client.get(FIELD.format("email"))["result"][0]["description"] is None


def test_fields_created_while_leads_are_written(sim: MarketoSimulator, client: SimClient) -> None:
    errors: list[str] = []

    def writer(worker: int) -> None:
        mine = SimClient(sim.base_url, "c", "s")
        for i in range(15):
            body = mine.upsert([{"email": f"w{worker}-{i}@x.com", "firstName": "W"}])
            if not body.get("success"):
                errors.append(str(body))
            listed = mine.get("/rest/v1/leads/describe2.json")
            if not listed.get("success"):
                errors.append(str(listed))

    sim.set_config({"max_in_flight": 100, "calls_per_window": 10000})
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    statuses = [_create(client, _field(f"race{i}", f"Race {i}"))[0] for i in range(15)]
    for t in threads:
        t.join()
    assert errors == []
    assert statuses == ["created"] * 15
    assert len(sim.leads()) == 45
    assert {f"race{i}" for i in range(15)} <= set(sim.store.schema)
