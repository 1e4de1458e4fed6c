"""MarketoSimulator: ties the parts together and runs the pipeline every REST call goes through."""

from __future__ import annotations

import sys
import time
from typing import Any, Self

from local.serving import BackgroundServer, Served

from . import ops, permissions
from .activity_access import ActivityAccess
from .activity_store import ActivityStore
from .audit import AuditEntry, AuditLog
from .auth import Token, TokenStore, bearer_token, identity_answer
from .bulk import BulkImports
from .clock import SimClock, parse_start_time
from .config import RUNTIME_FIXED, FaultConfig, SimulatorConfig
from .context import CallContext, Services
from .envelope import UNCOUNTED_CODES, ApiError, RequestIds, failure
from .faults import CallFault, FaultInjector
from .http_io import Request, Response
from .limits import LimitState
from .routes import resolve
from .store import LeadStore

IDENTITY_PATH = "/identity/oauth/token"
EDGE_PAGE = "<html><body><h1>{status}</h1></body></html>"


class MarketoSimulator(Served, ActivityAccess):
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        cfg = self.config
        self.clock = SimClock(parse_start_time(cfg.start_time))
        self._initial_faults = cfg.faults
        self._ids = RequestIds(cfg.seed)
        self.tokens = TokenStore(cfg.users(), cfg.token_lifetime, cfg.seed)
        self.faults = FaultInjector(cfg.faults, cfg.seed)
        self.limits = LimitState(cfg, cfg.faults)
        self.limits.set_faults(cfg.faults, self.clock.now())
        self.store = LeadStore(cfg.schema(), cfg.static_lists(), self.clock.now)
        self.audit_log = AuditLog(cfg.audit_max_entries)
        self.bulk = BulkImports()
        # no custom activity type, fresh or not: the product's `check --fix` makes its own
        self.activity_store = ActivityStore()
        self.svc = Services(
            cfg,
            self.clock,
            self.store,
            self.limits,
            self.faults,
            self.audit_log,
            self.bulk,
            self.activity_store,
        )
        self._serving: BackgroundServer | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Self:
        from .server import make_server

        server = make_server(self, self.config.host, self.config.port)
        self._serving = BackgroundServer(server, "marketo-simulator").start()
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    @property
    def running(self) -> bool:
        return self._serving is not None

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("the simulator is not started")
        return self._serving.server.server_port

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    # -- in-process controls (the /_sim endpoints call these too) -------------------------
    def set_faults(self, changes: dict[str, Any] | None = None, **kw: Any) -> FaultConfig:
        merged = {**(changes or {}), **kw}
        new = self._initial_faults if merged.pop("reset", False) else self.faults.current
        seed = merged.pop("seed", None)
        new = new.update(merged)
        if seed is not None:
            self.faults.reseed(int(seed))
        self.faults.current = new
        self.limits.set_faults(new, self.clock.now())
        return new

    def set_config(self, changes: dict[str, Any]) -> SimulatorConfig:
        refused = sorted(k for k in changes if k.replace("-", "_") in RUNTIME_FIXED)
        if refused:
            raise ValueError(f"not changeable at runtime: {', '.join(refused)}")
        self.config = self.config.updated(changes)
        self.svc.config = self.config
        self.limits.configure(self.config, self.faults.current)
        self.tokens.lifetime = self.config.token_lifetime
        self.bulk.wake()  # more running slots may start a queued import
        return self.config

    def reset(self) -> None:
        """Back to the configured instance (leads, fields, lists, no custom activity type nor
        activity); forget tokens, counters, audit and imports; the clock stays."""
        self.store.reset()
        self.activity_store.reset()
        self.tokens.clear()
        self.limits.reset()
        self.audit_log.reset()
        self.bulk.reset()
        self.set_faults(reset=True)

    def audit(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        now = self.clock.now()
        out = self.audit_log.summary(since, limit)
        out.update(self.limits.snapshot(now))
        out["bulk_faults"] = self.bulk.fault_counts()
        out["window_seconds"] = self.config.window_seconds
        out["calls_per_window"] = self.config.calls_per_window
        out["max_in_flight"] = self.config.max_in_flight
        out["daily_quota"] = self.config.daily_quota
        out["now"] = self.clock.iso(now)
        return out

    def leads(self) -> list[dict[str, Any]]:
        self.bulk.tick(self.svc)
        return self.store.all_leads()

    def seed_leads(self, leads: list[dict[str, Any]]) -> list[int]:
        now = self.bulk.tick(self.svc)
        out = []
        for lead in leads:
            values = {k: v for k, v in lead.items() if k not in {"id", "createdAt", "updatedAt"}}
            raw_id = lead.get("id")
            out.append(self.store.insert(values, now, int(raw_id) if raw_id else None))
        return out

    # -- the pipeline ---------------------------------------------------------------------
    def body_limit(self, path: str) -> int:
        if path.startswith("/bulk/"):
            return self.config.bulk_max_body_bytes
        return self.config.max_body_bytes

    def handle(self, req: Request) -> Response:
        if req.path.startswith("/_sim/"):
            self.bulk.tick(self.svc)  # the controls read and seed the store as it is now
            return ops.handle(self, req)
        started = time.perf_counter()
        # interned: 100k+ audit entries share a handful of distinct method/path strings
        entry = AuditEntry(
            0,
            self.clock.now(),
            sys.intern(req.method),
            sys.intern(req.path),
            "",
            None,
            0,
            200,
            (),
            (),
            False,
            0.0,
            self.limits.in_flight,
        )
        try:
            response = self._serve(req, entry)
        except Exception as exc:  # the simulator must answer like Marketo, never crash
            entry.errors = ("611",)
            response = Response.json(failure(self._ids.next(), "611", f"System error: {exc}"))
        entry.http_status = response.status
        entry.duration_ms = (time.perf_counter() - started) * 1000.0
        self.audit_log.add(entry, self.limits.day(entry.time))
        return response

    def _serve(self, req: Request, entry: AuditEntry) -> Response:
        if len(req.target.encode("utf-8")) > self.config.max_uri_bytes:
            entry.action = "refused:uri"
            return Response.text(414, EDGE_PAGE.format(status="414 Request-URI Too Large"))
        if max(len(req.body), req.declared_length) > self.body_limit(req.path):
            entry.action = "refused:body"
            return Response.text(413, EDGE_PAGE.format(status="413 Request Entity Too Large"))
        if req.path == IDENTITY_PATH:
            entry.action = "identity"
            return self._identity(req)
        edge = self.faults.edge()
        if edge is not None:
            entry.action = "fault:edge"
            return Response.text(edge, EDGE_PAGE.format(status=edge))
        token = self._authenticate(req)
        if isinstance(token, str):
            return self._error(entry, token)
        entry.user = token.user_id
        route, args, known = resolve(req)
        if route is None and known:
            return self._error(entry, "605")
        fault = self.faults.call()
        counted = fault.counted
        admission = self.limits.admit(token.user_id, self.clock.now(), counted, req.path)
        entry.in_flight_at_start = admission.in_flight
        entry.counted = counted and (admission.code is None or self.config.count_refused_calls)
        if admission.code is not None:
            return self._error(entry, admission.code, admission.message)
        try:
            return self._admitted(req, entry, token, route, args, fault)
        finally:
            self.limits.release()

    def _admitted(
        self,
        req: Request,
        entry: AuditEntry,
        token: Token,
        route: Any,
        args: dict[str, str],
        fault: CallFault,
    ) -> Response:
        if fault.latency_s > 0:
            time.sleep(fault.latency_s)
        if route is None:
            return self._error(entry, "610")
        if not permissions.allowed(route.needs, self.config.denied_permissions):
            entry.action = "denied"
            return self._error(entry, "603")
        ctx = CallContext(req, self._ids.next(), token.user_id, args)
        if fault.code == "604" and not fault.timeout_after_apply:
            return self._timeout(entry, fault)
        if fault.code in {"611", "713"}:
            return self._error(entry, fault.code)
        # Marketo imports on its own clock: whatever a call reads or writes, every import
        # that finished before it has landed, and the call's writes come after it
        self.bulk.tick(self.svc)
        try:
            outcome = route.handler(self.svc, ctx)
            response = outcome if isinstance(outcome, Response) else Response.json(outcome)
        except ApiError as exc:
            response = Response.json(failure(ctx.request_id, exc.code, exc.message))
            entry.errors = (exc.code,)
        entry.action, entry.records = sys.intern(ctx.action), ctx.records
        entry.reasons = tuple(sys.intern(r) for r in ctx.reasons)
        if fault.code == "604":
            return self._timeout(entry, fault)
        return response

    def _timeout(self, entry: AuditEntry, fault: CallFault) -> Response:
        time.sleep(self.faults.current.timeout_delay_ms / 1000.0)
        entry.errors = ("604",)
        if fault.drop:
            entry.action = entry.action or "fault:drop"
            return Response(0, drop=True)
        return Response.json(failure(self._ids.next(), "604"))

    def _error(self, entry: AuditEntry, code: str, message: str | None = None) -> Response:
        entry.errors = (code,)
        if code in UNCOUNTED_CODES:
            entry.counted = False
        return Response.json(failure(self._ids.next(), code, message))

    def _authenticate(self, req: Request) -> Token | str:
        """The caller's token, or the error code. Only the Authorization header counts: since
        2026-08-31 Marketo ignores an access_token query or form parameter."""
        value = bearer_token(req.headers.get("authorization", ""))
        if value is None:
            return "603"
        return self.tokens.check(
            value, self.clock.now(), self.faults.current.token_expire_every_calls
        )

    def _identity(self, req: Request) -> Response:
        return identity_answer(self.tokens, req, self.clock.now())
