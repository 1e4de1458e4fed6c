"""Usage and error statistics for today, in the quota time zone."""

from __future__ import annotations

from typing import Any

from .context import CallContext, Services


def usage(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "stats:usage"
    day, users = svc.limits.usage(svc.clock.now())
    entry = {
        "date": day,
        "total": sum(users.values()),
        "users": [{"userId": u, "count": n} for u, n in sorted(users.items())],
    }
    return ctx.ok([entry])


def errors(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "stats:errors"
    day = svc.limits.day(svc.clock.now())
    counts = svc.audit.errors_on(day)
    entry = {
        "date": day,
        "total": sum(counts.values()),
        "errors": [{"errorCode": c, "count": n} for c, n in sorted(counts.items())],
    }
    return ctx.ok([entry])
