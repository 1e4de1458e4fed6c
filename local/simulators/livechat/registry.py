"""The webhooks registered on the simulated license, their state, and their delivery.

License webhooks reach their URL while the owner's license webhooks are enabled. Bot webhooks
follow a bot's routing status; the simulator has no bots, so they are kept but never sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from local.simulators.livechat.actions import ADDITIONAL_DATA
from local.simulators.livechat.errors import ApiError
from local.simulators.livechat.registration import Webhook
from local.simulators.livechat.webhooks import ACTIONS as DELIVERABLE
from local.simulators.livechat.webhooks import (
    DEFAULT_ORGANIZATION_ID,
    MAX_RETRIES,
    DeliveryResult,
    WebhookSender,
    for_chat,
)

MAX_PER_ACTION = 3  # webhooks one Client ID can register for one action


class WebhookRegistry:
    """Thread-safe: the HTTP server's threads and the test's thread share it."""

    def __init__(self, *, license_webhooks_enabled: bool = True) -> None:
        self._lock = threading.Lock()
        self._hooks: dict[str, Webhook] = {}
        self._enabled_by_default = license_webhooks_enabled
        self._state: dict[str, bool] = {}

    def register(self, hook: Webhook) -> Webhook:
        with self._lock:
            same = [
                h
                for h in self._hooks.values()
                if h.owner_client_id == hook.owner_client_id and h.action == hook.action
            ]
            if len(same) >= MAX_PER_ACTION:
                raise ApiError(
                    "limit_reached",
                    f"Client ID {hook.owner_client_id} already has {MAX_PER_ACTION} "
                    f"webhooks for {hook.action}",
                )
            self._hooks[hook.id] = hook
            return hook

    def unregister(self, webhook_id: str, owner_client_id: str) -> None:
        with self._lock:
            hook = self._hooks.get(webhook_id)
            if hook is None or hook.owner_client_id != owner_client_id:
                raise ApiError("not_found", f"Webhook {webhook_id} not found")
            del self._hooks[webhook_id]

    def webhooks(self, owner_client_id: str | None = None) -> list[Webhook]:
        """In registration order; all of them, or those of one Client ID."""
        with self._lock:
            hooks = list(self._hooks.values())
        if owner_client_id is None:
            return hooks
        return [h for h in hooks if h.owner_client_id == owner_client_id]

    def enabled(self, owner_client_id: str) -> bool:
        with self._lock:
            return self._state.get(owner_client_id, self._enabled_by_default)

    def set_enabled(self, owner_client_id: str, enabled: bool) -> None:
        with self._lock:
            self._state[owner_client_id] = enabled

    def states(self, client_ids: Iterable[str]) -> dict[str, bool]:
        return {client_id: self.enabled(client_id) for client_id in client_ids}

    def clear(self) -> None:
        with self._lock:
            self._hooks.clear()
            self._state.clear()

    def targets(self, action: str, chat: Mapping[str, Any]) -> list[Webhook]:
        """The webhooks a chat event of `action` would be sent to."""
        return [
            hook
            for hook in self.webhooks()
            if hook.action == action
            and hook.type == "license"
            and self.enabled(hook.owner_client_id)
            and matches(hook, chat)
        ]

    def deliver(
        self,
        action: str,
        chat: Mapping[str, Any],
        *,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
        timeout: float = 10.0,
        retries: int = MAX_RETRIES,
        retry_delays: Sequence[float] = (0.0,),
        sleep: Callable[[float], None] | None = None,
    ) -> list[DeliveryResult]:
        """Send the chat event to every target, retrying like LiveChat; one result each."""
        if action not in DELIVERABLE:
            raise ValueError(f"the simulator sends {', '.join(DELIVERABLE)}, not {action!r}")
        results = []
        for hook in self.targets(action, chat):
            delivery = for_chat(
                action,
                chat,
                secret_key=hook.secret_key,
                webhook_id=hook.id,
                organization_id=organization_id,
            )
            delivery["additional_data"] = additional_data(hook, chat)
            options: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
            sender = WebhookSender(
                hook.url, timeout=timeout, retries=retries, retry_delays=retry_delays, **options
            )
            results.append(sender.deliver(delivery))
        return results


def _present(chat: Mapping[str, Any]) -> list[str]:
    return [str(user["id"]) for user in chat.get("users", []) if user.get("present")]


def _source_client(chat: Mapping[str, Any]) -> str | None:
    source = (chat.get("properties") or {}).get("source") or {}
    client_id = source.get("client_id") if isinstance(source, dict) else None
    return str(client_id) if client_id else None


def additional_data(hook: Webhook, chat: Mapping[str, Any]) -> dict[str, Any]:
    """Only what the webhook asked for when it was registered."""
    available = {
        "chat_properties": dict(chat.get("properties") or {}),
        "chat_presence_user_ids": _present(chat),
    }
    return {name: available[name] for name in hook.additional_data if name in ADDITIONAL_DATA}


def matches(hook: Webhook, chat: Mapping[str, Any]) -> bool:
    """The chat filters of a webhook, applied to a chat event."""
    filters = hook.filters
    client_id = _source_client(chat)
    if filters.get("only_my_chats") and client_id != hook.owner_client_id:
        return False
    if "source_type" in filters:
        if client_id is None:
            source = "system"
        else:
            source = "my_client" if client_id == hook.owner_client_id else "other_clients"
        if source not in filters["source_type"]:
            return False
    presence = filters.get("chat_presence") or {}
    conditions: list[bool] = []
    if "user_ids" in presence:
        present = set(_present(chat))
        user_ids = presence["user_ids"]
        if "values" in user_ids:
            conditions.append(bool(present & set(user_ids["values"])))
        else:
            conditions.append(not present & set(user_ids["exclude_values"]))
    if presence.get("my_bots"):
        conditions.append(False)  # no bot of the owner is ever in a simulated chat
    return not conditions or any(conditions)
