"""The health report: every probe's answer, and a reason for each thing that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from leadsync.errors import SourceError
from leadsync.readiness.fields import FieldProblem
from leadsync.readiness.verdict import SchemaVerdict
from leadsync.report.health import Budget, assess, schema_stop

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)


def _ok() -> None:
    return None


def _report(**overrides: Any) -> Any:
    probes: dict[str, Any] = {
        "livechat": _ok,
        "marketo": _ok,
        "last_run": lambda: NOW - timedelta(minutes=50),
        "queue_depths": {"sync": lambda: 12, "dead_letters": lambda: 0},
        "budget": lambda: Budget(used=1200, left=23_800, cap=25_000),
        "breaker": lambda: "closed",
    }
    probes.update(overrides)
    return assess(now=NOW, dead_letter_queue="dead_letters", **probes)


def test_all_well_is_200_with_every_figure() -> None:
    report = _report()
    assert (report.status, report.reasons) == (200, [])
    body = report.body()
    assert body["status"] == "healthy"
    assert body["checks"]["last_run"]["age_minutes"] == 50.0
    assert body["checks"]["queue:sync"] == {"ok": True, "depth": 12}
    assert body["checks"]["budget"]["left_today"] == 23_800
    assert body["checks"]["breaker"]["state"] == "closed"


def test_each_problem_is_a_reason_and_makes_it_503() -> None:
    def down() -> None:
        raise SourceError("LiveChat list_archives failed: ConnectionError", retryable=True)

    report = _report(
        livechat=down,
        last_run=lambda: NOW - timedelta(hours=3),
        queue_depths={"sync": lambda: 0, "dead_letters": lambda: 4},
        budget=lambda: Budget(used=25_000, left=0, cap=25_000),
        breaker=lambda: "open",
    )
    assert report.status == 503
    assert report.body()["status"] == "unhealthy"
    text = "\n".join(report.reasons)
    assert "livechat: check failed: SourceError: LiveChat list_archives failed" in text
    assert "last successful run was 3.0 h ago" in text
    assert "4 message(s) wait in the dead-letter queue" in text
    assert "daily Marketo budget is spent" in text
    assert "circuit breaker is open" in text
    assert len(report.reasons) == 5


def test_a_probe_that_fails_hides_no_other() -> None:
    def broken() -> int:
        raise RuntimeError("DynamoDB unreachable")

    report = _report(last_run=lambda: None, queue_depths={"sync": broken, "dead_letters": broken})
    assert report.status == 503
    assert report.checks["marketo"] == {"ok": True}
    assert "last_run: no successful run yet" in report.reasons
    assert sum("check failed: RuntimeError" in r for r in report.reasons) == 2


def test_the_schema_stops_the_writes_only_when_its_verdict_found_problems() -> None:
    problem = FieldProblem(field="livechatTags", reason="field_missing", detail="-", fix="-")
    found = SchemaVerdict(fingerprint="f", checked_at=NOW, problems=(problem,))
    assert schema_stop(found) == "configuration / field_missing: livechatTags"
    assert schema_stop(SchemaVerdict(fingerprint="f", checked_at=NOW)) == ""
    assert schema_stop(None) == ""  # no function has looked yet
