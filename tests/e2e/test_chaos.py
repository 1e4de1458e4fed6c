"""`make chaos`, smaller: the whole sync over two Marketo days (and the catching up after)
while Marketo fails, times out, expires tokens, refuses records, refuses (1016), fails and
stalls imports, answers slowly and shares its rate with a noisy neighbour; AWS throttles and
fails the functions' calls; LiveChat rate-limits, fails and expires page ids; upload and bulk
processes are killed mid-invocation; leadsync's daily cap is spent each day. The first day's
volume crosses the bulk threshold, the second goes through REST and webhooks. Afterwards
every visitor is in Marketo with the chat's values, or in the error store or the dead-letter
queue with its cause in the digest of its day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.chaos import ChaosReport, ChaosSettings, run
from local.chaos.cli import summarize
from local.simulators.livechat.data import Dataset, GenerationParams, chats_for_visitors, visitors

pytestmark = pytest.mark.e2e

VISITORS = 1500
WEBHOOKS = 6  # new visitors whose chats also come as webhooks


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ChaosReport:
    settings = ChaosSettings(
        visitors=VISITORS,
        seed=7,
        days=2,
        # low enough to be spent on each day; a lowered bulk threshold and small messages
        # (more calls for the faults to hit, more batches to kill) so that the first day's
        # volume takes the bulk path
        daily_cap=40,
        bulk_threshold=450,
        records_per_call=50,
        webhooks=WEBHOOKS,
        kills=3,
        kill_every_s=1.5,
        upload_timeout_s=30,
        visibility_s=40,
        deadline_s=600,
        state_dir=Path(tmp_path_factory.mktemp("chaos")),
    )
    report = run(settings, say=print)
    summarize(report, print)
    print(report.line())
    return report


def test_every_visitor_is_delivered_or_reported(report: ChaosReport) -> None:
    assert report.visitors == VISITORS + WEBHOOKS
    assert report.messages_left == 0
    assert report.lost == 0, report.lost_visitors[:5]
    assert report.delivered + report.reported == report.visitors
    assert report.delivered > 0.9 * report.visitors, report.reported_by_cause


def test_no_lead_is_duplicated(report: ChaosReport) -> None:
    assert report.duplicate_leads == 0, report.duplicated[:5]


def test_no_protected_value_is_overwritten(report: ChaosReport) -> None:
    assert report.seeded == VISITORS // 3
    assert report.protected_overwritten == 0, report.overwritten[:5]


def test_leadsync_caused_no_limit_error(report: ChaosReport) -> None:
    assert report.limit_errors_caused == 0, report.limit_errors[:5]


def test_the_digest_agrees_with_the_stores(report: ChaosReport) -> None:
    assert report.digest_agrees, report.digest_problems
    assert report.rejected_chats > 0
    assert report.rejected_in_store == report.rejected_chats


def test_the_chaos_really_happened(report: ChaosReport) -> None:
    assert report.kills_mid_invocation >= 2
    assert report.faults_seen.get("records_refused", 0) > 0, report.faults_seen
    assert report.aws_faults > 0, report.aws_faults_by_kind
    assert report.livechat_faults > 0, report.livechat_faults_by_kind
    assert report.line().startswith(f"chaos: visitors={VISITORS + WEBHOOKS} rest=")


def test_both_paths_and_several_marketo_days(report: ChaosReport) -> None:
    assert report.bulk > 0
    assert report.rest > 0
    assert report.webhooks_sent == WEBHOOKS
    assert report.days >= 3, report.calls_by_day


def test_the_imports_met_a_1016_a_failure_and_a_stall_and_still_imported(
    report: ChaosReport,
) -> None:
    for kind in ("busy", "failed_job", "stuck"):
        assert report.bulk_faults.get(kind, 0) >= 1, report.bulk_faults
    assert report.bulk_jobs.get("done", 0) >= 1, report.bulk_jobs
    assert sum(day.get("imported_shown", 0) for day in report.day_totals) > 0, report.day_totals


def test_each_day_stays_inside_the_cap_and_has_its_digest(report: ChaosReport) -> None:
    assert report.days_over_cap == [], report.calls_by_day
    assert all(day["sent"] for day in report.digests), report.digests


def test_each_days_digest_counts_that_days_work(report: ChaosReport) -> None:
    worked = [day for day in report.day_totals if day["calls_received_by_marketo"]]
    assert len(worked) >= 3, report.day_totals
    for day in worked:
        # never more than Marketo saw; what a killed invocation made is the difference
        assert 0 < day["calls_shown"] <= day["calls_received_by_marketo"], day
        assert day["created_shown"] <= day["created_at_marketo"], day
    written = sum(day["created_shown"] + day["imported_shown"] for day in worked)
    assert written > 0.75 * sum(day["created_at_marketo"] for day in worked), report.day_totals


def test_the_livechat_simulator_holds_as_many_visitors_as_asked() -> None:
    params = GenerationParams(seed=3, start=datetime(2026, 1, 5, tzinfo=UTC))
    params = params.replace(end=params.start + timedelta(hours=1))
    chats = chats_for_visitors(params, 300)
    found = visitors(Dataset(params.replace(chats=chats)), params.start, params.end)
    assert len(found) == 300
