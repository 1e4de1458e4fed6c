"""HTTP routes of the simulator: LiveChat's API paths, and the /_sim control routes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from local.simulators.livechat import control
from local.simulators.livechat.errors import INVALID_JSON, ApiError
from local.simulators.livechat.injection import BadGateway, Dropped

if TYPE_CHECKING:
    from local.simulators.livechat.server import LiveChatSimulator

API_VERSIONS = ("3.5", "3.6", "3.7")
_MAX_BODY = 64 * 1024 * 1024
_ARCHIVE_KEYS = ("filters", "page_id", "limit", "sort_order")
_SECRET_KEYS = frozenset({"secret_key"})

_GET: dict[str, Callable[[LiveChatSimulator, Mapping[str, str]], object]] = {
    "/_sim/health": lambda sim, _: control.health(sim),
    "/_sim/chats": control.chats_page,
    "/_sim/audit": lambda sim, _: control.audit(sim),
    "/_sim/faults": lambda sim, _: control.faults_state(sim),
    "/_sim/visitors": control.visitors_found,
    "/_sim/webhooks": lambda sim, _: control.webhooks(sim),
}
_POST: dict[str, Callable[[LiveChatSimulator, object], object]] = {
    "/_sim/reset": lambda sim, _: control.reset(sim),
    "/_sim/faults": control.configure_faults,
    "/_sim/pages/expire": lambda sim, _: control.expire_pages(sim),
    "/_sim/chats": control.add_chats,
    "/_sim/webhooks": control.register,
    "/_sim/webhooks/deliver": control.deliver,
}


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
        read = _GET.get(url.path)
        if read is None:
            self._json(404, control.not_found("GET", url.path).body())
            return
        try:
            self._json(200, read(self.simulator, query))
        except ValueError as exc:
            self._json(400, ApiError("validation", str(exc)).body())

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
            self._json(404, control.not_found("POST", path).body())
            return
        version, api, method = found
        body = _decode(raw)
        header = self.headers.get("Authorization")
        entry: dict[str, Any] = {"method": "POST", "path": path}
        injected: list[str] = []
        if api == "agent":
            if isinstance(body, dict):
                entry["request"] = {k: body[k] for k in _ARCHIVE_KEYS if k in body}
            self._api(entry, injected, lambda: self.simulator.archives(header, body, injected))
            return
        entry.update(api="configuration", action=method)
        if isinstance(body, dict):
            entry["request"] = {k: v for k, v in body.items() if k not in _SECRET_KEYS}
        sim = self.simulator
        self._api(entry, injected, lambda: sim.configure(method, header, body, version, injected))

    def _api(self, entry: dict[str, Any], injected: list[str], call: Callable[[], object]) -> None:
        """Answer one API request like LiveChat, and audit it before the answer leaves."""
        started = time.monotonic()
        status, payload = 200, None
        failure: Exception | None = None
        try:
            payload = call()
        except Dropped:
            entry.update(status=None, error="dropped")
            self._audit(entry, injected, started)
            self.close_connection = True  # nothing is written: the client meets a closed socket
            return
        except BadGateway as exc:
            entry.update(status=exc.status, error="bad_gateway")
            self._audit(entry, injected, started)
            self._send(exc.status, exc.content_type, exc.body)
            return
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
        self._audit(entry, injected, started)
        self._json(status, payload)
        if failure is not None:
            raise failure

    def _audit(self, entry: dict[str, Any], injected: list[str], started: float) -> None:
        if injected:
            entry["faults"] = list(injected)
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        self.simulator.audit.record(entry)

    def _control(self, path: str, raw: bytes) -> None:
        act = _POST.get(path)
        if act is None:
            self._json(404, control.not_found("POST", path).body())
            return
        try:
            self._json(200, act(self.simulator, json.loads(raw or b"{}")))
        except ApiError as exc:
            self._json(exc.status, exc.body())
        except (ValueError, TypeError, KeyError) as exc:
            self._json(400, ApiError("validation", str(exc)).body())

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send(status, "application/json; charset=utf-8", data)

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _decode(raw: bytes) -> object:
    try:
        return json.loads(raw or b"null")
    except json.JSONDecodeError:
        return INVALID_JSON
