"""The simulator driven by an independent client: marketorestpython 0.5.25, unmodified.

Only its host and its built-in 5 calls/s sleep are redirected; everything it sends (URLs,
_method=GET form bodies, bearer headers, multipart imports) is its own. Its methods put the
token in their arguments, but its HTTP layer moves it into the `Authorization: Bearer`
header before sending, as Marketo requires since 2026-08-31: every request is recorded and
checked to carry no `access_token` parameter, so it needs no adapter.
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from marketorestpython.client import MarketoClient
from marketorestpython.helper import http_lib
from marketorestpython.helper.exceptions import MarketoException

from local.simulators.marketo import MarketoSimulator
from tests.support.marketo_sim import running_sim

pytestmark = pytest.mark.contract


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(
        client_id="mrp-id",
        client_secret="mrp-secret",
        bulk_start_delay_seconds=0,
        bulk_rows_per_second=100,
        lists=[{"id": 1001, "name": "LiveChat visitors"}],
    ) as s:
        yield s


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[requests.PreparedRequest]]:
    """Every request the client sends; on teardown, none may carry the token but as a header."""
    seen: list[requests.PreparedRequest] = []
    original = requests.Session.send

    def record(session: requests.Session, request: requests.PreparedRequest, **kw: Any) -> Any:
        seen.append(request)
        return original(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", record)
    yield seen
    assert seen, "the client's requests were not recorded"
    for request in seen:
        parts = urlsplit(request.url or "")
        assert "access_token" not in parse_qs(parts.query), request.url
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        assert b"access_token" not in body, request.url
        if not parts.path.startswith("/identity/"):
            assert str(request.headers.get("Authorization", "")).startswith("Bearer ")


@pytest.fixture
def mc(sim: MarketoSimulator, monkeypatch: pytest.MonkeyPatch, sent: list[Any]) -> Any:
    # its decorator sleeps to stay at 5 calls/s; the simulator enforces the real limits
    monkeypatch.setattr(
        http_lib, "time", types.SimpleNamespace(time=time.time, sleep=lambda _s: None)
    )
    client = MarketoClient(
        "123-ABC-456", "mrp-id", "mrp-secret", max_retry_time=1, requests_timeout=10
    )
    client.host = sim.base_url
    return client


def test_authenticate(mc: Any, sim: MarketoSimulator) -> None:
    mc.authenticate()
    assert mc.token
    assert mc.token_type == "bearer"
    assert 3590 <= mc.expires_in <= 3600
    assert mc.scope == sim.config.api_user_id


def test_bad_credentials_fail(sim: MarketoSimulator) -> None:
    client = MarketoClient("123-ABC-456", "mrp-id", "wrong", max_retry_time=1)
    client.host = sim.base_url
    with pytest.raises(Exception, match="Bad client credentials"):
        client.authenticate()


def test_create_update_and_lookup(mc: Any) -> None:
    created = mc.execute(
        "create_update_leads",
        leads=[
            {"email": "ann@x.com", "firstName": "Ann"},
            {"email": "bob@x.com", "firstName": "Bob"},
            {"email": "bad-email"},
        ],
        action="createOrUpdate",
        lookupField="email",
    )
    assert [r["status"] for r in created] == ["created", "created", "skipped"]
    assert created[2]["reasons"][0]["code"] == "1003"
    updated = mc.execute("create_update_leads", leads=[{"email": "ANN@x.com", "lastName": "A"}])
    assert updated == [{"id": created[0]["id"], "status": "updated"}]
    found = mc.execute(
        "get_multiple_leads_by_filter_type",
        filterType="email",
        filterValues=["ann@x.com", "bob@x.com", "nobody@x.com"],
        fields=["email", "firstName", "lastName"],
        batchSize=1,
    )
    assert [(r["email"], r["firstName"], r["lastName"]) for r in found] == [
        ("ANN@x.com", "Ann", "A"),
        ("bob@x.com", "Bob", None),
    ]


def test_lists(mc: Any) -> None:
    ids = [
        r["id"]
        for r in mc.execute(
            "create_update_leads", leads=[{"email": f"l{i}@x.com"} for i in range(3)]
        )
    ]
    added = mc.execute("add_leads_to_list", listId=1001, id=ids[:2])
    assert [r["status"] for r in added] == ["added", "added"]
    member = mc.execute("member_of_list", listId=1001, id=ids)
    assert [r["status"] for r in member] == ["memberof", "memberof", "notmemberof"]
    members = mc.execute(
        "get_multiple_leads_by_list_id", listId=1001, fields=["email"], batchSize=1
    )
    assert [m["email"] for m in members] == ["l0@x.com", "l1@x.com"]
    removed = mc.execute("remove_leads_from_list", listId=1001, id=[ids[0], ids[2]])
    assert [r["status"] for r in removed] == ["removed", "skipped"]
    assert removed[1]["reasons"][0]["code"] == "1015"
    with pytest.raises(Exception, match="1013"):
        mc.execute("add_leads_to_list", listId=4242, id=ids)


def test_delete(mc: Any, sim: MarketoSimulator) -> None:
    ids = [r["id"] for r in mc.execute("create_update_leads", leads=[{"email": "d@x.com"}])]
    deleted = mc.execute("delete_lead", id=[*ids, 999])
    assert [r["status"] for r in deleted] == ["deleted", "skipped"]
    assert sim.leads() == []


def test_describe_usage_errors(mc: Any, sim: MarketoSimulator) -> None:
    fields = {f["rest"]["name"] for f in mc.execute("describe")}
    assert {"email", "livechatLastChat"} <= fields
    mc.execute("create_update_leads", leads=[{"email": "u@x.com"}])
    usage = mc.execute("get_daily_usage")
    assert usage[0]["users"] == [{"userId": sim.config.api_user_id, "count": 3}]
    errors = mc.execute("get_daily_errors")
    assert errors[0]["total"] == 0


def test_bulk_import(mc: Any, sim: MarketoSimulator, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email,firstName,favourite\nimp@x.com,Imp,blue\nnot-an-email,X,\n")
    submitted = mc.execute("import_lead", format="csv", file=str(path), listId=1001)
    batch_id = submitted[0]["batchId"]
    assert submitted[0]["status"] == "Queued"
    sim.clock.advance(5)
    status = mc.execute("get_import_lead_status", id=batch_id)[0]
    assert status["status"] == "Complete"
    assert (
        status["numOfLeadsProcessed"],
        status["numOfRowsFailed"],
        status["numOfRowsWithWarning"],
    ) == (1, 1, 1)
    failures = mc.execute("get_import_failure_file", id=batch_id)
    assert failures.splitlines() == [
        "email,firstName,favourite,Import Failure Reason",
        "not-an-email,X,,Invalid email address 'not-an-email'",
    ]
    warnings = mc.execute("get_import_warning_file", id=batch_id)
    assert warnings.splitlines()[1].startswith("imp@x.com,Imp,blue,")
    assert sim.store.members(1001) != []


def test_expired_token_is_602(mc: Any, sim: MarketoSimulator) -> None:
    mc.authenticate()
    sim.clock.advance(3601)
    with pytest.raises(MarketoException) as caught:
        mc.create_update_leads([{"email": "late@x.com"}])
    assert caught.value.code == "602"
    mc.valid_until = None  # what the client does when its own clock says the token is old
    assert mc.create_update_leads([{"email": "late@x.com"}])[0]["status"] == "created"


def test_describe2(mc: Any) -> None:
    [lead] = mc.execute("describe2")
    assert lead["name"] == "API Lead"
    names = {f["name"] for f in lead["fields"]}
    assert {"email", "livechatLastChat", "salutation"} <= names
    assert ["email"] in lead["searchableFields"]


def test_static_lists_through_both_apis(mc: Any, sim: MarketoSimulator) -> None:
    [made] = mc.execute(
        "create_list", name="Chat buyers", folderId=1034, folderType="Program", description="d"
    )
    assert (made["name"], made["folder"]) == ("Chat buyers", {"id": 1034, "type": "Program"})
    assert mc.execute("get_list_by_name", name="Chat buyers") == [made]
    lists = mc.execute("get_multiple_lists", name=["Chat buyers", "LiveChat visitors"])
    assert sorted(item["id"] for item in lists) == [1001, made["id"]]
    with pytest.raises(Exception, match="'code': '709'"):
        mc.execute("create_list", name="chat BUYERS", folderId=1034, folderType="Program")
    ids = [r["id"] for r in mc.execute("create_update_leads", leads=[{"email": "s@x.com"}])]
    assert mc.execute("add_leads_to_list", listId=made["id"], id=ids)[0]["status"] == "added"
    assert sim.store.members(made["id"]) == ids


def test_access_denied_is_603(mc: Any, sim: MarketoSimulator) -> None:
    sim.set_config({"denied_permissions": ["lead_read", "lead_write"]})
    with pytest.raises(Exception, match="'code': '603'"):
        mc.execute("describe2")
