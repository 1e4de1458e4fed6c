"""Loopback ports, readiness checks and JSON exchanges with the local world's servers."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, deadline_seconds: float = 30.0) -> None:
    """Poll `url` until it answers anything at all, or fail after the deadline."""
    deadline = time.monotonic() + deadline_seconds
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last_error = exc
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {deadline_seconds} s: {last_error}")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())
