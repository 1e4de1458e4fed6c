"""LiveChat's error envelope and the HTTP status each error type comes with.

LiveChat documents the error types but not their HTTP statuses. The ones below follow the
meaning of each type: the client's request is wrong (400), who asks (401) or what they may do
(403), what they ask for is missing (404) or clashes with what exists (409) or with a limit
(422), the region is wrong (421), the license has expired (402), too many requests (429).
"""

from __future__ import annotations

from typing import Any

STATUS = {
    "validation": 400,
    "unsupported_version": 400,
    "authentication": 401,
    "license_expired": 402,
    "authorization": 403,
    "missing_access": 403,
    "not_found": 404,
    "group_not_found": 404,
    "already_exists": 409,
    "ownership_transfer": 409,
    "misdirected_request": 421,
    "limit_reached": 422,
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


class InvalidJson:
    """Stands for a request body that is not JSON: it is refused after authentication."""


INVALID_JSON = InvalidJson()
