"""Custom activity metadata routes: list, create, update, describe, attributes, approve,
discard the draft, delete (activities.md, swagger `*CustomActivityType*`).

Every answer is `result: [one CustomActivityType]`; a refusal is call-level and changes
nothing. A type starts as a draft, every change goes to the draft (status `approved with
draft` once the type was approved) and only approval makes it live.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import activity_input as check
from .activity_model import DELETED, ActivityType, TypeVersion
from .context import CallContext, Services
from .envelope import ApiError
from .leads import json_object


def list_types(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """Every custom type, draft or approved: the approved version when there is one."""
    ctx.action = "activity_types:list"
    types = svc.activities.types()
    ctx.records = len(types)
    return ctx.ok([t.record(full=False) for t in types])


def create_type(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "activity_type:create"
    body = json_object(ctx)
    api_name = check.api_name(body.get("apiName"))
    version = check.version(body, None, svc.activities.attribute_id)
    ctx.records = 1
    made = svc.activities.create(api_name, version, svc.clock.now(), svc.config.max_activity_types)
    return ctx.ok([made.record(made.draft)])


def update_type(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "activity_type:update"
    body = json_object(ctx)
    found = _type(svc, ctx)
    if "apiName" in body and body["apiName"] != found.api_name:
        raise ApiError("1003", f"apiName of '{found.api_name}' cannot be changed")
    ctx.records = 1

    def edit(base: TypeVersion) -> TypeVersion:
        return check.version(body, base, svc.activities.attribute_id)

    return _changed(svc, ctx, found, edit)


def describe(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """The approved version, or with `draft=true` the draft (the approved version when there
    is no draft). A type never approved has nothing to show without `draft=true`: 1013."""
    ctx.action = "activity_type:describe"
    found = _type(svc, ctx)
    wants_draft = (ctx.request.param("draft") or "").strip().lower() == "true"
    version = (found.draft or found.approved) if wants_draft else found.approved
    if version is None:
        message = f"Activity type '{found.api_name}' has no approved version (ask draft=true)"
        raise ApiError("1013", message)
    ctx.records = 1
    return ctx.ok([found.record(version)])


def create_attributes(svc: Services, ctx: CallContext) -> dict[str, Any]:
    most = svc.config.max_activity_attributes
    new_id = svc.activities.attribute_id
    return _attributes(svc, ctx, "create", lambda items: check.add_attributes(items, most, new_id))


def update_attributes(svc: Services, ctx: CallContext) -> dict[str, Any]:
    most = svc.config.max_activity_attributes
    return _attributes(svc, ctx, "update", lambda items: check.update_attributes(items, most))


def delete_attributes(svc: Services, ctx: CallContext) -> dict[str, Any]:
    return _attributes(svc, ctx, "delete", check.delete_attributes)


def approve(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "activity_type:approve"
    found = _type(svc, ctx)
    ctx.records = 1
    done = svc.activities.approve(found.api_name, svc.clock.now())
    return ctx.ok([done.record(done.approved)])


def discard_draft(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "activity_type:discardDraft"
    found = _type(svc, ctx)
    ctx.records = 1
    done = svc.activities.discard(found.api_name, svc.clock.now())
    return ctx.ok([done.record(done.approved)])


def delete_type(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "activity_type:delete"
    found = _type(svc, ctx)
    ctx.records = 1
    gone = svc.activities.delete(found.api_name)
    return ctx.ok([gone.record(full=False, status=DELETED)])


def _attributes(
    svc: Services,
    ctx: CallContext,
    op: str,
    make_edit: Callable[[list[Any]], check.Edit],
) -> dict[str, Any]:
    ctx.action = f"activity_type:attributes:{op}"
    found = _type(svc, ctx)
    items = ctx.counted_input(
        json_object(ctx).get("attributes"),
        svc.config.records_per_call,
        missing="attributes is required",
        what="attributes",
    )
    return _changed(svc, ctx, found, make_edit(items))


def _changed(
    svc: Services, ctx: CallContext, found: ActivityType, edit: check.Edit
) -> dict[str, Any]:
    done = svc.activities.change(found.api_name, edit, svc.clock.now())
    return ctx.ok([done.record(done.draft)])


def _type(svc: Services, ctx: CallContext) -> ActivityType:
    name = ctx.path_args["apiName"]
    found = svc.activities.get(name)
    if found is None:
        raise ApiError("1013", f"Activity type '{name}' not found")
    return found
