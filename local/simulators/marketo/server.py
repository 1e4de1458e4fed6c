"""The HTTP front: standard-library threading server, one daemon thread per connection."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .http_io import Request

if TYPE_CHECKING:
    from .simulator import MarketoSimulator

# Past this size an oversize body is not even drained: the connection is just closed.
_DRAIN_LIMIT = 64 * 1024 * 1024
_CHUNK = 1 << 16


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, sim: MarketoSimulator, address: tuple[str, int]) -> None:
        self.sim = sim
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "marketo-simulator"
    sys_version = ""
    server: SimulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        # headers and body leave in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve(self) -> None:
        sim = self.server.sim
        length = int(self.headers.get("Content-Length") or 0)
        path = self.path.split("?", 1)[0]
        body = b""
        if length > sim.body_limit(path):
            if length > _DRAIN_LIMIT:
                self.close_connection = True
            else:
                self._drain(length)
        elif length > 0:
            body = self.rfile.read(length)
        req = Request(self.command, self.path, dict(self.headers.items()), body, length)
        response = sim.handle(req)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for key, value in response.headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def _drain(self, length: int) -> None:
        left = length
        while left > 0:
            chunk = self.rfile.read(min(_CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve
    do_PATCH = _serve


def make_server(sim: MarketoSimulator, host: str, port: int) -> SimulatorHTTPServer:
    return SimulatorHTTPServer(sim, (host, port))
