"""Registered webhooks really reach their URL: in-process handles and the /_sim routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest
import requests

from local.simulators.livechat import (
    DEFAULT_CLIENT_ID,
    FULL_SCOPES,
    GenerationParams,
    LiveChatSimulator,
)
from local.simulators.livechat.errors import ApiError
from tests.support.webhook_receiver import WebhookReceiver

PARAMS = GenerationParams(seed=8, chats=12)
SECRET = "registered-secret"


class Receiver(WebhookReceiver):
    """Records every body and answers 200 (or `status`)."""

    status = 200

    def answer(self, body: dict[str, Any]) -> int:
        return self.status


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with closing(Receiver()) as instance:
        yield instance


@pytest.fixture
def sim() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(PARAMS, scopes=FULL_SCOPES) as fresh:
        yield fresh


@pytest.fixture
def chat(sim: LiveChatSimulator) -> dict[str, Any]:
    return sim.all_chats()[0]


def test_a_registered_webhook_reaches_its_url(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    hook = sim.register_webhook(
        receiver.url, secret_key=SECRET, additional_data=["chat_properties"]
    )
    other = sim.register_webhook(receiver.url, action="chat_deactivated", secret_key="other")
    (result,) = sim.deliver_registered("incoming_chat", chat)
    assert result.delivered
    assert result.webhook_id == hook.id
    (body,) = receiver.bodies
    assert body["webhook_id"] == hook.id
    assert body["secret_key"] == SECRET
    assert body["action"] == "incoming_chat"
    assert body["organization_id"] == sim.organization_id
    assert body["payload"]["chat"]["id"] == chat["id"]
    assert body["additional_data"] == {"chat_properties": chat["properties"]}
    (closed,) = sim.deliver_registered("chat_deactivated", chat["id"])
    assert closed.webhook_id == other.id
    assert receiver.bodies[-1]["payload"]["chat_id"] == chat["id"]
    assert receiver.bodies[-1]["additional_data"] == {}


def test_a_webhook_registered_over_http_is_delivered_too(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    body = {
        "url": receiver.url,
        "action": "incoming_chat",
        "secret_key": SECRET,
        "owner_client_id": DEFAULT_CLIENT_ID,
        "type": "license",
        "additional_data": ["chat_presence_user_ids"],
    }
    url = f"{sim.configuration_url}/register_webhook"
    answer = requests.post(url, json=body, headers={"Authorization": sim.authorization}, timeout=5)
    webhook_id = answer.json()["id"]
    assert [r.webhook_id for r in sim.deliver_registered("incoming_chat", chat)] == [webhook_id]
    present = [u["id"] for u in chat["users"] if u.get("present")]
    assert receiver.bodies[0]["additional_data"] == {"chat_presence_user_ids": present}


def test_failed_deliveries_are_retried(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    sim.register_webhook(receiver.url, secret_key=SECRET)
    receiver.status = 503
    (result,) = sim.deliver_registered("incoming_chat", chat, sleep=lambda _: None)
    assert result.statuses == [503] * 4
    assert not result.delivered
    assert len(receiver.bodies) == 4


def test_nothing_is_sent_while_license_webhooks_are_disabled(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    sim.register_webhook(receiver.url, secret_key=SECRET)
    sim.registry.set_enabled(DEFAULT_CLIENT_ID, False)
    assert sim.deliver_registered("incoming_chat", chat) == []
    sim.registry.set_enabled(DEFAULT_CLIENT_ID, True)
    assert len(sim.deliver_registered("incoming_chat", chat)) == 1


def test_bot_webhooks_wait_for_a_bot_that_never_comes(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    sim.register_webhook(receiver.url, secret_key=SECRET, type="bot")
    assert sim.deliver_registered("incoming_chat", chat) == []
    assert receiver.bodies == []


def test_chat_filters_decide_who_gets_the_chat(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    present = next(u["id"] for u in chat["users"] if u.get("present"))
    everyone = sim.register_webhook(receiver.url, secret_key=SECRET)
    with_user = sim.register_webhook(
        receiver.url,
        secret_key=SECRET,
        filters={"chat_presence": {"user_ids": {"values": [present]}}},
    )
    sim.register_webhook(
        receiver.url,
        secret_key=SECRET,
        filters={"chat_presence": {"user_ids": {"exclude_values": [present]}}},
    )
    mine_only = {"only_my_chats": True}
    sim.register_webhook(
        receiver.url, action="chat_deactivated", secret_key=SECRET, filters=mine_only
    )
    sim.register_webhook(
        receiver.url,
        action="chat_deactivated",
        secret_key=SECRET,
        filters={"chat_presence": {"my_bots": True}},
    )
    widget = sim.register_webhook(
        receiver.url,
        action="chat_deactivated",
        secret_key=SECRET,
        filters={"source_type": ["other_clients"]},
    )
    delivered = [r.webhook_id for r in sim.deliver_registered("incoming_chat", chat)]
    assert delivered == [everyone.id, with_user.id]
    assert [r.webhook_id for r in sim.deliver_registered("chat_deactivated", chat)] == [widget.id]
    ours = dict(chat, properties={"source": {"client_id": DEFAULT_CLIENT_ID}})
    assert len(sim.deliver_registered("chat_deactivated", ours)) == 1  # only_my_chats now


def test_register_webhook_in_process_follows_the_api_rules(sim: LiveChatSimulator) -> None:
    for _ in range(3):
        sim.register_webhook("https://example.com/hook", secret_key=SECRET)
    with pytest.raises(ApiError, match="already has 3") as limit:
        sim.register_webhook("https://example.com/hook", secret_key=SECRET)
    assert limit.value.type == "limit_reached"
    with pytest.raises(ApiError, match="owner_client_id") as foreign:
        sim.register_webhook("https://example.com/hook", secret_key=SECRET, owner_client_id="x")
    assert foreign.value.type == "validation"
    assert all(hook.owner_client_id == DEFAULT_CLIENT_ID for hook in sim.webhooks())


def test_deliver_registered_refuses_what_it_cannot_send(sim: LiveChatSimulator) -> None:
    with pytest.raises(KeyError):
        sim.deliver_registered("incoming_chat", "NO-SUCH-CHAT")
    with pytest.raises(ValueError, match="thread_tagged"):
        sim.deliver_registered("thread_tagged", sim.all_chats()[0])


def test_sim_routes_show_register_and_deliver(
    sim: LiveChatSimulator, receiver: Receiver, chat: dict[str, Any]
) -> None:
    base = f"{sim.base_url}/_sim/webhooks"
    created = requests.post(base, json={"url": receiver.url, "secret_key": SECRET}, timeout=5)
    assert created.status_code == 200
    shown = requests.get(base, timeout=5).json()
    (hook,) = shown["webhooks"]
    assert hook["id"] == created.json()["id"]
    assert hook["secret_key"] == SECRET
    assert hook["owner_client_id"] == DEFAULT_CLIENT_ID
    assert shown["client_ids"] == [DEFAULT_CLIENT_ID]
    assert shown["license_webhooks_enabled"] == {DEFAULT_CLIENT_ID: True}
    sent = requests.post(
        f"{base}/deliver",
        json={"action": "incoming_chat", "chat_id": chat["id"], "retries": 0},
        timeout=5,
    ).json()
    assert sent == {"results": [{"webhook_id": hook["id"], "statuses": [200], "delivered": True}]}
    assert receiver.bodies[0]["payload"]["chat"]["id"] == chat["id"]
    for bad in [{"secret_key": SECRET}, {"url": receiver.url, "secret_key": SECRET, "meteor": 1}]:
        assert requests.post(base, json=bad, timeout=5).status_code == 400
    invalid = requests.post(base, json={"url": "ftp://x", "secret_key": SECRET}, timeout=5)
    assert invalid.json()["error"]["type"] == "validation"
    missing = {"action": "incoming_chat", "chat_id": "x"}
    unknown = requests.post(f"{base}/deliver", json=missing, timeout=5)
    assert unknown.status_code == 400
    requests.post(f"{sim.base_url}/_sim/reset", timeout=5)
    assert requests.get(base, timeout=5).json()["webhooks"] == []
    assert sim.webhooks() == []
