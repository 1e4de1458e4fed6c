"""Generation parameters: the size, the seed, the time window and the mix of odd cases."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.simulators.livechat.timefmt import parse_any

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_END = datetime(2026, 1, 31, tzinfo=UTC)


@dataclass(frozen=True)
class GenerationParams:
    """Everything that decides a dataset; the same params always give the same chats."""

    seed: int = 1
    chats: int = 100
    start: datetime = DEFAULT_START
    end: datetime = DEFAULT_END
    agents: int = 3
    # E-mail of the customer (one kind per visitor). The rest of 1.0 has no e-mail at all.
    email_profile: float = 0.50  # valid, in users[].email
    email_form_only: float = 0.15  # users[].email missing or "", valid in the pre-chat form
    email_messy: float = 0.08  # upper case and surrounding whitespace: valid once trimmed
    email_invalid: float = 0.10  # "not-an-email", "a@", spaces...: no usable e-mail anywhere
    # Geolocation: full, partial (keys missing or empty); the rest has none.
    geo_full: float = 0.70
    geo_partial: float = 0.15
    returning: float = 0.25  # a chat by a visitor seen in an earlier chat
    same_email_new_device: float = 0.02  # a new customer id reusing a known visitor's e-mail
    multi_thread: float = 0.15  # chats with 2..4 threads
    unicode_name: float = 0.15
    hostile: float = 0.05  # markup, control characters, injections in names, answers, referrer
    huge_value: float = 0.01  # a 10 kB value somewhere in the chat
    active: float = 0.03  # the last thread still running
    tags: tuple[str, ...] = field(default=())  # empty: the built-in tag list

    def __post_init__(self) -> None:
        if self.chats < 0:
            raise ValueError("chats must be >= 0")
        if self.agents < 1:
            raise ValueError("agents must be >= 1")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        for name in _FRACTIONS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        email_total = self.email_profile + self.email_form_only + self.email_messy
        if email_total + self.email_invalid > 1.0 + 1e-9:
            raise ValueError("e-mail fractions add up to more than 1")
        if self.geo_full + self.geo_partial > 1.0 + 1e-9:
            raise ValueError("geolocation fractions add up to more than 1")

    @property
    def email_none(self) -> float:
        rest = 1.0 - self.email_profile - self.email_form_only - self.email_messy
        return max(0.0, rest - self.email_invalid)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat()
        out["end"] = self.end.isoformat()
        out["tags"] = list(self.tags)
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GenerationParams:
        """Build from JSON-like data (config files, HTTP bodies); unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown generation parameters: {sorted(unknown)}")
        values: dict[str, Any] = dict(data)
        for key in ("start", "end"):
            if isinstance(values.get(key), str):
                values[key] = parse_any(values[key])
        if "tags" in values:
            values["tags"] = tuple(str(tag) for tag in values["tags"])
        return cls(**values)

    def replace(self, **changes: Any) -> GenerationParams:
        return dataclasses.replace(self, **changes)


_FRACTIONS = tuple(
    f.name for f in dataclasses.fields(GenerationParams) if f.type in ("float", float)
)
