"""Cleaning of untrusted text: nothing from a chat reaches a destination unchecked."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

MAX_TEXT_LENGTH = 255
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64
MAX_DETAIL_LENGTH = 500

# Format characters (bidi overrides and isolates, zero-width space, word joiner, BOM, soft
# hyphen, tag characters...) are invisible and can disguise a value, so they go, except the
# zero-width (non-)joiners that scripts and emoji sequences need. So do the invisible
# fillers that make a blank look like a name.
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})
_INVISIBLE = frozenset({0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0})
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_WHITESPACE = re.compile(r"\s+")
# Anything between angle brackets is markup (tags, comments, doctypes); a lone bracket left
# over is dropped too, so no value can open a tag where Marketo inserts it into a page.
_TAG = re.compile(r"<[^<>]*>")
_BRACKETS = re.compile(r"[<>]")
# In a URL these are the characters that can close an attribute or open markup.
_URL_UNSAFE = {ord(c): f"%{ord(c):02X}" for c in " \"'<>\\^`{|}"}
_URL = re.compile(r"^https?://[^\s/?#@]+(?:[/?#]|$)", re.IGNORECASE)
_PARTIAL_ESCAPE = re.compile(r"%[0-9A-Fa-f]?$")

_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLD = r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
_EMAIL = re.compile(rf"^(?={_LOCAL}@)(?P<local>{_LOCAL})@{_LABEL}(?:\.{_LABEL})*\.{_TLD}$")
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
_NAME_ADDR = re.compile(r"^[^<>]*<(?P<address>[^<>]*)>$")
_WRAPPERS = {'"': '"', "'": "'", "(": ")", "[": "]", "<": ">"}
_TRAILING_PUNCTUATION = ".,;:"


def _keep(char: str) -> bool:
    if ord(char) in _INVISIBLE:
        return False
    category = unicodedata.category(char)
    if category == "Cf":
        return char in _KEPT_FORMAT
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


def clean_field(value: object, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """`clean_text` without markup: what may be written to a destination's text field.

    Marketo inserts field values into e-mails and pages as they are, so a tag in a name
    would become a tag in a mail; the text between tags stays.
    """
    text = clean_text(value, max_length * 4)
    if text is None:
        return None
    text = _BRACKETS.sub("", _TAG.sub(" ", text))
    text = _WHITESPACE.sub(" ", text).strip()
    return text[:max_length].rstrip() or None


def clean_url(value: object, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """An http(s) URL with the characters that could break out of an attribute encoded.

    Other schemes (`javascript:`, `data:`...) and anything without a host are no URL.
    """
    text = clean_text(value, max_length * 4)
    if text is None or not _URL.match(text):
        return None
    text = text.translate(_URL_UNSAFE)[:max_length]
    return _PARTIAL_ESCAPE.sub("", text) or None


def normalize_email(value: object) -> str | None:
    """The address trimmed and lower-cased when it is a plausible e-mail, else None."""
    return check_email(value)[0]


def check_email(value: object) -> tuple[str | None, str]:
    """(the normalised address, "") or (None, why it is not one).

    Normalised: surrounding blanks and invisible characters, a `mailto:` prefix, a display
    name around `<address>`, wrapping quotes or brackets, trailing sentence punctuation, and
    full-width forms (NFKC). Refused, because Marketo's own rules or mail servers would: more
    than one address or `@`, spaces inside, quoted local parts, IP addresses or IP literals
    for a domain, characters outside ASCII, a local part over 64 or an address over 254
    characters, a domain without a top-level domain.
    """
    if value is not None and not isinstance(value, str):
        return None, f"the e-mail is {_kind(value)}, not text"
    text = clean_text(value, MAX_EMAIL_LENGTH * 2)
    if text is None:
        return None, "the e-mail is empty"
    candidate = _unwrap(unicodedata.normalize("NFKC", text).lower())
    if len(candidate) > MAX_EMAIL_LENGTH:
        return None, f"the address is longer than {MAX_EMAIL_LENGTH} characters"
    match = _EMAIL.match(candidate)
    if match is not None and len(match.group("local")) <= MAX_LOCAL_LENGTH:
        return candidate, ""
    return None, _problem(candidate)


def _unwrap(text: str) -> str:
    text = text.rstrip(_TRAILING_PUNCTUATION)
    named = _NAME_ADDR.match(text)
    if named is not None:
        text = named.group("address").strip()
    while len(text) > 2 and _WRAPPERS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    if _MAILTO.match(text):
        text = _MAILTO.sub("", text, count=1).partition("?")[0].strip()
    return text.rstrip(_TRAILING_PUNCTUATION)


def _problem(address: str) -> str:
    local, at, domain = address.rpartition("@")
    problem = "the address is not valid"
    if not address.isascii():
        problem = "the address has characters outside ASCII"
    elif address.startswith('"'):
        problem = "quoted local parts are not accepted"
    elif address.count("@") > 1 and any(sep in address for sep in ",; "):
        problem = "the value holds several addresses"
    elif " " in address:
        problem = "the address contains spaces"
    elif not at:
        problem = "the address has no @"
    elif "@" in local:
        problem = "the address has more than one @"
    elif not local:
        problem = "the address has nothing before the @"
    elif len(local) > MAX_LOCAL_LENGTH:
        problem = f"the part before the @ is longer than {MAX_LOCAL_LENGTH} characters"
    elif domain.startswith("["):
        problem = "IP-literal domains are not accepted"
    elif _is_ip(domain):
        problem = "an IP address is not accepted as a domain"
    elif "." not in domain:
        problem = "the domain has no top-level domain"
    return problem


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list | tuple) else "an object"


def _is_ip(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return False
    return True
