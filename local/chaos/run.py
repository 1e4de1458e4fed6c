"""One chaos run: the days, then every visitor accounted for (see settings.py for the plan)."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from local.chaos.account import NEIGHBOUR, account
from local.chaos.activities import TYPE, check_activities, make_activity_type
from local.chaos.digest_checks import check_day_totals
from local.chaos.drive import Driver, Say, moment
from local.chaos.observe import DayDigest, Observed, bulk_jobs, dead_letters, error_store
from local.chaos.report import ChaosReport
from local.chaos.settings import MARKETO_ZONE, ChaosSettings
from local.sync_run import seed_known_visitors
from local.world import LocalWorld

# when the fetch runs on each kind of day (hours after the Marketo day's midnight)
FIRST_DAY_RUNS = (19.0,)  # one late run: the whole day's volume, for the bulk path
CATCH_UP_RUNS = (1.0, 6.0, 12.0)
# days after the last day of chats on which what still waits may be delivered
MAX_CATCH_UP_DAYS = 6


def run_hours(settings: ChaosSettings, day: int) -> tuple[float, ...]:
    if day == 0:
        return FIRST_DAY_RUNS
    if day >= settings.days:
        return CATCH_UP_RUNS
    step = 22.0 / settings.runs_per_day
    return tuple(round(2.0 + step * n, 2) for n in range(settings.runs_per_day))


def run(settings: ChaosSettings, say: Say = lambda _: None) -> ChaosReport:
    started = time.monotonic()
    report = ChaosReport(daily_cap=settings.daily_cap)
    shutil.rmtree(settings.state_dir / "logs", ignore_errors=True)
    first = settings.first_day()
    say(
        f"starting the local world: {settings.visitors} visitors over {settings.days} Marketo "
        f"days from {first:%Y-%m-%d}, faults {'on' if settings.faults else 'off'}, "
        f"daily cap {settings.daily_cap} calls, bulk from {settings.bulk_threshold} records"
    )
    with LocalWorld(settings.world_options(first)) as world:
        if settings.activities:
            make_activity_type(world, say)
        seeded = seed_known_visitors(world)
        report.seeded = len(seeded)
        say(f"Marketo already knows {len(seeded)} of the visitors")
        first_seq = int(world.marketo_audit(limit=0).get("total_requests", 0))
        driver = Driver(world, settings, report, say)
        driver.at(first)
        world.rewind_fetch_mark(first - timedelta(seconds=1) + _overlap(world))
        days = _days(settings, first, driver, say)
        driver.stop()
        world.set_aws_faults(False)  # the accounting reads the world as it is
        observed = Observed(
            visitors=world.livechat_visitors(),
            chats=world.livechat_chat_count(),
            leads=world.marketo_leads(),
            seeded=seeded,
            errors=error_store(world),
            dead_letters=dead_letters(world),
            dead_letter_depth=world.queue_depth("DeadLetterQueueUrl"),
            digest=days[-1].view if days else None,
            requests=list(world.marketo_audit(since=first_seq, limit=10_000_000)["requests"]),
            days=days,
        )
        report.messages_left = sum(
            world.waiting(queue) for queue in ("SyncQueueUrl", "PriorityQueueUrl", "BulkQueueUrl")
        )
        account(observed, report)
        if settings.activities:
            report.activities_on = True
            activities = world.marketo_activities(TYPE)
            visitors, leads = observed.visitors, observed.leads
            check_activities(activities, visitors, leads, observed.errors, report)
        _faults(world, report)
        report.bulk_jobs = bulk_jobs(world)
        _quota(observed.requests, settings, report)
        check_day_totals(observed, report, MARKETO_ZONE)
    report.seconds = time.monotonic() - started
    for day in report.digests:
        day.pop("view", None)
    path = settings.state_dir / "report.json"
    path.write_text(json.dumps(asdict(report), indent=1, default=str), encoding="utf-8")
    say(f"details: {path}")
    return report


def _days(settings: ChaosSettings, first: datetime, driver: Driver, say: Say) -> list[DayDigest]:
    digests: list[DayDigest] = []
    for day in range(settings.days + MAX_CATCH_UP_DAYS):
        if day > settings.days and _nothing_waits(driver):
            break
        start = datetime.combine(first.date() + timedelta(days=day), first.timetz())
        label = f"{start:%Y-%m-%d}"
        say(f"-- Marketo day {label}" + (" (catching up)" if day >= settings.days else ""))
        for hours in run_hours(settings, day):
            driver.at(moment(start, hours))
            driver.fetch()
            if day == 1 and hours == run_hours(settings, day)[0] and settings.webhooks:
                driver.webhooks(settings.webhooks)
            driver.drain()
        # midnight: leadsync's cap and Marketo's quota reset; what waited for it goes now
        driver.at(moment(start, 24.0) + timedelta(seconds=30))
        driver.drain()
        driver.at(moment(start, 24.0) + timedelta(minutes=10))
        depth = driver.world.queue_depth("DeadLetterQueueUrl")
        view = driver.digest(label)
        summary = driver.report.digests[-1]
        digests.append(
            DayDigest(label, view, summary.get("since"), str(summary.get("until")), depth)
        )
    return digests


def _nothing_waits(driver: Driver) -> bool:
    queues = ("SyncQueueUrl", "PriorityQueueUrl", "BulkQueueUrl")
    waiting = {queue: driver.world.waiting(queue) for queue in queues}
    if any(waiting.values()) or not driver.last_fetch_empty:
        driver.say(f"still waiting: {waiting}, last fetch empty: {driver.last_fetch_empty}")
        return False
    return True


def _overlap(world: LocalWorld) -> timedelta:
    env = world.functions["FetchFunction"].environment
    return timedelta(minutes=int(env.get("FETCH_OVERLAP_MINUTES", "10")))


def _faults(world: LocalWorld, report: ChaosReport) -> None:
    injected = world.aws_faults().get("injected", [])
    kinds: Counter[str] = Counter()
    for row in injected:
        kinds[f"{row['service']}:{row['kind']}"] += int(row["count"])
    report.aws_latency_added = sum(n for k, n in kinds.items() if k.endswith(":latency"))
    report.aws_faults_by_kind = {k: n for k, n in kinds.items() if not k.endswith(":latency")}
    report.aws_faults = sum(report.aws_faults_by_kind.values())
    counts = world.livechat_fault_counts()
    report.livechat_faults_by_kind = counts
    report.livechat_faults = sum(counts.values())
    audit = world.marketo_audit(limit=0)
    report.bulk_faults = dict(audit.get("bulk_faults", {}))


def _quota(requests: list[dict[str, Any]], settings: ChaosSettings, report: ChaosReport) -> None:
    """leadsync's counted calls per Marketo day, against its cap."""
    by_day: Counter[str] = Counter()
    received: Counter[str] = Counter()
    for request in requests:
        if request.get("user") == NEIGHBOUR or request.get("action") == "identity":
            continue
        day = datetime.fromtimestamp(float(request["epoch"]), MARKETO_ZONE).date().isoformat()
        received[day] += 1
        by_day[day] += bool(request.get("counted"))
    report.calls_by_day = dict(sorted((day, n) for day, n in by_day.items() if n))
    report.calls_received_by_day = dict(sorted(received.items()))
    report.days = len(by_day)
    report.days_over_cap = [day for day, n in by_day.items() if n > settings.daily_cap]
