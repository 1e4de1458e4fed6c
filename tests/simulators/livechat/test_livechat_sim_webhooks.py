"""The webhook sender against a tiny receiver on loopback: shapes, retries, duplicates."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.simulators.livechat import webhooks
from local.simulators.livechat.data import GenerationParams, generate
from tests.support.webhook_receiver import WebhookReceiver

SECRET = "receiver-secret-123"


class Receiver(WebhookReceiver):
    """Answers 200 to the right secret, 401 otherwise; `failures` 500s come first."""

    failures = 0

    def answer(self, body: dict[str, Any]) -> int:
        if self.failures > 0:
            self.failures -= 1
            return 500
        if hmac.compare_digest(str(body.get("secret_key")), SECRET):
            return 200
        return 401


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with closing(Receiver()) as instance:
        yield instance


@pytest.fixture(scope="module")
def chat() -> dict[str, Any]:
    chats = generate(GenerationParams(seed=4, chats=40, multi_thread=1.0))
    return next(c for c in chats if len(c["threads"]) > 1)


def sender(receiver: Receiver) -> webhooks.WebhookSender:
    return webhooks.WebhookSender(receiver.url, timeout=5, sleep=lambda _: None)


def test_incoming_chat_carries_the_whole_chat(receiver: Receiver, chat: dict[str, Any]) -> None:
    delivery = webhooks.incoming_chat(chat, secret_key=SECRET, webhook_id="wh-1")
    result = sender(receiver).deliver(delivery)
    assert result.delivered
    assert result.statuses == [200]
    body = receiver.bodies[0]
    assert set(body) == {
        "webhook_id",
        "secret_key",
        "action",
        "organization_id",
        "payload",
        "additional_data",
    }
    assert body["action"] == "incoming_chat"
    assert body["webhook_id"] == "wh-1"
    sent = body["payload"]["chat"]
    assert sent["id"] == chat["id"]
    assert sent["thread"] == chat["threads"][-1]
    assert sent["users"] == chat["users"]


def test_chat_deactivated_payload(receiver: Receiver, chat: dict[str, Any]) -> None:
    delivery = webhooks.for_chat("chat_deactivated", chat, secret_key=SECRET)
    assert sender(receiver).deliver(delivery).delivered
    payload = receiver.bodies[0]["payload"]
    assert payload["chat_id"] == chat["id"]
    assert payload["thread_id"] == chat["threads"][-1]["id"]
    assert payload["user_id"].endswith("@support.example.com")


def test_failed_deliveries_are_retried_up_to_three_times(
    receiver: Receiver, chat: dict[str, Any]
) -> None:
    receiver.failures = 2
    delivery = webhooks.incoming_chat(chat, secret_key=SECRET)
    result = sender(receiver).deliver(delivery)
    assert result.statuses == [500, 500, 200]
    assert result.delivered
    assert len({b["webhook_id"] for b in receiver.bodies}) == 1
    receiver.failures = 10
    gave_up = sender(receiver).deliver(delivery)
    assert gave_up.statuses == [500] * 4
    assert not gave_up.delivered


def test_redelivery_sends_identical_copies(receiver: Receiver, chat: dict[str, Any]) -> None:
    delivery = webhooks.incoming_chat(chat, secret_key=SECRET)
    result = sender(receiver).deliver(delivery, duplicates=2)
    assert result.statuses == [200, 200, 200]
    assert receiver.bodies[0] == receiver.bodies[1] == receiver.bodies[2]


def test_wrong_secret_is_rejected_by_the_receiver(receiver: Receiver, chat: dict[str, Any]) -> None:
    delivery = webhooks.with_secret(webhooks.incoming_chat(chat, secret_key=SECRET), "nope")
    result = webhooks.WebhookSender(receiver.url, retries=0).deliver(delivery)
    assert result.statuses == [401]
    assert not result.delivered


def test_no_receiver_counts_as_undelivered() -> None:
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    closed = webhooks.WebhookSender(
        f"http://127.0.0.1:{port}/", timeout=2, retries=1, sleep=lambda _: None
    )
    assert closed.deliver({"webhook_id": "x", "action": "incoming_chat"}).statuses == [None] * 2


def test_cli_sends_and_never_prints_the_secret(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    code = webhooks.main(
        [
            "--url",
            receiver.url,
            "--secret-key",
            SECRET,
            "--count",
            "3",
            "--redeliver",
            "1",
            "--retry-delay",
            "0",
        ]
    )
    out = capsys.readouterr()
    assert code == 0
    assert len(receiver.bodies) == 6
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [line["statuses"] for line in lines] == [[200, 200]] * 3
    assert SECRET not in out.out + out.err


def test_cli_wrong_secret_fails(
    receiver: Receiver, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVECHAT_WEBHOOK_SECRET", SECRET)
    code = webhooks.main(
        [
            "--url",
            receiver.url,
            "--secret-key-env",
            "LIVECHAT_WEBHOOK_SECRET",
            "--wrong-secret",
            "--retries",
            "0",
            "--action",
            "chat_deactivated",
        ]
    )
    out = capsys.readouterr()
    assert code == 1
    assert receiver.bodies[0]["secret_key"] != SECRET
    assert SECRET not in out.out + out.err
