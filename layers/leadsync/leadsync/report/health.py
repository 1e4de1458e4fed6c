"""Is leadsync healthy? Every probe at once, each answer explained.

Healthy means: LiveChat and Marketo answer and take their credentials, the last successful
hourly run is recent, nothing waits in the dead-letter queue, the day's Marketo budget is
not spent, and the circuit breaker is closed. Anything else is a reason, and the HTTP
answer is 503 with the reasons. A probe that fails is a reason of its own; it never hides
the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadsync.runtime.clock import iso_utc

if TYPE_CHECKING:
    from leadsync.readiness.verdict import SchemaVerdict

Probe = Callable[[], Any]


@dataclass(frozen=True)
class HealthSettings:
    max_run_age: timedelta = timedelta(hours=2)
    # the dead-letter queue may hold this many messages and still be healthy
    max_dead_letters: int = 0


@dataclass(frozen=True)
class Budget:
    used: int
    left: int
    cap: int
    quota_exhausted: bool = False


@dataclass
class HealthReport:
    healthy: bool
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return 200 if self.healthy else 503

    def body(self) -> dict[str, Any]:
        return {
            "status": "healthy" if self.healthy else "unhealthy",
            "reasons": self.reasons,
            "checks": self.checks,
        }


def schema_stop(verdict: SchemaVerdict | None) -> str:
    """What the functions' last look at the lead schema found that stops the writes ("" when
    nothing does, or when they have not looked yet)."""
    return f"configuration / {verdict.summary()}" if verdict and verdict.problems else ""


def _failure(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def assess(
    *,
    now: datetime,
    livechat: Probe,
    marketo: Probe,
    last_run: Callable[[], datetime | None],
    queue_depths: Mapping[str, Callable[[], int]],
    dead_letter_queue: str,
    budget: Callable[[], Budget],
    breaker: Callable[[], str],
    settings: HealthSettings | None = None,
    schema: Callable[[], str] | None = None,
) -> HealthReport:
    """`schema` answers what stops the writes ("" when the lead schema fits the field map)."""
    settings = settings or HealthSettings()
    probes: dict[str, Probe] = {
        "livechat": livechat,
        "marketo": marketo,
        "last_run": last_run,
        "budget": budget,
        "breaker": breaker,
        **({"schema": schema} if schema is not None else {}),
        **{f"queue:{name}": depth for name, depth in queue_depths.items()},
    }
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {name: pool.submit(probe) for name, probe in probes.items()}
    answers: dict[str, Any] = {}
    report = HealthReport(healthy=True)
    for name, future in futures.items():
        error = future.exception()
        if error is not None:
            report.reasons.append(f"{name}: check failed: {_failure(error)}")
            report.checks[name] = {"ok": False, "error": _failure(error)}
        else:
            answers[name] = future.result()

    for name in ("livechat", "marketo"):
        if name in answers:
            report.checks[name] = {"ok": True}
    if "last_run" in answers:
        mark: datetime | None = answers["last_run"]
        if mark is None:
            report.reasons.append("last_run: no successful run yet")
            report.checks["last_run"] = {"ok": False, "at": None}
        else:
            age = now - mark
            ok = age <= settings.max_run_age
            report.checks["last_run"] = {
                "ok": ok,
                "at": iso_utc(mark),
                "age_minutes": round(age.total_seconds() / 60, 1),
            }
            if not ok:
                report.reasons.append(
                    f"last_run: the last successful run was {age.total_seconds() / 3600:.1f} h "
                    f"ago (more than {settings.max_run_age.total_seconds() / 3600:g} h)"
                )
    for name in queue_depths:
        key = f"queue:{name}"
        if key not in answers:
            continue
        depth = int(answers[key])
        ok = name != dead_letter_queue or depth <= settings.max_dead_letters
        report.checks[key] = {"ok": ok, "depth": depth}
        if not ok:
            report.reasons.append(
                f"{key}: {depth} message(s) wait in the dead-letter queue (see the digest; "
                "leadsync replay re-drives them after a fix)"
            )
    if "budget" in answers:
        spent: Budget = answers["budget"]
        ok = spent.left > 0 and not spent.quota_exhausted
        report.checks["budget"] = {
            "ok": ok,
            "used_today": spent.used,
            "left_today": spent.left,
            "cap": spent.cap,
        }
        if not ok:
            report.reasons.append(
                "budget: Marketo's daily quota is spent"
                if spent.quota_exhausted
                else f"budget: leadsync's daily Marketo budget is spent ({spent.used} calls)"
            )
    if "breaker" in answers:
        state = str(answers["breaker"])
        ok = state == "closed"
        report.checks["breaker"] = {"ok": ok, "state": state}
        if not ok:
            report.reasons.append(f"breaker: the Marketo circuit breaker is {state}")
    if "schema" in answers:
        stopped = str(answers["schema"])
        report.checks["schema"] = {"ok": not stopped, **({"problems": stopped} if stopped else {})}
        if stopped:
            report.reasons.append(
                f"schema: {stopped}; nothing is written until fixed (leadsync check --fix)"
            )
    report.healthy = not report.reasons
    return report
