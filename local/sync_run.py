"""One hourly cycle on the local world, accounted the way a user would check it.

`seed_known_visitors` makes Marketo already know a share of the chat visitors (some with
geography set); `run_cycle` fires the schedule, lets the SQS event source mapping feed the
upload, and reports what changed from the product's own counters and the simulator's audit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from local.event_sources import DrainReport
from local.world import LocalWorld

SEEDED_GEOGRAPHY = {"country": "Canada", "state": "Ontario", "city": "Toronto"}
QUOTA_ZONE = ZoneInfo("America/Chicago")
LIMIT_CODES = frozenset({"606", "607", "615"})


@dataclass
class CycleReport:
    chats: int = 0
    visitors: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    protected_kept: int = 0
    rejected: int = 0
    marketo_calls: int = 0
    peak_calls_per_window: int = 0
    peak_in_flight: int = 0
    limit_errors: int = 0
    # records Marketo refused because a field does not exist (1006)
    field_errors: int = 0
    seconds: float = 0.0
    fetch: dict[str, Any] = field(default_factory=dict)
    drain: DrainReport = field(default_factory=DrainReport)
    calls_by_action: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"demo: chats={self.chats} visitors={self.visitors} created={self.created} "
            f"updated={self.updated} unchanged={self.unchanged} "
            f"protected_kept={self.protected_kept} rejected={self.rejected} "
            f"marketo_calls={self.marketo_calls} "
            f"peak_calls_per_window={self.peak_calls_per_window} "
            f"peak_in_flight={self.peak_in_flight} limit_errors={self.limit_errors} "
            f"field_errors={self.field_errors} seconds={round(self.seconds)}"
        )


def seed_known_visitors(world: LocalWorld, every: int = 3) -> list[dict[str, Any]]:
    """Every `every`-th visitor (by e-mail) already in Marketo; every other one of those with
    geography Marketo got elsewhere (which the sync must keep)."""
    visitors = sorted(world.livechat_visitors(), key=lambda v: v["email"])
    leads: list[dict[str, Any]] = []
    for n, visitor in enumerate(visitors[::every]):
        lead: dict[str, Any] = {"email": visitor["email"], "leadSource": "Website"}
        if n % 2 == 0:
            lead.update(SEEDED_GEOGRAPHY)
        leads.append(lead)
    if leads:
        world.seed_marketo(leads)
    return leads


def _stats(world: LocalWorld, days: list[str]) -> dict[str, int]:
    assert world.stack is not None
    dynamodb = world.client("dynamodb")
    totals: dict[str, int] = {}
    for day in days:
        item = dynamodb.get_item(
            TableName=world.stack.outputs["StateTableName"],
            Key={"pk": {"S": f"stats#{day}"}, "sk": {"S": "day"}},
            ConsistentRead=True,
        ).get("Item", {})
        for name, value in item.items():
            if "N" in value and name != "expires_at":
                totals[name] = totals.get(name, 0) + int(value["N"])
    return totals


def _quota_days(started: datetime, ended: datetime) -> list[str]:
    first = started.astimezone(QUOTA_ZONE).date()
    last = ended.astimezone(QUOTA_ZONE).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _peak_in_window(times: list[float], window: float) -> int:
    peak = low = 0
    for high, at in enumerate(times):
        while at - times[low] >= window:
            low += 1
        peak = max(peak, high - low + 1)
    return peak


def _audit_since(world: LocalWorld, seq: int) -> tuple[list[dict[str, Any]], float]:
    audit = world.marketo_audit(since=seq, limit=1_000_000)
    return list(audit.get("requests", [])), float(audit.get("window_seconds", 20))


def _last_seq(world: LocalWorld) -> int:
    return int(world.marketo_audit(limit=0).get("total_requests", 0))


def _overlap(world: LocalWorld) -> timedelta:
    name = world.functions["FetchFunction"].name
    config = world.client("lambda").get_function_configuration(FunctionName=name)
    minutes = config.get("Environment", {}).get("Variables", {}).get("FETCH_OVERLAP_MINUTES", "10")
    return timedelta(minutes=int(minutes))


def _progress(
    world: LocalWorld, seq: int, say: Callable[[str], None], done: threading.Event
) -> None:
    last = ""
    while not done.wait(2.0):
        try:
            depth = world.queue_depth("SyncQueueUrl")
            calls = sum(
                1 for r in _audit_since(world, seq)[0] if r["counted"] and r["action"] != "identity"
            )
        except (OSError, KeyError, ValueError) as exc:  # progress only; the run reports errors
            say(f"progress unavailable: {type(exc).__name__}")
            continue
        line = f"messages waiting={depth} marketo calls so far={calls}"
        if line != last:
            say(line)
            last = line


def run_cycle(world: LocalWorld, *, say: Callable[[str], None] = lambda _: None) -> CycleReport:
    """Rewind the mark to the dataset's start, fire the schedule, drain, account."""
    report = CycleReport()
    started_wall = datetime.now().astimezone()
    started = time.monotonic()
    seq = _last_seq(world)
    days = _quota_days(started_wall, started_wall)
    before = _stats(world, days)

    world.rewind_fetch_mark(world.chats_start - timedelta(seconds=1) + _overlap(world))
    say("the hourly schedule fires the fetch function")
    fetched = world.fire_schedule("FetchFunction").result
    report.fetch = fetched
    say(
        f"fetch: chats={fetched['chats']} visitors={fetched['visitors']} "
        f"rejected={fetched['rejected']} creates={fetched['creates']} "
        f"updates={fetched['updates']} unchanged={fetched['unchanged']} "
        f"messages={fetched['messages']}"
    )
    say("the SQS event source mapping feeds the upload function")
    done = threading.Event()
    watcher = threading.Thread(target=_progress, args=(world, seq, say, done), daemon=True)
    watcher.start()
    try:
        report.drain = world.drain_queue("UploadFunction")
    finally:
        done.set()
        watcher.join()
    report.seconds = time.monotonic() - started

    ended_wall = datetime.now().astimezone()
    after = _stats(world, _quota_days(started_wall, ended_wall))
    delta = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    report.chats = int(fetched["chats"])
    report.visitors = int(fetched["visitors"])
    report.rejected = int(fetched["rejected"])
    report.created = delta.get("leads_created", 0)
    report.updated = delta.get("leads_updated", 0)
    report.unchanged = delta.get("visitors_unchanged", 0)
    report.protected_kept = delta.get("protected_kept", 0)

    requests, window = _audit_since(world, seq)
    ours = [r for r in requests if r["action"] != "identity"]
    counted = sorted(float(r["epoch"]) for r in ours if r["counted"])
    report.marketo_calls = len(counted)
    report.peak_calls_per_window = _peak_in_window(counted, window)
    report.peak_in_flight = max((int(r["in_flight_at_start"]) + 1 for r in ours), default=0)
    report.limit_errors = sum(1 for r in ours for code in r["errors"] if code in LIMIT_CODES)
    report.field_errors = sum(
        1 for r in ours for code in [*r["errors"], *r.get("reasons", [])] if code == "1006"
    )
    for r in ours:
        report.calls_by_action[r["action"]] = report.calls_by_action.get(r["action"], 0) + 1
    return report


def read_dataset_from_start(world: LocalWorld) -> None:
    """Set the high-water mark so that the next fetch reads every generated chat (the fetch
    re-reads its overlap before the mark)."""
    world.rewind_fetch_mark(world.chats_start - timedelta(seconds=1) + _overlap(world))
