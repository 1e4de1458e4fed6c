"""The reverse proxy between the functions and moto: forwards every request as it came and,
where the configuration says so, answers in AWS's place with a delay or an error.

`GET /_faults` answers what was injected; `POST /_faults` with a configuration document
changes what will be (`{"enabled": false}` lets the harness read the world cleanly).
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.aws_faults.config import FaultConfig
from local.aws_faults.faults import APPLIED, Decision, FaultKey, Injector
from local.aws_faults.operations import identify
from local.aws_faults.wire import Answer, render
from local.serving import BackgroundServer

CONTROL_PATH = "/_faults"
UPSTREAM_TIMEOUT_SECONDS = 300  # above SQS's longest long poll and any call moto makes slow
IDLE_CLIENT_SECONDS = 300  # a kept-alive client connection idle this long is closed
# hop-by-hop: they describe one connection, not the message, so they never cross the proxy
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"}
)
# the proxy already answered `100 Continue` to the client; moto must not wait for one
_NOT_FORWARDED = frozenset({"expect"})
_NO_BODY = frozenset({204, 304})

Log = Callable[[str], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # every concurrent function copy may connect at once

    def __init__(
        self, address: tuple[str, int], injector: Injector, upstream: str, log: Log | None
    ) -> None:
        target = urlsplit(upstream)
        if target.scheme != "http" or not target.hostname:
            raise ValueError(f"the target must be an http:// URL, not {upstream!r}")
        self.injector = injector
        self.upstream = (target.hostname, target.port or 80)
        self.log = log
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    timeout = IDLE_CLIENT_SECONDS
    server: _Server

    def setup(self) -> None:
        super().setup()
        # one upstream connection per client connection, kept alive alongside it
        self._upstream: http.client.HTTPConnection | None = None

    def finish(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
        super().finish()

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _handle(self) -> None:
        body = self._read_body()
        path = urlsplit(self.path).path
        if path == CONTROL_PATH or path.startswith(CONTROL_PATH + "/"):
            self._control(path, body)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        call = identify(self.command, self.path, headers, body)
        decision = self.server.injector.decide(call)
        if decision.delay_seconds:
            time.sleep(decision.delay_seconds)
        if decision.error is None:
            self._send(self._forward(body))
            return
        if decision.after:
            self._forward(body)  # applied; its answer is lost, as behind a real 5xx
        self._report(call.service, call.operation, decision)
        self._send(render(call, decision.error, decision.request_id, self.command))

    def _report(self, service: str, operation: str, decision: Decision) -> None:
        if self.server.log is not None and decision.error is not None:
            kind = decision.error.code + (APPLIED if decision.after else "")
            self.server.log(f"aws-faults: {service} {operation} answered {kind}")

    # -- the request ----------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        """The chunked body as it came (sizes, extensions, trailers), to forward unchanged."""
        raw = bytearray()
        while True:
            line = self.rfile.readline()
            raw += line
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    trailer = self.rfile.readline()
                    raw += trailer
                    if trailer in (b"\r\n", b"\n", b""):
                        return bytes(raw)
            raw += self.rfile.read(size + 2)

    # -- forwarding -----------------------------------------------------------------------
    def _forward(self, body: bytes) -> Answer:
        try:
            return self._exchange(body)
        except TimeoutError as exc:
            return self._failure(504, f"moto did not answer in time: {exc}")
        except (OSError, http.client.HTTPException) as exc:
            return self._failure(502, f"moto cannot be reached: {exc!r}")

    def _exchange(self, body: bytes) -> Answer:
        while True:
            if self._upstream is None:
                host, port = self.server.upstream
                self._upstream = http.client.HTTPConnection(
                    host, port, timeout=UPSTREAM_TIMEOUT_SECONDS
                )
            connection = self._upstream
            reused = connection.sock is not None
            try:
                return self._send_upstream(connection, body)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                self._upstream = None
                if not reused:
                    raise
                # moto closed an idle kept-alive connection before reading this request

    def _send_upstream(self, connection: http.client.HTTPConnection, body: bytes) -> Answer:
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() not in _NOT_FORWARDED:
                connection.putheader(name, value)
        connection.endheaders(body if body else None)
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, response.getheaders(), data)

    def _failure(self, status: int, message: str) -> Answer:
        self.log_message("%s %s: %s", self.command, self.path, message)
        return Answer(status, [("Content-Type", "text/plain")], message.encode())

    # -- the answer -----------------------------------------------------------------------
    def _send(self, answer: Answer) -> None:
        self.send_response_only(answer.status)
        head = self.command == "HEAD"
        for name, value in answer.headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or (lowered == "content-length" and not head):
                continue
            self.send_header(name, value)
        if not head and answer.status not in _NO_BODY:
            self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if not head and answer.status not in _NO_BODY:
            self.wfile.write(answer.body)

    def _control(self, path: str, body: bytes) -> None:
        injector = self.server.injector
        if path != CONTROL_PATH:
            self._send_json(404, {"error": f"no such route: {path}"})
        elif self.command == "GET":
            self._send_json(200, injector.snapshot())
        elif self.command == "POST":
            try:
                document = json.loads(body or b"{}")
                if not isinstance(document, dict):
                    raise ValueError("the configuration must be a JSON object")
                injector.update(document)
            except ValueError as exc:
                self._send_json(400, {"error": str(exc)})
                return
            self._send_json(200, injector.snapshot())
        else:
            self._send_json(405, {"error": "GET or POST"})

    def _send_json(self, status: int, document: Mapping[str, Any]) -> None:
        body = json.dumps(document).encode()
        self._send(Answer(status, [("Content-Type", "application/json")], body))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per AWS call would drown the faults worth reading

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log("aws-faults: " + format % args)


class FaultProxy(BackgroundServer):
    """`with FaultProxy(moto_url, config, seed=7) as proxy:` point AWS clients at proxy.url."""

    def __init__(
        self,
        target_url: str,
        config: FaultConfig | Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Log | None = None,
    ) -> None:
        if config is None:
            config = FaultConfig()
        elif not isinstance(config, FaultConfig):
            config = FaultConfig.from_dict(config)
        self._injector = Injector(config, seed)
        server = _Server((host, port), self._injector, target_url, log)
        super().__init__(server, "aws-faults")
        self.url = f"http://{host}:{server.server_port}"

    def counts(self) -> dict[FaultKey, int]:
        """Faults injected so far: (service, operation, kind) → how many."""
        return self._injector.counts()

    def snapshot(self) -> dict[str, Any]:
        """What `GET /_faults` answers."""
        return self._injector.snapshot()

    def configure(self, document: Mapping[str, Any]) -> None:
        """What `POST /_faults` does: keys given replace, keys left out stay."""
        self._injector.update(document)


def stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
