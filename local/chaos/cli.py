"""`make chaos`: the whole sync over several Marketo days while everything around it fails,
then every visitor accounted for.

Marketo answers 5% of the calls with a 5xx, lets 2% time out (half after applying them),
expires the token every 100 calls, refuses 1% of the records, answers a fifth slowly, shares
its rate with another integration, refuses bulk imports (1016), fails and stalls some and
fails or warns rows. AWS (DynamoDB, SQS, S3, SES, Secrets Manager) throttles, fails and
slows a share of the functions' calls through a fault proxy; LiveChat rate-limits, fails,
answers slowly and expires page ids. Upload and bulk environments are killed mid-invocation.
The run crosses Marketo days with leadsync's daily cap spent each day, the first day's volume
through the bulk path and the later days' through REST and webhooks. Then each visitor of
the LiveChat data is looked for: in Marketo with the chat's values (delivered), else in the
error store or the dead-letter queue with a digest naming the cause (reported), else lost.
The last line:

    chaos: visitors=N rest=N bulk=N delivered=N reported=N lost=N duplicate_leads=N
    protected_overwritten=N limit_errors_caused=N aws_faults=N livechat_faults=N days=N
    [activities=N duplicate_activities=N lost_activities=N]

(rest and bulk: the records the fetches sent each way; with `--activities`, the chats written
as activities on their leads, `leadsync check --fix` having made the type on day one). Why any
visitor was not delivered is in `.local/chaos/report.json`; the functions' logs are under
`.local/chaos/logs/`.
"""

from __future__ import annotations

import argparse
import json
import re

from local.chaos.drive import Say
from local.chaos.report import ChaosReport
from local.chaos.run import run
from local.chaos.settings import ChaosSettings


def _short(error: str) -> str:
    return re.sub(r"\d+", "N", error)[:160]


def summarize(report: ChaosReport, say: Say) -> None:
    say(
        f"chats={report.chats} rejected={report.rejected_chats} "
        f"(in the error store as rejected: {report.rejected_in_store}) "
        f"error entries={report.error_entries} dead letters={report.dead_letters} "
        f"marketo calls={report.marketo_calls} fetch runs={report.fetch_runs} "
        f"kills={report.kills_sent} (mid-batch: {report.kills_mid_invocation}) "
        f"seconds={round(report.seconds)}"
    )
    say(f"faults marketo dealt leadsync's calls: {json.dumps(report.faults_seen)}")
    say(f"bulk-import faults: {json.dumps(report.bulk_faults)}")
    say(f"bulk jobs by how they ended: {json.dumps(report.bulk_jobs)}")
    if report.activities_on:
        say(
            f"chat activities: {report.activities} written, {report.activities_reported} "
            f"reported; written twice: {report.duplicated_activities[:5]}; "
            f"lost: {report.lost_activity_chats[:5]}"
        )
    say(f"faults AWS dealt the functions: {json.dumps(report.aws_faults_by_kind)}")
    say(f"faults LiveChat dealt the fetch: {json.dumps(report.livechat_faults_by_kind)}")
    say(f"leadsync's Marketo calls per day (cap {report.daily_cap}): {report.calls_by_day}")
    say(f"delivered leads whose chat count is one fetch window's: {report.chat_count_behind}")
    for day in report.days_over_cap:
        say(f"over the cap: {day}")
    say(
        "digest agrees with the stores"
        if report.digest_agrees
        else f"digest disagrees: {'; '.join(report.digest_problems[:5])}"
    )
    for cause, count in report.reported_by_cause.items():
        say(f"reported x{count}: {cause}")
    for why, count in report.lost_by_why.items():
        say(f"lost x{count}: {why}")
    for lost in report.lost_visitors[:5]:
        say(f"lost: {lost['email']}: {lost['why']}")
    for duplicate in report.duplicated[:5]:
        say(f"duplicate: {duplicate['email']}: {len(duplicate['leads'])} leads")
    for overwritten in report.overwritten[:5]:
        say(f"overwritten: {overwritten['email']}: {overwritten['now']}")
    for error in report.limit_errors[:5]:
        say(f"limit error: {error}")
    for letter in report.dead_letter_details[:5]:
        notes = letter["failures"][-1:] or letter["attributes"]
        say(
            f"dead letter: cause={letter['cause']} records={letter['emails']} "
            f"receives={letter['receive_count']} last failure={json.dumps(notes, default=str)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    defaults = ChaosSettings()
    parser.add_argument("--visitors", type=int, default=defaults.visitors)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--days", type=int, default=defaults.days, help="Marketo days of chats")
    parser.add_argument("--daily-cap", type=int, default=defaults.daily_cap, help="calls")
    parser.add_argument("--bulk-threshold", type=int, default=defaults.bulk_threshold)
    parser.add_argument("--webhooks", type=int, default=defaults.webhooks)
    parser.add_argument("--kills", type=int, default=None, help="kills in all (default 6)")
    parser.add_argument(
        "--kill-every", type=float, default=defaults.kill_every_s, help="seconds between kills"
    )
    parser.add_argument(
        "--upload-timeout", type=int, default=defaults.upload_timeout_s, help="seconds"
    )
    parser.add_argument(
        "--visibility", type=int, default=defaults.visibility_s, help="queue visibility, seconds"
    )
    parser.add_argument(
        "--records-per-call", type=int, default=None, help="records per Marketo call (300)"
    )
    parser.add_argument("--calm", action="store_true", help="no faults and no kills (a baseline)")
    parser.add_argument(
        "--activities",
        action="store_true",
        help="every chat also an activity on its lead (ChatActivities=true)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless lost, duplicate_leads, protected_overwritten, "
        "duplicate_activities and lost_activities are 0",
    )
    args = parser.parse_args(argv)
    settings = ChaosSettings(
        visitors=args.visitors,
        seed=args.seed,
        days=args.days,
        daily_cap=args.daily_cap,
        bulk_threshold=args.bulk_threshold,
        webhooks=args.webhooks,
        kills=0 if args.calm else args.kills,
        kill_every_s=args.kill_every,
        upload_timeout_s=args.upload_timeout,
        visibility_s=args.visibility,
        faults=not args.calm,
        records_per_call=args.records_per_call,
        activities=args.activities,
    )
    say: Say = lambda line: print(f"    {line}", flush=True)  # noqa: E731
    report = run(settings, say=say)
    summarize(report, say)
    print(report.line(), flush=True)
    return 1 if args.strict and report.broken else 0
