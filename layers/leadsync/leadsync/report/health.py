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

    def note(self, name: str, ok: bool, reason: str, **figures: Any) -> None:
        """One check's figures, and the reason when it is not ok."""
        self.checks[name] = {"ok": ok, **figures}
        if not ok:
            self.reasons.append(f"{name}: {reason}")


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
    report = HealthReport(healthy=True)
    answers = _ask(probes, report)
    for name in ("livechat", "marketo"):
        if name in answers:
            report.checks[name] = {"ok": True}
    if "last_run" in answers:
        _last_run(answers["last_run"], now, settings.max_run_age, report)
    for name in queue_depths:
        key = f"queue:{name}"
        if key in answers:
            limit = settings.max_dead_letters if name == dead_letter_queue else None
            _queue(key, int(answers[key]), limit, report)
    if "budget" in answers:
        _budget(answers["budget"], report)
    if "breaker" in answers:
        state = str(answers["breaker"])
        report.note(
            "breaker", state == "closed", f"the Marketo circuit breaker is {state}", state=state
        )
    if "schema" in answers:
        _schema(str(answers["schema"]), report)
    report.healthy = not report.reasons
    return report


def _ask(probes: Mapping[str, Probe], report: HealthReport) -> dict[str, Any]:
    """Every probe at once; the answers of those that answered, a reason for each other."""
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {name: pool.submit(probe) for name, probe in probes.items()}
    answers: dict[str, Any] = {}
    for name, future in futures.items():
        error = future.exception()
        if error is not None:
            failure = _failure(error)
            report.note(name, False, f"check failed: {failure}", error=failure)
        else:
            answers[name] = future.result()
    return answers


def _last_run(
    mark: datetime | None, now: datetime, max_age: timedelta, report: HealthReport
) -> None:
    if mark is None:
        report.note("last_run", False, "no successful run yet", at=None)
        return
    age = now - mark
    report.note(
        "last_run",
        age <= max_age,
        f"the last successful run was {age.total_seconds() / 3600:.1f} h ago (more than "
        f"{max_age.total_seconds() / 3600:g} h)",
        at=iso_utc(mark),
        age_minutes=round(age.total_seconds() / 60, 1),
    )


def _queue(key: str, depth: int, limit: int | None, report: HealthReport) -> None:
    """A queue's depth; only the dead-letter queue has a `limit`."""
    report.note(
        key,
        limit is None or depth <= limit,
        f"{depth} message(s) wait in the dead-letter queue (see the digest; leadsync replay "
        "re-drives them after a fix)",
        depth=depth,
    )


def _budget(spent: Budget, report: HealthReport) -> None:
    report.note(
        "budget",
        spent.left > 0 and not spent.quota_exhausted,
        "Marketo's daily quota is spent"
        if spent.quota_exhausted
        else f"leadsync's daily Marketo budget is spent ({spent.used} calls)",
        used_today=spent.used,
        left_today=spent.left,
        cap=spent.cap,
    )


def _schema(stopped: str, report: HealthReport) -> None:
    report.note(
        "schema",
        not stopped,
        f"{stopped}; nothing is written until fixed (leadsync check --fix)",
        **({"problems": stopped} if stopped else {}),
    )
