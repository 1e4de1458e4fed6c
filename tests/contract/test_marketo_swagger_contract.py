"""The simulator's routes, parameters and answers checked against Adobe's official Swagger."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.simulators.marketo import ROUTES, MarketoSimulator
from local.simulators.marketo.activity_input import ATTRIBUTE_KEYS, TYPE_KEYS
from local.simulators.marketo.activity_model import DATA_TYPES as ACTIVITY_DATA_TYPES
from local.simulators.marketo.field_admin import CREATE_KEYS, UPDATE_KEYS
from local.simulators.marketo.fielddefs import CREATABLE_TYPES
from local.simulators.marketo.permissions import AREAS, BULK_IMPORT, USAGE, allowed
from local.simulators.marketo.routes import ASSET_API, LEGACY
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, sim_client

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
    ("GET", "/rest/v1/leads/describe2.json"): set(),
    ("GET", "/rest/v1/leads/schema/fields.json"): {"batchSize", "nextPageToken"},
    ("POST", "/rest/v1/leads/schema/fields.json"): {"input"},
    ("GET", "/rest/v1/leads/schema/fields/{fieldApiName}.json"): {"fieldApiName"},
    ("POST", "/rest/v1/leads/schema/fields/{fieldApiName}.json"): {"fieldApiName", "input"},
    ("GET", "/rest/v1/lists.json"): {
        "id",
        "name",
        "programName",
        "workspaceName",
        "batchSize",
        "nextPageToken",
    },
    ("GET", "/rest/v1/lists/{listId}.json"): {"listId"},
    ("GET", "/rest/v1/activities.json"): {
        "nextPageToken",
        "activityTypeIds",
        "assetIds",
        "listId",
        "leadIds",
        "batchSize",
    },
    ("GET", "/rest/v1/activities/pagingtoken.json"): {"sinceDatetime"},
    ("POST", "/rest/v1/activities/external.json"): {"input"},
    ("POST", "/rest/v1/activities/external/type.json"): set(TYPE_KEYS),
    ("POST", "/rest/v1/activities/external/type/{apiName}.json"): {"apiName", *TYPE_KEYS},
    ("GET", "/rest/v1/activities/external/type/{apiName}/describe.json"): {"apiName", "draft"},
    ("POST", "/rest/v1/activities/external/type/{apiName}/attributes/create.json"): {
        "apiName",
        "attributes",
    },
    ("POST", "/rest/v1/activities/external/type/{apiName}/attributes/update.json"): {
        "apiName",
        "attributes",
    },
    ("POST", "/rest/v1/activities/external/type/{apiName}/attributes/delete.json"): {
        "apiName",
        "attributes",
    },
    ("POST", "/rest/v1/activities/external/type/{apiName}/approve.json"): {"apiName"},
    ("POST", "/rest/v1/activities/external/type/{apiName}/discardDraft.json"): {"apiName"},
    ("POST", "/rest/v1/activities/external/type/{apiName}/delete.json"): {"apiName"},
}

# The asset API's static-list routes are not in swagger-mapi.json; their contract is the
# static-list section of the shared Marketo reference (marketo-setup.md, section c):
# result[{id, name, description?, createdAt, updatedAt, folder{id,type}, computedUrl}],
# plus `workspace`, which Marketo's recorded answers carry.
ASSET_ROUTES = {
    ("POST", "/rest/asset/v1/staticLists.json"),
    ("GET", "/rest/asset/v1/staticList/byName.json"),
}
ASSET_LIST_REQUIRED = {"id", "name", "createdAt", "updatedAt", "folder", "computedUrl"}
ASSET_LIST_OPTIONAL = {"description", "workspace"}
ASSET_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\+0000")

# "Required Permissions: ..." in the Swagger, as the simulator's permission areas
PERMISSION_AREAS = {
    "Read-Only Lead": "lead_read",
    "Read-Write Lead": "lead_write",
    "Read-Write Schema Standard Field": "schema",
    "Read-Write Schema Custom Field": "schema",
    "Read-Only Activity Metadata": "activity_metadata",
    "Read-Write Activity Metadata": "activity_metadata",
    "Read-Only Activity": "activity",
    "Read-Write Activity": "activity",
}
# finer switches of the simulator that Marketo's roles do not have
SIMULATOR_ONLY = {BULK_IMPORT, USAGE}


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
    with running_sim(bulk_start_delay_seconds=0) as s:
        s.seed_leads([{"email": "a@x.com", "firstName": "A"}])
        yield s


@pytest.fixture
def client(sim: MarketoSimulator) -> SimClient:
    return sim_client(sim)


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


def test_routes_outside_the_lead_swagger_are_the_legacy_delete_and_the_asset_api(
    mapi: dict[str, Any],
) -> None:
    legacy = [(r.method, r.template) for r in ROUTES if r.spec == LEGACY]
    assert legacy == [("DELETE", "/rest/v1/leads.json")]
    asset = {(r.method, r.template) for r in ROUTES if r.spec == ASSET_API}
    assert asset == ASSET_ROUTES
    for _method, template in asset:
        assert template not in mapi["paths"]
    assert all(r.in_swagger for r in ROUTES if r.spec not in {LEGACY, ASSET_API})


def test_no_operation_takes_the_access_token_as_a_parameter(mapi: dict[str, Any]) -> None:
    # the token travels in the Authorization header only; the simulator reads it nowhere else
    for path, operations in mapi["paths"].items():
        for method, op in operations.items():
            names = {p["name"] for p in op.get("parameters", [])}
            assert "access_token" not in names, (method, path)


def test_required_permissions_match_the_swagger(mapi: dict[str, Any]) -> None:
    """A role holding any one permission the Swagger names may call the route."""
    for route in ROUTES:
        if not route.in_swagger:
            continue
        description = _operation(mapi, route.method, route.template).get("description", "")
        found = re.search(r"Required Permissions:\s*([^<]*)", description)
        assert found is not None, route
        named = [p.strip().rstrip(".") for p in found.group(1).split(",")]
        if named == ["None"]:
            assert set(route.needs) <= SIMULATOR_ONLY, route
            continue
        for permission in named:
            held = {PERMISSION_AREAS[permission]} | SIMULATOR_ONLY
            assert allowed(route.needs, AREAS - held), (route.template, permission)
        assert not allowed(route.needs, AREAS - SIMULATOR_ONLY), route


def test_field_management_inputs_match_the_swagger(mapi: dict[str, Any]) -> None:
    create = mapi["definitions"]["CreateLeadField"]
    assert set(create["properties"]) == CREATE_KEYS
    assert set(create["properties"]["dataType"]["enum"]) == CREATABLE_TYPES
    assert set(mapi["definitions"]["UpdateLeadField"]["properties"]) == UPDATE_KEYS


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


def _check_answer(
    spec: dict[str, Any], body: dict[str, Any], method: str, path: str, item_def: str
) -> None:
    """`_check` against the response definition the spec gives `method path`."""
    _check(spec, body, _response_def(spec, method, path), item_def)


def test_answers_match_the_swagger_shapes(
    mapi: dict[str, Any], sim: MarketoSimulator, client: SimClient
) -> None:
    lookup = client.get("/rest/v1/leads.json", filterType="email", filterValues="a@x.com")
    _check_answer(mapi, lookup, "GET", "/rest/v1/leads.json", "Lead")
    sync = client.upsert([{"email": "b@x.com"}, {"email": "bad"}])
    _check_answer(mapi, sync, "POST", "/rest/v1/leads.json", "Lead")
    reason = sync["result"][1]["reasons"][0]
    assert set(mapi["definitions"]["Reason"]["required"]) <= set(reason)
    listed = client.post("/rest/v1/lists/1001/leads.json", {"input": [{"id": 1}]})
    _check_answer(
        mapi, listed, "POST", "/rest/v1/lists/{listId}/leads.json", "ListOperationOutputData"
    )
    usage = client.get("/rest/v1/stats/usage.json")
    _check_answer(mapi, usage, "GET", "/rest/v1/stats/usage.json", "UsageData")
    for user in usage["result"][0]["users"]:
        assert set(mapi["definitions"]["UserCount"]["required"]) <= set(user)
    errors = client.get("/rest/v1/stats/errors.json")
    _check_answer(mapi, errors, "GET", "/rest/v1/stats/errors.json", "ErrorsData")
    describe = client.get("/rest/v1/leads/describe.json")
    _check_answer(mapi, describe, "GET", "/rest/v1/leads/describe.json", "LeadAttribute")
    _status, submitted = client.bulk_import(b"email\nc@x.com\n", {"format": "csv"})
    _check_answer(mapi, submitted, "POST", "/bulk/v1/leads.json", "ImportLeadResponse")
    batch = submitted["result"][0]["batchId"]
    polled = client.get(f"/bulk/v1/leads/batch/{batch}.json")
    _check_answer(mapi, polled, "GET", "/bulk/v1/leads/batch/{batchId}.json", "ImportLeadResponse")
    failed = client.get("/rest/v1/lists/9/leads.json")
    _check(mapi, failed, "ResponseOfLead", "Lead")
    assert re.fullmatch(r"[0-9a-f]+#[0-9a-f]+", failed["requestId"])


def _conforms(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    """`value` has the Swagger schema's shape: required members, no undeclared member, types."""
    if "$ref" in schema:
        schema = _definition(spec, schema["$ref"])
    if value is None:
        return  # Marketo sends null for unset members (leads.md: "description": null)
    kind = schema.get("type", "object")
    if kind == "object" and "properties" not in schema:
        return  # a bare `object` (Attribute.value) is any JSON value
    if kind == "object":
        assert isinstance(value, dict), where
        members = schema.get("properties", {})
        assert set(schema.get("required", [])) <= set(value), (where, value)
        assert set(value) <= set(members), (where, set(value) - set(members))
        for key, item in value.items():
            _conforms(spec, members[key], item, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for index, item in enumerate(value):
            _conforms(spec, schema["items"], item, f"{where}[{index}]")
    else:
        types = {"string": str, "integer": int, "boolean": bool, "number": int | float}
        assert isinstance(value, types[kind]), (where, value)
        assert kind == "boolean" or not isinstance(value, bool), (where, value)
        assert value in schema.get("enum", [value]), (where, value)


def _shaped(spec: dict[str, Any], body: dict[str, Any], method: str, path: str) -> None:
    response = _response_def(spec, method, path)
    envelope = spec["definitions"][response]
    assert set(envelope["required"]) <= set(body), (response, body)
    item = envelope["properties"]["result"]["items"]
    for index, entry in enumerate(body["result"]):
        if entry.get("status") == "skipped":
            # the record-level failure form shared by every Marketo write (error-codes.md)
            assert set(entry) <= {"name", "status", "reasons"}, entry
            for reason in entry["reasons"]:
                _conforms(spec, {"$ref": "#/definitions/Reason"}, reason, path)
            continue
        _conforms(spec, item, entry, f"{response}.result[{index}]")
    for error in body["errors"]:
        _conforms(spec, {"$ref": "#/definitions/Error"}, error, f"{response}.errors")


def test_schema_answers_match_the_swagger(mapi: dict[str, Any], client: SimClient) -> None:
    fields = "/rest/v1/leads/schema/fields.json"
    field = "/rest/v1/leads/schema/fields/{fieldApiName}.json"
    _shaped(mapi, client.get("/rest/v1/leads/describe.json"), "GET", "/rest/v1/leads/describe.json")
    described = client.get("/rest/v1/leads/describe2.json")
    _shaped(mapi, described, "GET", "/rest/v1/leads/describe2.json")
    assert described["result"][0]["name"] == "API Lead"
    assert ["email"] in described["result"][0]["searchableFields"]
    browsed = client.get(fields, batchSize=10)
    _shaped(mapi, browsed, "GET", fields)
    assert browsed["moreResult"] is True
    assert isinstance(browsed["nextPageToken"], str)
    created = client.post(
        fields,
        {
            "input": [
                {"displayName": "Acme Code", "name": "acmeCode", "dataType": "string"},
                {"displayName": "Acme Code", "name": "acmeCode", "dataType": "string"},
            ]
        },
    )
    _shaped(mapi, created, "POST", fields)
    assert [r["status"] for r in created["result"]] == ["created", "skipped"]
    one = client.get(field.replace("{fieldApiName}", "acmeCode"))
    _shaped(mapi, one, "GET", field)
    assert one["result"][0]["isApiCreated"] is True
    updated = client.post(
        field.replace("{fieldApiName}", "acmeCode"), {"input": [{"description": "d"}]}
    )
    _shaped(mapi, updated, "POST", field)
    missing = client.get(field.replace("{fieldApiName}", "nope"))
    _shaped(mapi, missing, "GET", field)
    assert missing["errors"][0]["code"] == "1013"


def test_list_answers_match_the_swagger(mapi: dict[str, Any], client: SimClient) -> None:
    listed = client.get("/rest/v1/lists.json", name="LiveChat visitors")
    _shaped(mapi, listed, "GET", "/rest/v1/lists.json")
    assert [item["id"] for item in listed["result"]] == [1001]
    one = client.get("/rest/v1/lists/1001.json")
    _shaped(mapi, one, "GET", "/rest/v1/lists/{listId}.json")
    missing = client.get("/rest/v1/lists/4242.json")
    _shaped(mapi, missing, "GET", "/rest/v1/lists/{listId}.json")
    assert missing["errors"][0]["code"] == "1013"


def test_asset_static_list_answers_match_the_reference(client: SimClient) -> None:
    folder = json.dumps({"id": 1034, "type": "Program"})
    _status, made = client.request(
        "POST",
        "/rest/asset/v1/staticLists.json",
        form={"folder": folder, "name": "Chat leads", "description": "d"},
    )
    found = client.get("/rest/asset/v1/staticList/byName.json", name="Chat leads")
    for body in (made, found):
        assert body["success"] is True
        [item] = body["result"]
        assert ASSET_LIST_REQUIRED <= set(item) <= ASSET_LIST_REQUIRED | ASSET_LIST_OPTIONAL
        assert item["folder"] == {"id": 1034, "type": "Program"}
        assert ASSET_TIME.fullmatch(item["createdAt"])
        assert ASSET_TIME.fullmatch(item["updatedAt"])
        assert isinstance(item["id"], int)
        assert isinstance(item["computedUrl"], str)
    nothing = client.get("/rest/asset/v1/staticList/byName.json", name="No such list")
    assert nothing["success"] is True
    assert "result" not in nothing
    assert all(isinstance(w, str) for w in nothing["warnings"])
    _status, taken = client.request(
        "POST", "/rest/asset/v1/staticLists.json", form={"folder": folder, "name": "Chat leads"}
    )
    assert taken["success"] is False
    assert taken["errors"][0]["code"] == "709"


# Activities routes of the Swagger the simulator does not serve (nothing in the product reads
# deleted leads or lead changes)
UNSERVED_ACTIVITY_PATHS = {
    "/rest/v1/activities/deletedleads.json",
    "/rest/v1/activities/leadchanges.json",
}


def test_every_activity_route_of_the_swagger_is_served(mapi: dict[str, Any]) -> None:
    specified = {
        (method.upper(), path)
        for path, operations in mapi["paths"].items()
        if path.startswith("/rest/v1/activities") and path not in UNSERVED_ACTIVITY_PATHS
        for method in operations
    }
    served = {(r.method, r.template) for r in ROUTES if r.template.startswith("/rest/v1/activit")}
    assert served == specified
    assert len(served) == 14


def test_activity_metadata_inputs_match_the_swagger(mapi: dict[str, Any]) -> None:
    definitions = mapi["definitions"]
    assert set(definitions["CustomActivityTypeRequest"]["properties"]) == TYPE_KEYS
    attribute = definitions["CustomActivityTypeAttribute"]
    assert set(attribute["properties"]) == ATTRIBUTE_KEYS
    assert set(attribute["properties"]["dataType"]["enum"]) == ACTIVITY_DATA_TYPES
    assert set(definitions["CustomActivityTypeAttributeRequest"]["properties"]) == {"attributes"}


def test_activity_type_answers_match_the_swagger(mapi: dict[str, Any], client: SimClient) -> None:
    type_path = "/rest/v1/activities/external/type/{apiName}"
    chat = type_path.replace("{apiName}", "chat")
    made = client.post(
        "/rest/v1/activities/external/type.json",
        {
            "apiName": "chat",
            "name": "Chat",
            "description": "A chat",
            "triggerName": "Chats",
            "filterName": "Chatted",
            "primaryAttribute": {"apiName": "chatId", "name": "Chat ID", "description": "id"},
        },
    )
    _shaped(mapi, made, "POST", "/rest/v1/activities/external/type.json")
    attributes = {"attributes": [{"apiName": "agent", "name": "Agent", "dataType": "string"}]}
    steps = [
        ("POST", "/attributes/create.json", attributes),
        ("POST", "/attributes/update.json", {"attributes": [{"apiName": "agent", "name": "A"}]}),
        ("GET", "/describe.json", None),
        ("POST", "/approve.json", None),
        ("GET", "/describe.json", None),
        ("POST", ".json", {"description": "Another"}),
        ("POST", "/discardDraft.json", None),
        ("POST", "/attributes/delete.json", {"attributes": [{"apiName": "agent"}]}),
        ("POST", "/delete.json", None),
        ("GET", "/describe.json", None),  # gone: 1013
    ]
    for method, action, body in steps:
        _status, answer = client.request(method, chat + action, json_body=body)
        _shaped(mapi, answer, method, type_path + action)
    assert answer["errors"][0]["code"] == "1013"
    listed = client.get("/rest/v1/activities/external/types.json")
    _shaped(mapi, listed, "GET", "/rest/v1/activities/external/types.json")


def test_activity_record_answers_match_the_swagger(
    mapi: dict[str, Any], sim: MarketoSimulator, client: SimClient
) -> None:
    type_id = sim.seed_activity_type(
        "chat", attributes=[{"apiName": "agent", "name": "Agent", "dataType": "string"}]
    )
    record = {
        "leadId": 1,
        "activityDate": "2026-03-01T10:00:00Z",
        "activityTypeId": type_id,
        "primaryAttributeValue": "c1",
        "attributes": [{"apiName": "agent", "value": "Ann"}],
    }
    added = client.post(
        "/rest/v1/activities/external.json", {"input": [record, {**record, "leadId": 9}]}
    )
    envelope = mapi["definitions"][_response_def(mapi, "POST", "/rest/v1/activities/external.json")]
    assert set(envelope["required"]) <= set(added)
    item = mapi["definitions"]["CustomActivity"]["properties"]
    ok, skipped = added["result"]
    # the shape of activities.md's example: {id, marketoGUID, status} or {status, errors}
    assert set(ok) == {"id", "marketoGUID", "status"} <= set(item)
    assert isinstance(ok["id"], int)
    assert ok["status"] in item["status"]["enum"]
    assert set(skipped) == {"status", "errors"}
    for error in skipped["errors"]:
        _conforms(mapi, {"$ref": "#/definitions/Error"}, error, "CustomActivity.errors")
    token = client.get("/rest/v1/activities/pagingtoken.json", sinceDatetime="2026-01-01")
    void = mapi["definitions"]["ResponseOfVoid"]
    assert set(void["required"]) <= set(token) <= set(void["properties"])
    found = client.get(
        "/rest/v1/activities.json", nextPageToken=token["nextPageToken"], activityTypeIds=type_id
    )
    _shaped(mapi, found, "GET", "/rest/v1/activities.json")
    assert len(found["result"]) == 1
    types = client.get("/rest/v1/activities/types.json")
    _shaped(mapi, types, "GET", "/rest/v1/activities/types.json")
    assert types["result"][-1]["id"] == type_id
