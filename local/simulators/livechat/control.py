"""The /_sim control routes' logic: state to read, chats and webhooks to add, faults to switch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from local.simulators.livechat.data import GenerationParams
from local.simulators.livechat.errors import ApiError
from local.simulators.livechat.timefmt import parse_any
from local.simulators.livechat.visitors import visitors
from local.simulators.livechat.webhooks import MAX_RETRIES

if TYPE_CHECKING:
    from local.simulators.livechat.server import LiveChatSimulator


def health(sim: LiveChatSimulator) -> dict[str, Any]:
    return {
        "status": "ok",
        "chats": len(sim.store),
        "entries": len(sim.store.index),
        "params": sim.params.to_dict(),
    }


def faults_state(sim: LiveChatSimulator) -> dict[str, Any]:
    return {
        "faults": sim.faults.config.to_dict(),
        "requests": sim.faults.requests,
        "counts": sim.fault_counts(),
    }


def configure_faults(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
    """The settings to change; `"reset": true` first goes back to no faults at all."""
    if not isinstance(data, dict):
        raise ValueError("faults: a JSON object expected")
    if data.pop("reset", False):
        sim.faults.reset()
    return {"faults": sim.faults.configure(data).to_dict()}


def expire_pages(sim: LiveChatSimulator) -> dict[str, Any]:
    """Every page id handed out so far expires now, as if a month had passed."""
    return {"expired": sim.expire_pages()}


def reset(sim: LiveChatSimulator) -> dict[str, Any]:
    sim.reset()
    return {"status": "reset", "chats": len(sim.store)}


def audit(sim: LiveChatSimulator) -> dict[str, Any]:
    return {"total": sim.audit.total, "requests": sim.audit.items()}


def visitors_found(sim: LiveChatSimulator, query: Mapping[str, str]) -> dict[str, Any]:
    start = parse_any(query["from"]) if "from" in query else None
    end = parse_any(query["to"]) if "to" in query else None
    found = visitors(sim.all_chats(), start, end)
    return {"count": len(found), "visitors": [v.to_dict() for v in found]}


def chats_page(sim: LiveChatSimulator, query: Mapping[str, str]) -> dict[str, Any]:
    offset = int(query.get("offset", "0"))
    total = len(sim.store)
    limit = int(query.get("limit", str(total)))
    with sim.store.lock:
        numbers = range(max(0, offset), min(total, max(0, offset) + max(0, limit)))
        chats = [sim.store.chat(n) for n in numbers]
    return {"total": total, "offset": offset, "chats": chats}


def add_chats(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
    if isinstance(data, dict) and "generate" in data:
        params = data["generate"]
        if not isinstance(params, dict):
            raise ValueError("generate: an object of generation parameters expected")
        added = sim.add_generated(GenerationParams.from_mapping(params))
        return {"added": added, "replaced": 0, "total_chats": len(sim.store)}
    chats = data.get("chats") if isinstance(data, dict) else data
    if not isinstance(chats, list):
        raise ValueError('expected {"chats": [...]}, a list of chats or {"generate": {...}}')
    added, replaced = sim.add_chats(chats)
    return {"added": added, "replaced": replaced, "total_chats": len(sim.store)}


def webhooks(sim: LiveChatSimulator) -> dict[str, Any]:
    return {
        "webhooks": [hook.to_dict() for hook in sim.webhooks()],
        "client_ids": list(sim.client_ids),
        "license_webhooks_enabled": sim.registry.states(sim.client_ids),
    }


def register(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
    """A register_webhook body (owner_client_id optional, version too), without a token."""
    if not isinstance(data, dict):
        raise ValueError("a register_webhook body expected")
    fields = dict(data)
    url, secret_key = fields.pop("url", None), fields.pop("secret_key", None)
    if not isinstance(url, str) or not isinstance(secret_key, str):
        raise ValueError("url and secret_key are required strings")
    return {"id": sim.register_webhook(url, secret_key=secret_key, **fields).id}


def deliver(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
    """{"action", "chat_id" | "chat", "retries"?, "timeout"?}: the chat event sent to every
    webhook it reaches."""
    if not isinstance(data, dict) or not isinstance(data.get("action"), str):
        raise ValueError('expected {"action": ..., "chat_id": ...} or {"action", "chat"}')
    chat = data.get("chat", data.get("chat_id"))
    if not isinstance(chat, dict | str):
        raise ValueError("chat_id (a stored chat) or chat (an object) is required")
    results = sim.deliver_registered(
        data["action"],
        chat,
        retries=int(data.get("retries", MAX_RETRIES)),
        timeout=float(data.get("timeout", 10.0)),
        retry_delays=(0.0,),
    )
    return {
        "results": [
            {"webhook_id": r.webhook_id, "statuses": r.statuses, "delivered": r.delivered}
            for r in results
        ]
    }


def not_found(method: str, path: str) -> ApiError:
    return ApiError("not_found", f"no route {method} {path}")
