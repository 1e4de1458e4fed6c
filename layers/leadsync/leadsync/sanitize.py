"""Cleaning of untrusted text: nothing from a chat reaches a destination unchecked."""

from __future__ import annotations

import re
import unicodedata

MAX_TEXT_LENGTH = 255
MAX_EMAIL_LENGTH = 254
MAX_DETAIL_LENGTH = 500

# Bidi overrides and isolates, zero-width space, word joiner, BOM: invisible text that can
# disguise a value. Zero-width (non-)joiners stay: scripts and emoji sequences need them.
_INVISIBLE = {
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200B,
    0x200E,
    0x200F,
    0x2060,
    0xFEFF,
}
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_WHITESPACE = re.compile(r"\s+")

_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_EMAIL = re.compile(rf"^(?={_LOCAL}@)(?P<local>{_LOCAL})@{_LABEL}(?:\.{_LABEL})*\.[a-z]{{2,63}}$")


def _keep(char: str) -> bool:
    if ord(char) in _INVISIBLE:
        return False
    category = unicodedata.category(char)
    return category not in ("Cc", "Cs", "Co", "Cn") or char in "\t\n\r"


def clean_text(value: object, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """A single-line, NFC, visible-characters-only string of at most `max_length`, or None.

    Numbers become text (phone numbers arrive as either); anything else that is not a
    string is discarded.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value[: max_length * 4]
    text = _ANSI_ESCAPE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = "".join(char for char in text if _keep(char))
    text = _WHITESPACE.sub(" ", text).strip()
    return text[:max_length].rstrip() or None


def normalize_email(value: object) -> str | None:
    """The address trimmed and lower-cased when it is a plausible e-mail, else None."""
    text = clean_text(value, MAX_EMAIL_LENGTH * 2)
    if text is None:
        return None
    candidate = text.lower()
    if len(candidate) > MAX_EMAIL_LENGTH:
        return None
    match = _EMAIL.match(candidate)
    if match is None or len(match.group("local")) > 64:
        return None
    return candidate
