"""Identity and token handling of the Marketo simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from local.simulators.marketo.testing import SimClient


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    config = SimulatorConfig(client_id="cid", client_secret="csecret", token_lifetime=3600)
    with MarketoSimulator(config) as running:
        yield running


@pytest.fixture
def client(sim: MarketoSimulator) -> SimClient:
    return SimClient(sim.base_url, "cid", "csecret")


def test_token_shape_and_same_token_until_expiry(sim: MarketoSimulator, client: SimClient) -> None:
    status, first = client.identity()
    assert status == 200
    assert set(first) == {"access_token", "token_type", "expires_in", "scope"}
    assert first["token_type"] == "bearer"
    assert 3590 <= first["expires_in"] <= 3600
    sim.clock.advance(1000)
    status, again = client.identity(method="POST")
    assert again["access_token"] == first["access_token"]
    assert 2590 <= again["expires_in"] <= 2600
    sim.clock.advance(2601)
    _, renewed = client.identity()
    assert renewed["access_token"] != first["access_token"]


def test_bad_credentials_are_401(client: SimClient) -> None:
    status, body = client.identity(secret="wrong")
    assert status == 401
    assert body["error"] == "unauthorized"
    status, _ = client.identity(client_id="nobody")
    assert status == 401


def test_unknown_and_expired_tokens(sim: MarketoSimulator, client: SimClient) -> None:
    status, body = client.request("GET", "/rest/v1/stats/usage.json", token="nope")
    assert status == 200
    assert body["success"] is False
    assert body["errors"][0]["code"] == "601"
    token = client.token()
    sim.clock.advance(3601)
    _, body = client.request("GET", "/rest/v1/stats/usage.json", token=token)
    assert body["errors"][0]["code"] == "602"
    fresh = client.token(refresh=True)
    assert fresh != token
    _, body = client.request("GET", "/rest/v1/stats/usage.json", token=fresh)
    assert body["success"] is True
    # identity, 601 and 602 are free: only the last usage call counted
    assert body["result"][0]["total"] == 1
    audit = sim.audit()
    assert audit["quota_used"] == 1
    assert audit["by_code"] == {"601": 1, "602": 1}


def test_access_token_only_as_a_query_or_form_parameter_is_refused(
    sim: MarketoSimulator, client: SimClient
) -> None:
    # since 2026-08-31 Marketo reads the token from the Authorization header only: one sent
    # any other way is no token at all, and a call without a token is 603 (600 is retired)
    token = client.token()
    status, body = client.request(
        "GET", "/rest/v1/stats/usage.json", params={"access_token": token}, auth=False
    )
    assert status == 200
    assert body["success"] is False
    assert body["errors"][0]["code"] == "603"
    _status, body = client.request(
        "POST",
        "/rest/v1/leads.json",
        params={"_method": "GET"},
        form={"access_token": token, "filterType": "email", "filterValues": "a@x.com"},
        auth=False,
    )
    assert body["errors"][0]["code"] == "603"
    _status, body = client.request(
        "GET", "/rest/v1/stats/usage.json", headers={"Authorization": "Bearer "}, auth=False
    )
    assert body["errors"][0]["code"] == "603"
    _status, body = client.request(
        "GET", "/rest/v1/stats/usage.json", headers={"Authorization": f"Basic {token}"}, auth=False
    )
    assert body["errors"][0]["code"] == "603"
    # no token, no API user to charge: none of them cost quota
    assert sim.audit()["quota_used"] == 0
    assert sim.audit()["requests"][-1]["user"] is None
    assert client.get("/rest/v1/stats/usage.json")["success"] is True


def test_token_expiring_every_n_calls(sim: MarketoSimulator, client: SimClient) -> None:
    sim.set_faults(token_expire_every_calls=2)
    token = client.token()
    codes = []
    for _ in range(3):
        _, body = client.request("GET", "/rest/v1/stats/usage.json", token=token)
        codes.append(body["errors"][0]["code"] if not body["success"] else "ok")
    assert codes == ["ok", "ok", "602"]
    assert client.token(refresh=True) != token


def test_every_json_answer_has_a_unique_request_id(client: SimClient) -> None:
    ids = set()
    for _ in range(5):
        ids.add(client.get("/rest/v1/stats/usage.json")["requestId"])
        ids.add(client.request("GET", "/rest/v1/leads.json", token="bad")[1]["requestId"])
    assert len(ids) == 10
