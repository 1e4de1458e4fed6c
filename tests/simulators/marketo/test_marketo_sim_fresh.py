"""A freshly provisioned instance: standard fields only, no custom field, no static list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.simulators.marketo import MarketoSimulator, SimulatorConfig, load_config
from local.simulators.marketo.__main__ import config_from_args
from local.simulators.marketo.config import DEFAULT_CUSTOM_FIELDS, STANDARD_FIELDS
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim

# every field the standard list had before it grew to look like a real instance
ORIGINAL_STANDARD = {
    "email",
    "firstName",
    "lastName",
    "phone",
    "country",
    "state",
    "city",
    "address",
    "postalCode",
    "company",
    "title",
    "website",
    "leadSource",
}
CUSTOM = {name for name, _, _ in DEFAULT_CUSTOM_FIELDS}


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim(fresh=True) as s:
        yield s


def _described(client: SimClient) -> dict[str, dict[str, object]]:
    body = client.get("/rest/v1/leads/describe2.json")
    return {f["name"]: f for f in body["result"][0]["fields"]}


def test_fresh_instance_has_standard_fields_only(client: SimClient) -> None:
    fields = _described(client)
    assert set(fields) >= ORIGINAL_STANDARD
    assert not CUSTOM & set(fields)
    assert not any(name.startswith("livechat") for name in fields)
    assert "timezone" not in fields
    for name in ("salutation", "middleName", "mobilePhone", "fax", "industry", "leadStatus"):
        assert fields[name]["dataType"] in {"string", "phone"}
    assert fields["annualRevenue"]["dataType"] == "currency"
    assert fields["numberOfEmployees"]["dataType"] == "integer"
    assert fields["unsubscribed"]["dataType"] == "boolean"
    assert fields["doNotCall"]["dataType"] == "boolean"
    assert fields["inferredCountry"]["dataType"] == "string"
    assert fields["leadScore"]["dataType"] == "score"
    assert fields["id"]["updateable"] is False
    assert fields["email"] == {
        "name": "email",
        "displayName": "Email Address",
        "dataType": "email",
        "length": 255,
        "updateable": True,
        "crmManaged": False,
    }
    schema = client.get("/rest/v1/leads/schema/fields.json")["result"]
    assert not any(f["isCustom"] for f in schema)


def test_fresh_instance_has_no_static_list(sim: MarketoSimulator, client: SimClient) -> None:
    assert client.get("/rest/v1/lists.json")["result"] == []
    assert client.get("/rest/v1/lists/1001.json")["errors"][0]["code"] == "1013"
    assert client.sim("GET", "/_sim/lists") == {"lists": []}
    assert sim.store.lists() == []


def test_custom_fields_are_refused_until_created(client: SimClient) -> None:
    body = client.upsert([{"email": "a@x.com", "livechatVisitorId": "v1", "middleName": "Q"}])
    assert body["result"][0]["reasons"][0]["code"] == "1006"
    body = client.upsert([{"email": "a@x.com", "middleName": "Q", "annualRevenue": "12.5"}])
    assert body["result"][0]["status"] == "created"
    body = client.upsert([{"email": "a@x.com", "priority": 3}])  # system managed
    assert body["result"][0]["reasons"][0]["code"] == "1003"


def test_default_instance_is_unchanged_and_has_the_new_standard_fields() -> None:
    config = SimulatorConfig()
    schema = config.schema()
    assert set(schema) >= ORIGINAL_STANDARD | CUSTOM
    assert {name for name, _, _ in STANDARD_FIELDS} <= set(schema)
    assert config.static_lists() == [{"id": 1001, "name": "LiveChat visitors"}]
    assert schema["livechatTags"].data_type == "text"


def test_fresh_from_flag_file_and_not_at_runtime(tmp_path: Path) -> None:
    assert config_from_args(["--fresh"]).fresh is True
    assert config_from_args(["--fresh", "false"]).fresh is False
    assert config_from_args([]).fresh is False
    path = tmp_path / "sim.json"
    path.write_text(json.dumps({"fresh": True, "lists": [{"id": 7, "name": "Ignored"}]}))
    config = load_config(path, {})
    assert config.fresh is True
    assert config.static_lists() == []
    assert not CUSTOM & set(config.schema())
    with pytest.raises(ValueError, match="fresh"):
        MarketoSimulator(SimulatorConfig()).set_config({"fresh": True})
