"""The field map against the lead schema: which mapped fields are missing or cannot hold
what leadsync writes into them, and the custom fields to create for the missing ones."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from leadsync.mapping.fieldmap import FieldMap, FieldRule
from leadsync.marketo.schema import LeadField, NewField

Writes = Literal["text", "email", "phone", "url", "datetime", "integer", "float", "boolean"]

# what leadsync writes from each visitor attribute
_SOURCE_WRITES: dict[str, Writes] = {
    "email": "email",
    "phone": "phone",
    "first_chat_at": "datetime",
    "last_chat_at": "datetime",
    "chat_count": "integer",
    "referrer": "url",
    "landing_page": "url",
}
# the Marketo data types that take each kind of value without refusing it (1003)
_FITS: dict[Writes, frozenset[str]] = {
    "text": frozenset({"string", "text"}),
    "email": frozenset({"email", "string", "text"}),
    "phone": frozenset({"phone", "string", "text"}),
    "url": frozenset({"url", "string", "text"}),
    "datetime": frozenset({"datetime"}),
    "integer": frozenset({"integer", "float", "score"}),
    "float": frozenset({"float", "currency"}),
    "boolean": frozenset({"boolean"}),
}
# the type a missing field is created with: the API creates no text areas
_CREATE_AS: dict[Writes, str] = {k: "string" if k == "text" else k for k in _FITS}
_CUT = frozenset({"text", "email", "phone", "url"})

FieldProblemReason = Literal["field_missing", "field_type", "field_length", "field_read_only"]


class FieldProblem(BaseModel):
    """One mapped field that would make Marketo refuse leadsync's writes."""

    model_config = ConfigDict(frozen=True)

    field: str
    reason: FieldProblemReason
    detail: str
    fix: str


def summary(found: Iterable[FieldProblem]) -> str:
    """`field_missing: livechatTags, livechatChatCount; field_type: phone`."""
    by_reason: dict[str, list[str]] = {}
    for problem in found:
        by_reason.setdefault(problem.reason, []).append(problem.field)
    return "; ".join(f"{reason}: {', '.join(names)}" for reason, names in by_reason.items())


def writes(rule: FieldRule) -> Writes:
    if rule.source is not None:
        return _SOURCE_WRITES.get(rule.source, "text")
    value = rule.value
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return "float" if isinstance(value, float) else "text"


def problems(fmap: FieldMap, schema: Iterable[LeadField]) -> list[FieldProblem]:
    """What stands between the field map and a clean write, in the map's order."""
    known = {f.name.lower(): f for f in schema}
    out: list[FieldProblem] = []
    for name, rule in fmap.fields.items():
        field = known.get(name.lower())
        kind = writes(rule)
        if field is None:
            out.append(_missing(name, kind))
        elif field.data_type not in _FITS[kind]:
            out.append(
                FieldProblem(
                    field=name,
                    reason="field_type",
                    detail=f"{name} is a {field.data_type} field; leadsync writes {kind} into it",
                    fix=(
                        f"map another field of type {' or '.join(sorted(_FITS[kind]))} in "
                        "field_map.toml (a field's type cannot be changed through the API)"
                    ),
                )
            )
        elif not field.updateable:
            out.append(
                FieldProblem(
                    field=name,
                    reason="field_read_only",
                    detail=f"{name} is read-only for the API",
                    fix=f"remove {name} from field_map.toml, or map a writable field",
                )
            )
        elif kind in _CUT and field.length and rule.max_length > field.length:
            out.append(
                FieldProblem(
                    field=name,
                    reason="field_length",
                    detail=(
                        f"{name} holds {field.length} characters; the field map writes up to "
                        f"{rule.max_length}"
                    ),
                    fix=f"set max_length = {field.length} for {name} in field_map.toml",
                )
            )
    return out


def _missing(name: str, kind: Writes) -> FieldProblem:
    return FieldProblem(
        field=name,
        reason="field_missing",
        detail=f"the instance has no lead field {name}",
        fix=(
            f"run `leadsync check --fix`, or create {name} ({_CREATE_AS[kind]}) in Marketo "
            "Admin > Field Management"
        ),
    )


def fields_to_create(fmap: FieldMap, found: Sequence[FieldProblem]) -> list[NewField]:
    """A custom field for each missing one, of the type leadsync's values fit."""
    missing = {p.field for p in found if p.reason == "field_missing"}
    return [
        NewField.model_validate(
            {
                "name": name,
                "displayName": display_name(name),
                "dataType": _CREATE_AS[writes(rule)],
                "description": "Written by leadsync from LiveChat",
            }
        )
        for name, rule in fmap.fields.items()
        if name in missing
    ]


def display_name(name: str) -> str:
    """`livechatFirstChat` → `LiveChat First Chat`: Marketo wants a unique, plain label."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").split()
    label = " ".join(w[:1].upper() + w[1:] for w in words)
    return re.sub(r"^Livechat\b", "LiveChat", label)


def fingerprint(fmap: FieldMap) -> str:
    """Changes whenever the field map does: a stored verdict holds for one map only."""
    return hashlib.sha256(fmap.model_dump_json().encode()).hexdigest()[:16]
