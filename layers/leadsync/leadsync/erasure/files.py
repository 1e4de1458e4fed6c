"""Erasure files: one e-mail a line, or CSV whose header names an `email` column (and maybe a
`reference`). A bad line is reported by its number with its value masked, never in clear."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime

from leadsync.erasure.request import ErasureRequest, ErasureSource, clean_reference
from leadsync.mapping.sanitize import check_email, clean_text
from leadsync.runtime.observability import mask_email

_EMAIL_COLUMN = "email"
_REFERENCE_COLUMN = "reference"


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
    return cells[position], clean_reference(row_reference), None


def _mask(value: object) -> str:
    text = clean_text(value) if isinstance(value, str) else None
    return mask_email(text)[:64] if text else ""
