"""Static list routes of the lead database API: lists, one list, add, remove, membership,
members."""

from __future__ import annotations

from typing import Any

from .clock import iso_utc
from .context import CallContext, Services
from .envelope import ApiError
from .leads import input_ids
from .paging import page, project, wanted_fields
from .store import StaticList


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
    return _membership(svc, ctx, "add")


def remove(svc: Services, ctx: CallContext) -> dict[str, Any]:
    return _membership(svc, ctx, "remove")


def is_member(svc: Services, ctx: CallContext) -> dict[str, Any]:
    return _membership(svc, ctx, "ismember")


def _membership(svc: Services, ctx: CallContext, op: str) -> dict[str, Any]:
    """Add to, remove from or test membership of one static list, for the leads of the input."""
    ctx.action = f"list:{op}"
    list_id = _list_id(svc, ctx)
    return ctx.ok(svc.store.list_op(list_id, input_ids(svc, ctx), op))


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


def browse(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """Lists matching every given filter (one of the values of each), ordered by id."""
    ctx.action = "lists:browse"
    req = ctx.request
    try:
        ids = {int(v) for v in req.csv_param("id")}
    except ValueError:
        raise ApiError("1003", "Invalid id in input") from None
    names = set(req.csv_param("name"))
    programs = set(req.csv_param("programName"))
    workspaces = set(req.csv_param("workspaceName"))
    found = [
        s
        for s in svc.store.list_records()
        if (not ids or s.id in ids)
        and (not names or s.name in names)
        and (not programs or s.program_name in programs)
        and (not workspaces or s.workspace_name in workspaces)
    ]
    chunk, extra = page("lists", found, req.param("nextPageToken"), req.param("batchSize"))
    ctx.records = len(chunk)
    return ctx.ok([list_record(s) for s in chunk], **extra)


def get(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "lists:get"
    list_id = _list_id(svc, ctx)
    ctx.records = 1
    return ctx.ok([list_record(s) for s in svc.store.list_records() if s.id == list_id])


def list_record(s: StaticList) -> dict[str, Any]:
    """One item of Get Lists (swagger StaticList): unset optional members left out."""
    out: dict[str, Any] = {"id": s.id, "name": s.name}
    if s.description is not None:
        out["description"] = s.description
    if s.program_name is not None:
        out["programName"] = s.program_name
    out.update(
        workspaceName=s.workspace_name,
        createdAt=iso_utc(s.created_at),
        updatedAt=iso_utc(s.updated_at),
    )
    return out
