"""Lead lookup, every write action and its record reasons, deletes, HTTP size limits, races."""

from __future__ import annotations

import threading
from typing import Any

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from local.simulators.marketo.testing import SimClient
from tests.support.concurrency import run_together
from tests.support.marketo_sim import statuses

LEADS = "/rest/v1/leads.json"


def _error(body: dict[str, Any]) -> str:
    assert body["success"] is False, body
    return str(body["errors"][0]["code"])


def test_lookup_by_email_is_case_insensitive_with_projection(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.seed_leads([{"email": "Ann@Example.com", "firstName": "Ann", "company": "Acme"}])
    body = client.get(
        LEADS, filterType="email", filterValues="ann@example.COM,none@x.com", fields="email,company"
    )
    assert body["result"] == [{"id": 1, "email": "Ann@Example.com", "company": "Acme"}]
    default = client.get(LEADS, filterType="email", filterValues="ann@example.com")
    assert set(default["result"][0]) == {
        "id",
        "email",
        "firstName",
        "lastName",
        "updatedAt",
        "createdAt",
    }
    assert client.get(LEADS, filterType="email", filterValues="zz@x.com")["result"] == []


def test_lookup_by_post_with_method_get_and_other_filters(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.seed_leads(
        [{"email": f"p{i}@x.com", "company": "Acme" if i % 2 else "Other"} for i in range(1, 6)]
    )
    status, body = client.request(
        "POST",
        LEADS,
        params={"_method": "GET"},
        form={"filterType": "company", "filterValues": "acme", "fields": ["email", "company"]},
    )
    assert status == 200
    assert [r["email"] for r in body["result"]] == ["p1@x.com", "p3@x.com", "p5@x.com"]
    by_id = client.get(LEADS, filterType="id", filterValues="2,4,99")
    assert [r["id"] for r in by_id["result"]] == [2, 4]


def test_lookup_paging(sim: MarketoSimulator, client: SimClient) -> None:
    sim.seed_leads([{"email": f"n{i}@x.com", "company": "Same"} for i in range(5)])
    seen: list[int] = []
    token = None
    for _ in range(5):
        params: dict[str, Any] = {"filterType": "company", "filterValues": "Same", "batchSize": 2}
        if token:
            params["nextPageToken"] = token
        body = client.get(LEADS, **params)
        seen += [r["id"] for r in body["result"]]
        token = body.get("nextPageToken")
        if not token:
            assert body["moreResult"] is False
            break
    assert seen == [1, 2, 3, 4, 5]


def test_lookup_errors(client: SimClient) -> None:
    values = ",".join(f"v{i}@x.com" for i in range(301))
    _status, body = client.request(
        "POST",
        LEADS,
        params={"_method": "GET"},
        form={"filterType": "email", "filterValues": values},
    )
    assert _error(body) == "1003"
    assert (
        _error(client.get(LEADS, filterType="email", filterValues="a@x.com", fields="email,nope"))
        == "1006"
    )
    assert _error(client.get(LEADS, filterType="nope", filterValues="1")) == "1003"


def test_create_or_update_then_update(client: SimClient, sim: MarketoSimulator) -> None:
    body = client.upsert([{"email": "a@x.com", "firstName": "A"}, {"email": "b@x.com"}])
    assert statuses(body) == ["created", "created"]
    body = client.upsert([{"email": "A@X.com", "lastName": "Z"}, {"email": "c@x.com"}])
    assert statuses(body) == ["updated", "created"]
    lead = client.get(LEADS, filterType="email", filterValues="a@x.com")["result"][0]
    assert (lead["firstName"], lead["lastName"]) == ("A", "Z")
    assert len(sim.leads()) == 3


def test_record_reasons(sim: MarketoSimulator, client: SimClient) -> None:
    sim.seed_leads([{"email": "dup@x.com"}, {"email": "dup@x.com"}, {"email": "old@x.com"}])
    body = client.upsert(
        [
            {"email": "new@x.com", "firstName": "N"},
            {"email": "not-an-email"},
            {"firstName": "no lookup value"},
            {"email": "long@x.com", "firstName": "x" * 256},
            {"email": "field@x.com", "favouriteColour": "blue"},
            {"email": "dup@x.com"},
            {"email": "NEW@x.com"},
            {"email": "int@x.com", "livechatChatCount": "many"},
        ]
    )
    assert statuses(body) == ["created", "1003", "1003", "1003", "1006", "1007", "1036", "1003"]
    assert statuses(
        client.upsert([{"email": "old@x.com"}, {"email": "n2@x.com"}], action="createOnly")
    ) == ["1005", "created"]
    assert statuses(
        client.upsert([{"email": "old@x.com"}, {"email": "n3@x.com"}], action="updateOnly")
    ) == ["updated", "1004"]
    assert statuses(
        client.upsert(
            [{"id": 3, "firstName": "Byid"}, {"id": 999}], action="updateOnly", lookupField="id"
        )
    ) == ["updated", "1004"]
    assert statuses(
        client.upsert([{"email": "old@x.com"}, {"email": "old@x.com"}], action="createDuplicate")
    ) == ["created", "created"]
    assert sim.audit()["by_reason"]["1003"] == 4


def test_call_level_write_errors(client: SimClient) -> None:
    assert _error(client.upsert([{"email": f"{i}@x.com"} for i in range(301)])) == "1003"
    assert _error(client.upsert([{"id": 1}], lookupField="id")) == "1003"
    assert _error(client.upsert([{"email": "a@x.com"}], action="merge")) == "1003"
    assert _error(client.upsert([{"email": "a@x.com"}], lookupField="nope")) == "1006"
    assert _error(client.upsert([{"email": "a@x.com"}], partitionName="Nope")) == "1003"
    _, body = client.request(
        "POST", LEADS, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert _error(body) == "609"
    _status, body = client.request("PUT", LEADS, json_body={"input": []})
    assert _error(body) == "605"
    assert _error(client.get("/rest/v1/nothing.json")) == "610"


def test_http_413_and_414(client: SimClient) -> None:
    big = [{"email": f"{i}@x.com", "address": "x" * 5000} for i in range(250)]
    status, _ = client.request("POST", LEADS, json_body={"input": big})
    assert status == 413
    status, _ = client.request(
        "GET", LEADS, params={"filterType": "email", "filterValues": "a" * 9000}
    )
    assert status == 414
    # bulk accepts up to 10 MB
    status, body = client.bulk_import(b"email\n" + b"x@x.com\n" * 200_000, {"format": "csv"})
    assert status == 200
    assert body["success"] is True


def test_overlapping_upserts_duplicate_but_sequential_ones_do_not(
    sim: MarketoSimulator, client: SimClient
) -> None:
    sim.set_config({"write_delay_ms": 300})
    token = client.token()
    barrier = threading.Barrier(2)
    results: list[list[str]] = []

    def upsert() -> None:
        barrier.wait()
        _, body = client.request(
            "POST", LEADS, token=token, json_body={"input": [{"email": "race@x.com"}]}
        )
        results.append(statuses(body))

    run_together(upsert, 2)
    assert results == [["created"], ["created"]]
    sim.set_config({"write_delay_ms": 0})
    assert statuses(client.upsert([{"email": "seq@x.com"}])) == ["created"]
    assert statuses(client.upsert([{"email": "seq@x.com"}])) == ["updated"]
    emails = [lead["email"] for lead in sim.leads()]
    assert emails.count("race@x.com") == 2
    assert emails.count("seq@x.com") == 1
    # the duplicates now make the lookup key ambiguous
    assert statuses(client.upsert([{"email": "race@x.com"}])) == ["1007"]


def test_delete(sim: MarketoSimulator, client: SimClient) -> None:
    sim.seed_leads([{"email": "a@x.com"}, {"email": "b@x.com"}, {"email": "c@x.com"}])
    body = client.post("/rest/v1/leads/delete.json", {"input": [{"id": 1}, {"id": 42}]})
    assert statuses(body) == ["deleted", "1004"]
    _status, body = client.request("POST", "/rest/v1/leads/delete.json", params={"id": "2"})
    assert statuses(body) == ["deleted"]
    assert statuses(client.delete(LEADS, {"input": [{"id": 3}]})) == ["deleted"]
    assert sim.leads() == []


def test_describe_lists_the_schema(client: SimClient) -> None:
    body = client.get("/rest/v1/leads/describe.json")
    names = {f["rest"]["name"]: f for f in body["result"]}
    assert {"email", "firstName", "livechatChatCount", "id"} <= set(names)
    assert names["email"]["length"] == 255
    assert names["id"]["rest"]["readOnly"] is True


def test_custom_schema_from_config() -> None:
    config = SimulatorConfig(
        client_id="c",
        client_secret="s",
        write_delay_ms=0,
        custom_fields=[{"name": "shoeSize", "dataType": "integer"}],
    )
    with MarketoSimulator(config) as sim:
        client = SimClient(sim.base_url, "c", "s")
        body = client.upsert(
            [{"email": "a@x.com", "shoeSize": "44"}, {"email": "b@x.com", "livechatTags": "x"}]
        )
        assert statuses(body) == ["created", "1006"]
        assert sim.leads()[0]["shoeSize"] == 44
