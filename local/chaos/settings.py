"""How a chaos run is set up: its scale, the days it spans, and what misbehaves.

The run spans `days` Marketo days (midnight America/Chicago) in the functions' time, moved
forward by the local world; LiveChat's chats are spread over those days. The first day has
one fetch late in the day, so its volume takes the bulk-import path; the later days have a
fetch every few hours, small enough for the REST path. leadsync's daily cap is low enough to
be spent: the rest of a day's work waits for the reset. A last day with no new chats lets
everything still waiting be delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from local.aws_faults import CHAOS_DEFAULTS
from local.stack import ROOT
from local.world import WorldOptions

MARKETO_ZONE = ZoneInfo("America/Chicago")
# the Marketo simulator's faults (its own flags, see local/simulators/marketo/config.py)
MARKETO_FAULTS: dict[str, str] = {
    "http-5xx-probability": "0.05",
    "timeout-probability": "0.02",
    "timeout-after-apply-probability": "0.5",
    "timeout-drop-probability": "0.5",
    "token-expire-every-calls": "100",
    "record-reject-probability": "0.01",
    "slow-probability": "0.2",
    "slow-min-ms": "200",
    "slow-max-ms": "2000",
    # leadsync's share is 50 calls per 20 s and 5 in flight of Marketo's 100 and 10
    "neighbour-calls-per-window": "40",
    "neighbour-in-flight": "3",
    # ...and part of the daily quota: it stops at 20,000 calls a day
    "neighbour-daily-calls": "20000",
    # bulk imports: another integration's imports fill the queue, jobs fail or stall,
    # rows fail or are imported with a warning
    "bulk-busy-probability": "0.3",
    "bulk-fail-probability": "0.15",
    "bulk-stuck-probability": "0.3",
    "bulk-stuck-seconds": "1200",
    "bulk-row-failure-probability": "0.003",
    "bulk-row-warning-probability": "0.01",
}
# LiveChat's faults on list_archives (its own flags, see local/simulators/livechat/faults.py)
LIVECHAT_FAULTS: dict[str, str] = {
    "rate-limit-probability": "0.01",
    "internal-probability": "0.01",
    "bad-gateway-probability": "0.005",
    "slow-probability": "0.03",
    "slow-min-seconds": "0.5",
    "slow-max-seconds": "3",
    "timeout-probability": "0.002",
    "page-expire-probability": "0.005",
}


@dataclass(frozen=True)
class ChaosSettings:
    visitors: int = 20_000
    seed: int = 7
    # Marketo days with chats; one more day follows for what still waits
    days: int = 3
    # fetches on each day after the first (the first has one, late, for the bulk path)
    runs_per_day: int = 4
    # records an import can carry from which a run takes the bulk path
    bulk_threshold: int = 4_000
    # leadsync's daily Marketo cap (calls); low enough to be spent every day
    daily_cap: int = 80
    # webhooks sent on the second day (chats the hourly run reads too)
    webhooks: int = 20
    # environments killed while the sync runs; None: one per eight messages, 3 to 8
    kills: int | None = None
    kill_every_s: float = 4.0
    upload_timeout_s: int = 60
    visibility_s: int = 90
    # scheduled fetches of one run that may fail before the harness gives up on it
    fetch_runs: int = 3
    deadline_s: float = 1800.0
    faults: bool = True
    # the first submits meet these job faults, in order, whatever the draws
    bulk_first_faults: str = "busy,failed_job,stuck"
    # every chat an activity on its lead (ChatActivities), checked written once, none lost;
    # off by default: at a daily cap spent every day the activities' calls starve the lead
    # writes (they share the upload's budget), `make chaos ARGS=--activities` turns them on
    activities: bool = False
    # records per Marketo call and per queue message; None: the template's default (300)
    records_per_call: int | None = None
    state_dir: Path = ROOT / ".local" / "chaos"

    def first_day(self, now: datetime | None = None) -> datetime:
        """The first Marketo day's midnight: the next one at least an hour away."""
        local = (now or datetime.now(UTC)).astimezone(MARKETO_ZONE) + timedelta(hours=1)
        return datetime.combine(local.date() + timedelta(days=1), time(), MARKETO_ZONE)

    def world_options(self, first_day: datetime) -> WorldOptions:
        marketo = [f"--{name}={value}" for name, value in MARKETO_FAULTS.items()]
        if self.bulk_first_faults:
            marketo.append(f"--bulk-first-faults={self.bulk_first_faults}")
        livechat = [f"--{name}={value}" for name, value in LIVECHAT_FAULTS.items()]
        end = first_day + timedelta(days=self.days) - timedelta(minutes=45)
        aws: dict[str, Any] | None = CHAOS_DEFAULTS.to_dict() if self.faults else None
        return WorldOptions(
            stack_name="leadsync-chaos",
            state_dir=self.state_dir,
            seed=self.seed,
            marketo_args=[*(marketo if self.faults else []), f"--seed={self.seed}"],
            livechat_args=[
                f"--visitors={self.visitors}",
                f"--start={first_day.astimezone(UTC).isoformat()}",
                f"--end={end.astimezone(UTC).isoformat()}",
                *(livechat if self.faults else []),
                f"--fault-seed={self.seed}",
            ],
            parameters=self.parameters(),
            aws_faults=aws,
            movable_clock=True,
        )

    def parameters(self) -> dict[str, str]:
        out = {
            "UploadTimeoutSeconds": str(self.upload_timeout_s),
            "SyncQueueVisibilitySeconds": str(self.visibility_s),
            "BulkThresholdRecords": str(self.bulk_threshold),
            "MarketoDailyCap": str(self.daily_cap),
            # the priority lane keeps a quarter of the cap for the webhooks
            "PriorityDailyCap": str(max(1, self.daily_cap // 4)),
            "BulkStuckAfterMinutes": "5",
            "BulkPollDelaysSeconds": "2,4,8",
            # a quiet day (no errors, nothing dead-lettered) mails its digest too, so that
            # every day's totals are read back and checked against what Marketo saw
            "DigestSendAllClear": "true",
            "ChatActivities": "true" if self.activities else "false",
        }
        if self.records_per_call:
            out["MarketoRecordsPerCall"] = str(self.records_per_call)
        return out
