"""HTTP routes of the simulator: LiveChat's API paths, and the /_sim control routes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from local.simulators.livechat.data import GenerationParams
from local.simulators.livechat.errors import INVALID_JSON, ApiError
from local.simulators.livechat.store import ChatError
from local.simulators.livechat.timefmt import TimeFormatError, parse_any
from local.simulators.livechat.visitors import visitors
from local.simulators.livechat.webhooks import MAX_RETRIES

if TYPE_CHECKING:
    from local.simulators.livechat.server import LiveChatSimulator

API_VERSIONS = ("3.5", "3.6", "3.7")
_MAX_BODY = 64 * 1024 * 1024
_ARCHIVE_KEYS = ("filters", "page_id", "limit", "sort_order")
_SECRET_KEYS = frozenset({"secret_key"})


def handler_for(sim: LiveChatSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        simulator = sim

    return Handler


def route(path: str) -> tuple[str, str, str] | None:
    """`/v<version>/<api>/action/<method>` into (version, api, method), for known versions."""
    parts = path.split("/")
    if len(parts) != 5 or parts[0] or parts[3] != "action" or not parts[1].startswith("v"):
        return None
    version, api, method = parts[1][1:], parts[2], parts[4]
    if version not in API_VERSIONS:
        return None
    if (api, method) == ("agent", "list_archives") or (api == "configuration" and method):
        return version, api, method
    return None


class _Handler(BaseHTTPRequestHandler):
    simulator: LiveChatSimulator
    protocol_version = "HTTP/1.1"
    server_version = "livechat-simulator"

    def log_message(self, format: str, *args: Any) -> None:
        """The audit endpoint is the log; stderr stays quiet."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        sim = self.simulator
        if url.path == "/_sim/health":
            self._json(
                200,
                {
                    "status": "ok",
                    "chats": len(sim.store),
                    "entries": len(sim.store.index),
                    "params": sim.params.to_dict(),
                },
            )
        elif url.path == "/_sim/chats":
            try:
                self._json(200, _chats_page(sim, query))
            except ValueError as exc:
                self._json(400, ApiError("validation", str(exc)).body())
        elif url.path == "/_sim/audit":
            items = sim.audit.items()
            self._json(200, {"total": sim.audit.total, "requests": items})
        elif url.path == "/_sim/faults":
            self._json(
                200, {"faults": sim.faults.config.to_dict(), "requests": sim.faults.requests}
            )
        elif url.path == "/_sim/visitors":
            self._visitors(query)
        elif url.path == "/_sim/webhooks":
            self._json(200, _webhooks(sim))
        else:
            self._json(404, ApiError("not_found", f"no route GET {url.path}").body())

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            raw = self._read_body()
        except ValueError as exc:
            self._json(400, ApiError("validation", str(exc)).body())
            return
        if path.startswith("/_sim/"):
            self._control(path, raw)
            return
        found = route(path)
        if found is None:
            self._json(404, ApiError("not_found", f"no route POST {path}").body())
            return
        version, api, method = found
        body = _decode(raw)
        header = self.headers.get("Authorization")
        entry: dict[str, Any] = {"method": "POST", "path": path}
        if api == "agent":
            if isinstance(body, dict):
                entry["request"] = {k: body[k] for k in _ARCHIVE_KEYS if k in body}
            self._api(entry, lambda: self.simulator.archives(header, body))
            return
        entry.update(api="configuration", action=method)
        if isinstance(body, dict):
            entry["request"] = {k: v for k, v in body.items() if k not in _SECRET_KEYS}
        self._api(entry, lambda: self.simulator.configure(method, header, body, version))

    def _api(self, entry: dict[str, Any], call: Callable[[], object]) -> None:
        """Answer one API request like LiveChat, and audit it before the answer leaves."""
        started = time.monotonic()
        status, payload = 200, None
        failure: Exception | None = None
        try:
            payload = call()
        except ApiError as exc:
            entry.update(status=exc.status, error=exc.type)
            status, payload = exc.status, exc.body()
        except Exception as exc:  # an unexpected bug answers like LiveChat would, and stays visible
            entry.update(status=500, error="internal")
            status, payload = 500, ApiError("internal", "Internal server error").body()
            failure = exc
        else:
            entry["status"] = 200
            if isinstance(payload, dict) and "found_chats" in payload:
                entry.update(
                    returned=len(payload["chats"]),
                    found_chats=payload["found_chats"],
                    has_next="next_page_id" in payload,
                )
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        self.simulator.audit.record(entry)
        self._json(status, payload)
        if failure is not None:
            raise failure

    def _control(self, path: str, raw: bytes) -> None:
        sim = self.simulator
        try:
            data = json.loads(raw or b"{}")
            if path == "/_sim/reset":
                sim.reset()
                self._json(200, {"status": "reset", "chats": len(sim.store)})
            elif path == "/_sim/faults":
                if not isinstance(data, dict):
                    raise ValueError("faults: a JSON object expected")
                if data.pop("reset", False):
                    sim.faults.reset()
                config = sim.faults.configure(data)
                self._json(200, {"faults": config.to_dict()})
            elif path == "/_sim/chats":
                self._json(200, _add_chats(sim, data))
            elif path == "/_sim/webhooks":
                self._json(200, _register(sim, data))
            elif path == "/_sim/webhooks/deliver":
                self._json(200, _deliver(sim, data))
            else:
                self._json(404, ApiError("not_found", f"no route POST {path}").body())
        except ApiError as exc:
            self._json(exc.status, exc.body())
        except (ValueError, TypeError, KeyError, ChatError, TimeFormatError) as exc:
            self._json(400, ApiError("validation", str(exc)).body())

    def _visitors(self, query: Mapping[str, str]) -> None:
        sim = self.simulator
        try:
            start = parse_any(query["from"]) if "from" in query else None
            end = parse_any(query["to"]) if "to" in query else None
        except TimeFormatError as exc:
            self._json(400, ApiError("validation", str(exc)).body())
            return
        found = visitors(sim.all_chats(), start, end)
        self._json(200, {"count": len(found), "visitors": [v.to_dict() for v in found]})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _decode(raw: bytes) -> object:
    try:
        return json.loads(raw or b"null")
    except json.JSONDecodeError:
        return INVALID_JSON


def _chats_page(sim: LiveChatSimulator, query: Mapping[str, str]) -> dict[str, Any]:
    offset = int(query.get("offset", "0"))
    total = len(sim.store)
    limit = int(query.get("limit", str(total)))
    with sim.store.lock:
        numbers = range(max(0, offset), min(total, max(0, offset) + max(0, limit)))
        chats = [sim.store.chat(n) for n in numbers]
    return {"total": total, "offset": offset, "chats": chats}


def _add_chats(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
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


def _webhooks(sim: LiveChatSimulator) -> dict[str, Any]:
    return {
        "webhooks": [hook.to_dict() for hook in sim.webhooks()],
        "client_ids": list(sim.client_ids),
        "license_webhooks_enabled": sim.registry.states(sim.client_ids),
    }


def _register(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
    """A register_webhook body (owner_client_id optional, version too), without a token."""
    if not isinstance(data, dict):
        raise ValueError("a register_webhook body expected")
    fields = dict(data)
    url, secret_key = fields.pop("url", None), fields.pop("secret_key", None)
    if not isinstance(url, str) or not isinstance(secret_key, str):
        raise ValueError("url and secret_key are required strings")
    return {"id": sim.register_webhook(url, secret_key=secret_key, **fields).id}


def _deliver(sim: LiveChatSimulator, data: object) -> dict[str, Any]:
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
