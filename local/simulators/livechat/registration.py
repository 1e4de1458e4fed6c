"""A registered webhook, and the validation of a `register_webhook` request into one."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from local.simulators.livechat.actions import Action, actions
from local.simulators.livechat.errors import ApiError

MAX_URL_LENGTH = 500
TYPES = ("license", "bot")
AUTHOR_TYPES = ("customer", "agent")
SOURCE_TYPES = ("my_client", "other_clients", "system")


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    action: str
    secret_key: str
    owner_client_id: str
    type: str
    description: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    additional_data: tuple[str, ...] = ()

    def listed(self) -> dict[str, Any]:
        """As `list_webhooks` answers: the secret key and additional data are not shown."""
        return {
            "id": self.id,
            "url": self.url,
            "description": self.description,
            "action": self.action,
            "filters": copy.deepcopy(self.filters),
            "owner_client_id": self.owner_client_id,
            "type": self.type,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, the secret key included (for tests and the /_sim routes)."""
        return {
            **self.listed(),
            "secret_key": self.secret_key,
            "additional_data": list(self.additional_data),
        }


def invalid(message: str) -> ApiError:
    return ApiError("validation", message)


def text(body: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"`{name}` is required")
        return None
    if not isinstance(value, str):
        raise invalid(f"`{name}` must be a string")
    if required and not value:
        raise invalid(f"`{name}` cannot be empty")
    return value


def owner_client_id(body: Mapping[str, Any], client_ids: Collection[str]) -> str:
    """Required, and a Client ID that the organization owns."""
    value = text(body, "owner_client_id", required=True)
    assert value is not None
    if value not in client_ids:
        raise invalid("`owner_client_id` must be a Client ID owned by your organization")
    return value


def parse_webhook(body: Mapping[str, Any], version: str, client_ids: Collection[str]) -> Webhook:
    """A `register_webhook` body (already a JSON object) into a Webhook with a fresh id."""
    fields = {name: text(body, name, required=True) for name in _REQUIRED}
    url, action_name, secret_key, kind = (
        str(fields[name]) for name in ("url", "action", "secret_key", "type")
    )
    if len(url) > MAX_URL_LENGTH:
        raise invalid(f"`url` cannot be longer than {MAX_URL_LENGTH} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("`url` must be an http(s) URL")
    action = actions(version).get(action_name)
    if action is None:
        raise invalid(f"`action` {action_name!r} is not a webhook action in v{version}")
    if kind not in TYPES:
        raise invalid(f"`type` must be one of {', '.join(TYPES)}")
    owner = owner_client_id(body, client_ids)
    return Webhook(
        id=uuid.uuid4().hex,
        url=url,
        action=action.name,
        secret_key=secret_key,
        owner_client_id=owner,
        type=kind,
        description=text(body, "description", required=False) or "",
        filters=_filters(body.get("filters"), action),
        additional_data=_additional_data(body.get("additional_data"), action),
    )


_REQUIRED = ("url", "action", "secret_key", "owner_client_id", "type")


def _strings(value: object, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(f"`{name}` must be an array of strings")
    return list(value)


def _additional_data(value: object, action: Action) -> tuple[str, ...]:
    if value is None:
        return ()
    names = _strings(value, "additional_data")
    for name in names:
        if name not in action.additional_data:
            allowed = ", ".join(action.additional_data) or "none"
            raise invalid(
                f"`additional_data` {name!r} is not available for {action.name} "
                f"(available: {allowed})"
            )
    return tuple(dict.fromkeys(names))


def _filters(value: object, action: Action) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("`filters` must be an object")
    for name in value:
        if name not in action.filters:
            raise invalid(f"`filters.{name}` is not available for {action.name}")
    if "author_type" in value and value["author_type"] not in AUTHOR_TYPES:
        raise invalid(f"`filters.author_type` must be one of {', '.join(AUTHOR_TYPES)}")
    if "only_my_chats" in value and not isinstance(value["only_my_chats"], bool):
        raise invalid("`filters.only_my_chats` must be a boolean")
    if "source_type" in value:
        for source in _strings(value["source_type"], "filters.source_type"):
            if source not in SOURCE_TYPES:
                raise invalid(f"`filters.source_type` takes {', '.join(SOURCE_TYPES)}")
    if "agent_ids" in value:
        _strings(value["agent_ids"], "filters.agent_ids")
    if "chat_presence" in value:
        _chat_presence(value["chat_presence"])
    return copy.deepcopy(value)


def _chat_presence(value: object) -> None:
    if not isinstance(value, dict):
        raise invalid("`filters.chat_presence` must be an object")
    for name in value:
        if name not in ("user_ids", "my_bots"):
            raise invalid(f"`filters.chat_presence.{name}` is not a filter")
    if "my_bots" in value and not isinstance(value["my_bots"], bool):
        raise invalid("`filters.chat_presence.my_bots` must be a boolean")
    if "user_ids" not in value:
        return
    user_ids = value["user_ids"]
    if not isinstance(user_ids, dict) or len(user_ids) != 1:
        raise invalid("`filters.chat_presence.user_ids` takes one of values or exclude_values")
    ((name, ids),) = user_ids.items()
    if name not in ("values", "exclude_values"):
        raise invalid("`filters.chat_presence.user_ids` takes one of values or exclude_values")
    _strings(ids, f"filters.chat_presence.user_ids.{name}")
