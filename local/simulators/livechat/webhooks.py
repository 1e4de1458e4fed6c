"""LiveChat webhook deliveries: build them, POST them, retry and re-deliver like LiveChat.

`python -m local.simulators.livechat.webhooks --url URL --secret-key KEY --count 3`
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local.simulators.livechat.data import Chat, Dataset, GenerationParams

DEFAULT_ORGANIZATION_ID = "390e44e6-f1e6-4a18-a9ab-0fdb8d3c5d1e"
ACTIONS = ("incoming_chat", "chat_deactivated")
MAX_RETRIES = 3  # LiveChat retries a failed delivery up to 3 times


def _envelope(
    action: str,
    payload: dict[str, Any],
    secret_key: str,
    webhook_id: str | None,
    organization_id: str,
    additional_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "webhook_id": webhook_id or str(uuid.uuid4()),
        "secret_key": secret_key,
        "action": action,
        "organization_id": organization_id,
        "payload": payload,
        "additional_data": additional_data or {},
    }


def incoming_chat(
    chat: Mapping[str, Any],
    *,
    secret_key: str,
    webhook_id: str | None = None,
    organization_id: str = DEFAULT_ORGANIZATION_ID,
) -> dict[str, Any]:
    """`payload.chat` is the whole chat with its newest thread as `thread`, as LiveChat sends."""
    body = {key: value for key, value in chat.items() if key != "threads"}
    threads = chat.get("threads") or []
    if threads and "thread" not in body:
        body["thread"] = threads[-1]
    present = [user["id"] for user in chat.get("users", []) if user.get("present")]
    return _envelope(
        "incoming_chat",
        {"chat": body},
        secret_key,
        webhook_id,
        organization_id,
        {"chat_properties": dict(chat.get("properties", {})), "chat_presence_user_ids": present},
    )


def chat_deactivated(
    chat_id: str,
    thread_id: str,
    user_id: str | None = None,
    *,
    secret_key: str,
    webhook_id: str | None = None,
    organization_id: str = DEFAULT_ORGANIZATION_ID,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"chat_id": chat_id, "thread_id": thread_id}
    if user_id is not None:
        payload["user_id"] = user_id
    return _envelope("chat_deactivated", payload, secret_key, webhook_id, organization_id)


def for_chat(
    action: str,
    chat: Mapping[str, Any],
    *,
    secret_key: str,
    webhook_id: str | None = None,
    organization_id: str = DEFAULT_ORGANIZATION_ID,
) -> dict[str, Any]:
    if action == "incoming_chat":
        return incoming_chat(
            chat, secret_key=secret_key, webhook_id=webhook_id, organization_id=organization_id
        )
    if action == "chat_deactivated":
        thread = (chat.get("threads") or [chat.get("thread") or {}])[-1]
        agents = [u["id"] for u in chat.get("users", []) if u.get("type") == "agent"]
        return chat_deactivated(
            str(chat["id"]),
            str(thread.get("id", "")),
            agents[0] if agents else None,
            secret_key=secret_key,
            webhook_id=webhook_id,
            organization_id=organization_id,
        )
    raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")


def with_secret(delivery: Mapping[str, Any], secret_key: str) -> dict[str, Any]:
    """The same delivery signed with another secret (to test rejection)."""
    return {**delivery, "secret_key": secret_key}


@dataclass
class DeliveryResult:
    webhook_id: str
    action: str
    statuses: list[int | None] = field(default_factory=list)  # None: no HTTP answer

    @property
    def delivered(self) -> bool:
        return any(status is not None and 200 <= status < 300 for status in self.statuses)


class WebhookSender:
    """POSTs deliveries; a non-2xx answer or no answer is retried up to `retries` times."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        retries: int = MAX_RETRIES,
        retry_delays: Sequence[float] = (0.0,),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("url must be http(s)")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.retry_delays = tuple(retry_delays) or (0.0,)
        self._sleep = sleep

    def post(self, delivery: Mapping[str, Any]) -> int | None:
        """One attempt: the HTTP status, or None when nothing answered in time."""
        data = json.dumps(delivery, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "LiveChat-Webhooks"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                answer.read()
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            return None

    def deliver(self, delivery: Mapping[str, Any], *, duplicates: int = 0) -> DeliveryResult:
        """Deliver with retries, then send `duplicates` more identical copies regardless."""
        result = DeliveryResult(str(delivery.get("webhook_id")), str(delivery.get("action")))
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(self.retry_delays[min(attempt - 1, len(self.retry_delays) - 1)])
            result.statuses.append(self.post(delivery))
            if result.delivered:
                break
        for _ in range(duplicates):
            result.statuses.append(self.post(delivery))
        return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local.simulators.livechat.webhooks")
    parser.add_argument("--url", required=True, help="the webhook receiver")
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret-key", help="the secret configured for the webhook")
    secret.add_argument("--secret-key-env", help="name of an environment variable holding it")
    parser.add_argument("--action", choices=ACTIONS, default="incoming_chat")
    parser.add_argument("--count", type=int, default=1, help="how many chats to deliver")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default=None)
    parser.add_argument("--end", default=None)
    parser.add_argument("--organization-id", default=DEFAULT_ORGANIZATION_ID)
    parser.add_argument(
        "--redeliver",
        type=int,
        default=0,
        help="identical extra copies of every delivery (LiveChat duplicates)",
    )
    parser.add_argument(
        "--wrong-secret",
        action="store_true",
        help="sign with a wrong secret (the receiver must reject)",
    )
    parser.add_argument("--retries", type=int, default=MAX_RETRIES)
    parser.add_argument("--retry-delay", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--simulator", default=None, help="LiveChat simulator base URL: add the chats there first"
    )
    return parser


def _add_to_simulator(base_url: str, chats: list[Chat]) -> None:
    data = json.dumps({"chats": chats}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - a loopback URL given by the operator
        base_url.rstrip("/") + "/_sim/chats",
        data=data,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        answer.read()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    secret = args.secret_key
    if args.secret_key_env:
        secret = os.environ.get(args.secret_key_env)
        if not secret:
            print(f"environment variable {args.secret_key_env} is empty", file=sys.stderr)
            return 2
    if args.wrong_secret:
        secret = "wrong-" + uuid.uuid4().hex
    settings: dict[str, Any] = {"seed": args.seed, "chats": args.count}
    if args.start:
        settings["start"] = args.start
    if args.end:
        settings["end"] = args.end
    chats = list(Dataset(GenerationParams.from_mapping(settings)))
    if args.simulator:
        _add_to_simulator(args.simulator, chats)
    sender = WebhookSender(
        args.url, timeout=args.timeout, retries=args.retries, retry_delays=(args.retry_delay,)
    )
    failures = 0
    for chat in chats:
        delivery = for_chat(
            args.action, chat, secret_key=secret, organization_id=args.organization_id
        )
        result = sender.deliver(delivery, duplicates=args.redeliver)
        failures += not result.delivered
        # The secret is never printed: only what identifies the delivery and its outcome.
        print(
            json.dumps(
                {
                    "action": result.action,
                    "webhook_id": result.webhook_id,
                    "chat_id": chat["id"],
                    "statuses": result.statuses,
                    "delivered": result.delivered,
                }
            ),
            flush=True,
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
