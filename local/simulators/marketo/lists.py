"""Static list routes: add, remove, membership, members."""

from __future__ import annotations

from typing import Any

from .context import CallContext, Services
from .envelope import ApiError
from .leads import input_ids
from .paging import page, project, wanted_fields


def _list_id(svc: Services, ctx: CallContext) -> int:
    raw = ctx.path_args["listId"]
    try:
        list_id = int(raw)
    except ValueError:
        raise ApiError("1003", f"Invalid listId '{raw}'") from None
    if not svc.store.has_list(list_id):
        raise ApiError("1013", f"Static list '{list_id}' not found")
    return list_id


def add(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "list:add"
    list_id = _list_id(svc, ctx)
    return ctx.ok(svc.store.list_op(list_id, input_ids(svc, ctx), "add"))


def remove(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "list:remove"
    list_id = _list_id(svc, ctx)
    return ctx.ok(svc.store.list_op(list_id, input_ids(svc, ctx), "remove"))


def is_member(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "list:ismember"
    list_id = _list_id(svc, ctx)
    return ctx.ok(svc.store.list_op(list_id, input_ids(svc, ctx), "ismember"))


def members(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "list:members"
    list_id = _list_id(svc, ctx)
    req = ctx.request
    fields = wanted_fields(svc.store.schema, req.csv_param("fields"))
    chunk, extra = page(
        f"list{list_id}",
        svc.store.members(list_id),
        req.param("nextPageToken"),
        req.param("batchSize"),
    )
    leads = [project(lead, fields) for lead in svc.store.get_many(chunk)]
    ctx.records = len(leads)
    return ctx.ok(leads, **extra)
