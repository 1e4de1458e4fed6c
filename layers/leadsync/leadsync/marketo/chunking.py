"""Pure splitting: which inputs go in which call, so that no call passes a Marketo limit.

Greedy and order-preserving: inputs keep their order inside a call and calls follow each
other in input order, so results map back to inputs by position.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlencode

COMPACT = (",", ":")


@dataclass(frozen=True)
class Packing:
    chunks: list[list[int]] = field(default_factory=list)  # input indices per call
    oversized: list[int] = field(default_factory=list)  # inputs too big for any call


def pack(
    sizes: Sequence[int],
    *,
    max_items: int,
    max_bytes: int,
    overhead: int = 0,
    separator: int = 1,
) -> Packing:
    """Calls of ≤ max_items inputs whose `overhead + sizes + separators` stay ≤ max_bytes."""
    if max_items < 1:
        raise ValueError("max_items must be positive")
    out = Packing()
    current: list[int] = []
    used = overhead
    for index, size in enumerate(sizes):
        if overhead + size > max_bytes:
            out.oversized.append(index)
            continue
        extra = size + (separator if current else 0)
        if current and (len(current) >= max_items or used + extra > max_bytes):
            out.chunks.append(current)
            current, used, extra = [], overhead, size
        current.append(index)
        used += extra
    if current:
        out.chunks.append(current)
    return out


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON: the bytes measured are the bytes sent."""
    return json.dumps(value, separators=COMPACT, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class JsonArrayBody:
    """`{...head, "input": [items]}` built from pre-encoded items, so its size is known exactly."""

    head: Mapping[str, Any]
    key: str = "input"

    @property
    def prefix(self) -> bytes:
        opening = encode_json(dict(self.head))[:-1]  # drop the closing brace
        comma = b"," if self.head else b""
        return opening + comma + encode_json(self.key) + b":["

    @property
    def overhead(self) -> int:
        return len(self.prefix) + len(b"]}")

    def build(self, items: Sequence[bytes]) -> bytes:
        return self.prefix + b",".join(items) + b"]}"


def query_string(params: Mapping[str, str]) -> str:
    return urlencode(params, quote_via=quote_plus)


def lookup_value_size(value: str) -> int:
    """Bytes one filter value adds to a query or form body once URL-encoded."""
    return len(quote_plus(value))


# A comma inside filterValues is encoded as %2C: three bytes between two values.
FILTER_SEPARATOR = len(quote_plus(","))
