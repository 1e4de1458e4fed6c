"""What the digest shows but did not write itself (names, details, error messages, ids from
chats and answers), made safe: one visible line, clipped, e-mail and IP addresses masked.
The HTML part escapes it besides, so it can neither inject markup nor grow the mail."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime

from leadsync.mapping.sanitize import clean_text
from leadsync.runtime.clock import as_utc
from leadsync.runtime.observability import mask_email, mask_ip

_EMAIL_LIKE = re.compile(r"[^\s@<>()\[\]{}\"',;:]+@[^\s@<>()\[\]{}\"',;:]+")
_IPV4_LIKE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6_LIKE = re.compile(r"(?<![\w:.])[0-9A-Fa-f.:]{2,45}(?![\w:.])")


def clean(value: object, limit: int) -> str:
    """One visible line of at most `limit` characters, addresses masked."""
    text = clean_text(value, limit * 2) or ""
    text = scrub(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def scrub(text: str) -> str:
    """Mask e-mail addresses and IP addresses found anywhere in free text."""
    text = _EMAIL_LIKE.sub(lambda m: mask_email(m.group(0)), text)
    text = _IPV4_LIKE.sub(_mask_ip_match, text)
    return _IPV6_LIKE.sub(lambda m: _mask_ip_match(m) if m.group(0).count(":") > 1 else m[0], text)


def _mask_ip_match(match: re.Match[str]) -> str:
    candidate = match.group(0)
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return candidate
    return mask_ip(candidate)


def when(moment: datetime | None) -> str:
    """A time as the digest writes it: `2026-01-15 08:00 UTC`."""
    if moment is None:
        return "-"
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")
