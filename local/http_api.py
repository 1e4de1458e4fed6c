"""The stack's HTTP API on loopback: each route of template.yaml's HttpApi events, invoked
the way API Gateway invokes a function (payload format 2.0), answered as API Gateway answers.

Routes come from the template itself (every `Type: HttpApi` event of a function). Requests
are not signed here: a route the template protects with AWS_IAM is open on loopback.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.lambda_runtime import Invocation, InvocationError
from local.serving import BackgroundServer
from local.stack import TEMPLATE, load_template

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit

Invoke = Callable[[str, Any], Invocation]


def http_routes(template: dict[str, Any] | None = None) -> dict[tuple[str, str], str]:
    """(METHOD, path) → the logical id of the function that serves it."""
    template = template or load_template(TEMPLATE)
    routes: dict[tuple[str, str], str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                props = event.get("Properties", {})
                routes[(str(props["Method"]).upper(), str(props["Path"]))] = logical_id
    return routes


def api_event(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    text: str | None = None
    encoded = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1"},
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class LocalHttpApi(BackgroundServer):
    def __init__(self, invoke: Invoke, routes: dict[tuple[str, str], str]) -> None:
        self._invoke = invoke
        self.routes = routes
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        server.daemon_threads = True
        super().__init__(server, "http-api")
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                path = self.path.split("?", 1)[0]
                logical_id = api.routes.get((self.command, path))
                if logical_id is None:
                    return self._reply(404, {"message": "Not Found"})
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    return self._reply(413, {"message": "Request Entity Too Large"})
                body = self.rfile.read(length) if length else b""
                event = api_event(self.command, path, dict(self.headers.items()), body)
                try:
                    answer = api._invoke(logical_id, event).result
                except InvocationError:
                    return self._reply(500, {"message": "Internal Server Error"})
                if not isinstance(answer, dict) or "statusCode" not in answer:
                    return self._reply(200, answer)
                raw = answer.get("body") or ""
                data = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
                self.send_response(int(answer["statusCode"]))
                for name, value in (answer.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None

            def _reply(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
