"""The REST, asset and bulk routes the simulator serves, as Marketo names them, with the
permission areas (permissions.py) each one needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import activity_admin, activity_records, assets, field_admin, leads, lists, stats
from .context import CallContext, Services
from .http_io import Request, Response
from .permissions import (
    ACTIVITY,
    ACTIVITY_METADATA,
    ASSETS,
    BULK_IMPORT,
    LEAD_READ,
    LEAD_WRITE,
    SCHEMA,
    USAGE,
)

Handler = Callable[[Services, CallContext], "dict[str, Any] | Response"]

# Where a route is specified: Adobe's lead database Swagger (swagger-mapi.json), the asset
# API (its shapes are checked against the static-list contract instead), or nowhere (a
# legacy form some clients still send).
MAPI = "mapi"
ASSET_API = "asset"
LEGACY = "legacy"


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    needs: tuple[str, ...]
    spec: str = MAPI

    @property
    def in_swagger(self) -> bool:
        return self.spec == MAPI

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(self.template)


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{regex}$")


def _bulk(name: str) -> Handler:
    def call(svc: Services, ctx: CallContext) -> dict[str, Any] | Response:
        method: Handler = getattr(svc.bulk, name)
        return method(svc, ctx)

    return call


_READ = (LEAD_READ,)
_WRITE = (LEAD_WRITE,)
# Marketo asks for Read-Write Lead on every bulk import call
_BULK = (BULK_IMPORT, LEAD_WRITE)
_FIELDS = "/rest/v1/leads/schema/fields"
# Read-Only or Read-Write Activity Metadata for types and attributes, (Read-Only / Read-Write)
# Activity for records; the swagger names them in each operation's "Required Permissions"
_META = (ACTIVITY_METADATA,)
_ACTIVITY = (ACTIVITY,)
_TYPE = "/rest/v1/activities/external/type/{apiName}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/rest/v1/leads.json", leads.lookup, _READ),
    Route("POST", "/rest/v1/leads.json", leads.sync, _WRITE),
    # Older Marketo releases (and marketorestpython) delete with DELETE on leads.json.
    Route("DELETE", "/rest/v1/leads.json", leads.delete, _WRITE, spec=LEGACY),
    Route("POST", "/rest/v1/leads/delete.json", leads.delete, _WRITE),
    Route("GET", "/rest/v1/leads/describe.json", leads.describe_leads, _READ),
    Route("GET", "/rest/v1/leads/describe2.json", leads.describe_leads2, _READ),
    Route("GET", f"{_FIELDS}.json", field_admin.browse, (SCHEMA,)),
    Route("POST", f"{_FIELDS}.json", field_admin.create, (SCHEMA,)),
    Route("GET", _FIELDS + "/{fieldApiName}.json", field_admin.read, (SCHEMA,)),
    Route("POST", _FIELDS + "/{fieldApiName}.json", field_admin.update, (SCHEMA,)),
    Route("GET", "/rest/v1/lists.json", lists.browse, _READ),
    Route("GET", "/rest/v1/lists/{listId}.json", lists.get, _READ),
    Route("GET", "/rest/v1/lists/{listId}/leads.json", lists.members, _READ),
    Route("POST", "/rest/v1/lists/{listId}/leads.json", lists.add, _WRITE),
    Route("DELETE", "/rest/v1/lists/{listId}/leads.json", lists.remove, _WRITE),
    Route("GET", "/rest/v1/list/{listId}/leads.json", lists.members, _READ),
    Route("GET", "/rest/v1/lists/{listId}/leads/ismember.json", lists.is_member, _READ),
    Route("GET", "/rest/v1/stats/usage.json", stats.usage, (USAGE,)),
    Route("GET", "/rest/v1/stats/errors.json", stats.errors, (USAGE,)),
    Route("POST", "/rest/asset/v1/staticLists.json", assets.create_list, (ASSETS,), ASSET_API),
    Route("GET", "/rest/asset/v1/staticList/byName.json", assets.by_name, (ASSETS,), ASSET_API),
    Route("GET", "/rest/v1/activities/types.json", activity_records.activity_types, _ACTIVITY),
    Route("GET", "/rest/v1/activities/pagingtoken.json", activity_records.paging_token, _ACTIVITY),
    Route("GET", "/rest/v1/activities.json", activity_records.read, _ACTIVITY),
    Route("POST", "/rest/v1/activities/external.json", activity_records.add, _ACTIVITY),
    Route("GET", "/rest/v1/activities/external/types.json", activity_admin.list_types, _META),
    Route("POST", "/rest/v1/activities/external/type.json", activity_admin.create_type, _META),
    Route("POST", f"{_TYPE}.json", activity_admin.update_type, _META),
    Route("GET", f"{_TYPE}/describe.json", activity_admin.describe, _META),
    Route("POST", f"{_TYPE}/attributes/create.json", activity_admin.create_attributes, _META),
    Route("POST", f"{_TYPE}/attributes/update.json", activity_admin.update_attributes, _META),
    Route("POST", f"{_TYPE}/attributes/delete.json", activity_admin.delete_attributes, _META),
    Route("POST", f"{_TYPE}/approve.json", activity_admin.approve, _META),
    Route("POST", f"{_TYPE}/discardDraft.json", activity_admin.discard_draft, _META),
    Route("POST", f"{_TYPE}/delete.json", activity_admin.delete_type, _META),
    Route("POST", "/bulk/v1/leads.json", _bulk("submit"), _BULK),
    Route("GET", "/bulk/v1/leads/batch/{batchId}.json", _bulk("status"), _BULK),
    Route("GET", "/bulk/v1/leads/batch/{batchId}/failures.json", _bulk("failures"), _BULK),
    Route("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json", _bulk("warnings"), _BULK),
)

_COMPILED = tuple((r, r.pattern) for r in ROUTES)


def effective_method(req: Request) -> str:
    """POST with `_method=GET` (query or form body) is a GET, as Marketo allows for long URIs."""
    if req.method == "POST":
        override = req.query.get("_method") or req.form().get("_method") or []
        if override and override[0].upper() == "GET":
            return "GET"
    return req.method


def resolve(req: Request) -> tuple[Route | None, dict[str, str], bool]:
    """(route, path arguments, path known under another method)."""
    method = effective_method(req)
    known = False
    for route, pattern in _COMPILED:
        m = pattern.match(req.path)
        if m is None:
            continue
        known = True
        if route.method == method:
            return route, m.groupdict(), True
    return None, {}, known
