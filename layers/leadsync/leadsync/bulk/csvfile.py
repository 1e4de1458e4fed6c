"""Records → CSV files for `POST /bulk/v1/leads.json`, each just under the file limit.

A file's header is the union of its records' fields (the lookup field, e-mail, first); a
record without one of them leaves the cell blank, and Marketo leaves a blank cell's field as
it is. So a record carries only the fields the fetch decided to write, as on the REST path,
and a protected value Marketo holds is never overwritten. What a blank cell cannot say is
"make this field empty": a record holding an empty value stays on the REST path.

Sizes are counted exactly as the file is rendered (quoting included), so a file never
crosses the limit and every file but the last is filled close to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from leadsync.sync.messages import FieldValue, SyncRecord

LOOKUP_FIELD = "email"
DELIMITER = ","
NEWLINE = "\n"
# Marketo takes an import body under 10 MB (10,485,760 bytes); the multipart envelope around
# the file (form fields, boundaries) needs far less than this headroom
BULK_BODY_LIMIT = 10_485_760
DEFAULT_MAX_FILE_BYTES = BULK_BODY_LIMIT - 65_536
_SPECIAL = frozenset({DELIMITER, '"', "\r", "\n"})


def cell(value: FieldValue) -> str:
    """A field value as Marketo reads it from a CSV cell (before quoting)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def quoted(text: str) -> str:
    """A cell as written: quoted (quotes doubled) only when it must be."""
    if any(char in _SPECIAL for char in text):
        return '"' + text.replace('"', '""') + '"'
    return text


def ineligible(record: SyncRecord) -> str | None:
    """Why a record cannot travel in an import file; None when it can.

    An import is an insert-or-update by e-mail that answers no lead id: a create whose id
    the run's list operations wait for, an update by id that is not also the only lead of
    its e-mail, an e-mail change and a value to clear need the REST path."""
    if record.announce:
        return "announce"
    if record.action == "update" and not record.by_email:
        return "update_by_id"
    if record.fields.get(LOOKUP_FIELD, record.email) != record.email:
        return "email_change"
    if any(cell(value) == "" for value in record.fields.values()):
        return "empty_value"
    return None


def row_values(record: SyncRecord) -> dict[str, str]:
    """The record's cells by column: its e-mail and every field it writes."""
    values = {name: cell(value) for name, value in record.fields.items() if name != "id"}
    values[LOOKUP_FIELD] = record.email
    return values


def header_of(records: Iterable[SyncRecord]) -> list[str]:
    names: set[str] = set()
    for record in records:
        names.update(row_values(record))
    names.discard(LOOKUP_FIELD)
    return [LOOKUP_FIELD, *sorted(names)]


def render(records: Sequence[SyncRecord]) -> bytes:
    """The CSV file of `records`: the header, then one row per record, in order."""
    header = header_of(records)
    lines = [DELIMITER.join(quoted(name) for name in header)]
    for record in records:
        values = row_values(record)
        lines.append(DELIMITER.join(quoted(values.get(name, "")) for name in header))
    return (NEWLINE.join(lines) + NEWLINE).encode()


@dataclass
class _Sizer:
    """The exact size of a file as records join it: header + cells + one delimiter per
    column boundary and one newline per row, a new column widening every row already in."""

    columns: set[str] = field(default_factory=lambda: {LOOKUP_FIELD})
    header_bytes: int = len(LOOKUP_FIELD.encode()) + len(NEWLINE)
    cell_bytes: int = 0
    rows: int = 0

    @property
    def size(self) -> int:
        return self.header_bytes + self.cell_bytes + self.rows * len(self.columns)

    def with_record(self, cells: dict[str, int]) -> tuple[int, list[str]]:
        """(size after adding a row of these cell sizes, the new columns it brings)."""
        new = [name for name in cells if name not in self.columns]
        header = self.header_bytes + sum(len(quoted(name).encode()) + 1 for name in new)
        columns = len(self.columns) + len(new)
        return header + self.cell_bytes + sum(cells.values()) + (self.rows + 1) * columns, new

    def add(self, cells: dict[str, int], new: list[str]) -> None:
        self.header_bytes += sum(len(quoted(name).encode()) + 1 for name in new)
        self.columns.update(new)
        self.cell_bytes += sum(cells.values())
        self.rows += 1


@dataclass(frozen=True)
class FilePlan:
    files: list[list[SyncRecord]]
    oversized: list[SyncRecord]


def pack_files(records: Sequence[SyncRecord], max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> FilePlan:
    """Greedy, order-keeping packing into files of at most `max_bytes`. A record whose
    e-mail is already in the file waits for the next one (one row per lead and file: two rows
    of one e-mail in one import would race each other); a record too big for any file is set
    apart."""
    if max_bytes < 64:
        raise ValueError("a file limit must leave room for a header and a row")
    files: list[list[SyncRecord]] = []
    oversized: list[SyncRecord] = []
    pending = list(records)
    while pending:
        waiting: list[SyncRecord] = []
        current: list[SyncRecord] = []
        emails: set[str] = set()
        sizer = _Sizer()
        for record in pending:
            cells = {name: len(quoted(text).encode()) for name, text in row_values(record).items()}
            if record.email in emails:
                waiting.append(record)
                continue
            size, new = sizer.with_record(cells)
            if size > max_bytes:
                alone, _ = _Sizer().with_record(cells)
                if alone > max_bytes:
                    oversized.append(record)
                    continue
                files.append(current)
                current, emails, sizer = [], set(), _Sizer()
                size, new = sizer.with_record(cells)
            sizer.add(cells, new)
            current.append(record)
            emails.add(record.email)
        if current:
            files.append(current)
        pending = waiting
    return FilePlan(files, oversized)
