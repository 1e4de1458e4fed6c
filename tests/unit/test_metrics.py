"""Metrics leave as CloudWatch EMF lines on stdout (Powertools), named as the template's
dashboard and alarms read them; no network, no AWS."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from leadsync.adapters.state import StateStore
from leadsync.limiter.readout import BudgetReadout
from leadsync.report.digest_job import DigestSummary
from leadsync.runtime import metrics
from leadsync.sync.failures import ErrorEntry, ErrorKind
from leadsync.sync.fetch.summary import FetchSummary
from leadsync.sync.upload.outcome import UploadResult
from tests.support.template import template

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "leadsync")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "leadsync")
    monkeypatch.setenv("STACK_NAME", "leadsync-test")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


def blobs(out: str) -> list[dict[str, Any]]:
    """Every EMF line printed, parsed."""
    found = []
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found.append(json.loads(line))
    return found


def values(blob: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """Metric name → (value, unit) of one EMF blob."""
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    return {m["Name"]: (blob[m["Name"]][0], m["Unit"]) for m in directive["Metrics"]}


def dimensions(blob: dict[str, Any]) -> dict[str, str]:
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    [names] = directive["Dimensions"]
    return {name: blob[name] for name in names}


def entry(kind: ErrorKind, reason: str) -> ErrorEntry:
    return ErrorEntry(kind=kind, reason=reason, first_failure_at=AT, last_failure_at=AT)


def budget(used: int, instance_used: int | None) -> BudgetReadout:
    return BudgetReadout(
        day="2026-03-02",
        zone="America/Chicago",
        used=used,
        cap=25_000,
        quota=50_000,
        instance_used=instance_used,
        left=25_000 - used,
        instance_binds=False,
        quota_exhausted=False,
    )


class Limiter:
    def __init__(self, seen: BudgetReadout | None) -> None:
        self.seen = seen

    def budget_seen(self) -> BudgetReadout | None:
        return self.seen


def test_a_metric_is_one_emf_line_under_the_namespace_service_and_stack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.emit({"ChatsRead": 12}, seconds={"LimiterWaitSeconds": 1.5})

    [blob] = blobs(capsys.readouterr().out)
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "leadsync"
    assert dimensions(blob) == {"service": "leadsync", "stack": "leadsync-test"}
    assert values(blob) == {"ChatsRead": (12.0, "Count"), "LimiterWaitSeconds": (1.5, "Seconds")}


def test_errors_are_counted_by_cause_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.emit_errors(
        [
            entry(ErrorKind.REJECTED, "missing_email"),
            entry(ErrorKind.UNDELIVERABLE, "marketo_1003"),
            entry(ErrorKind.REJECTED, "missing_email"),
        ]
    )

    found = {dimensions(b)["cause"]: values(b) for b in blobs(capsys.readouterr().out)}
    assert found == {
        "rejected/missing_email": {"Errors": (2.0, "Count")},
        "undeliverable/marketo_1003": {"Errors": (1.0, "Count")},
    }


def test_no_errors_write_no_line(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.emit_errors([])
    metrics.emit({})
    assert capsys.readouterr().out == ""


def test_an_upload_counts_its_records_and_a_failed_call_by_its_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = UploadResult(
        correlation_id="c-1",
        records=10,
        created=3,
        updated=2,
        unchanged=1,
        failed=1,
        deferred=3,
        retried=0,
        failure="HTTP 503",
    )
    metrics.emit_upload(result)

    records, call = blobs(capsys.readouterr().out)
    counted = values(records)
    assert counted["RecordsSynced"] == (6.0, "Count")  # created + updated + already there
    assert counted["RecordsFailed"] == (1.0, "Count")
    assert counted["RecordsDeferred"] == (3.0, "Count")
    assert dimensions(call)["cause"] == "call_failed/HTTP 503"
    assert values(call) == {"Errors": (1.0, "Count")}


def test_a_fetch_that_ended_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    summary = FetchSummary(run_id="r", since=AT, until=AT, chats=40, rejected=4, messages=2)
    metrics.emit_fetch(summary)

    [blob] = blobs(capsys.readouterr().out)
    counted = values(blob)
    assert counted["FetchRunsSucceeded"] == (1.0, "Count")
    assert counted["ChatsRead"] == (40.0, "Count")
    assert counted["ChatsRejected"] == (4.0, "Count")
    assert counted["MessagesQueued"] == (2.0, "Count")


def test_marketo_calls_come_with_the_wait_and_the_days_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.emit_marketo(7, Limiter(budget(120, 41_000)), waited_s=2.25)
    metrics.emit_marketo(3, Limiter(budget(130, None)), waited_s=0)
    metrics.emit_marketo(0, Limiter(None), waited_s=0)

    known, unread, cold = (values(b) for b in blobs(capsys.readouterr().out))
    assert known == {
        "MarketoCalls": (7.0, "Count"),
        "MarketoCallsToday": (120.0, "Count"),
        "InstanceCallsToday": (41_000.0, "Count"),
        "LimiterWaitSeconds": (2.25, "Seconds"),
    }
    # until a copy has read the instance's usage, leadsync's own calls are all that is known
    assert unread["InstanceCallsToday"] == (130.0, "Count")
    # a copy that never saw the limiter's item reports no day's usage
    assert set(cold) == {"MarketoCalls", "LimiterWaitSeconds"}


def test_the_digest_reports_what_it_sent(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.emit_digest(DigestSummary(since=None, until=AT, errors=5, dead_letters=2, sent=True))

    [blob] = blobs(capsys.readouterr().out)
    assert values(blob) == {
        "DigestsSent": (1.0, "Count"),
        "DigestErrors": (5.0, "Count"),
        "DigestDeadLetters": (2.0, "Count"),
    }


def test_a_metric_that_cannot_be_written_never_fails_the_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.emit({"ChatsRead": float("nan")}, seconds={"LimiterWaitSeconds": float("inf")})
    metrics.emit({"": 1})  # a name CloudWatch refuses
    assert blobs(capsys.readouterr().out) == []

    metrics.emit({f"Metric{n}": n for n in range(150)})  # past EMF's 100 metrics a line
    written = [values(blob) for blob in blobs(capsys.readouterr().out)]
    assert sum(len(names) for names in written) == 150


class PutItemClient:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.items.append(request["Item"])
        return {}


def test_the_error_store_tells_its_observer_what_it_stored() -> None:
    told: list[list[ErrorEntry]] = []
    client = PutItemClient()
    store = StateStore("t", client, clock=lambda: AT, on_errors=lambda e: told.append(list(e)))  # type: ignore[arg-type]
    entries = [entry(ErrorKind.REJECTED, "missing_email"), entry(ErrorKind.RACED, "created")]

    assert store.record_errors(iter(entries)) == 2
    assert told == [entries]
    assert len(client.items) == 2
    assert store.record_errors([]) == 0
    assert len(told) == 1  # nothing stored, nothing told


# -- the template reads what the functions write ------------------------------------------


def _emitted_names(capsys: pytest.CaptureFixture[str]) -> set[str]:
    summary = FetchSummary(run_id="r", since=AT, until=AT)
    metrics.emit_fetch(summary)
    metrics.emit_upload(UploadResult(correlation_id="c", records=1, failure="HTTP 503"))
    metrics.emit_marketo(1, Limiter(budget(1, 1)), waited_s=0)
    metrics.emit_errors([entry(ErrorKind.REJECTED, "missing_email")])
    metrics.emit_digest(DigestSummary(since=None, until=AT, errors=0, dead_letters=0, sent=False))
    return {name for blob in blobs(capsys.readouterr().out) for name in values(blob)}


def _template_reads() -> set[str]:
    """Names of the leadsync metrics the dashboard and the alarms read."""
    names: set[str] = set()
    for resource in template()["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            if props.get("Namespace") == "leadsync":
                names.add(props["MetricName"])
            for query in props.get("Metrics", []):
                metric = query.get("MetricStat", {}).get("Metric", {})
                if metric.get("Namespace") == "leadsync":
                    names.add(metric["MetricName"])
        if resource["Type"] == "AWS::CloudWatch::Dashboard":
            body = json.loads(re.sub(r"\$\{[^}]+\}", "0", props["DashboardBody"]["Fn::Sub"]))
            for widget in body["widgets"]:
                for row in widget["properties"].get("metrics", []):
                    if row and row[0] == "leadsync":
                        names.add(row[1])
                    elif row and isinstance(row[0], dict):
                        names.update(re.findall(r'MetricName=\\?"(\w+)', row[0]["expression"]))
    return names


def test_the_dashboard_and_alarms_read_metrics_the_functions_write(
    capsys: pytest.CaptureFixture[str],
) -> None:
    read = _template_reads()
    assert {"FetchRunsSucceeded", "RecordsFailed", "RecordsSynced", "InstanceCallsToday"} <= read
    assert read <= _emitted_names(capsys)


def test_alarms_tell_the_alert_topic() -> None:
    resources = template()["Resources"]
    alarms = {k: r for k, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(alarms) >= {
        "DeadLetterAlarm",
        "ErrorRateAlarm",
        "DailyQuotaAlarm",
        "NoSuccessfulRunAlarm",
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertTopic"}]
    assert alarms["NoSuccessfulRunAlarm"]["Properties"]["TreatMissingData"] == "breaching"
    assert resources["AlertTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertKey"}


def test_every_queue_and_the_table_are_encrypted() -> None:
    resources = template()["Resources"]
    queues = [r for r in resources.values() if r["Type"] == "AWS::SQS::Queue"]
    assert queues
    assert all(q["Properties"].get("SqsManagedSseEnabled") is True for q in queues)
    assert resources["StateTable"]["Properties"]["SSESpecification"] == {"SSEEnabled": True}
