"""LiveChat's timestamp formats, as integers of microseconds since the epoch internally."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The filter format livechat.md documents: microseconds and a numeric offset are both required.
_FILTER_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})([+-])(\d{2}):(\d{2})$"
)


class TimeFormatError(ValueError):
    """A timestamp that the API would reject."""


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise TimeFormatError("naive datetime: a time zone is required")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


_MINUTE_PREFIXES: dict[int, str] = {}


def format_api(micros: int) -> str:
    """How LiveChat writes timestamps in chat objects: UTC, microseconds, a `Z`."""
    # Timestamps of a chat cluster within minutes: caching the prefix per minute makes this
    # several times faster than datetime.strftime on large datasets.
    seconds, fraction = divmod(micros, 1_000_000)
    minute, second = divmod(seconds, 60)
    prefix = _MINUTE_PREFIXES.get(minute)
    if prefix is None:
        if len(_MINUTE_PREFIXES) > 100_000:
            _MINUTE_PREFIXES.clear()
        t = time.gmtime(minute * 60)
        prefix = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
        _MINUTE_PREFIXES[minute] = prefix
    return f"{prefix}{second:02d}.{fraction:06d}Z"


def parse_api(text: str) -> int:
    """Inverse of format_api, also lenient about offsets (chats added through /_sim)."""
    return to_micros(parse_any(text))


def format_filter(moment: datetime) -> str:
    """The format list_archives expects in `filters.from` / `filters.to`."""
    if moment.tzinfo is None:
        raise TimeFormatError("naive datetime: a time zone is required")
    return moment.isoformat(timespec="microseconds")


def parse_filter(text: object) -> int:
    """Parse `filters.from` / `filters.to` strictly; raise TimeFormatError otherwise."""
    if not isinstance(text, str):
        raise TimeFormatError("must be a string")
    match = _FILTER_RE.match(text)
    if match is None:
        raise TimeFormatError(
            "must be RFC 3339 with microseconds: YYYY-MM-DDTHH:MM:SS.ssssss+HH:MM"
        )
    year, month, day, hour, minute, second, micro, sign, off_h, off_m = match.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m))
    if offset >= timedelta(hours=24):
        raise TimeFormatError("offset out of range")
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(micro),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise TimeFormatError(str(exc)) from exc
    return to_micros(moment - offset if sign == "+" else moment + offset)


def parse_any(text: str) -> datetime:
    """Lenient parsing for configuration and command lines (`Z`, no fraction, dates)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise TimeFormatError(f"not an ISO 8601 timestamp: {text!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
