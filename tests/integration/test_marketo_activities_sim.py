"""The client's custom-activity calls against the Marketo simulator over HTTP: the type's
lifecycle, adding records (added, or skipped with Marketo's reasons, in input order), and
reading them back page after page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from leadsync.marketo import MarketoClient, MarketoEndpoints
from leadsync.marketo.activities import ApprovedType
from leadsync.marketo.errors import MarketoAccessDenied
from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from tests.support.limiters import RecordingLimiter

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "leadsync-client", "leadsync-secret"
TYPE = {
    "apiName": "livechatChat",
    "name": "LiveChat chat",
    "triggerName": "Had a LiveChat chat",
    "filterName": "Had LiveChat chat",
    "primaryAttribute": {"apiName": "chatId", "name": "Chat ID", "dataType": "string"},
}


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    config = SimulatorConfig(client_id=CLIENT_ID, client_secret=SECRET, write_delay_ms=0)
    simulator = MarketoSimulator(config).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: MarketoSimulator) -> Iterator[MarketoClient]:
    endpoints = MarketoEndpoints(f"{sim.base_url}/rest", f"{sim.base_url}/identity")
    with MarketoClient(endpoints, CLIENT_ID, SECRET, RecordingLimiter()) as made:
        yield made


def _approved(client: MarketoClient, *, made: bool = False) -> int:
    api = client.activities
    if not made:
        api.create_type(TYPE)
    api.create_attributes(
        "livechatChat",
        [
            {"apiName": "agents", "name": "Agents", "dataType": "string"},
            {"apiName": "messages", "name": "Messages", "dataType": "integer"},
        ],
    )
    return api.approve_type("livechatChat").id


def test_the_type_is_made_a_draft_then_approved(client: MarketoClient) -> None:
    api = client.activities
    made = api.create_type(TYPE)
    assert (made.api_name, made.status, made.approved) == ("livechatChat", "draft", False)
    seen = ApprovedType(api, "livechatChat")
    assert seen() is None  # a draft takes no record
    type_id = _approved(client, made=True)
    described = api.describe_type("livechatChat")
    assert described.approved
    assert {a.api_name for a in described.attributes} == {"agents", "messages"}
    assert ApprovedType(api, "livechatChat")() == type_id


def test_records_are_added_or_skipped_in_input_order_and_read_back(
    sim: MarketoSimulator, client: MarketoClient
) -> None:
    type_id = _approved(client)
    [lead] = [r.id for r in client.create_only([{"email": "ann@x.com"}])]
    assert lead is not None
    start = datetime.now(UTC) - timedelta(minutes=1)
    record = {
        "leadId": lead,
        "activityDate": start.isoformat(),
        "activityTypeId": type_id,
        "primaryAttributeValue": "CHAT1",
        "attributes": [{"apiName": "agents", "value": "Bo"}, {"apiName": "messages", "value": 4}],
    }
    unknown_lead = {**record, "leadId": 999_999, "primaryAttributeValue": "CHAT2"}
    results = client.activities.add([record, unknown_lead])
    assert [r.status for r in results] == ["added", "skipped"]
    assert results[0].marketo_guid
    assert results[1].codes == ("1004",)  # lead not found, read from `errors`
    found = list(client.activities.read_back(type_id, [lead], start - timedelta(hours=1)))
    assert [a.primary_attribute_value for a in found] == ["CHAT1"]
    assert len(sim.activities("livechatChat")) == 1


def test_more_than_a_page_is_read_back_whole(client: MarketoClient) -> None:
    type_id = _approved(client)
    [lead] = [r.id for r in client.create_only([{"email": "bo@x.com"}])]
    assert lead is not None
    at = datetime.now(UTC) - timedelta(minutes=5)
    records = [
        {
            "leadId": lead,
            "activityDate": at.isoformat(),
            "activityTypeId": type_id,
            "primaryAttributeValue": f"C{i}",
            "attributes": [],
        }
        for i in range(650)
    ]
    added = client.activities.add(records)  # three calls of at most 300
    assert all(r.added for r in added)
    assert client.calls["activities_add"] == 3
    found = list(client.activities.read_back(type_id, [lead], at - timedelta(hours=1)))
    assert sorted(a.primary_attribute_value or "" for a in found) == sorted(
        f"C{i}" for i in range(650)
    )


def test_a_role_without_activity_permission_is_refused(
    sim: MarketoSimulator, client: MarketoClient
) -> None:
    type_id = _approved(client)
    sim.set_config({"denied_permissions": ["activity"]})
    with pytest.raises(MarketoAccessDenied):
        client.activities.add(
            [
                {
                    "leadId": 1,
                    "activityDate": datetime.now(UTC).isoformat(),
                    "activityTypeId": type_id,
                    "primaryAttributeValue": "C",
                    "attributes": [],
                }
            ]
        )
