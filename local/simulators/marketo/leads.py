"""Lead routes: lookup by filter, sync (create/update), delete, describe, describe2."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .context import CallContext, Services
from .envelope import ApiError, reason
from .paging import page, project, wanted_fields
from .schema import InvalidValue, describe, describe2, match_key, normalize

ACTIONS = frozenset({"createOrUpdate", "createOnly", "updateOnly", "createDuplicate"})


def lookup(svc: Services, ctx: CallContext) -> dict[str, Any]:
    req = ctx.request
    ctx.action = "lookup"
    filter_type = req.param("filterType")
    if not filter_type:
        raise ApiError("1003", "filterType is required")
    values = ctx.counted_input(
        req.csv_param("filterValues"),
        svc.config.filter_values_per_call,
        missing="filterValues is required",
        what="filterValues",
    )
    schema = svc.store.schema
    if filter_type not in schema:
        raise ApiError("1003", f"Invalid filterType '{filter_type}'")
    fields = wanted_fields(schema, req.csv_param("fields"))
    found = svc.store.matches(filter_type, values)
    ids = sorted({i for group in found.values() for i in group})
    if len(ids) > svc.config.max_lookup_matches:
        raise ApiError("1003", "Too many results match the filter")
    chunk, extra = page("lookup", ids, req.param("nextPageToken"), req.param("batchSize"))
    if svc.config.read_delay_ms > 0:
        time.sleep(svc.config.read_delay_ms / 1000.0)
    leads = [project(lead, fields) for lead in svc.store.get_many(chunk)]
    return ctx.ok(leads, **extra)


@dataclass
class _Valid:
    index: int
    key: Any
    values: dict[str, Any]


def sync(svc: Services, ctx: CallContext) -> dict[str, Any]:
    body = json_object(ctx)
    action = body.get("action") or "createOrUpdate"
    ctx.action = f"sync:{action}"
    if action not in ACTIONS:
        raise ApiError("1003", f"Invalid action '{action}'")
    lookup_field = body.get("lookupField") or "email"
    records = ctx.counted_input(body.get("input"), svc.config.records_per_call)
    schema = svc.store.schema
    if lookup_field not in schema:
        raise ApiError("1006", f"Lookup field '{lookup_field}' not found")
    if lookup_field == "id" and action != "updateOnly":
        raise ApiError("1003", "Lookup field 'id' only allowed with action updateOnly")
    _check_partition(svc, body.get("partitionName"))

    results: list[dict[str, Any] | None] = [None] * len(records)
    valid: list[_Valid] = []
    seen: set[Any] = set()
    for index, record in enumerate(records):
        problem, values = _validate(svc, record, lookup_field, action)
        key = match_key(schema[lookup_field], values.get(lookup_field))
        if problem is None and action != "createDuplicate":
            if key in seen:
                problem = reason("1036", f"Duplicate key '{values.get(lookup_field)}' in input")
            seen.add(key)
        if problem is not None:
            results[index] = {"status": "skipped", "reasons": [problem]}
        else:
            valid.append(_Valid(index, key, values))

    # Read now, write after the delay without holding the lock: overlapping upserts race.
    existing = svc.store.matches(
        lookup_field, [v.values[lookup_field] for v in valid if lookup_field in v.values]
    )
    if svc.config.write_delay_ms > 0:
        time.sleep(svc.config.write_delay_ms / 1000.0)
    # imports that finished while the write waited land first: the write wins over them
    now = svc.bulk.tick(svc)
    for item in valid:
        results[item.index] = _apply(svc, action, existing.get(item.key, []), item.values, now)
    return ctx.ok([r for r in results if r is not None])


def _validate(
    svc: Services, record: Any, lookup_field: str, action: str
) -> tuple[dict[str, str] | None, dict[str, Any]]:
    if not isinstance(record, dict):
        return reason("1003", "Invalid record"), {}
    rejected = svc.faults.record_reject()
    if rejected is not None:
        return reason(rejected), {}
    schema = svc.store.schema
    values: dict[str, Any] = {}
    for name, raw in record.items():
        fdef = schema.get(name)
        if fdef is None:
            return reason("1006", f"Field '{name}' not found"), {}
        if fdef.read_only and not (name == "id" and lookup_field == "id"):
            return reason("1003", f"Field '{name}' is read only"), {}
        try:
            values[name] = normalize(fdef, raw)
        except InvalidValue as exc:
            return reason("1003", str(exc)), {}
    if action != "createDuplicate" and values.get(lookup_field) in (None, ""):
        return reason("1003", f"Value for lookup field '{lookup_field}' not found"), {}
    return None, values


def _apply(
    svc: Services, action: str, ids: list[int], values: dict[str, Any], now: float
) -> dict[str, Any]:
    store = svc.store
    if action == "createDuplicate" or (not ids and action in {"createOnly", "createOrUpdate"}):
        return {"id": store.insert(values, now), "status": "created"}
    if not ids:
        return {"status": "skipped", "reasons": [reason("1004")]}
    if action == "createOnly":
        return {"status": "skipped", "reasons": [reason("1005")]}
    if len(ids) > 1:
        return {"status": "skipped", "reasons": [reason("1007")]}
    if store.update(ids[0], values, now):
        return {"id": ids[0], "status": "updated"}
    if action == "createOrUpdate":
        return {"id": store.insert(values, now), "status": "created"}
    return {"status": "skipped", "reasons": [reason("1004")]}


def delete(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "delete"
    ids = input_ids(svc, ctx)
    out: list[dict[str, Any]] = []
    for lead_id in ids:
        if svc.store.delete(lead_id):
            out.append({"id": lead_id, "status": "deleted"})
        else:
            out.append({"id": lead_id, "status": "skipped", "reasons": [reason("1004")]})
    return ctx.ok(out)


def describe_leads(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "describe"
    return ctx.ok(describe(svc.store.schema))


def describe_leads2(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "describe2"
    return ctx.ok(describe2(svc.store.schema))


def input_ids(svc: Services, ctx: CallContext) -> list[int]:
    """Lead ids from a JSON `input: [{id}]` body or from `id` query parameters."""
    req = ctx.request
    raw: list[Any] = []
    body = (
        req.json() if req.body and req.content_type != "application/x-www-form-urlencoded" else None
    )
    if isinstance(body, dict) and isinstance(body.get("input"), list):
        raw = [item.get("id") if isinstance(item, dict) else None for item in body["input"]]
    if not raw:
        raw = list(req.csv_param("id"))
    ids = ctx.counted_input(raw, svc.config.records_per_call, missing="No lead ids in input")
    try:
        return [int(v) for v in ids]
    except (TypeError, ValueError):
        raise ApiError("1003", "Invalid lead id in input") from None


def json_object(ctx: CallContext) -> dict[str, Any]:
    req = ctx.request
    if req.content_type not in {"application/json", "text/json", ""}:
        raise ApiError("612", f"Invalid Content Type '{req.content_type}'")
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError("609")
    return body


def _check_partition(svc: Services, name: Any) -> None:
    if name is not None and name not in svc.config.partitions:
        raise ApiError("1003", f"Invalid partition name '{name}'")
