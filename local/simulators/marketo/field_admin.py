"""Lead Field Management API: browse, read, create and update lead fields.

A created field is usable at once by every lead route (sync, lookups, describe, bulk import
columns): they all read the store's current schema.
"""

from __future__ import annotations

import re
from typing import Any

from .context import CallContext, Services
from .envelope import ApiError, reason
from .fielddefs import CREATABLE_TYPES, SHORT_TEXT_TYPES, FieldDef
from .leads import json_object
from .paging import page
from .schema import field_record

# "up to 100 custom fields" (leads.md), read as a limit per call
MAX_CREATE = 100
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# no special characters: letters, digits, underscores and single inner spaces
_LABEL = re.compile(r"\w+( \w+)*")
_FLAGS = {
    "isHidden": "hidden",
    "isHtmlEncodingInEmail": "html_encoding",
    "isSensitive": "sensitive",
}
CREATE_KEYS = frozenset({"displayName", "name", "dataType", "description", *_FLAGS})
UPDATE_KEYS = frozenset({"displayName", "description", *_FLAGS})


def browse(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "schema:fields"
    req = ctx.request
    fields = list(svc.store.schema.values())
    chunk, extra = page("fields", fields, req.param("nextPageToken"), req.param("batchSize"))
    ctx.records = len(chunk)
    return ctx.ok([field_record(f) for f in chunk], **extra)


def read(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "schema:field"
    ctx.records = 1
    return ctx.ok([field_record(_field(svc, ctx))])


def create(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "schema:create"
    records = _input(ctx, MAX_CREATE)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for raw in records:
        name = raw.get("name") if isinstance(raw, dict) else None
        problem, fdef = _new_field(raw)
        if fdef is None:
            out.append(_skipped(name, "1003", problem))
            continue
        keys = {"name:" + fdef.name.lower(), "label:" + fdef.label.lower()}
        if keys & seen:
            out.append(_skipped(name, "1036", f"Duplicate field '{fdef.name}' in input"))
            continue
        seen |= keys
        clash = svc.store.lead_schema.create(fdef)
        if clash is not None:
            message = f"Field '{clash}' already has this name or display name"
            out.append(_skipped(name, "1017", message))
        else:
            out.append({"name": fdef.name, "status": "created"})
    return ctx.ok(out)


def update(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "schema:update"
    current = _field(svc, ctx)
    records = _input(ctx, 1)
    problem, changes = _changes(current, records[0])
    if problem:
        return ctx.ok([_skipped(current.name, "1003", problem)])
    clash = svc.store.lead_schema.update(current.name, changes)
    if clash is not None:
        message = f"Field '{clash}' already has this display name"
        return ctx.ok([_skipped(current.name, "1017", message)])
    return ctx.ok([{"name": current.name, "status": "updated"}])


def _field(svc: Services, ctx: CallContext) -> FieldDef:
    name = ctx.path_args["fieldApiName"]
    fdef = svc.store.schema.get(name)
    if fdef is None:
        raise ApiError("1013", f"Lead field '{name}' not found")
    return fdef


def _input(ctx: CallContext, most: int) -> list[Any]:
    return ctx.counted_input(json_object(ctx).get("input"), most)


def _new_field(raw: Any) -> tuple[str, FieldDef | None]:
    """The field to create, or why it cannot be."""
    if not isinstance(raw, dict):
        return "Invalid field record", None
    unknown = sorted(set(raw) - CREATE_KEYS)
    if unknown:
        return f"Invalid attribute '{unknown[0]}'", None
    name, label, data_type = raw.get("name"), raw.get("displayName"), raw.get("dataType")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return f"Invalid name '{name}': a letter, then letters, digits or '_'", None
    problem = _label_problem(label)
    if problem:
        return problem, None
    if data_type not in CREATABLE_TYPES:
        return f"Invalid dataType '{data_type}'", None
    flags, problem = _flags(raw)
    if problem:
        return problem, None
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        return "Invalid description", None
    fdef = FieldDef(
        name,
        str(data_type),
        255 if data_type in SHORT_TEXT_TYPES else None,
        display_name=str(label).strip(),
        description=description,
        custom=True,
        api_created=True,
        **flags,
    )
    return "", fdef


def _changes(current: FieldDef, raw: Any) -> tuple[str, dict[str, Any]]:
    """The attributes to replace, or why the update is refused (leads.md's update rules)."""
    if not isinstance(raw, dict) or not raw:
        return "Invalid field record", {}
    for key in sorted(raw):
        if key not in UPDATE_KEYS:
            return f"Attribute '{key}' cannot be updated", {}
    if not current.custom and ("displayName" in raw or "isHidden" in raw):
        key = "displayName" if "displayName" in raw else "isHidden"
        return f"Attribute '{key}' of a standard field cannot be updated", {}
    if "isHidden" in raw and not current.api_created:
        return "Attribute 'isHidden' can be updated only on a field created by the API", {}
    changes, problem = _flags(raw)
    if problem:
        return problem, {}
    if "displayName" in raw:
        problem = _label_problem(raw["displayName"])
        if problem:
            return problem, {}
        changes["display_name"] = str(raw["displayName"]).strip()
    if "description" in raw:
        if raw["description"] is not None and not isinstance(raw["description"], str):
            return "Invalid description", {}
        changes["description"] = raw["description"]
    return "", changes


def _label_problem(label: Any) -> str:
    if not isinstance(label, str) or not _LABEL.fullmatch(label.strip()):
        return f"Invalid displayName '{label}': letters, digits, '_' and single spaces only"
    return ""


def _flags(raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    flags: dict[str, Any] = {}
    for key, attr in _FLAGS.items():
        if key in raw:
            if not isinstance(raw[key], bool):
                return {}, f"Invalid value for '{key}': true or false"
            flags[attr] = raw[key]
    return flags, ""


def _skipped(name: Any, code: str, message: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name} if isinstance(name, str) else {}
    out.update(status="skipped", reasons=[reason(code, message)])
    return out
