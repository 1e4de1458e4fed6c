"""Marketo's answer envelope, error codes and request ids."""

from __future__ import annotations

import itertools
import threading
from typing import Any

# Codes marked `*` in Marketo's error table: they cost neither quota nor rate.
UNCOUNTED_CODES = frozenset({"601", "602", "604", "605", "608", "611"})
LIMIT_CODES = frozenset({"606", "607", "615"})

MESSAGES: dict[str, str] = {
    "502": "Bad Gateway",
    "601": "Access token invalid",
    "602": "Access token expired",
    "603": "Access denied",
    "604": "Request timed out",
    "605": "HTTP Method not supported",
    "606": "Max rate limit '100' exceeded with in '20' secs",
    "607": "Daily quota reached",
    "608": "API Temporarily Unavailable",
    "609": "Invalid JSON",
    "610": "Requested resource not found",
    "611": "System error",
    "612": "Invalid Content Type",
    "613": "Invalid Multipart Request",
    "615": "Concurrent access limit reached",
    "701": "Cannot be blank",
    "709": "Business Rule Violation",
    "713": "Transient Error",
    "1003": "Invalid data",
    "1004": "Lead not found",
    "1005": "Lead already exists",
    "1006": "Field not found",
    "1007": "Multiple lead match lookup criteria",
    "1013": "Object not found",
    "1015": "Lead not in list",
    "1016": "Too many imports",
    "1017": "Object already exists",
    "1019": "Import in progress",
    "1036": "Duplicate key in input",
}


class ApiError(Exception):
    """A call-level error: the whole call did nothing."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, "Error"))
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")


class RequestIds:
    """Unique ids shaped like Marketo's (`hex#hex`)."""

    def __init__(self, seed: int) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._salt = (seed * 2654435761) & 0xFFFF

    def next(self) -> str:
        with self._lock:
            n = next(self._counter)
        return f"{(n ^ self._salt) & 0xFFFF:x}#{n:012x}"


def reason(code: str, message: str | None = None) -> dict[str, str]:
    return {"code": code, "message": message or MESSAGES.get(code, "Error")}


def success(request_id: str, result: list[Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request_id, "result": result, "success": True}
    body.update(extra)
    body.setdefault("errors", [])
    body.setdefault("warnings", [])
    return body


def failure(request_id: str, code: str, message: str | None = None) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "success": False,
        "result": [],
        "errors": [reason(code, message)],
        "warnings": [],
    }
