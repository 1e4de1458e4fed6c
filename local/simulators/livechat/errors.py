"""LiveChat's error envelope and the HTTP status each error type comes with."""

from __future__ import annotations

from typing import Any

STATUS = {
    "authentication": 401,
    "authorization": 403,
    "validation": 400,
    "not_found": 404,
    "too_many_requests": 429,
    "internal": 500,
}


class ApiError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.type = error_type
        self.message = message

    @property
    def status(self) -> int:
        return STATUS.get(self.type, 500)

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "message": self.message}}
