"""The `/_sim/*` endpoints: test and operations controls, no authentication."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .clock import parse_start_time
from .http_io import Request, Response

if TYPE_CHECKING:
    from .simulator import MarketoSimulator

Op = Callable[["MarketoSimulator", Request], Any]


def handle(sim: MarketoSimulator, req: Request) -> Response:
    op = _OPS.get((req.method, req.path))
    if op is None:
        return Response.json({"error": f"no such endpoint: {req.method} {req.path}"}, 404)
    try:
        return Response.json(op(sim, req))
    except (ValueError, TypeError, KeyError) as exc:
        return Response.json({"error": str(exc)}, 400)


def _body(req: Request) -> Any:
    if not req.body:
        return {}
    return json.loads(req.body.decode("utf-8"))


def _health(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    base_url = sim.base_url if sim.running else None
    return {"status": "ok", "now": sim.clock.iso(), "base_url": base_url}


def _clock(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    if req.method == "POST":
        body = _body(req)
        if "advance_seconds" in body:
            sim.clock.advance(float(body["advance_seconds"]))
        if "advance_to" in body:
            target = body["advance_to"]
            epoch = float(target) if isinstance(target, int | float) else parse_start_time(target)
            if epoch is not None:
                sim.clock.advance_to(epoch)
    now = sim.clock.now()
    local = datetime.fromtimestamp(now, sim.limits.tz)
    return {
        "now": sim.clock.iso(now),
        "epoch": now,
        "offset_seconds": sim.clock.offset,
        "quota_day": local.date().isoformat(),
        "quota_local_time": local.isoformat(),
    }


def _faults(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    if req.method == "POST":
        return sim.set_faults(_body(req)).to_dict()
    return sim.faults.current.to_dict()


def _config(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    if req.method == "POST":
        return sim.set_config(_body(req)).to_dict()
    return sim.config.to_dict()


def _audit(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    since = int(req.param("since") or 0)
    raw_limit = req.param("limit")
    return sim.audit(since, int(raw_limit) if raw_limit else None)


def _leads(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    if req.method == "POST":
        body = _body(req)
        leads = body.get("leads") if isinstance(body, dict) else body
        if not isinstance(leads, list):
            raise ValueError('POST /_sim/leads takes a list of leads or {"leads": [...]}')
        return {"ids": sim.seed_leads(leads)}
    leads = sim.leads()
    emails = {email.strip().lower() for email in req.params("email") if email.strip()}
    if emails:
        leads = [lead for lead in leads if str(lead.get("email") or "").lower() in emails]
    return {"count": len(leads), "leads": leads}


def _lists(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    if req.method == "POST":
        body = _body(req)
        raw_id = body.get("id")
        list_id = sim.store.add_list(int(raw_id) if raw_id else None, str(body.get("name", "")))
        members = [int(i) for i in body.get("members", [])]
        if members:
            sim.store.list_op(list_id, members, "add")
        return {"id": list_id}
    return {"lists": sim.store.lists()}


def _activities(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    items = sim.activities(req.param("type") or None)
    return {"count": len(items), "activities": items, "types": sim.activity_types()}


def _reset(sim: MarketoSimulator, req: Request) -> dict[str, Any]:
    sim.reset()
    return {"status": "reset", "now": sim.clock.iso()}


_OPS: dict[tuple[str, str], Op] = {
    ("GET", "/_sim/health"): _health,
    ("GET", "/_sim/clock"): _clock,
    ("POST", "/_sim/clock"): _clock,
    ("GET", "/_sim/faults"): _faults,
    ("POST", "/_sim/faults"): _faults,
    ("GET", "/_sim/config"): _config,
    ("POST", "/_sim/config"): _config,
    ("GET", "/_sim/audit"): _audit,
    ("GET", "/_sim/leads"): _leads,
    ("POST", "/_sim/leads"): _leads,
    ("GET", "/_sim/lists"): _lists,
    ("POST", "/_sim/lists"): _lists,
    ("GET", "/_sim/activities"): _activities,
    ("POST", "/_sim/reset"): _reset,
}
