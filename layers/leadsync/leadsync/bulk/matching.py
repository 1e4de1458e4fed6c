"""Rows of failures.json / warnings.json → the source records they came from.

Marketo answers the rows it failed or warned about in the submitted format with a last
column for the reason, and no row number: rows are matched back by content. Cells are
compared as Marketo may have normalised them (case, spacing, number and time formats), and
each source record is matched at most once, so two similar rows never claim the same
record. In order: the whole row, then the e-mail, then the closest content. A row that
matches nothing is returned as unmatched, for a person to read.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from leadsync.bulk.csvfile import DELIMITER, LOOKUP_FIELD

REASON_COLUMNS = ("import failure reason", "import warning reason")
# row-by-source comparisons the closest-content pass may make; past that the rows it would
# have matched are returned unmatched (stored for a person) rather than a function timing out
MAX_COMPARISONS = 5_000_000


@dataclass(frozen=True)
class ResultRow:
    """One row Marketo reported: its cells by column, and its reason."""

    cells: Mapping[str, str]
    reason: str


@dataclass(frozen=True)
class Match:
    row: ResultRow
    index: int | None  # the source record's position; None when nothing matched


def parse_result_file(content: bytes, delimiter: str = DELIMITER) -> list[ResultRow]:
    """The rows of a failures or warnings file (the header names the columns; the reason is
    the column named so, else the last)."""
    text = content.decode("utf-8-sig", errors="replace")
    table = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if not table:
        return []
    header = [name.strip() for name in table[0]]
    folded = [name.casefold() for name in header]
    reason_at = next(
        (i for i, name in enumerate(folded) if name in REASON_COLUMNS), len(header) - 1
    )
    rows = []
    for raw in table[1:]:
        cells = {
            header[i]: value
            for i, value in enumerate(raw)
            if i < len(header) and i != reason_at and header[i]
        }
        reason = raw[reason_at].strip() if reason_at < len(raw) else ""
        rows.append(ResultRow(cells, reason))
    return rows


def norm(value: str) -> str:
    """A cell as compared: spacing and case folded; numbers, booleans and times canonical."""
    text = " ".join(value.split()).casefold()
    if not text:
        return ""
    if text in {"true", "false"}:
        return text
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return repr(int(number)) if number.is_integer() else repr(number)
    if len(text) >= 10 and text[4:5] == "-" and text[7:8] == "-":
        try:
            moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment.isoformat()
    return text


def _normalised(cells: Mapping[str, str]) -> dict[str, str]:
    """Column names folded too; blank cells left out (a blank cell carries nothing)."""
    out = {}
    for name, value in cells.items():
        key = name.strip().casefold()
        text = norm(value)
        if key and text:
            out[key] = text
    return out


def _fingerprint(cells: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(cells.items()))


def _score(row: Mapping[str, str], source: Mapping[str, str]) -> int:
    return sum(1 for name, value in row.items() if source.get(name) == value)


def match_rows(sources: Sequence[Mapping[str, str]], rows: Sequence[ResultRow]) -> list[Match]:
    """Each reported row with the index of its source row (the cells as written), or None.

    A row is matched by its whole content, else by its e-mail, else by the source that
    shares the most cells with it, provided that is more than half of the row's cells and
    no other source shares as many."""
    wanted = [_normalised(source) for source in sources]
    by_print: dict[tuple[tuple[str, str], ...], list[int]] = defaultdict(list)
    by_email: dict[str, list[int]] = defaultdict(list)
    for index, cells in enumerate(wanted):
        by_print[_fingerprint(cells)].append(index)
        if LOOKUP_FIELD in cells:
            by_email[cells[LOOKUP_FIELD]].append(index)
    used: set[int] = set()
    found: list[int | None] = [None] * len(rows)
    normal = [_normalised(row.cells) for row in rows]

    def take(candidates: list[int], row: Mapping[str, str]) -> int | None:
        free = [i for i in candidates if i not in used]
        if not free:
            return None
        best = max(free, key=lambda i: _score(row, wanted[i]))
        used.add(best)
        return best

    # exact content first, so that a near-duplicate never takes an exact row's record
    for n, cells in enumerate(normal):
        found[n] = take(by_print.get(_fingerprint(cells), []), cells)
    for n, cells in enumerate(normal):
        if found[n] is None and cells.get(LOOKUP_FIELD):
            found[n] = take(by_email.get(cells[LOOKUP_FIELD], []), cells)
    left = [n for n, cells in enumerate(normal) if found[n] is None and cells]
    if len(left) * (len(wanted) - len(used)) > MAX_COMPARISONS:
        left = []
    for n in left:
        cells = normal[n]
        scored = sorted(
            ((_score(cells, wanted[i]), i) for i in range(len(wanted)) if i not in used),
            reverse=True,
        )
        if not scored:
            continue
        best, index = scored[0]
        unique = len(scored) == 1 or scored[1][0] < best
        if best * 2 > len(cells) and unique:
            used.add(index)
            found[n] = index
    return [Match(row, index) for row, index in zip(rows, found, strict=True)]
