"""Lead field validation (the rules behind record-level reasons 1003 and 1006) and the
views of the schema: describe, describe2 and the Field Management API's field records."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from .fielddefs import FieldDef

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_STRINGY = frozenset({"string", "email", "phone", "url", "text", "reference"})
_INTEGERS = frozenset({"integer", "percent", "score"})
# custom fields of these types are searchable (filterType of Get Leads by Filter Type)
_SEARCHABLE_CUSTOM = frozenset({"string", "email", "integer"})
_SEARCHABLE_STANDARD = ("id", "email")


class InvalidValue(ValueError):
    pass


def normalize(field: FieldDef, value: Any) -> Any:
    """The value as stored, or InvalidValue with Marketo-like wording."""
    if value is None:
        return None
    kind = field.data_type
    if kind in _STRINGY:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidValue(f"Invalid value for field '{field.name}'")
        text = str(value)
        if field.length is not None and len(text) > field.length:
            raise InvalidValue(f"Value for field '{field.name}' exceeds max length {field.length}")
        if kind == "email" and text and not _EMAIL.match(text):
            raise InvalidValue(f"Invalid email address '{text}'")
        return text
    if kind in _INTEGERS:
        return _integer(field, value)
    if kind in {"float", "currency"}:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise InvalidValue(f"Invalid value for field '{field.name}'") from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"true", "1", "yes"}:
            return True
        if str(value).lower() in {"false", "0", "no"}:
            return False
        raise InvalidValue(f"Invalid value for field '{field.name}'")
    if kind == "datetime":
        return _datetime(field, value)
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise InvalidValue(f"Invalid date for field '{field.name}'") from None
    return value


def _integer(field: FieldDef, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidValue(f"Invalid value for field '{field.name}'")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidValue(f"Invalid value for field '{field.name}'") from None


def _datetime(field: FieldDef, value: Any) -> str:
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(f"Invalid datetime for field '{field.name}'") from None
    if stamp.tzinfo is None:
        return stamp.strftime("%Y-%m-%dT%H:%M:%S")
    return stamp.isoformat().replace("+00:00", "Z")


def match_key(field: FieldDef, value: Any) -> Any:
    """How a stored or queried value compares: Marketo matching ignores case."""
    if value is None:
        return None
    if field.data_type in _STRINGY:
        return str(value).strip().lower()
    if field.data_type in _INTEGERS:
        try:
            return int(str(value).strip())
        except ValueError:
            return ("invalid", str(value))
    return str(value).lower()


def describe(schema: Mapping[str, FieldDef]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, f in enumerate(schema.values(), start=1):
        entry: dict[str, Any] = {
            "id": index,
            "displayName": f.label,
            "dataType": f.data_type,
            "rest": {"name": f.name, "readOnly": f.read_only},
            "soap": {"name": f.name[:1].upper() + f.name[1:], "readOnly": f.read_only},
        }
        if f.length is not None:
            entry["length"] = f.length
        out.append(entry)
    return out


def describe2(schema: Mapping[str, FieldDef]) -> list[dict[str, Any]]:
    fields: list[dict[str, Any]] = []
    for f in schema.values():
        entry: dict[str, Any] = {"name": f.name, "displayName": f.label, "dataType": f.data_type}
        if f.length is not None:
            entry["length"] = f.length
        entry.update(updateable=not f.read_only, crmManaged=False)
        fields.append(entry)
    searchable = [[n] for n in _SEARCHABLE_STANDARD if n in schema]
    searchable += [
        [f.name] for f in schema.values() if f.custom and f.data_type in _SEARCHABLE_CUSTOM
    ]
    return [{"name": "API Lead", "searchableFields": searchable, "fields": fields}]


def field_record(f: FieldDef) -> dict[str, Any]:
    """One item of the Field Management API (swagger LeadField)."""
    out: dict[str, Any] = {
        "displayName": f.label,
        "name": f.name,
        "description": f.description,
        "dataType": f.data_type,
    }
    if f.length is not None:
        out["length"] = f.length
    out.update(
        isHidden=f.hidden,
        isHtmlEncodingInEmail=f.html_encoding,
        isSensitive=f.sensitive,
        isCustom=f.custom,
        isApiCreated=f.api_created,
    )
    return out
