"""LiveChat webhook deliveries: every refusal, every duplicate, and the visitor queued once."""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from leadsync.sync.messages import SyncBatch
from leadsync.webhook import accept as webhook
from local.simulators.livechat.authored import authored_chat
from local.simulators.livechat.webhooks import chat_deactivated, incoming_chat

SECRET = "whsec-test-value-0123456789"
NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)


@dataclass
class Taken:
    taken: set[tuple[str, str]] = field(default_factory=set)
    given_back: list[tuple[str, str]] = field(default_factory=list)

    def take(self, chat_id: str, thread_id: str) -> bool:
        if (chat_id, thread_id) in self.taken:
            return False
        self.taken.add((chat_id, thread_id))
        return True

    def give_back(self, chat_id: str, thread_id: str) -> None:
        self.taken.discard((chat_id, thread_id))
        self.given_back.append((chat_id, thread_id))


@dataclass
class Queue:
    sent: list[SyncBatch] = field(default_factory=list)
    fail: bool = False

    def send_batches(self, batches: Sequence[SyncBatch]) -> int:
        if self.fail:
            raise RuntimeError("SQS is down")
        self.sent.extend(batches)
        return len(batches)


def _chat(email: str = "ada@example.com", **extra: Any) -> dict[str, Any]:
    return authored_chat(
        "CHAT1",
        email=email,
        at=datetime(2026, 1, 15, 12, 55, tzinfo=UTC),
        customer_id="c1",
        **extra,
    )


def _call(
    delivery: Any, taken: Taken | None = None, queue: Queue | None = None
) -> tuple[webhook.Answer, Taken, Queue]:
    taken = taken or Taken()
    queue = queue or Queue()
    body = delivery if isinstance(delivery, (str, bytes)) else json.dumps(delivery)
    answer = webhook.handle(
        body, secret_key=SECRET, deliveries=taken, queue=queue, now=NOW, new_id=lambda: "corr-w"
    )
    return answer, taken, queue


def test_an_incoming_chat_is_queued_on_the_priority_lane_to_be_looked_up_first() -> None:
    answer, taken, queue = _call(incoming_chat(_chat(country="Poland"), secret_key=SECRET))
    assert answer == webhook.Answer(202, {"result": "queued", "correlation_id": "corr-w"})
    [batch] = queue.sent
    assert batch.lookup_first
    assert batch.correlation_id == "corr-w"
    [record] = batch.records
    assert (record.action, record.email, record.chat_ids) == (
        "create",
        "ada@example.com",
        ["CHAT1"],
    )
    assert record.fields["country"] == "Poland"
    assert taken.taken == {("CHAT1", "CHAT1T")}


def test_a_retried_delivery_is_taken_once() -> None:
    delivery = incoming_chat(_chat(), secret_key=SECRET)
    _, taken, queue = _call(delivery)
    again, _, _ = _call(delivery, taken, queue)
    assert again == webhook.Answer(200, {"result": "duplicate"})
    assert len(queue.sent) == 1


@pytest.mark.parametrize(
    "secret", ["", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper(), None, 12345, ["x"]]
)
def test_a_wrong_or_missing_secret_is_refused_before_anything_else(secret: Any) -> None:
    delivery = incoming_chat(_chat(), secret_key=SECRET)
    if secret is None:
        del delivery["secret_key"]
    else:
        delivery["secret_key"] = secret
    answer, taken, queue = _call(delivery)
    assert answer.status == 401
    assert (taken.taken, queue.sent) == (set(), [])


def test_the_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare)
    answer, _, _ = _call(incoming_chat(_chat(), secret_key="nope"))
    assert answer.status == 401
    assert seen == [(b"nope", SECRET.encode())]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("", 400),
        ("not json", 400),
        ("[1, 2]", 400),
        ('"text"', 400),
        (b"\xff\xfe", 400),
        ("{" * 10 + "}" * 10, 400),
        ("x" * (webhook.MAX_BODY_BYTES + 1), 413),
    ],
)
def test_broken_bodies_get_a_clear_refusal(body: str | bytes, status: int) -> None:
    answer, _, queue = _call(body)
    assert answer.status == status
    assert "error" in answer.body
    assert queue.sent == []


def test_other_actions_and_chats_without_a_visitor_are_acknowledged_and_left() -> None:
    answer, _, queue = _call(chat_deactivated("CHAT1", "CHAT1T", secret_key=SECRET))
    assert (answer.status, answer.body["result"]) == (200, "ignored")
    no_email = incoming_chat(_chat(email="not an address"), secret_key=SECRET)
    answer, taken, queue = _call(no_email)
    assert (answer.status, answer.body["result"]) == (200, "ignored")
    assert (taken.taken, queue.sent) == (set(), [])


@pytest.mark.parametrize(
    "payload", [None, {}, {"chat": "x"}, {"chat": {"id": ""}}, {"chat": {"id": 5}}]
)
def test_an_incoming_chat_without_a_usable_chat_is_refused(payload: Any) -> None:
    delivery = incoming_chat(_chat(), secret_key=SECRET)
    delivery["payload"] = payload
    answer, _, queue = _call(delivery)
    assert answer.status == 400
    assert queue.sent == []


def test_hostile_field_values_are_cut_to_what_marketo_takes() -> None:
    chat = _chat(name="A" * 100_000, tags=["<script>" * 1000])
    answer, _, queue = _call(incoming_chat(chat, secret_key=SECRET))
    assert answer.status == 202
    [record] = queue.sent[0].records
    assert all(len(str(value)) <= 65_535 for value in record.fields.values())
    assert len(queue.sent[0].model_dump_json()) < 256 * 1024


def test_a_queue_failure_gives_the_delivery_back_for_livechats_retry() -> None:
    delivery = incoming_chat(_chat(), secret_key=SECRET)
    answer, taken, _ = _call(delivery, queue=Queue(fail=True))
    assert answer.status == 503
    assert taken.given_back == [("CHAT1", "CHAT1T")]
    retried, _, queue = _call(delivery, taken)
    assert retried.status == 202
    assert len(queue.sent) == 1
