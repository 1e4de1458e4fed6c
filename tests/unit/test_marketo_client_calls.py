"""The client against a scripted Marketo inside a requests adapter: permits, token replay,
URI switch, splitting, paging, local refusals. No network, no sleeps."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter

from leadsync.limiter.api import BudgetExhausted, Outcome
from leadsync.marketo import (
    LOCAL_RECORD_TOO_LARGE,
    MarketoBodyTooLarge,
    MarketoClient,
    MarketoClientConfig,
    MarketoCredentialsError,
    MarketoEndpoints,
    MarketoNoAnswer,
    MarketoRateLimited,
    MarketoTokenRejected,
)
from tests.support.limiters import RecordingLimiter

BASE = "https://123-abc-456.mktorest.com"
IDENTITY = f"{BASE}/identity/oauth/token"
SECRET = "s3cr3t-value"


Answer = tuple[int, Any] | Exception


@dataclass
class Sent:
    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: Mapping[str, str]
    timeout: Any

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def json(self) -> Any:
        return json.loads(self.body)


class FakeMarketo(BaseAdapter):
    """Identity always succeeds (new token each time) unless told; REST answers come from
    `script` (a queue) or `handler` (a function of the request)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.script: list[Answer] = []
        self.handler: Callable[[Sent], Answer] = default_answer
        self.identity: list[Answer] = []
        self.tokens = itertools.count(1)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body or b""
        sent = Sent(
            request.method or "",
            request.url or "",
            parts.path,
            parse_qs(parts.query),
            body if isinstance(body, bytes) else body.encode(),
            request.headers,
            timeout,
        )
        self.sent.append(sent)
        if parts.path == "/identity/oauth/token":
            answer = (
                self.identity.pop(0)
                if self.identity
                else (200, {"access_token": f"tok-{next(self.tokens)}", "expires_in": 3600})
            )
        else:
            answer = self.script.pop(0) if self.script else self.handler(sent)
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer
        response = requests.Response()
        response.status_code = status
        if isinstance(payload, bytes):
            response._content = payload
            response.headers["Content-Type"] = "text/csv"
        else:
            response._content = json.dumps(payload).encode()
            response.headers["Content-Type"] = "application/json;charset=UTF-8"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass

    @property
    def rest(self) -> list[Sent]:
        return [s for s in self.sent if s.path != "/identity/oauth/token"]

    @property
    def identity_calls(self) -> int:
        return len(self.sent) - len(self.rest)


def ok(result: list[Any], **extra: Any) -> dict[str, Any]:
    return {"requestId": "r#1", "success": True, "result": result, **extra}


def fail(code: str, message: str = "nope") -> dict[str, Any]:
    return {"requestId": "r#2", "success": False, "errors": [{"code": code, "message": message}]}


def default_answer(sent: Sent) -> Answer:
    if sent.body.startswith(b"{"):
        return echo_sync(sent)
    return 200, ok([])


def echo_sync(sent: Sent) -> Answer:
    """One `updated` result per input, in order (id from the input or its position)."""
    records = sent.json()["input"]
    return 200, ok([{"id": r.get("id", n), "status": "updated"} for n, r in enumerate(records)])


@dataclass
class World:
    fake: FakeMarketo
    limiter: RecordingLimiter
    client: MarketoClient
    clock: list[float]


def world(config: MarketoClientConfig | None = None, deadline_in: float = 100.0) -> World:
    fake = FakeMarketo()
    session = requests.Session()
    session.mount("https://", fake)
    limiter = RecordingLimiter()
    clock = [1000.0]
    client = MarketoClient(
        MarketoEndpoints(f"{BASE}/rest/", f"{BASE}/identity"),
        "cid",
        SECRET,
        limiter,
        config=config,
        session=session,
        monotonic=lambda: clock[0],
        deadline=lambda: clock[0] + deadline_in,
    )
    return World(fake, limiter, client, clock)


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_seconds: float) -> None:
        raise AssertionError("the client must never sleep")

    monkeypatch.setattr(time, "sleep", refuse)


# -- permits ------------------------------------------------------------------------------
def test_every_rest_call_takes_and_returns_one_permit_identity_none() -> None:
    w = world()
    w.fake.handler = echo_sync
    w.client.update_only([{"id": 1}])
    w.client.delete([1, 2])
    w.fake.handler = lambda s: (200, ok([{"date": "2026-07-01", "total": 5, "users": []}]))
    assert w.client.usage_today().total == 5
    assert len(w.fake.rest) == 3
    assert w.fake.identity_calls == 1
    assert len(w.limiter.acquired) == 3
    assert w.limiter.balanced()
    assert w.limiter.outcomes == [Outcome.DONE] * 3
    assert w.client.calls == {"identity": 1, "update_only": 1, "delete": 1, "usage": 1}
    for sent in w.fake.rest:
        assert sent.headers["Authorization"] == "Bearer tok-1"
        assert "access_token" not in sent.query
    ident = w.fake.sent[0]
    assert ident.method == "GET"
    assert ident.query["grant_type"] == ["client_credentials"]
    assert ident.query["client_id"] == ["cid"]
    assert ident.query["client_secret"] == [SECRET]


@pytest.mark.parametrize(
    ("answer", "error", "outcome"),
    [
        ((200, fail("606")), MarketoRateLimited, Outcome.RATE_LIMITED),
        ((200, fail("615")), MarketoRateLimited, Outcome.CONCURRENCY_LIMITED),
        ((200, fail("607")), MarketoRateLimited, Outcome.QUOTA_EXHAUSTED),
        ((200, fail("611")), Exception, Outcome.NOT_COUNTED),
        ((200, fail("609")), Exception, Outcome.DONE),
        ((503, b"<html/>"), Exception, Outcome.DONE),
        (requests.ReadTimeout("slow"), MarketoNoAnswer, Outcome.FAILED),
        (requests.ConnectionError("reset"), MarketoNoAnswer, Outcome.FAILED),
    ],
)
def test_failures_release_with_their_outcome(
    answer: Answer, error: type[Exception], outcome: Outcome
) -> None:
    w = world()
    w.fake.script = [answer]
    with pytest.raises(error):
        w.client.delete([1])
    assert w.limiter.outcomes == [outcome]
    assert w.limiter.balanced()
    assert len(w.fake.rest) == 1  # no hidden retry


def test_budget_exhausted_sends_nothing() -> None:
    w = world()
    w.limiter.refuse = True
    with pytest.raises(BudgetExhausted):
        w.client.delete([1])
    assert w.fake.rest == []
    assert w.limiter.released == []


def test_unexpected_error_after_an_answer_still_releases() -> None:
    w = world()
    w.fake.script = [(200, ok([{"status": "deleted"}, {"status": "deleted"}]))]  # 2 for 1
    with pytest.raises(Exception, match="2 results for 1 inputs"):
        w.client.delete([1])
    assert w.limiter.outcomes == [Outcome.DONE]


# -- tokens -------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["601", "602"])
def test_token_error_refreshes_and_replays_once(code: str) -> None:
    w = world()
    w.fake.script = [(200, fail(code)), (200, ok([{"id": 1, "status": "deleted"}]))]
    assert w.client.delete([1])[0].status == "deleted"
    assert w.fake.identity_calls == 2
    assert [s.headers["Authorization"] for s in w.fake.rest] == ["Bearer tok-1", "Bearer tok-2"]
    assert w.limiter.outcomes == [Outcome.NOT_COUNTED, Outcome.DONE]


def test_a_second_token_error_surfaces() -> None:
    w = world()
    w.fake.script = [(200, fail("602")), (200, fail("601"))]
    with pytest.raises(MarketoTokenRejected) as info:
        w.client.delete([1])
    assert info.value.retryable
    assert info.value.code == "601"
    assert len(w.fake.rest) == 2
    assert w.fake.identity_calls == 2
    assert w.limiter.outcomes == [Outcome.NOT_COUNTED, Outcome.NOT_COUNTED]


def test_token_cached_until_shortly_before_expiry() -> None:
    w = world()
    w.fake.identity = [
        (200, {"access_token": "A", "expires_in": 3599}),
        (200, {"access_token": "B", "expires_in": 3599}),
    ]
    w.client.delete([1])
    w.clock[0] += 3500
    w.client.delete([1])
    assert w.fake.identity_calls == 1
    w.clock[0] += 40  # inside the 60 s margin
    w.client.delete([1])
    assert w.fake.identity_calls == 2
    assert [s.headers["Authorization"] for s in w.fake.rest] == ["Bearer A"] * 2 + ["Bearer B"]


def test_bad_credentials_are_permanent_take_no_permit_and_hide_the_secret() -> None:
    w = world()
    w.fake.identity = [(401, {"error": "unauthorized"})]
    with pytest.raises(MarketoCredentialsError) as info:
        w.client.delete([1])
    assert w.limiter.acquired == []
    assert w.fake.rest == []
    assert SECRET not in str(info.value)
    assert SECRET not in repr(w.client._tokens)


def test_identity_timeout_hides_the_secret() -> None:
    w = world()
    w.fake.identity = [requests.ConnectTimeout(f"{IDENTITY}?client_secret={SECRET}")]
    with pytest.raises(MarketoNoAnswer) as info:
        w.client.delete([1])
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert w.limiter.acquired == []


# -- lookups ------------------------------------------------------------------------------
def lookup_answer(sent: Sent) -> Answer:
    params = sent.query if sent.method == "GET" else sent.form()
    values = params["filterValues"][0].split(",")
    return 200, ok([{"id": n, "email": v.upper()} for n, v in enumerate(values)])


def test_lookup_normalises_dedups_and_splits_by_count() -> None:
    w = world()
    w.fake.handler = lookup_answer
    emails = [f" User{i}@X.com" for i in range(650)] + ["user1@x.com"]
    found = w.client.lookup_by_email(emails, ["firstName", "id"])
    assert len(found) == 650
    assert all(len(v) == 1 for v in found.values())
    sizes = [len(s.query["filterValues"][0].split(",")) for s in w.fake.rest]
    assert sizes == [300, 300, 50]
    assert all(s.method == "GET" for s in w.fake.rest)
    assert w.fake.rest[0].query["fields"] == ["email,firstName"]
    assert w.fake.rest[0].query["filterType"] == ["email"]
    assert all(s.timeout[1] == 60.0 for s in w.fake.rest)


def test_long_filter_switches_to_post_method_get() -> None:
    w = world()
    w.fake.handler = lookup_answer
    emails = [f"{'x' * 60}{i}@example.com" for i in range(300)]
    found = w.client.lookup_by_email(emails)
    assert len(w.fake.rest) == 1
    sent = w.fake.rest[0]
    assert sent.method == "POST"
    assert sent.query == {"_method": ["GET"]}
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.form()["filterValues"][0].split(",") == emails
    assert len(sent.url.encode()) < 8192
    assert all(len(v) == 1 for v in found.values())


@given(lengths=st.lists(st.integers(min_value=5, max_value=120), min_size=1, max_size=320))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_lookup_urls_never_pass_the_limit(lengths: list[int]) -> None:
    w = world()
    w.fake.handler = lookup_answer
    emails = [f"{'a' * n}{i}@b.co" for i, n in enumerate(lengths)]
    w.client.lookup_by_email(emails)
    seen: list[str] = []
    for sent in w.fake.rest:
        assert len(sent.url.encode()) <= 8192
        params = sent.query if sent.method == "GET" else sent.form()
        chunk = params["filterValues"][0].split(",")
        assert len(chunk) <= 300
        seen.extend(chunk)
    assert seen == emails


def test_lookup_follows_pages_and_keeps_duplicates() -> None:
    w = world()
    w.fake.script = [
        (200, ok([{"id": 1, "email": "a@x.com"}], moreResult=True, nextPageToken="P2")),
        (200, ok([{"id": 2, "email": "A@x.com"}, {"id": 3, "email": "b@x.com"}])),
    ]
    found = w.client.lookup_by_email(["a@x.com", "b@x.com", "c@x.com"])
    assert {k: [lead.id for lead in v] for k, v in found.items()} == {
        "a@x.com": [1, 2],
        "b@x.com": [3],
        "c@x.com": [],
    }
    assert w.fake.rest[1].query["nextPageToken"] == ["P2"]
    assert len(w.limiter.acquired) == 2
    assert w.limiter.balanced()


def test_server_414_replays_as_post() -> None:
    w = world()
    w.fake.script = [(414, b"<html>414</html>"), (200, ok([]))]
    assert w.client.lookup_by_email(["a@x.com"]) == {"a@x.com": []}
    assert [s.method for s in w.fake.rest] == ["GET", "POST"]
    assert len(w.limiter.acquired) == 2
    assert w.limiter.balanced()


def test_lookup_refuses_values_a_filter_cannot_hold() -> None:
    w = world()
    with pytest.raises(ValueError, match="comma"):
        w.client.lookup_by_email(["a,b@x.com"])
    with pytest.raises(ValueError, match="non-empty"):
        w.client.lookup_by_email(["  "])
    assert w.fake.sent == []


# -- writes -------------------------------------------------------------------------------
record_st = st.fixed_dictionaries(
    {"id": st.integers(min_value=1, max_value=10**6)},
    optional={"city": st.text(max_size=300), "livechatTags": st.text(max_size=900)},
)


@given(records=st.lists(record_st, max_size=40), per_call=st.integers(min_value=1, max_value=9))
@settings(max_examples=40, deadline=None)
def test_writes_split_by_count_and_bytes_in_input_order(
    records: list[dict[str, Any]], per_call: int
) -> None:
    limit = 2048
    w = world(MarketoClientConfig(records_per_call=per_call, max_body_bytes=limit))
    w.fake.handler = echo_sync
    results = w.client.update_only(records)
    assert [r.index for r in results] == list(range(len(records)))
    sent_ids: list[int] = []
    for sent in w.fake.rest:
        assert len(sent.body) <= limit
        body = sent.json()
        assert body["action"] == "updateOnly"
        assert body["lookupField"] == "id"
        assert 1 <= len(body["input"]) <= per_call
        sent_ids.extend(r["id"] for r in body["input"])
    local = [r for r in results if LOCAL_RECORD_TOO_LARGE in r.codes]
    assert len(sent_ids) + len(local) == len(records)
    expected_sent = [
        rec["id"]
        for rec, res in zip(records, results, strict=True)
        if LOCAL_RECORD_TOO_LARGE not in res.codes
    ]
    assert sent_ids == expected_sent
    for res in results:
        if res.ok:
            assert res.id == records[res.index]["id"]
    assert len(w.limiter.acquired) == len(w.fake.rest)
    assert w.limiter.balanced()


def test_a_record_over_the_body_limit_is_rejected_locally() -> None:
    w = world(MarketoClientConfig(max_body_bytes=2048))
    w.fake.handler = echo_sync
    results = w.client.create_or_update(
        [
            {"email": "a@x.com"},
            {"email": "big@x.com", "livechatTags": "x" * 5000},
            {"email": "c@x.com"},
        ]
    )
    assert [r.status for r in results] == ["updated", "skipped", "updated"]
    assert results[1].codes == (LOCAL_RECORD_TOO_LARGE,)
    assert results[1].id is None
    assert "2048" in results[1].reasons[0].message
    assert len(w.fake.rest) == 1
    assert len(w.fake.rest[0].json()["input"]) == 2


def test_a_failing_later_call_hands_over_earlier_results() -> None:
    w = world(MarketoClientConfig(records_per_call=2))
    w.fake.script = [
        (200, ok([{"id": 1, "status": "created"}, {"id": 2, "status": "created"}])),
        (200, fail("606")),
    ]
    with pytest.raises(MarketoRateLimited) as info:
        w.client.create_only([{"email": f"{i}@x.com"} for i in range(4)])
    assert [(r.index, r.status) for r in info.value.completed] == [(0, "created"), (1, "created")]
    assert w.limiter.outcomes == [Outcome.DONE, Outcome.RATE_LIMITED]


def test_list_calls() -> None:
    w = world()
    w.fake.handler = lambda s: (
        200,
        ok([{"id": i["id"], "status": "added"} for i in s.json()["input"]]),
    )
    assert [r.status for r in w.client.add_to_list(77, list(range(301)))] == ["added"] * 301
    assert [(s.method, s.path) for s in w.fake.rest] == [
        ("POST", "/rest/v1/lists/77/leads.json")
    ] * 2
    w.fake.handler = lambda s: (200, ok([{"id": 5, "status": "removed"}]))
    assert w.client.remove_from_list(77, [5])[0].status == "removed"
    assert w.fake.rest[-1].method == "DELETE"
    assert w.fake.rest[-1].json() == {"input": [{"id": 5}]}
    w.fake.handler = lambda s: (
        200,
        ok(
            [
                {"id": 5, "status": "memberof"},
                {"id": 6, "status": "notmemberof"},
                {"id": 7, "status": "skipped", "reasons": [{"code": "1004", "message": "x"}]},
            ]
        ),
    )
    assert w.client.is_member(77, [5, 6, 7, 5]) == {5: True, 6: False, 7: False}
    assert w.fake.rest[-1].path == "/rest/v1/lists/77/leads/ismember.json"
    assert w.fake.rest[-1].query["id"] == ["5,6,7"]


# -- bulk ---------------------------------------------------------------------------------
def test_import_refuses_a_file_at_the_limit_before_any_call() -> None:
    w = world(MarketoClientConfig(bulk_max_file_bytes=1000))
    with pytest.raises(MarketoBodyTooLarge, match="import body"):
        w.client.submit_import(b"email\n" + b"a@x.com\n" * 120)
    assert w.fake.sent == []
    assert w.limiter.acquired == []


def test_import_submit_and_files() -> None:
    w = world()
    w.fake.script = [
        (200, ok([{"batchId": 9, "importId": "9", "status": "Queued"}])),
        (200, b"email,Import Failure Reason\nbad,Invalid email\n"),
        (200, fail("1013", "Import batch '10' not found")),
    ]
    job = w.client.submit_import(b"email\na@x.com\n", format="tsv", list_id=3)
    assert (job.batch_id, job.status, job.finished) == (9, "Queued", False)
    sent = w.fake.rest[0]
    assert sent.path == "/bulk/v1/leads.json"
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="format"\r\n\r\ntsv' in sent.body
    assert b'name="listId"\r\n\r\n3' in sent.body
    assert b'filename="leads.tsv"' in sent.body
    assert w.client.import_failures(9).endswith(b"bad,Invalid email\n")
    with pytest.raises(Exception, match="1013"):
        w.client.import_warnings(10)
    assert w.limiter.outcomes == [Outcome.DONE] * 3


def test_read_timeout_never_outlives_the_deadline() -> None:
    w = world(deadline_in=4.0)
    w.client.delete([1])
    assert w.fake.rest[0].timeout == (5.0, 4.0)
    assert w.limiter.deadlines == [1004.0]
    w2 = world(deadline_in=0.1)
    w2.client.delete([1])
    assert w2.fake.rest[0].timeout == (5.0, 1.0)  # never below the floor


def test_endpoints_accept_the_admin_page_forms() -> None:
    e = MarketoEndpoints(
        " https://1-a-2.mktorest.com/rest/ ", "https://1-a-2.mktorest.com/identity/"
    )
    assert (e.rest_url, e.identity_url) == (
        "https://1-a-2.mktorest.com",
        "https://1-a-2.mktorest.com/identity",
    )
    with pytest.raises(ValueError, match="not an http"):
        MarketoEndpoints("ftp://x", "https://x")
    with pytest.raises(ValueError, match="30 s"):
        MarketoClientConfig(read_timeout_s=31)
