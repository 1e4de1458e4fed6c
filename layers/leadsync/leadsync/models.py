"""The canonical model: what every source maps into and every destination maps out of."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from leadsync.mapping.sanitize import (
    MAX_DETAIL_LENGTH,
    MAX_TEXT_LENGTH,
    clean_field,
    clean_text,
    clean_url,
    normalize_email,
)

MAX_TAGS = 50
MAX_TAG_LENGTH = 100
MAX_ID_LENGTH = 128
MAX_EXCERPT_LENGTH = 500
MAX_PRECHAT_ANSWERS = 20


def _text(value: object) -> str | None:
    return clean_field(value, MAX_TEXT_LENGTH)


def _url(value: object) -> str | None:
    return clean_url(value, MAX_TEXT_LENGTH)


def _quoted(value: object) -> str | None:
    return clean_text(value, MAX_TEXT_LENGTH)


def _detail(value: object) -> str:
    return clean_text(value, MAX_DETAIL_LENGTH) or ""


def _excerpt(value: object) -> str | None:
    return clean_text(value, MAX_EXCERPT_LENGTH)


def _ids(value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("must be a list of ids")
    cleaned = {clean_text(item, MAX_ID_LENGTH) for item in value}
    return sorted(item for item in cleaned if item)


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("must be a list of tags")
    cleaned = {clean_field(item, MAX_TAG_LENGTH) for item in value}
    return sorted(item for item in cleaned if item)[:MAX_TAGS]


def _prechat(value: object) -> dict[str, str]:
    """Question → answer, both cleaned like other text; blanks dropped, at most 20 kept.

    Anything but a mapping is no answers at all (as text that is not a string is no text).
    When there are too many, the questions first in sorted order are kept: the same input
    always keeps the same answers.
    """
    if not isinstance(value, dict):
        return {}
    cleaned: dict[str, str] = {}
    for question, answer in value.items():
        key, text = clean_field(question), clean_field(answer)
        if key and text:
            cleaned[key] = text
    return {key: cleaned[key] for key in sorted(cleaned)[:MAX_PRECHAT_ANSWERS]}


def _email(value: object) -> str:
    email = normalize_email(value)
    if email is None:
        raise ValueError("not a valid e-mail address")
    return email


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


# An e-mail address, normalised (mapping/sanitize.py); anything that is none is refused.
Email = Annotated[str, BeforeValidator(_email)]
# Text a destination may show: one line, visible characters, no markup, at most 255.
Text = Annotated[str | None, BeforeValidator(_text)]
# An http(s) URL whose quotes and brackets are percent-encoded.
Url = Annotated[str | None, BeforeValidator(_url)]
# What a source sent, cleaned only enough to be stored and shown safely (escaped) later.
Quoted = Annotated[str | None, BeforeValidator(_quoted)]
IdList = Annotated[list[str], BeforeValidator(_ids)]
TagList = Annotated[list[str], BeforeValidator(_tags)]
PrechatAnswers = Annotated[dict[str, str], BeforeValidator(_prechat)]
CustomerId = Annotated[str | None, BeforeValidator(lambda v: clean_text(v, MAX_ID_LENGTH))]


class Visitor(BaseModel):
    """One person who chatted, keyed by e-mail; every text value cleaned on the way in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: Email
    first_name: Text = None
    last_name: Text = None
    phone: Text = None
    country: Text = None
    region: Text = None
    city: Text = None
    timezone: Text = None
    first_chat_at: AwareDatetime | None = None
    last_chat_at: AwareDatetime | None = None
    chat_count: int = Field(default=1, ge=0)
    referrer: Url = None
    landing_page: Url = None
    tags: TagList = Field(default_factory=list)
    chat_ids: IdList = Field(default_factory=list)
    # pre-chat survey answers, question (the form field's label) → answer
    prechat: PrechatAnswers = Field(default_factory=dict)
    # the source's own id of the person (LiveChat's customer id), when it gave one
    customer_id: CustomerId = None

    @field_validator("first_chat_at", "last_chat_at")
    @classmethod
    def _times(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class RejectionReason(StrEnum):
    MISSING_EMAIL = "missing_email"
    INVALID_EMAIL = "invalid_email"
    NO_CUSTOMER = "no_customer"
    MALFORMED_CHAT = "malformed_chat"
    RECORD_TOO_LARGE = "record_too_large"


class Rejection(BaseModel):
    """A chat that could not become a visitor, with enough to understand and replay it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chat_id: Annotated[str, BeforeValidator(lambda v: clean_text(v, MAX_ID_LENGTH) or "unknown")]
    reason: RejectionReason
    detail: Annotated[str, BeforeValidator(_detail)] = ""
    value: Quoted = None
    # the start of an entry that has no usable chat id: the only trace of it
    excerpt: Annotated[str | None, BeforeValidator(_excerpt)] = None
