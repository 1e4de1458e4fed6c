"""Near real time on the local world: LiveChat webhooks over the stack's HTTP API, served by
the priority lane, and the health route; the hourly sync never writes the same change again."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from local.simulators.livechat.authored import authored_chat
from local.simulators.livechat.webhooks import WebhookSender, incoming_chat, with_secret
from local.world import LocalWorld
from tests.support.local_world import started_world
from tests.support.polling import until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    with started_world(
        tmp_path_factory, "webhooks-world", stack_name="leadsync-webhooks", chats=0
    ) as world:
        yield world


def _lead(world: LocalWorld, email: str) -> dict[str, Any] | None:
    return next((lead for lead in world.marketo_leads() if lead.get("email") == email), None)


def _writes(world: LocalWorld, since: int) -> list[str]:
    audit = world.marketo_audit(since=since, limit=100_000).get("requests", [])
    return [str(r["action"]) for r in audit if str(r["action"]).startswith("sync:")]


def _seq(world: LocalWorld) -> int:
    return int(world.marketo_audit(limit=0).get("total_requests", 0))


def _chat(n: int, at: datetime, **extra: Any) -> dict[str, Any]:
    return authored_chat(
        f"WH{n}",
        email=f"webhook.{n}@visitors.example.com",
        at=at,
        customer_id=f"wh-customer-{n}",
        **extra,
    )


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


def test_a_webhook_visitor_reaches_marketo_through_the_priority_lane(world: LocalWorld) -> None:
    api = world.http_api()
    listening = world.listen("PriorityUploadFunction")
    sender = WebhookSender(f"{api.url}/webhooks/livechat", retries=0)
    chat = _chat(1, datetime.now(UTC) - timedelta(seconds=20), country="Poland")
    delivery = incoming_chat(chat, secret_key=world.webhook_secret)

    refused = sender.post(with_secret(delivery, "not-the-secret"))
    assert refused == 401
    result = sender.deliver(delivery, duplicates=2)  # LiveChat retrying what it took
    assert result.statuses == [202, 200, 200]
    lead = until(lambda: _lead(world, "webhook.1@visitors.example.com"), "the lead")
    assert lead["country"] == "Poland"
    for source in listening:
        report = source.stop()
        assert report.errors == []
    assert world.queue_depth("PriorityQueueUrl") == 0
    assert world.queue_depth("DeadLetterQueueUrl") == 0
    emails = [lead["email"] for lead in world.marketo_leads()]
    assert emails.count("webhook.1@visitors.example.com") == 1


def test_the_hourly_run_does_not_write_what_a_webhook_wrote_meanwhile(world: LocalWorld) -> None:
    at = datetime.now(UTC) - timedelta(minutes=2)
    chat = _chat(2, at, country="Germany")
    world.add_livechat_chats([chat])
    world.rewind_fetch_mark(at - timedelta(minutes=15))
    # the hourly run looks the visitor up (no lead) and queues its create...
    summary = world.fire_schedule("FetchFunction").result
    assert summary["creates"] >= 1
    # ...and before the upload gets to it, the visitor's webhook is served
    api = world.http_api()
    listening = world.listen("PriorityUploadFunction")
    sender = WebhookSender(f"{api.url}/webhooks/livechat", retries=0)
    assert sender.post(incoming_chat(chat, secret_key=world.webhook_secret)) == 202
    until(lambda: _lead(world, "webhook.2@visitors.example.com"), "the webhook's lead")
    for source in listening:
        source.stop()
    seq = _seq(world)
    world.drain_queue("UploadFunction", wait_in_flight=True)
    # the hourly create was the same change: no write at all, and one lead
    assert _writes(world, seq) == []
    emails = [lead["email"] for lead in world.marketo_leads()]
    assert emails.count("webhook.2@visitors.example.com") == 1


def test_health_says_what_is_wrong_then_200_when_all_is_well(
    world: LocalWorld, tmp_path: Path
) -> None:
    api = world.http_api()
    world.rewind_fetch_mark(datetime.now(UTC) - timedelta(hours=5))
    status, body = _get(f"{api.url}/health")
    assert status == 503
    assert body["status"] == "unhealthy"
    assert any(reason.startswith("last_run:") for reason in body["reasons"])
    assert body["checks"]["livechat"] == {"ok": True}
    assert body["checks"]["marketo"] == {"ok": True}
    world.fire_schedule("FetchFunction")
    world.drain_queue("UploadFunction", wait_in_flight=True)
    status, body = _get(f"{api.url}/health")
    assert (status, body["reasons"]) == (200, [])
    assert body["checks"]["breaker"]["state"] == "closed"
    assert body["checks"]["queue:dead_letters"]["depth"] == 0
    assert body["checks"]["budget"]["left_today"] > 0


def _post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(payload).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


def _log_lines(world: LocalWorld, function: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for path in sorted((world.options.state_dir / "logs").glob(f"{function}-*.log")):
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and "_aws" not in line and "level" in line:
                lines.append(line)
    return lines


def test_one_correlation_id_follows_the_visitor_through_every_log_line(
    world: LocalWorld,
) -> None:
    api = world.http_api()
    listening = world.listen("PriorityUploadFunction")
    chat = _chat(3, datetime.now(UTC) - timedelta(seconds=10))
    status, body = _post(
        f"{api.url}/webhooks/livechat", incoming_chat(chat, secret_key=world.webhook_secret)
    )
    assert status == 202
    correlation = body["correlation_id"]
    until(lambda: _lead(world, "webhook.3@visitors.example.com"), "the lead")
    for source in listening:
        source.stop()
    for function in ("WebhookFunction", "PriorityUploadFunction"):
        lines = _log_lines(world, function)
        mine = [line for line in lines if line.get("correlation_id") == correlation]
        assert mine, f"{function}: no line carries the correlation id"
        # every line of the invocations that handled it carries it
        requests = {line.get("function_request_id") for line in mine}
        for line in lines:
            if line.get("function_request_id") in requests:
                assert line.get("correlation_id") == correlation, (function, line["message"])
