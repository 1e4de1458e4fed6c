"""The REST and bulk routes the simulator serves, as Marketo names them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import leads, lists, stats
from .context import CallContext, Services
from .http_io import Request, Response

Handler = Callable[[Services, CallContext], "dict[str, Any] | Response"]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    in_swagger: bool = True

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


ROUTES: tuple[Route, ...] = (
    Route("GET", "/rest/v1/leads.json", leads.lookup),
    Route("POST", "/rest/v1/leads.json", leads.sync),
    # Older Marketo releases (and marketorestpython) delete with DELETE on leads.json.
    Route("DELETE", "/rest/v1/leads.json", leads.delete, in_swagger=False),
    Route("POST", "/rest/v1/leads/delete.json", leads.delete),
    Route("GET", "/rest/v1/leads/describe.json", leads.describe_leads),
    Route("GET", "/rest/v1/lists/{listId}/leads.json", lists.members),
    Route("POST", "/rest/v1/lists/{listId}/leads.json", lists.add),
    Route("DELETE", "/rest/v1/lists/{listId}/leads.json", lists.remove),
    Route("GET", "/rest/v1/list/{listId}/leads.json", lists.members),
    Route("GET", "/rest/v1/lists/{listId}/leads/ismember.json", lists.is_member),
    Route("GET", "/rest/v1/stats/usage.json", stats.usage),
    Route("GET", "/rest/v1/stats/errors.json", stats.errors),
    Route("POST", "/bulk/v1/leads.json", _bulk("submit")),
    Route("GET", "/bulk/v1/leads/batch/{batchId}.json", _bulk("status")),
    Route("GET", "/bulk/v1/leads/batch/{batchId}/failures.json", _bulk("failures")),
    Route("GET", "/bulk/v1/leads/batch/{batchId}/warnings.json", _bulk("warnings")),
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
