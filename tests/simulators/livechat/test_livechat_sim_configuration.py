"""The simulator's Configuration API over real HTTP: webhooks, their state, license limits."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.simulators.livechat import (
    DEFAULT_CLIENT_ID,
    FULL_SCOPES,
    GenerationParams,
    LiveChatSimulator,
)
from tests.support.livechat_api import post_action

PARAMS = GenerationParams(seed=2, chats=3)
OTHER_CLIENT = "0805e283233042b37f460ed8fbf22160"
LISTED_KEYS = {"id", "url", "description", "action", "filters", "owner_client_id", "type"}


@pytest.fixture
def sim() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(
        PARAMS, scopes=FULL_SCOPES, client_ids=(DEFAULT_CLIENT_ID, OTHER_CLIENT)
    ) as fresh:
        yield fresh


def call(
    sim: LiveChatSimulator,
    method: str,
    body: Any = None,
    *,
    auth: str | None = "ok",
    version: str = "3.6",
) -> requests.Response:
    sent = body if body is not None else {}
    path = f"configuration/action/{method}"
    return post_action(sim, path, sent, auth=auth, version=version)


def webhook(**changes: Any) -> dict[str, Any]:
    body = {
        "url": "http://127.0.0.1:9/webhooks/livechat",
        "description": "leadsync",
        "action": "incoming_chat",
        "secret_key": "s3cret-key",
        "owner_client_id": DEFAULT_CLIENT_ID,
        "type": "license",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def error(answer: requests.Response) -> tuple[int, str, str]:
    payload = answer.json()["error"]
    return answer.status_code, payload["type"], payload["message"]


def test_register_list_unregister(sim: LiveChatSimulator) -> None:
    registered = call(sim, "register_webhook", webhook())
    assert registered.status_code == 200
    assert set(registered.json()) == {"id"}
    webhook_id = registered.json()["id"]
    listed = call(sim, "list_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID}).json()
    assert listed == [
        {
            "id": webhook_id,
            "url": "http://127.0.0.1:9/webhooks/livechat",
            "description": "leadsync",
            "action": "incoming_chat",
            "filters": {},
            "owner_client_id": DEFAULT_CLIENT_ID,
            "type": "license",
        }
    ]
    assert call(sim, "list_webhooks", {"owner_client_id": OTHER_CLIENT}).json() == []
    gone = call(sim, "unregister_webhook", {"id": webhook_id, "owner_client_id": DEFAULT_CLIENT_ID})
    assert gone.status_code == 200
    assert gone.json() == {}
    assert call(sim, "list_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID}).json() == []


def test_list_webhooks_never_shows_the_secret_key(sim: LiveChatSimulator) -> None:
    filters = {"chat_presence": {"user_ids": {"values": ["a@example.com"]}, "my_bots": True}}
    body = webhook(filters=filters, additional_data=["chat_properties"], description=None)
    call(sim, "register_webhook", body)
    answer = call(sim, "list_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID})
    (entry,) = answer.json()
    assert set(entry) == LISTED_KEYS
    assert entry["filters"] == filters
    assert entry["description"] == ""
    assert "s3cret-key" not in answer.text
    (kept,) = sim.webhooks()
    assert kept.secret_key == "s3cret-key"
    assert kept.additional_data == ("chat_properties",)


def test_three_webhooks_per_action_per_client_id(sim: LiveChatSimulator) -> None:
    ids = [call(sim, "register_webhook", webhook()).json()["id"] for _ in range(3)]
    assert len(set(ids)) == 3
    status, kind, message = error(call(sim, "register_webhook", webhook(type="bot")))
    assert (status, kind) == (422, "limit_reached")
    assert "incoming_chat" in message
    assert call(sim, "register_webhook", webhook(action="chat_deactivated")).status_code == 200
    assert call(sim, "register_webhook", webhook(owner_client_id=OTHER_CLIENT)).status_code == 200
    call(sim, "unregister_webhook", {"id": ids[0], "owner_client_id": DEFAULT_CLIENT_ID})
    assert call(sim, "register_webhook", webhook()).status_code == 200
    assert len(sim.webhooks()) == 5


def test_the_same_webhook_twice_is_two_webhooks(sim: LiveChatSimulator) -> None:
    first = call(sim, "register_webhook", webhook()).json()["id"]
    second = call(sim, "register_webhook", webhook()).json()["id"]
    assert first != second


@pytest.mark.parametrize(
    "body",
    [
        webhook(url=None),
        webhook(action=None),
        webhook(secret_key=None),
        webhook(owner_client_id=None),
        webhook(type=None),
        webhook(secret_key=""),
        webhook(url=""),
        webhook(url="http://example.com/" + "x" * 482),
        webhook(url="ftp://example.com/hook"),
        webhook(url="not a url"),
        webhook(url=42),
        webhook(action="no_such_action"),
        webhook(action="incoming_customer"),
        webhook(type="agent"),
        webhook(description=7),
        webhook(additional_data="chat_properties"),
        webhook(additional_data=["chat_summary"]),
        webhook(action="agent_created", additional_data=["chat_properties"]),
        webhook(filters=[]),
        webhook(filters={"author_type": "agent"}),
        webhook(action="incoming_event", filters={"author_type": "bot"}),
        webhook(filters={"only_my_chats": "yes"}),
        webhook(filters={"source_type": ["everyone"]}),
        webhook(filters={"source_type": "system"}),
        webhook(filters={"agent_ids": ["a@example.com"]}),
        webhook(filters={"chat_presence": {"user_ids": {"values": [], "exclude_values": []}}}),
        webhook(filters={"chat_presence": {"user_ids": {"values": "a@example.com"}}}),
        webhook(filters={"chat_presence": {"my_bots": 1}}),
        webhook(filters={"chat_presence": {"groups": [1]}}),
        webhook(action="agent_created", filters={"only_my_chats": True}),
        [webhook()],
        b"{not json",
    ],
)
def test_invalid_registrations_get_validation_errors(sim: LiveChatSimulator, body: Any) -> None:
    status, kind, message = error(call(sim, "register_webhook", body))
    assert (status, kind) == (400, "validation")
    assert message
    assert sim.webhooks() == []


@pytest.mark.parametrize(
    "body",
    [
        webhook(url="https://example.com/" + "x" * 480),
        webhook(type="bot", description=None),
        webhook(action="incoming_event", filters={"author_type": "customer"}),
        webhook(action="routing_status_set", filters={"agent_ids": ["a@example.com"]}),
        webhook(action="agent_created", filters={"source_type": ["system", "my_client"]}),
        webhook(
            filters={"only_my_chats": False, "chat_presence": {"user_ids": {"exclude_values": []}}},
            additional_data=["chat_presence_user_ids", "chat_properties"],
        ),
    ],
)
def test_valid_registrations(sim: LiveChatSimulator, body: dict[str, Any]) -> None:
    assert len(body["url"]) <= 500
    assert call(sim, "register_webhook", body).status_code == 200


def test_owner_client_id_must_belong_to_the_organization(sim: LiveChatSimulator) -> None:
    stranger = "ffffffffffffffffffffffffffffffff"
    for method, body in [
        ("register_webhook", webhook(owner_client_id=stranger)),
        ("list_webhooks", {"owner_client_id": stranger}),
        ("unregister_webhook", {"id": "x", "owner_client_id": stranger}),
        ("get_license_webhooks_state", {"owner_client_id": stranger}),
        ("enable_license_webhooks", {"owner_client_id": stranger}),
        ("disable_license_webhooks", {"owner_client_id": stranger}),
        ("list_webhooks", {}),
        ("get_license_webhooks_state", {}),
        ("disable_license_webhooks", {"owner_client_id": 5}),
    ]:
        status, kind, message = error(call(sim, method, body))
        assert (status, kind) == (400, "validation"), method
        assert "owner_client_id" in message


def test_unregister_unknown_or_foreign_webhook_is_not_found(sim: LiveChatSimulator) -> None:
    mine = call(sim, "register_webhook", webhook()).json()["id"]
    for body in [
        {"id": "pqi8oasdjahuakndw9nsad9na", "owner_client_id": DEFAULT_CLIENT_ID},
        {"id": mine, "owner_client_id": OTHER_CLIENT},
    ]:
        assert error(call(sim, "unregister_webhook", body))[:2] == (404, "not_found")
    missing_id = call(sim, "unregister_webhook", {"owner_client_id": DEFAULT_CLIENT_ID})
    assert error(missing_id)[:2] == (400, "validation")
    assert [hook.id for hook in sim.webhooks()] == [mine]


def test_license_webhooks_state_per_client_id(sim: LiveChatSimulator) -> None:
    def state(client_id: str) -> Any:
        answer = call(sim, "get_license_webhooks_state", {"owner_client_id": client_id})
        assert answer.status_code == 200
        return answer.json()

    assert state(DEFAULT_CLIENT_ID) == {"license_webhooks_enabled": True}
    disabled = call(sim, "disable_license_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID})
    assert (disabled.status_code, disabled.json()) == (200, {})
    assert state(DEFAULT_CLIENT_ID) == {"license_webhooks_enabled": False}
    assert state(OTHER_CLIENT) == {"license_webhooks_enabled": True}
    enabled = call(sim, "enable_license_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID})
    assert (enabled.status_code, enabled.json()) == (200, {})
    assert state(DEFAULT_CLIENT_ID) == {"license_webhooks_enabled": True}


def test_license_webhooks_can_start_disabled() -> None:
    with LiveChatSimulator(PARAMS, scopes=FULL_SCOPES, license_webhooks_enabled=False) as sim:
        answer = call(sim, "get_license_webhooks_state", {"owner_client_id": DEFAULT_CLIENT_ID})
    assert answer.json() == {"license_webhooks_enabled": False}


@pytest.mark.parametrize(
    ("method", "body", "needed"),
    [
        ("register_webhook", webhook(), "webhooks.configuration:rw"),
        ("list_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID}, "webhooks.configuration:rw"),
        ("unregister_webhook", {"id": "x", "owner_client_id": DEFAULT_CLIENT_ID}, "webhooks."),
        ("get_license_webhooks_state", {"owner_client_id": DEFAULT_CLIENT_ID}, "state:ro"),
        ("enable_license_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID}, "state:rw"),
        ("disable_license_webhooks", {"owner_client_id": DEFAULT_CLIENT_ID}, "state:rw"),
        ("list_license_properties", {"namespace": "limits"}, "properties.license.value"),
    ],
)
def test_a_token_without_the_scope_gets_authorization_errors(
    method: str, body: dict[str, Any], needed: str
) -> None:
    with LiveChatSimulator(PARAMS) as sim:  # the default token reads chats only
        answer = call(sim, method, body)
        assert sim.webhooks() == []
    status, kind, message = error(answer)
    assert (status, kind) == (403, "authorization")
    assert needed in message


def test_read_only_state_scope_reads_but_cannot_toggle() -> None:
    with LiveChatSimulator(PARAMS, scopes=("webhooks.state:ro",)) as sim:
        body = {"owner_client_id": DEFAULT_CLIENT_ID}
        assert call(sim, "get_license_webhooks_state", body).status_code == 200
        status, kind, message = error(call(sim, "disable_license_webhooks", body))
        assert (status, kind) == (403, "authorization")
        assert "webhooks.state:rw" in message
        assert error(call(sim, "list_webhooks", body))[:2] == (403, "authorization")


def test_the_scope_is_checked_before_the_body(sim: LiveChatSimulator) -> None:
    sim.scopes = frozenset({"chats--all:ro"})
    assert error(call(sim, "register_webhook", b"{not json"))[:2] == (403, "authorization")


@pytest.mark.parametrize("auth", [None, "Basic !!!", "Bearer abc", "wrong"])
def test_configuration_methods_need_a_valid_token(sim: LiveChatSimulator, auth: str) -> None:
    if auth == "wrong":
        auth = "Basic " + base64.b64encode(f"{sim.account_id}:nope".encode()).decode()
    for method in ("register_webhook", "list_webhooks", "get_license_webhooks_state"):
        body = webhook() if method == "register_webhook" else {}
        assert error(call(sim, method, body, auth=auth))[:2] == (401, "authentication")


def test_list_webhook_names_needs_no_token(sim: LiveChatSimulator) -> None:
    answer = call(sim, "list_webhook_names", {}, auth=None)
    assert answer.status_code == 200
    names = {entry["action"]: entry for entry in answer.json()}
    assert names["incoming_chat"] == {
        "action": "incoming_chat",
        "filters": ["chat_presence", "only_my_chats", "source_type"],
        "additional_data": ["chat_properties", "chat_presence_user_ids"],
    }
    assert names["agent_deleted"] == {"action": "agent_deleted", "filters": ["source_type"]}
    assert names["routing_status_set"]["filters"] == ["agent_ids", "source_type"]
    assert "author_type" in names["incoming_event"]["filters"]
    assert {"event_deleted", "thread_summary_set"} <= set(names)
    assert "incoming_customer" not in names
    assert len(names) == 38  # the rows of the "Triggering actions" table


def test_list_webhook_names_per_version(sim: LiveChatSimulator) -> None:
    old = {e["action"] for e in call(sim, "list_webhook_names", {"version": "3.5"}).json()}
    assert "incoming_customer" in old
    assert len(old) == 37
    assert not {"event_deleted", "thread_summary_set"} & old
    preview = call(sim, "list_webhook_names", {"version": "3.7"}).json()
    assert preview == call(sim, "list_webhook_names", {}, auth=None).json()
    assert error(call(sim, "list_webhook_names", {"version": "2.0"}))[:2] == (400, "validation")


def test_actions_follow_the_version_in_the_path(sim: LiveChatSimulator) -> None:
    old = webhook(action="incoming_customer")
    assert call(sim, "register_webhook", old, version="3.5").status_code == 200
    assert call(sim, "register_webhook", old, version="3.6").status_code == 400
    assert call(sim, "register_webhook", webhook(), version="3.7").status_code == 200
    assert call(sim, "register_webhook", webhook(), version="3.4").status_code == 404
    unknown = call(sim, "update_webhook", webhook())
    assert error(unknown)[:2] == (404, "not_found")


def test_license_properties_hold_the_archive_retention(sim: LiveChatSimulator) -> None:
    answer = call(sim, "list_license_properties", {"namespace": "limits"})
    assert answer.status_code == 200
    assert answer.json() == {
        "limits": {
            "archives_retention.base": 24,
            "archives_retention.additional": 0,
            "archives_retention.hard": 24,
        }
    }
    assert call(sim, "list_license_properties", {}).json() == answer.json()
    prefixed = {"namespace": "limits", "name_prefix": "archives_retention.b"}
    assert call(sim, "list_license_properties", prefixed).json() == {
        "limits": {"archives_retention.base": 24}
    }
    assert call(sim, "list_license_properties", {"namespace": "core"}).json() == {}
    bad = call(sim, "list_license_properties", {"namespace": 1})
    assert error(bad)[:2] == (400, "validation")


@pytest.mark.parametrize("months", [-1, 2, 12])
def test_archive_retention_is_configurable(months: int) -> None:
    with LiveChatSimulator(
        PARAMS, scopes=("properties.license.value--all:rw",), archive_retention_months=months
    ) as sim:
        limits = call(sim, "list_license_properties", {"namespace": "limits"}).json()["limits"]
        assert sim.archive_retention_months == months
    assert limits["archives_retention.base"] == limits["archives_retention.hard"] == months


def test_own_namespace_scope_does_not_see_public_limits() -> None:
    with LiveChatSimulator(PARAMS, scopes=("properties.license.value--my:ro",)) as sim:
        answer = call(sim, "list_license_properties", {"namespace": "limits"})
    assert (answer.status_code, answer.json()) == (200, {})


@pytest.mark.parametrize(
    "settings",
    [
        {"client_ids": ()},
        {"client_ids": ("",)},
        {"client_ids": "b7c1f3a8e2d94c6f9a0e5d3b1c7f2a64"},
        {"archive_retention_months": 0},
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"client_ids|archive_retention_months"):
        LiveChatSimulator(PARAMS, **settings)


def test_configuration_calls_are_audited_without_secrets(sim: LiveChatSimulator) -> None:
    call(sim, "register_webhook", webhook())
    call(sim, "list_webhooks", {"owner_client_id": "nobody"})
    first, second = sim.audit.items()
    assert first["api"] == "configuration"
    assert first["action"] == "register_webhook"
    assert first["path"] == "/v3.6/configuration/action/register_webhook"
    assert first["status"] == 200
    assert "secret_key" not in first["request"]
    assert first["request"]["url"] == webhook()["url"]
    assert (second["status"], second["error"]) == (400, "validation")


def test_faults_reach_the_configuration_api(sim: LiveChatSimulator) -> None:
    sim.set_faults(rate_limit_next=1, internal_next=1)
    body = {"owner_client_id": DEFAULT_CLIENT_ID}
    assert error(call(sim, "list_webhooks", body))[:2] == (429, "too_many_requests")
    assert error(call(sim, "list_webhooks", body))[:2] == (500, "internal")
    assert call(sim, "list_webhooks", body).status_code == 200


@pytest.mark.contract
def test_lc_sdk_configuration_client_round_trip(sim: LiveChatSimulator) -> None:
    """LiveChat's own Python SDK, an independent client, against the simulated paths."""
    configuration = pytest.importorskip("livechat.configuration.base")
    structures = pytest.importorskip("livechat.utils.structures")
    raw = base64.b64encode(f"{sim.account_id}:leadsync-sim-token".encode()).decode()
    token = structures.AccessToken(scheme=structures.TokenType.BASIC, token=raw)
    api = configuration.ConfigurationApi.get_client(
        token=token, version="3.6", disable_logging=True
    )
    api.api_url = sim.configuration_url
    created = api.register_webhook(
        action="chat_deactivated",
        secret_key="sdk-secret",
        url="https://example.com/hook",
        owner_client_id=DEFAULT_CLIENT_ID,
        type="license",
    )
    assert created.status_code == 200
    listed = api.list_webhooks(owner_client_id=DEFAULT_CLIENT_ID).json()
    assert [entry["id"] for entry in listed] == [created.json()["id"]]
    state = api.get_license_webhooks_state(owner_client_id=DEFAULT_CLIENT_ID)
    assert state.json() == {"license_webhooks_enabled": True}
    limits = api.list_license_properties(namespace="limits").json()
    assert limits["limits"]["archives_retention.base"] == 24
    assert api.list_webhook_names(version="3.6").status_code == 200
    gone = api.unregister_webhook(id=created.json()["id"], owner_client_id=DEFAULT_CLIENT_ID)
    assert gone.status_code == 200
