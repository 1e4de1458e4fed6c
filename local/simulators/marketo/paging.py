"""Opaque paging tokens and field projection shared by lead reads."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from .envelope import ApiError
from .fielddefs import FieldDef

DEFAULT_FIELDS = ("id", "email", "firstName", "lastName", "updatedAt", "createdAt")
MAX_BATCH = 300


def encode_token(kind: str, offset: int) -> str:
    return base64.b32encode(f"{kind}:{offset}".encode()).decode().rstrip("=")


def decode_token(kind: str, token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 8)
        got_kind, offset = base64.b32decode(padded).decode().split(":")
        if got_kind != kind:
            raise ValueError(got_kind)
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("1003", f"Invalid nextPageToken '{token}'") from None


def batch_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_BATCH
    try:
        size = int(raw)
    except ValueError:
        raise ApiError("1003", f"Invalid batchSize '{raw}'") from None
    if size < 1:
        raise ApiError("1003", f"Invalid batchSize '{raw}'")
    return min(size, MAX_BATCH)


def wanted_fields(schema: Mapping[str, FieldDef], names: list[str]) -> list[str]:
    if not names:
        return list(DEFAULT_FIELDS)
    for name in names:
        if name not in schema:
            raise ApiError("1006", f"Field '{name}' not found")
    return ["id", *[n for n in names if n != "id"]]


def project(lead: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {name: lead.get(name) for name in fields}


def page[T](
    kind: str, ids: Sequence[T], token: str | None, size_raw: str | None
) -> tuple[list[T], dict[str, Any]]:
    """The items of this page and the paging keys of the envelope."""
    offset = decode_token(kind, token)
    size = batch_size(size_raw)
    chunk = list(ids[offset : offset + size])
    extra: dict[str, Any] = {"moreResult": False}
    if offset + size < len(ids):
        extra = {"moreResult": True, "nextPageToken": encode_token(kind, offset + size)}
    return chunk, extra
