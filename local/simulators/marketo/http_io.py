"""Transport-neutral request and response, and the body parsers Marketo accepts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .envelope import ApiError


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    # Content-Length as announced, when the server refused to keep an oversize body
    declared_length: int = 0

    def __post_init__(self) -> None:
        parts = urlsplit(self.target)
        self.path = parts.path
        self.query: dict[str, list[str]] = parse_qs(parts.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        self._form: dict[str, list[str]] | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def form(self) -> dict[str, list[str]]:
        if self._form is None:
            self._form = {}
            if self.content_type == "application/x-www-form-urlencoded" and self.body:
                self._form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return self._form

    def param(self, name: str) -> str | None:
        """Query first, then a form-urlencoded body (POST ..?_method=GET)."""
        values = self.params(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        return self.query.get(name) or self.form().get(name) or []

    def csv_param(self, name: str) -> list[str]:
        """`a,b` or repeated `name=a&name=b`, both as Marketo accepts them."""
        out: list[str] = []
        for raw in self.params(name):
            out.extend(v.strip() for v in raw.split(",") if v.strip())
        return out

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError("609") from None

    def multipart(self) -> dict[str, tuple[bytes, str | None]]:
        """field name -> (content, filename)."""
        header = self.headers.get("content-type", "")
        if self.content_type != "multipart/form-data":
            raise ApiError("612", f"Invalid Content Type '{self.content_type}'")
        try:
            message: Message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + self.body
            )
        except Exception:  # any parser failure means a malformed request
            raise ApiError("613") from None
        if not message.is_multipart():
            raise ApiError("613")
        out: dict[str, tuple[bytes, str | None]] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            out[str(name)] = (payload, part.get_filename())
        return out


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json;charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(payload, separators=(",", ":")).encode("utf-8"))

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/html") -> Response:
        return cls(status, text.encode("utf-8"), content_type)
