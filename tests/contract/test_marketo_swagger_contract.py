"""The simulator's routes, parameters and answers checked against Adobe's official Swagger."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.simulators.marketo import ROUTES, MarketoSimulator, SimulatorConfig
from local.simulators.marketo.testing import SimClient

pytestmark = pytest.mark.contract

SPECS = Path(__file__).resolve().parents[2].parent / "shared/specs/marketo"

# Every request parameter the simulator reads, by route.
READS: dict[tuple[str, str], set[str]] = {
    ("GET", "/rest/v1/leads.json"): {
        "filterType",
        "filterValues",
        "fields",
        "batchSize",
        "nextPageToken",
    },
    ("POST", "/rest/v1/leads.json"): {"action", "lookupField", "input", "partitionName"},
    ("POST", "/rest/v1/leads/delete.json"): {"input", "id"},
    ("GET", "/rest/v1/lists/{listId}/leads.json"): {
        "listId",
        "fields",
        "batchSize",
        "nextPageToken",
    },
    ("POST", "/rest/v1/lists/{listId}/leads.json"): {"listId", "input", "id"},
    ("DELETE", "/rest/v1/lists/{listId}/leads.json"): {"listId", "input", "id"},
    ("GET", "/rest/v1/lists/{listId}/leads/ismember.json"): {"listId", "input", "id"},
    ("POST", "/bulk/v1/leads.json"): {"file", "format", "lookupField", "listId", "partitionName"},
    ("GET", "/bulk/v1/leads/batch/{batchId}.json"): {"batchId"},
    ("GET", "/bulk/v1/leads/batch/{batchId}/failures.json"): {"batchId"},
    ("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json"): {"batchId"},
}


def _load(name: str) -> dict[str, Any]:
    path = SPECS / name
    if not path.is_file():
        pytest.skip(f"the official Marketo Swagger files are not beside the repo ({path})")
    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return spec


@pytest.fixture(scope="module")
def mapi() -> dict[str, Any]:
    return _load("swagger-mapi.json")


@pytest.fixture(scope="module")
def identity() -> dict[str, Any]:
    return _load("swagger-identity.json")


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    config = SimulatorConfig(
        client_id="c", client_secret="s", write_delay_ms=0, bulk_start_delay_seconds=0
    )
    with MarketoSimulator(config) as s:
        s.seed_leads([{"email": "a@x.com", "firstName": "A"}])
        yield s


@pytest.fixture
def client(sim: MarketoSimulator) -> SimClient:
    return SimClient(sim.base_url, "c", "s")


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = spec["paths"][path][method.lower()]
    return op


def _parameter_names(spec: dict[str, Any], op: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for param in op.get("parameters", []):
        names.add(param["name"])
        ref = param.get("schema", {}).get("$ref")
        if ref:
            names |= set(_definition(spec, ref).get("properties", {}))
    return names


def _definition(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["definitions"][ref.rsplit("/", 1)[1]]
    return found


def test_every_served_route_is_in_the_swagger(mapi: dict[str, Any]) -> None:
    for route in ROUTES:
        if not route.in_swagger:
            continue
        assert route.template in mapi["paths"], route.template
        assert route.method.lower() in mapi["paths"][route.template], route


def test_the_legacy_delete_is_the_only_route_outside_the_swagger() -> None:
    outside = [(r.method, r.template) for r in ROUTES if not r.in_swagger]
    assert outside == [("DELETE", "/rest/v1/leads.json")]


def test_parameter_names_read_are_named_in_the_swagger(mapi: dict[str, Any]) -> None:
    for (method, path), names in READS.items():
        declared = _parameter_names(mapi, _operation(mapi, method, path))
        assert names <= declared, (method, path, names - declared)
        assert any(r.method == method and r.template == path for r in ROUTES)


def test_identity_route_and_parameters(identity: dict[str, Any]) -> None:
    ops = identity["paths"]["/identity/oauth/token"]
    for method in ("get", "post"):
        names = {p["name"] for p in ops[method]["parameters"]}
        assert names == {"grant_type", "client_id", "client_secret"}


def test_identity_answer_has_the_required_keys(identity: dict[str, Any], client: SimClient) -> None:
    _, body = client.identity()
    required = set(identity["definitions"]["ResponseOfIdentity"]["required"])
    assert required <= set(body)


def _check(spec: dict[str, Any], body: dict[str, Any], response_def: str, item_def: str) -> None:
    envelope = spec["definitions"][response_def]
    assert set(envelope["required"]) <= set(body), (response_def, body)
    item = spec["definitions"][item_def]
    for entry in body["result"]:
        assert set(item.get("required", [])) <= set(entry), (item_def, entry)
    for error in body["errors"]:
        assert set(spec["definitions"]["Error"]["required"]) <= set(error)
        assert isinstance(error["code"], str)


def _response_def(spec: dict[str, Any], method: str, path: str) -> str:
    ref: str = _operation(spec, method, path)["responses"]["200"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def test_answers_match_the_swagger_shapes(
    mapi: dict[str, Any], sim: MarketoSimulator, client: SimClient
) -> None:
    lookup = client.get("/rest/v1/leads.json", filterType="email", filterValues="a@x.com")
    _check(mapi, lookup, _response_def(mapi, "GET", "/rest/v1/leads.json"), "Lead")
    sync = client.upsert([{"email": "b@x.com"}, {"email": "bad"}])
    _check(mapi, sync, _response_def(mapi, "POST", "/rest/v1/leads.json"), "Lead")
    reason = sync["result"][1]["reasons"][0]
    assert set(mapi["definitions"]["Reason"]["required"]) <= set(reason)
    listed = client.post("/rest/v1/lists/1001/leads.json", {"input": [{"id": 1}]})
    _check(
        mapi,
        listed,
        _response_def(mapi, "POST", "/rest/v1/lists/{listId}/leads.json"),
        "ListOperationOutputData",
    )
    usage = client.get("/rest/v1/stats/usage.json")
    _check(mapi, usage, _response_def(mapi, "GET", "/rest/v1/stats/usage.json"), "UsageData")
    for user in usage["result"][0]["users"]:
        assert set(mapi["definitions"]["UserCount"]["required"]) <= set(user)
    errors = client.get("/rest/v1/stats/errors.json")
    _check(mapi, errors, _response_def(mapi, "GET", "/rest/v1/stats/errors.json"), "ErrorsData")
    describe = client.get("/rest/v1/leads/describe.json")
    _check(
        mapi, describe, _response_def(mapi, "GET", "/rest/v1/leads/describe.json"), "LeadAttribute"
    )
    _status, submitted = client.bulk_import(b"email\nc@x.com\n", {"format": "csv"})
    _check(
        mapi, submitted, _response_def(mapi, "POST", "/bulk/v1/leads.json"), "ImportLeadResponse"
    )
    batch = submitted["result"][0]["batchId"]
    polled = client.get(f"/bulk/v1/leads/batch/{batch}.json")
    _check(
        mapi,
        polled,
        _response_def(mapi, "GET", "/bulk/v1/leads/batch/{batchId}.json"),
        "ImportLeadResponse",
    )
    failed = client.get("/rest/v1/lists/9/leads.json")
    _check(mapi, failed, "ResponseOfLead", "Lead")
    assert re.fullmatch(r"[0-9a-f]+#[0-9a-f]+", failed["requestId"])
