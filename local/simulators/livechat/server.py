"""The LiveChat simulator: a real HTTP server on loopback, usable in-process or as a CLI."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.simulators.livechat.archives import PageRegistry, list_archives
from local.simulators.livechat.data import Chat, Dataset, GenerationParams
from local.simulators.livechat.errors import ApiError
from local.simulators.livechat.faults import Audit, FaultConfig, Faults
from local.simulators.livechat.store import ChatError, ChatStore
from local.simulators.livechat.timefmt import TimeFormatError, parse_any
from local.simulators.livechat.visitors import visitors

DEFAULT_ACCOUNT_ID = "leadsync-sim-account"
DEFAULT_TOKEN = "leadsync-sim-token"  # noqa: S105 - a public, simulator-only credential
DEFAULT_SCOPES = ("chats--all:ro",)
API_VERSIONS = ("3.5", "3.6", "3.7")
_READ_SCOPES = {"chats--all:ro", "chats--access:ro"}
_MAX_BODY = 64 * 1024 * 1024


class LiveChatSimulator:
    """In-process handle: `with LiveChatSimulator(params) as sim: ... sim.base_url ...`."""

    def __init__(
        self,
        params: GenerationParams | None = None,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        token: str = DEFAULT_TOKEN,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        chats: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.params = params or GenerationParams()
        self.account_id = account_id
        self._token = token
        self.scopes = frozenset(scopes)
        self.host, self.port = host, port
        self._initial_faults = faults or FaultConfig()
        self._initial_chats = [dict(chat) for chat in chats]
        self.faults = Faults(FaultConfig(**self._initial_faults.to_dict()))
        self.audit = Audit()
        self.pages = PageRegistry()
        self.store = self._fresh_store()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _fresh_store(self) -> ChatStore:
        store = ChatStore([Dataset(self.params)])
        if self._initial_chats:
            store.add_chats(self._initial_chats)
        return store

    # Life cycle

    def start(self) -> LiveChatSimulator:
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        # A short poll interval keeps stop() (and every test fixture's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="livechat-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def serve_forever(self) -> None:
        """Blocking variant for the command line."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> LiveChatSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Addresses and credentials

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What LiveChat's `https://api.livechatinc.com/v3.6/agent/action` becomes."""
        return f"{self.base_url}/v3.6/agent/action"

    @property
    def authorization(self) -> str:
        raw = f"{self.account_id}:{self._token}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    # Test controls (also reachable over HTTP under /_sim)

    def add_chats(self, chats: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
        return self.store.add_chats(chats)

    def add_generated(self, params: GenerationParams) -> int:
        return self.store.add_dataset(Dataset(params))

    def set_faults(self, **settings: Any) -> FaultConfig:
        return self.faults.configure(settings)

    def reset(self) -> None:
        """Back to the generated dataset, no faults, empty audit, no page ids."""
        self.store = self._fresh_store()
        self.faults.reset(FaultConfig(**self._initial_faults.to_dict()))
        self.audit.clear()
        self.pages.clear()

    def all_chats(self) -> list[Chat]:
        with self.store.lock:
            return list(self.store.chats())

    # Request handling (called from server threads)

    def authenticate(self, header: str | None) -> None:
        if not header or not header.startswith("Basic "):
            raise ApiError("authentication", "Invalid access token")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError("authentication", "Invalid access token") from exc
        account, _, token = decoded.partition(":")
        good_account = hmac.compare_digest(account.encode(), self.account_id.encode())
        good_token = hmac.compare_digest(token.encode(), self._token.encode())
        if not (good_account and good_token):
            raise ApiError("authentication", "Invalid access token")
        if not self.scopes & _READ_SCOPES:
            raise ApiError("authorization", "Missing scope: chats--all:ro or chats--access:ro")

    def archives(self, header: str | None, body: object) -> dict[str, Any]:
        self.authenticate(header)
        error, delay = self.faults.check()
        if delay:
            time.sleep(delay)
        if error is not None:
            raise error
        return list_archives(self.store, self.pages, body)


def _handler_for(sim: LiveChatSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        simulator = sim

    return Handler


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
        version = _archive_version(path)
        if version is None:
            self._json(404, ApiError("not_found", f"no route POST {path}").body())
            return
        self._list_archives(path, raw)

    def _list_archives(self, path: str, raw: bytes) -> None:
        sim = self.simulator
        started = time.monotonic()
        entry: dict[str, Any] = {"method": "POST", "path": path}
        body: object = None
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            body = _INVALID_JSON
        if isinstance(body, dict):
            entry["request"] = {
                k: body[k] for k in ("filters", "page_id", "limit", "sort_order") if k in body
            }
        status, payload = 200, None
        failure: Exception | None = None
        try:
            if body is _INVALID_JSON:
                sim.authenticate(self.headers.get("Authorization"))
                raise ApiError("validation", "request body must be valid JSON")
            answer = sim.archives(self.headers.get("Authorization"), body)
        except ApiError as exc:
            entry.update(status=exc.status, error=exc.type)
            status, payload = exc.status, exc.body()
        except Exception as exc:  # an unexpected bug answers like LiveChat would, and stays visible
            entry.update(status=500, error="internal")
            status, payload = 500, ApiError("internal", "Internal server error").body()
            failure = exc
        else:
            entry.update(
                status=200,
                returned=len(answer["chats"]),
                found_chats=answer["found_chats"],
                has_next="next_page_id" in answer,
            )
            payload = answer
        # recorded before the answer leaves: a client's next request is audited after this one
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        sim.audit.record(entry)
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
            else:
                self._json(404, ApiError("not_found", f"no route POST {path}").body())
        except (ValueError, TypeError, ChatError, TimeFormatError) as exc:
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


_INVALID_JSON = object()


def _archive_version(path: str) -> str | None:
    for version in API_VERSIONS:
        if path == f"/v{version}/agent/action/list_archives":
            return version
    return None


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
