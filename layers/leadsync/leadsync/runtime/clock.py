"""Time helpers: UTC everywhere, one fixed-width ISO format that sorts as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffff+00:00`: fixed width, so string order is time order."""
    return as_utc(moment).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
