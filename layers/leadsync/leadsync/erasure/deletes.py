"""Erasure requests → the leads to delete, in calls Marketo accepts, logged without e-mails.

Requests come from a file (one e-mail a line, or CSV with an `email` column), a queue, or
LiveChat chats whose customer is marked by a session field or a tag. Pure: no I/O here.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, field_validator

from leadsync.mapping.livechat_to_visitor import combine_threads
from leadsync.mapping.sanitize import check_email, clean_text, normalize_email
from leadsync.marketo.models import Lead
from leadsync.runtime.clock import as_utc
from leadsync.runtime.observability import mask_email

MAX_IDS_PER_DELETE = 300
MAX_REFERENCE_LENGTH = 128
_EMAIL_COLUMN = "email"
_REFERENCE_COLUMN = "reference"
_TRUE_VALUES = frozenset({"true", "1", "yes", "y", "on"})


class ErasureSource(StrEnum):
    FILE = "file"
    QUEUE = "queue"
    LIVECHAT = "livechat"


def _reference(value: object) -> str | None:
    return clean_text(value, MAX_REFERENCE_LENGTH)


Reference = Annotated[str | None, BeforeValidator(_reference)]


class ErasureRequest(BaseModel):
    """Someone asked for the person behind `email` to be forgotten."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str
    source: ErasureSource
    requested_at: AwareDatetime
    # where the request came from: a file line, a message id, a chat id
    reference: Reference = None
    # the LiveChat customer, when known: the remembered identity goes with the lead
    customer_id: Reference = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str:
        email = normalize_email(value)
        if email is None:
            raise ValueError("not a valid e-mail address")
        return email

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


# Erasure files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str
    masked: str  # what the line held, masked: never the address in clear


@dataclass(frozen=True)
class ParsedFile:
    requests: list[ErasureRequest] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    duplicates: int = 0


def parse_erasure_file(
    text: str, *, requested_at: datetime, reference: str | None = None
) -> ParsedFile:
    """Read one e-mail a line, or CSV whose header names an `email` column.

    Blank lines and lines starting with `#` are skipped; a bad line is reported by its
    number (1-based) with its value masked; the same address twice is one request. Every
    request's reference is `<reference>:<line>` (or `line <n>` without a reference).
    """
    lines = text.removeprefix("\ufeff").splitlines()
    content = [(number, line) for number, line in enumerate(lines, 1) if _is_content(line)]
    if not content:
        return ParsedFile()
    header = _header(content[0][1])
    if header is None and "," in content[0][1]:
        no_column = LineProblem(content[0][0], "CSV header without an `email` column", "")
        return ParsedFile(problems=[no_column])
    rows = content[1:] if header is not None else content
    requests: dict[str, ErasureRequest] = {}
    problems: list[LineProblem] = []
    duplicates = 0
    for number, line in rows:
        value, row_reference, problem = _value(number, line, header)
        if problem is not None:
            problems.append(problem)
            continue
        email, reason = check_email(value)
        if email is None:
            problems.append(LineProblem(number, reason, _mask(value)))
            continue
        if email in requests:
            duplicates += 1
            continue
        where = f"{reference}:{number}" if reference else f"line {number}"
        requests[email] = ErasureRequest(
            email=email,
            source=ErasureSource.FILE,
            requested_at=requested_at,
            reference=row_reference or where,
        )
    return ParsedFile(list(requests.values()), problems, duplicates)


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _cells(line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []


def _header(line: str) -> dict[str, int] | None:
    """Column positions when `line` is a CSV header with an `email` column, else None."""
    names = [cell.strip().lower() for cell in _cells(line)]
    if _EMAIL_COLUMN not in names:
        return None
    return {name: names.index(name) for name in names if name}


def _value(
    number: int, line: str, header: dict[str, int] | None
) -> tuple[object, str | None, LineProblem | None]:
    if header is None:
        return line, None, None
    cells = _cells(line)
    position = header[_EMAIL_COLUMN]
    if position >= len(cells):
        return None, None, LineProblem(number, "the row has no `email` cell", _mask(line))
    reference_at = header.get(_REFERENCE_COLUMN)
    row_reference = (
        cells[reference_at] if reference_at is not None and reference_at < len(cells) else None
    )
    return cells[position], _reference(row_reference), None


def _mask(value: object) -> str:
    text = clean_text(value) if isinstance(value, str) else None
    return mask_email(text)[:64] if text else ""


# LiveChat markers ------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureMarkers:
    """What marks a chat's customer for erasure: a session field with a true value (`true`,
    `1`, `yes`, `y`, `on`; case-insensitive) or one of the tags. Empty: nothing does."""

    session_field: str | None = None
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, session_field: str | None = None, tags: Iterable[str] = ()) -> ErasureMarkers:
        key = clean_text(session_field) if session_field else None
        cleaned = {clean_text(tag) for tag in tags}
        return cls(
            key.casefold() if key else None,
            frozenset(tag.casefold() for tag in cleaned if tag),
        )

    @property
    def enabled(self) -> bool:
        return self.session_field is not None or bool(self.tags)


def erasures_from_chats(
    entries: Iterable[object], markers: ErasureMarkers, *, requested_at: datetime
) -> list[ErasureRequest]:
    """The customers of marked chats, one request per address they gave (profile or form).

    Takes list_archives entries as the mapping does; never raises on what the source sent.
    A marked chat without a valid address yields nothing: there is no lead to find.
    """
    if not markers.enabled:
        return []
    chats, _ = combine_threads(entries)
    found: list[ErasureRequest] = []
    for chat in chats:
        try:
            found.extend(_chat_erasures(chat, markers, requested_at))
        except Exception:  # noqa: S112 - one broken chat must not stop the others
            continue
    return collapse(found)


def _chat_erasures(
    chat: dict[str, Any], markers: ErasureMarkers, requested_at: datetime
) -> list[ErasureRequest]:
    users = [user for user in _list(chat.get("users")) if isinstance(user, dict)]
    customers = [user for user in users if user.get("type") == "customer"]
    threads = [thread for thread in _list(chat.get("threads")) if isinstance(thread, dict)]
    customer = customers[0] if customers else {}
    if not (_tagged(threads, markers) or _flagged(customer, markers)):
        return []
    agent_ids = {user.get("id") for user in users if user.get("type") == "agent"}
    answers = [
        item.get("answer")
        for thread in threads
        for event in _list(thread.get("events"))
        if isinstance(event, dict)
        and event.get("type") == "filled_form"
        and event.get("author_id") not in agent_ids
        for item in _list(event.get("fields"))
        if isinstance(item, dict) and item.get("type") == "email"
    ]
    emails = [normalize_email(value) for value in [customer.get("email"), *answers]]
    customer_id = customer.get("id")
    return [
        ErasureRequest(
            email=email,
            source=ErasureSource.LIVECHAT,
            requested_at=requested_at,
            reference=chat.get("id"),
            customer_id=customer_id if isinstance(customer_id, str) else None,
        )
        for email in dict.fromkeys(emails)
        if email is not None
    ]


def _tagged(threads: list[dict[str, Any]], markers: ErasureMarkers) -> bool:
    if not markers.tags:
        return False
    for thread in threads:
        for tag in _list(thread.get("tags")):
            cleaned = clean_text(tag) if isinstance(tag, str) else None
            if cleaned and cleaned.casefold() in markers.tags:
                return True
    return False


def _flagged(customer: dict[str, Any], markers: ErasureMarkers) -> bool:
    """`session_fields` is a list of one-key objects: [{"gdpr_erase": "true"}, ...]."""
    if markers.session_field is None:
        return False
    for pair in _list(customer.get("session_fields")):
        if not isinstance(pair, dict):
            continue
        for key, value in pair.items():
            name = clean_text(key) if isinstance(key, str) else None
            if name is None or name.casefold() != markers.session_field:
                continue
            text = clean_text(value) if isinstance(value, str | bool) else None
            if value is True or (text is not None and text.casefold() in _TRUE_VALUES):
                return True
    return False


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


# Planning the deletes --------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What one request comes to, in log-safe terms."""

    fingerprint: str
    masked: str
    source: ErasureSource
    reference: str | None
    lead_ids: tuple[int, ...]

    @property
    def found(self) -> bool:
        return bool(self.lead_ids)


@dataclass(frozen=True)
class DeletePlan:
    calls: list[list[int]] = field(default_factory=list)  # lead ids, ≤ the limit per call
    erasures: list[Erasure] = field(default_factory=list)
    not_found: int = 0

    @property
    def lead_ids(self) -> list[int]:
        return [lead_id for call in self.calls for lead_id in call]

    def summary(self) -> dict[str, Any]:
        """What may be logged: counts, fingerprints and masked addresses, never an e-mail."""
        return {
            "requests": len(self.erasures),
            "found": sum(erasure.found for erasure in self.erasures),
            "not_found": self.not_found,
            "leads": len(self.lead_ids),
            "calls": len(self.calls),
            "erasures": [
                {
                    "fingerprint": erasure.fingerprint,
                    "email": erasure.masked,
                    "source": erasure.source.value,
                    "reference": erasure.reference,
                    "lead_ids": list(erasure.lead_ids),
                }
                for erasure in self.erasures
            ],
        }


def plan_deletes(
    requests: Iterable[ErasureRequest],
    found: Mapping[str, Sequence[Lead]],
    *,
    max_per_call: int = MAX_IDS_PER_DELETE,
) -> DeletePlan:
    """Every lead Marketo holds for each requested e-mail, each id once, in calls of at most
    `max_per_call` ids. An e-mail without a lead is counted and costs no call."""
    if max_per_call < 1:
        raise ValueError("max_per_call must be at least 1")
    planned: dict[int, None] = {}
    erasures: list[Erasure] = []
    not_found = 0
    for request in collapse(requests):
        ids = tuple(sorted({lead.id for lead in found.get(request.email, ())}))
        not_found += not ids
        planned.update(dict.fromkeys(ids))
        erasures.append(
            Erasure(
                fingerprint=request.fingerprint,
                masked=mask_email(request.email),
                source=request.source,
                reference=request.reference,
                lead_ids=ids,
            )
        )
    ordered = list(planned)
    calls = [
        ordered[start : start + max_per_call] for start in range(0, len(ordered), max_per_call)
    ]
    return DeletePlan(calls=calls, erasures=erasures, not_found=not_found)
