"""Custom activity records: added or skipped in input order, write-once, never de-duplicated;
read back through a date paging token, 300 at most a page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, sim_client

ADD = "/rest/v1/activities/external.json"
TOKEN = "/rest/v1/activities/pagingtoken.json"
READ = "/rest/v1/activities.json"
TYPE = "/rest/v1/activities/external/type/{}"
ATTRIBUTES = [
    {"apiName": "agent", "name": "Agent", "dataType": "string"},
    {"apiName": "rating", "name": "Rating", "dataType": "integer"},
    {"apiName": "agentEmail", "name": "Agent Email", "dataType": "email"},
    {"apiName": "transcript", "name": "Transcript", "dataType": "text"},
    {"apiName": "endedAt", "name": "Ended At", "dataType": "datetime"},
]


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim() as s:
        s.seed_leads([{"email": "a@x.com"}, {"email": "b@x.com"}, {"email": "c@x.com"}])
        s.seed_activity_type("livechatChat", {"apiName": "chatId", "name": "Chat ID"}, ATTRIBUTES)
        yield s


@pytest.fixture
def chat(sim: MarketoSimulator) -> int:
    return int(sim.activity_types()[0]["id"])


def _record(type_id: int, lead: int = 1, day: int = 1, **over: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "leadId": lead,
        "activityDate": f"2026-03-{day:02d}T10:00:00Z",
        "activityTypeId": type_id,
        "primaryAttributeValue": f"chat-{lead}-{day}",
        "attributes": [{"apiName": "agent", "value": "Ann"}, {"name": "Rating", "value": 5}],
    }
    record.update(over)
    return {k: v for k, v in record.items() if v is not None}


def _add(client: SimClient, *records: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.post(ADD, {"input": list(records)})
    return body


def _outcomes(body: dict[str, Any]) -> list[str]:
    assert body["success"] is True, body
    return [
        r["status"] if r["status"] == "added" else r["errors"][0]["code"] for r in body["result"]
    ]


def _token(client: SimClient, since: str = "2026-01-01T00:00:00Z") -> str:
    return str(client.get(TOKEN, sinceDatetime=since)["nextPageToken"])


def test_records_are_added_in_input_order(
    sim: MarketoSimulator, client: SimClient, chat: int
) -> None:
    body = _add(client, _record(chat, 1), _record(chat, 999), _record(chat, 2))
    assert _outcomes(body) == ["added", "1004", "added"]
    first, skipped, third = body["result"]
    assert set(first) == {"id", "marketoGUID", "status"}
    assert first["marketoGUID"] == str(first["id"])
    assert skipped == {"status": "skipped", "errors": [skipped["errors"][0]]}
    stored = sim.activities("livechatChat")
    assert [a["id"] for a in stored] == [first["id"], third["id"]]
    assert stored[0]["attributesByApiName"] == {"agent": "Ann", "rating": 5}
    assert stored[0]["primaryAttributeValue"] == "chat-1-1"
    assert sim.activities("otherType") == []


def test_no_idempotency_the_same_record_twice_is_two_activities(
    sim: MarketoSimulator, client: SimClient, chat: int
) -> None:
    record = _record(chat)
    first = _add(client, record)["result"][0]
    second = _add(client, record)["result"][0]
    assert first["marketoGUID"] != second["marketoGUID"]
    assert len(sim.activities()) == 2
    found = client.get(READ, nextPageToken=_token(client), activityTypeIds=chat)["result"]
    assert [a["marketoGUID"] for a in found] == [first["marketoGUID"], second["marketoGUID"]]


def test_a_timeout_after_apply_leaves_the_activity_stored(
    sim: MarketoSimulator, client: SimClient, chat: int
) -> None:
    sim.set_faults(timeout_probability=1.0, timeout_after_apply_probability=1.0, timeout_delay_ms=0)
    assert _add(client, _record(chat))["errors"][0]["code"] == "604"
    sim.set_faults(reset=True)
    assert _outcomes(_add(client, _record(chat))) == ["added"]
    assert len(sim.activities()) == 2  # the retry made a second one


def test_skipped_reasons(sim: MarketoSimulator, client: SimClient, chat: int) -> None:
    draft = sim.seed_activity_type("draftType", approve=False)
    big = "x" * 65_537
    cases: list[tuple[Any, str]] = [
        ("not a record", "1003"),
        (_record(chat, leadId=None), "1003"),
        (_record(chat, activityDate=None), "1003"),
        (_record(chat, activityTypeId=None), "1003"),
        (_record(chat, primaryAttributeValue=None), "1003"),
        (_record(chat, attributes=None), "1003"),
        (_record(chat, activityDate="yesterday"), "1003"),
        (_record(chat, leadId="one"), "1003"),
        (_record(chat, lead=404), "1004"),
        (_record(123456), "1013"),
        (_record(12), "1013"),  # a standard type takes no records
        (_record(draft), "1003"),  # never approved
        (_record(chat, attributes=[{"apiName": "nope", "value": 1}]), "1006"),
        (_record(chat, attributes=[{"name": "agent", "value": 1}]), "1006"),  # name is "Agent"
        (_record(chat, attributes=[{"apiName": "chatId", "value": "c"}]), "1006"),  # primary
        (_record(chat, attributes=[{"apiName": "rating", "value": "five"}]), "1003"),
        (_record(chat, attributes=[{"apiName": "agentEmail", "value": "not-an-email"}]), "1003"),
        (_record(chat, attributes=[{"apiName": "agent", "value": "x" * 256}]), "1003"),
        (_record(chat, attributes=[{"apiName": "endedAt", "value": "soon"}]), "1003"),
        (_record(chat, attributes=[{"apiName": "agent"}]), "1003"),
        (_record(chat, attributes=[{"apiName": "transcript", "value": big}]), "1049"),
        (_record(chat), "added"),
    ]
    body = _add(client, *(record for record, _ in cases))
    assert _outcomes(body) == [code for _, code in cases]
    assert len(sim.activities()) == 1
    requests = sim.audit()["requests"]
    assert requests[-1]["action"] == "activities:add"
    assert sorted(requests[-1]["reasons"]) == sorted(code for _, code in cases if code != "added")


def test_attributes_up_to_65536_bytes_are_accepted(client: SimClient, chat: int) -> None:
    wrapper = len('[{"apiName":"transcript","value":""}]')
    fits = [{"apiName": "transcript", "value": "x" * (65_536 - wrapper)}]
    assert _outcomes(_add(client, _record(chat, attributes=fits))) == ["added"]


def test_at_most_300_records_a_call(sim: MarketoSimulator, client: SimClient, chat: int) -> None:
    refused = _add(client, *[_record(chat) for _ in range(301)])
    assert refused["success"] is False
    assert refused["errors"][0]["code"] == "1003"
    assert sim.activities() == []
    assert _outcomes(_add(client, *[_record(chat) for _ in range(300)])) == ["added"] * 300
    assert client.post(ADD, {"input": []})["errors"][0]["code"] == "1003"
    assert client.post(ADD, [_record(chat)])["errors"][0]["code"] == "609"


def test_records_follow_the_approved_version(
    sim: MarketoSimulator, client: SimClient, chat: int
) -> None:
    new = {"apiName": "channel", "name": "Channel", "dataType": "string"}
    client.post(TYPE.format("livechatChat") + "/attributes/create.json", {"attributes": [new]})
    client.post(
        TYPE.format("livechatChat") + "/attributes/update.json",
        {"attributes": [{"apiName": "agent", "name": "Operator"}]},
    )
    with_channel = _record(chat, attributes=[{"apiName": "channel", "value": "web"}])
    assert _outcomes(_add(client, with_channel, _record(chat))) == ["1006", "added"]
    client.post(TYPE.format("livechatChat") + "/approve.json", None)
    assert _outcomes(_add(client, with_channel)) == ["added"]
    found = client.get(READ, nextPageToken=_token(client), activityTypeIds=chat)["result"]
    # changes are not retroactive: the first activity keeps the attribute's old name
    assert found[0]["attributes"] == [
        {"name": "Agent", "value": "Ann"},
        {"name": "Rating", "value": 5},
    ]
    assert found[1]["attributes"] == [{"name": "Channel", "value": "web"}]


def test_read_back_pages_over_more_than_300(
    sim: MarketoSimulator, client: SimClient, chat: int
) -> None:
    records = [
        _record(chat, lead=1 + n % 3, activityDate=f"2026-02-01T{n // 60:02d}:{n % 60:02d}:00Z")
        for n in range(650)
    ]
    for start in range(0, 650, 300):
        chunk = records[start : start + 300]
        assert _outcomes(_add(client, *chunk)) == ["added"] * len(chunk)
    token, pages, seen = _token(client), [], []
    while True:
        body = client.get(READ, nextPageToken=token, activityTypeIds=chat)
        pages.append(len(body.get("result", [])))
        seen += body.get("result", [])
        token = body["nextPageToken"]  # always given, on the last page too
        if not body["moreResult"]:
            break
    assert pages == [300, 300, 50]
    assert len({a["marketoGUID"] for a in seen}) == 650
    assert [a["activityDate"] for a in seen] == sorted(a["activityDate"] for a in seen)
    assert seen[0] == {
        "id": seen[0]["id"],
        "marketoGUID": seen[0]["marketoGUID"],
        "leadId": 1,
        "activityDate": "2026-02-01T00:00:00Z",
        "activityTypeId": chat,
        "primaryAttributeValueId": seen[0]["primaryAttributeValueId"],
        "primaryAttributeValue": "chat-1-1",
        "attributes": [{"name": "Agent", "value": "Ann"}, {"name": "Rating", "value": 5}],
    }
    # the last token waits where the reading stopped: it finds only what comes after
    nothing = client.get(READ, nextPageToken=token, activityTypeIds=chat)
    assert nothing["moreResult"] is False
    assert "result" not in nothing
    later = _add(client, _record(chat, day=2))["result"][0]
    found = client.get(READ, nextPageToken=nothing["nextPageToken"], activityTypeIds=chat)
    assert [a["marketoGUID"] for a in found["result"]] == [later["marketoGUID"]]


def test_read_back_filters(sim: MarketoSimulator, client: SimClient, chat: int) -> None:
    other = sim.seed_activity_type("webinar", {"apiName": "webinarName", "name": "Webinar"})
    _add(
        client,
        _record(chat, 1, day=1),
        _record(chat, 2, day=2),
        _record(chat, 3, day=3),
        _record(other, 1, day=4, attributes=[]),
    )
    sim.store.list_op(1001, [2, 3], "add")

    def leads(**params: Any) -> list[int]:
        params.setdefault("nextPageToken", _token(client))
        body = client.get(READ, **params)
        assert body["success"] is True, body
        return [a["leadId"] for a in body.get("result", [])]

    assert leads(activityTypeIds=chat) == [1, 2, 3]
    assert leads(activityTypeIds=f"{chat},{other}") == [1, 2, 3, 1]
    assert leads(activityTypeIds=[chat, other], leadIds="1") == [1, 1]
    assert leads(activityTypeIds=chat, listId=1001) == [2, 3]
    assert leads(activityTypeIds=chat, nextPageToken=_token(client, "2026-03-02T10:00:00Z")) == [
        2,
        3,
    ]
    assert leads(activityTypeIds=chat, nextPageToken=_token(client, "2026-03-02")) == [2, 3]
    assert leads(
        activityTypeIds=chat, nextPageToken=_token(client, "2026-03-02T04:00:01-06:00")
    ) == [3]
    assert leads(activityTypeIds=12) == []
    first = client.get(READ, nextPageToken=_token(client), activityTypeIds=chat, batchSize=2)
    assert (len(first["result"]), first["moreResult"]) == (2, True)
    rest = client.get(READ, nextPageToken=first["nextPageToken"], activityTypeIds=chat)
    assert [a["leadId"] for a in rest["result"]] == [3]


@pytest.mark.parametrize(
    "params",
    [
        {"nextPageToken": None},
        {"nextPageToken": "not-a-token"},
        {"activityTypeIds": None},
        {"activityTypeIds": "99999"},
        {"activityTypeIds": ",".join(str(i) for i in (1, 2, 6, 7, 10, 11, 12, 13, 24, 25, 37))},
        {"leadIds": ",".join(str(i) for i in range(1, 32))},
        {"leadIds": "1", "listId": "1001"},
        {"listId": "x"},
        {"assetIds": "1", "activityTypeIds": "CHAT,12"},
        {"batchSize": "0"},
    ],
)
def test_read_back_refusals(client: SimClient, chat: int, params: dict[str, Any]) -> None:
    wanted: dict[str, Any] = {"nextPageToken": _token(client), "activityTypeIds": "CHAT", **params}
    sent = {k: str(v).replace("CHAT", str(chat)) for k, v in wanted.items() if v is not None}
    assert client.get(READ, **sent)["errors"][0]["code"] == "1003"


def test_unknown_list_is_1013(client: SimClient, chat: int) -> None:
    body = client.get(READ, nextPageToken=_token(client), activityTypeIds=chat, listId=4242)
    assert body["errors"][0]["code"] == "1013"


def test_paging_token(client: SimClient) -> None:
    body = client.get(TOKEN, sinceDatetime="2014-10-06T13:22:17-08:00")
    assert body["success"] is True
    assert "result" not in body
    assert isinstance(body["nextPageToken"], str)
    assert client.get(TOKEN)["errors"][0]["code"] == "1003"
    assert client.get(TOKEN, sinceDatetime="last week")["errors"][0]["code"] == "1003"


def test_sim_endpoint_and_reset(sim: MarketoSimulator, client: SimClient, chat: int) -> None:
    _add(client, _record(chat))
    seen = client.sim("GET", "/_sim/activities?type=livechatChat")
    assert seen["count"] == 1
    assert seen["activities"][0]["activityTypeApiName"] == "livechatChat"
    assert [t["apiName"] for t in seen["types"]] == ["livechatChat"]
    sim.reset()
    assert sim.activities() == []
    assert sim.activity_types() == []


def test_activity_calls_count_against_the_window() -> None:
    with running_sim(calls_per_window=3) as sim:
        client = sim_client(sim)
        sim.seed_leads([{"email": "a@x.com"}])
        chat = sim.seed_activity_type("livechatChat")
        codes = [
            client.get(TOKEN, sinceDatetime="2026-01-01T00:00:00Z").get("errors"),
            _add(client, _record(chat, attributes=[])).get("errors"),
            client.get("/rest/v1/activities/types.json").get("errors"),
            _add(client, _record(chat, attributes=[])).get("errors"),
        ]
        assert codes[:3] == [[], [], []]
        assert codes[3][0]["code"] == "606"
        assert len(sim.activities()) == 1
        assert sim.audit()["quota_used"] == 4
