"""An erasure request: someone asked for the person behind an e-mail to be forgotten. Requests
come from a file (files.py), the erasure queue, or marked LiveChat chats (chats.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, field_validator

from leadsync.mapping.sanitize import clean_text
from leadsync.models import Email
from leadsync.runtime.clock import as_utc

MAX_REFERENCE_LENGTH = 128


class ErasureSource(StrEnum):
    FILE = "file"
    QUEUE = "queue"
    LIVECHAT = "livechat"


def clean_reference(value: object) -> str | None:
    return clean_text(value, MAX_REFERENCE_LENGTH)


Reference = Annotated[str | None, BeforeValidator(clean_reference)]


class ErasureRequest(BaseModel):
    """Someone asked for the person behind `email` to be forgotten."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: Email
    source: ErasureSource
    requested_at: AwareDatetime
    # where the request came from: a file line, a message id, a chat id
    reference: Reference = None
    # the LiveChat customer, when known: the remembered identity goes with the lead
    customer_id: Reference = None

    @field_validator("requested_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.email)


def fingerprint(email: str) -> str:
    """A stable, log-safe name for an address: the start of its SHA-256."""
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def collapse(requests: Iterable[ErasureRequest]) -> list[ErasureRequest]:
    """One request per e-mail, the earliest asked for kept (its source and reference)."""
    kept: dict[str, ErasureRequest] = {}
    for request in requests:
        known = kept.get(request.email)
        if known is None or request.requested_at < known.requested_at:
            kept[request.email] = request
    return list(kept.values())
