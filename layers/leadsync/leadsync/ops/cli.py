"""`leadsync`: the operator's command line.

    leadsync replay --stack NAME [--since DATE] [--until DATE] [--dry-run] [--max N]
    leadsync plan --stack NAME
    leadsync erase --file PATH|s3://bucket/key (--stack NAME | --erasure-queue-url URL)
    leadsync backfill --stack NAME --since DATE [--window-hours N] [--retention-days N]
    leadsync check --stack NAME [--fix] [--json] [--list-folder [Program:]ID]

AWS access is boto3's own: the profile (AWS_PROFILE or --profile), the region (AWS_REGION or
--region), and AWS_ENDPOINT_URL for an emulated AWS such as the local world's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadsync.errors import ConfigurationError, LeadsyncError

if TYPE_CHECKING:
    from boto3.session import Session

    from leadsync.runtime.config import FetchEnv
    from leadsync.runtime.secrets import Credentials
    from leadsync.runtime.wiring.clients import FetchClients

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
OUTPUTS = {
    "sync_queue_url": "SyncQueueUrl",
    "dead_letter_queue_url": "DeadLetterQueueUrl",
    "state_table": "StateTableName",
}
DEFAULT_RECORDS_PER_CALL = 300
DEFAULT_MAX_BODY_BYTES = 1_048_576


class UsageError(Exception):
    """The command cannot run as asked: a missing stack, a bad date, no credentials..."""


@dataclass(frozen=True)
class Targets:
    """Where a stack keeps its failures, and the destination's per-call limits."""

    sync_queue_url: str
    dead_letter_queue_url: str
    state_table: str
    records_per_call: int = DEFAULT_RECORDS_PER_CALL
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    stack: str | None = None

    def describe(self) -> str:
        where = f"stack {self.stack}: " if self.stack else ""
        return (
            f"{where}sync queue {self.sync_queue_url}, dead-letter queue "
            f"{self.dead_letter_queue_url}, state table {self.state_table}"
        )


# -- arguments --------------------------------------------------------------------------------


def _moment(end_of_day: bool) -> Callable[[str], datetime]:
    """A date (a whole UTC day) or an ISO 8601 time (UTC unless it says otherwise)."""

    def parse(text: str) -> datetime:
        value = text.strip()
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            # --since is exclusive and --until inclusive: a day means all of it
            return start + timedelta(days=1 if end_of_day else 0) - timedelta(microseconds=1)
        try:
            moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1:] in "Zz" else value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a date or time: {text!r} (use 2026-01-15 or 2026-01-15T08:00:00Z)"
            ) from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    parse.__name__ = "date"
    return parse


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadsync", description="Operate a deployed leadsync stack."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    replay = commands.add_parser(
        "replay",
        help="re-drive the dead letters and the undeliverable records, after a fix",
        description=(
            "Send the dead-letter queue's batches and the error store's undeliverable records "
            "back to the sync queue, once each, then delete the dead letters and mark the "
            "entries replayed. The upload never duplicates a lead, so a record that was in "
            "fact written costs a lookup. Chats rejected before they became visitors are "
            "counted only: fix them at the source and rewind the fetch mark."
        ),
    )
    where = replay.add_argument_group("where the failures are (a stack, or all three)")
    where.add_argument("--stack", metavar="NAME", help="the CloudFormation stack's name")
    where.add_argument("--sync-queue-url", metavar="URL")
    where.add_argument("--dead-letter-queue-url", metavar="URL")
    where.add_argument("--state-table", metavar="TABLE")
    aws = replay.add_argument_group("AWS access (else boto3's usual sources)")
    aws.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE)")
    aws.add_argument("--region", help="the AWS region (default: AWS_REGION)")
    what = replay.add_argument_group("what to replay")
    what.add_argument(
        "--since",
        type=_moment(end_of_day=False),
        metavar="DATE",
        help="only failures after this date or time (default: the error store's retention)",
    )
    what.add_argument(
        "--until",
        type=_moment(end_of_day=True),
        metavar="DATE",
        help="only failures up to this date (the whole day) or time (default: now)",
    )
    what.add_argument(
        "--max",
        type=_positive,
        metavar="N",
        dest="max_failures",
        help="at most N dead letters and error entries this run; run again for the rest",
    )
    what.add_argument(
        "--dry-run", action="store_true", help="show what would be re-driven; change nothing"
    )
    replay.set_defaults(run=_replay)

    plan = commands.add_parser(
        "plan",
        help="what the next hourly run would do and cost, writing nothing",
        description=(
            "Fetch and diff as the next run would (the same window, lookups and decisions), "
            "then print the creates, the updates by field, the list additions and removals, "
            "the deletes and the rejects, the Marketo calls by kind and the daily budget left "
            "after them. Nothing is queued, stored or marked. The lookups are real Marketo "
            "calls and count against the quota."
        ),
    )
    plan.add_argument("--stack", metavar="NAME", required=True, help="the stack's name")
    plan_aws = plan.add_argument_group("AWS access (else boto3's usual sources)")
    plan_aws.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE)")
    plan_aws.add_argument("--region", help="the AWS region (default: AWS_REGION)")
    plan.set_defaults(run=_plan)

    erase = commands.add_parser(
        "erase",
        help="queue the erasure of every e-mail in a file",
        description=(
            "Read a file of e-mail addresses (one a line, or CSV with an `email` column; a "
            "local path or s3://bucket/key) and put each on the stack's erasure queue; the next "
            "run deletes every lead Marketo holds for them. Bad lines are reported by number, "
            "masked; nothing is printed in clear."
        ),
    )
    erase.add_argument("--file", required=True, metavar="PATH", help="a path or s3://bucket/key")
    target = erase.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", metavar="NAME", help="the stack's name")
    target.add_argument("--erasure-queue-url", metavar="URL")
    erase.add_argument("--dry-run", action="store_true", help="read and check; queue nothing")
    erase_aws = erase.add_argument_group("AWS access (else boto3's usual sources)")
    erase_aws.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE)")
    erase_aws.add_argument("--region", help="the AWS region (default: AWS_REGION)")
    erase.set_defaults(run=_erase)

    backfill = commands.add_parser(
        "backfill",
        help="sync every chat since a date (resumable)",
        description=(
            "Read every LiveChat chat from DATE to now, a window at a time, through the same "
            "fetch as the hourly run (lookups, field policies; the bulk-import path when the "
            "volume calls for it), and queue or stage the writes. The backfill keeps its own "
            "mark: run the same command again after a stop and it goes on from the last whole "
            "window, duplicating nothing. A DATE older than LiveChat keeps archives "
            "(LIVECHAT_ARCHIVE_RETENTION_DAYS, or --retention-days) is refused."
        ),
    )
    backfill.add_argument("--stack", metavar="NAME", required=True, help="the stack's name")
    backfill.add_argument(
        "--since",
        type=_moment(end_of_day=False),
        metavar="DATE",
        required=True,
        help="the first day (or instant) to read, UTC",
    )
    backfill.add_argument(
        "--window-hours", type=_positive, metavar="N", help="hours read per window (default 24)"
    )
    backfill.add_argument(
        "--retention-days",
        type=_positive,
        metavar="N",
        help="days LiveChat keeps archives on this account (default: the stack's setting)",
    )
    backfill_aws = backfill.add_argument_group("AWS access (else boto3's usual sources)")
    backfill_aws.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE)")
    backfill_aws.add_argument("--region", help="the AWS region (default: AWS_REGION)")
    backfill.set_defaults(run=_backfill)

    check = commands.add_parser(
        "check",
        help="is the stack ready: Marketo, LiveChat, the webhook and SES, each with its fix",
        description=(
            "One line per check, passed or failed, and for each failure the fix: the Marketo "
            "credentials and the API role's permissions, every field of the field map and "
            "every list of the list rules, the LiveChat token and archive retention, the "
            "webhook and its secret, the SES identities. A handful of Marketo calls, counted. "
            "Exit 0 only when the stack will work. --fix creates what the APIs can: missing "
            "fields, lists named by name, the webhook; it never changes or deletes anything."
        ),
    )
    check.add_argument("--stack", metavar="NAME", required=True, help="the stack's name")
    check.add_argument("--fix", action="store_true", help="create what is missing and can be")
    check.add_argument("--json", action="store_true", help="the report as JSON")
    check.add_argument(
        "--list-folder",
        metavar="[Program:]ID",
        help="where --fix creates static lists: a folder id, or Program:ID",
    )
    check_aws = check.add_argument_group("AWS access (else boto3's usual sources)")
    check_aws.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE)")
    check_aws.add_argument("--region", help="the AWS region (default: AWS_REGION)")
    check.set_defaults(run=_check)
    return parser


# -- AWS --------------------------------------------------------------------------------------


def _session(args: argparse.Namespace) -> Session:
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    except ProfileNotFound as exc:
        raise UsageError(str(exc)) from None
    if not session.region_name:
        raise UsageError("no AWS region: set AWS_REGION or pass --region")
    if session.get_credentials() is None:
        raise UsageError("no AWS credentials: set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID")
    return session


def _client(session: Session, service: str) -> Any:
    from botocore.config import Config

    from leadsync.adapters import aws

    config = Config(
        connect_timeout=aws.CONNECT_TIMEOUT_SECONDS,
        read_timeout=aws.READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": aws.MAX_ATTEMPTS},
    )
    return session.client(service, config=config)  # type: ignore[call-overload]


def _check_targets(args: argparse.Namespace) -> None:
    explicit = {name: getattr(args, name) for name in OUTPUTS}
    if args.stack:
        if any(explicit.values()):
            raise UsageError("give either --stack or the queue URLs and the table, not both")
        return
    missing = [f"--{name.replace('_', '-')}" for name, value in explicit.items() if not value]
    if missing:
        raise UsageError(
            "give --stack NAME, or --sync-queue-url, --dead-letter-queue-url and --state-table"
            f" (missing: {', '.join(missing)})"
        )


def _targets(args: argparse.Namespace, session: Session) -> Targets:
    if args.stack:
        return stack_targets(_client(session, "cloudformation"), args.stack)
    return Targets(**{name: getattr(args, name) for name in OUTPUTS})


def stack_targets(cloudformation: Any, stack: str) -> Targets:
    """The stack's outputs (SyncQueueUrl, DeadLetterQueueUrl, StateTableName) and limits."""
    from botocore.exceptions import BotoCoreError, ClientError

    from leadsync.adapters.aws import error_code

    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if error_code(exc) == "ValidationError":
            region = cloudformation.meta.region_name
            raise UsageError(f"no stack named {stack!r} in {region}") from None
        raise LeadsyncError(f"CloudFormation DescribeStacks failed: {error_code(exc)}") from exc
    except BotoCoreError as exc:
        raise LeadsyncError(f"CloudFormation DescribeStacks failed: {exc}") from exc
    if not found:
        raise UsageError(f"no stack named {stack!r}")
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in found[0].get("Outputs", [])}
    missing = [key for key in OUTPUTS.values() if not outputs.get(key)]
    if missing:
        raise UsageError(
            f"stack {stack!r} has no output {', '.join(missing)}: is it a leadsync stack, "
            "fully deployed?"
        )
    parameters = {
        p["ParameterKey"]: p.get("ParameterValue", "") for p in found[0].get("Parameters", [])
    }
    return Targets(
        **{name: outputs[key] for name, key in OUTPUTS.items()},
        records_per_call=_number(parameters.get("MarketoRecordsPerCall"), 300),
        max_body_bytes=_number(parameters.get("MarketoMaxBodyBytes"), 1_048_576),
        stack=stack,
    )


def _number(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


# -- commands ---------------------------------------------------------------------------------


def _replay(args: argparse.Namespace) -> int:
    from leadsync.adapters.dead_letters import DeadLetters
    from leadsync.adapters.queue import SqsQueue
    from leadsync.adapters.state import StateStore
    from leadsync.ops.replay import ReplayOptions, replay
    from leadsync.sync.fetch.batching import BatchLimits

    if args.since and args.until and args.since >= args.until:
        raise UsageError("--since must be before --until")
    _check_targets(args)
    session = _session(args)
    targets = _targets(args, session)
    sqs = _client(session, "sqs")
    options = ReplayOptions(
        limits=BatchLimits.for_queue(targets.records_per_call, targets.max_body_bytes),
        since=args.since,
        until=args.until,
        dry_run=args.dry_run,
        max_failures=args.max_failures,
    )
    print(f"replay: {targets.describe()}", flush=True)
    report = replay(
        dead_letters=DeadLetters(targets.dead_letter_queue_url, sqs),
        errors=StateStore(targets.state_table, _client(session, "dynamodb")),
        queue=SqsQueue(targets.sync_queue_url, sqs),
        options=options,
    )
    span = f"{_when(report.since)} … {_when(report.until)}"
    dry = " (dry run: nothing is sent, deleted or marked)" if args.dry_run else ""
    print(f"replay: failures recorded {span}{dry}")
    for line in report.lines:
        print(f"  {line}")
    for problem in report.problems:
        print(f"  problem: {problem}")
    print(report.summary(), flush=True)
    return EXIT_FAILED if report.problems else EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from leadsync.adapters.state import StateStore
    from leadsync.limiter.readout import LanesReadout
    from leadsync.ops.plan import describe, make_plan
    from leadsync.runtime.wiring.fetch import fetch_settings, whole_sync

    fetch = _FetchSide.of(args)
    env, variables, clients = fetch.env, fetch.variables, fetch.clients
    try:
        plan = make_plan(
            source=clients.source,
            state=StateStore(env.state_table),
            destination=clients.destination,
            settings=fetch_settings(env),
            whole=whole_sync(env, variables, erasure_visibility_s=30, dry=True),
            lookups_made=lambda: clients.marketo.calls["lookup"],
        )
    finally:
        clients.close()
    left = LanesReadout(env.state_table, variables).read().left
    print(f"plan: stack {args.stack}, nothing queued, stored or marked", flush=True)
    for line in describe(plan, quota_left=left):
        print(f"  {line}" if not line.startswith("plan:") else line)
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from leadsync.adapters.mail import SendingIdentities
    from leadsync.adapters.schema_verdict import SchemaVerdicts
    from leadsync.mapping.fieldmap import default_field_map
    from leadsync.readiness.command import admins_of, folder_of, parameters_of, run_check
    from leadsync.readiness.marketo_checks import MarketoSetup
    from leadsync.readiness.service_checks import ServiceSetup
    from leadsync.runtime.config import BulkStagingEnv, load
    from leadsync.runtime.wiring.fetch import list_rules

    try:
        folder = folder_of(args.list_folder)
    except ValueError:
        raise UsageError(f"--list-folder: not a folder id: {args.list_folder!r}") from None
    fetch = _FetchSide.of(args)
    stack = _client(_session(args), "cloudformation").describe_stacks(StackName=args.stack)
    described = stack["Stacks"][0]
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])}
    parameters = parameters_of(described)
    credentials = fetch.credentials
    secret = credentials.livechat_webhook_secret
    try:
        report = run_check(
            credentials=credentials,
            marketo=fetch.clients.marketo,
            marketo_setup=MarketoSetup(
                field_map=default_field_map(),
                list_rules=list_rules(),
                bulk_enabled=load(BulkStagingEnv, fetch.variables).bulk_enabled,
                list_folder=folder,
            ),
            service_setup=ServiceSetup(
                retention_days=int(parameters.get("LiveChatArchiveRetentionDays") or 60),
                webhook_url=outputs.get("WebhookUrl"),
                webhook_secret=secret.get_secret_value() if secret else None,
                client_id=credentials.livechat_client_id,
                sender=parameters.get("SenderEmail", ""),
                admins=admins_of(parameters.get("AdminEmail", "")),
                stack=args.stack,
            ),
            identities=SendingIdentities(),
            verdicts=SchemaVerdicts(fetch.env.state_table),
            fix=args.fix,
        )
    finally:
        fetch.clients.close()
    print(report.json() if args.json else report.text(), flush=True)
    return EXIT_OK if report.ok else EXIT_FAILED


def _erase(args: argparse.Namespace) -> int:
    import json

    from leadsync.adapters.erasures import read_erasure_file, s3_text_reader
    from leadsync.adapters.queue import SqsQueue

    session = _session(args)
    url = args.erasure_queue_url
    if args.stack:
        url = _stack_outputs(_client(session, "cloudformation"), args.stack).get("ErasureQueueUrl")
        if not url:
            raise UsageError(f"stack {args.stack!r} has no output ErasureQueueUrl")
    reader = s3_text_reader(_client(session, "s3")) if args.file.startswith("s3://") else None
    parsed = read_erasure_file(args.file, read_text=reader)
    for problem in parsed.problems:
        print(f"  line {problem.line}: {problem.reason} ({problem.masked or '-'})")
    sent = 0
    if not args.dry_run and parsed.requests:
        queue = SqsQueue(url, _client(session, "sqs"))
        sent = queue.send_messages(
            [
                (
                    request.fingerprint,
                    json.dumps(
                        {
                            "email": request.email,
                            "requested_at": request.requested_at.isoformat(),
                            "reference": request.reference,
                        }
                    ),
                )
                for request in parsed.requests
            ]
        )
    print(
        f"erase: requests={len(parsed.requests)} queued={sent} bad_lines={len(parsed.problems)} "
        f"duplicates={parsed.duplicates} dry_run={str(args.dry_run).lower()}",
        flush=True,
    )
    return EXIT_FAILED if parsed.problems else EXIT_OK


def _backfill(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from leadsync.adapters.queue import SqsQueue
    from leadsync.adapters.state import StateStore
    from leadsync.adapters.stats import DailyStats
    from leadsync.ops.backfill import OutOfReach, backfill
    from leadsync.runtime.config import BackfillEnv, load
    from leadsync.runtime.wiring.fetch import fetch_settings, whole_sync

    fetch = _FetchSide.of(args)
    env, variables, clients = fetch.env, fetch.variables, fetch.clients
    reach = load(BackfillEnv, variables)
    retention = args.retention_days or reach.livechat_archive_retention_days
    window = timedelta(hours=args.window_hours or reach.backfill_window_hours)
    # erasure requests stay with the hourly run; the backfill writes and stages only
    whole = replace(whole_sync(env, variables), erasures=None)
    try:
        report = backfill(
            source=clients.source,
            state=StateStore(env.state_table),
            queue=SqsQueue(env.sync_queue_url),
            destination=clients.destination,
            settings=fetch_settings(env),
            since=args.since,
            window=window,
            retention_days=retention,
            whole=whole,
            stats=DailyStats(env.state_table, zone=env.marketo_quota_timezone),
            say=lambda line: print(f"  {line}", flush=True),
        )
    except OutOfReach as exc:
        raise UsageError(str(exc)) from None
    finally:
        clients.close()
    print(report.line(), flush=True)
    return EXIT_OK if report.done else EXIT_FAILED


@dataclass
class _FetchSide:
    """What a command that runs the fetch's logic from a workstation needs: the stack's fetch
    function's environment, its credentials, and the fetch's clients for LiveChat and Marketo
    (through the limiter and the breaker every copy shares; no invocation's time limit)."""

    env: FetchEnv
    variables: dict[str, str]
    credentials: Credentials
    clients: FetchClients

    @classmethod
    def of(cls, args: argparse.Namespace) -> _FetchSide:
        import os

        from leadsync.runtime.config import FetchEnv, load
        from leadsync.runtime.secrets import load_credentials
        from leadsync.runtime.wiring.clients import fetch_clients
        from leadsync.runtime.wiring.deadline import InvocationDeadline

        session = _session(args)
        outputs = _stack_outputs(_client(session, "cloudformation"), args.stack)
        function = outputs.get("FetchFunctionName")
        if not function:
            raise UsageError(f"stack {args.stack!r} has no output FetchFunctionName")
        lam = _client(session, "lambda")
        configuration = lam.get_function_configuration(FunctionName=function)
        variables = {
            name: str(value)
            for name, value in configuration.get("Environment", {}).get("Variables", {}).items()
        }
        # the adapters reach AWS the way the caller does
        if args.profile:
            os.environ["AWS_PROFILE"] = args.profile
        if args.region:
            os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
        env = load(FetchEnv, variables)
        credentials = load_credentials(env.credentials_secret)
        # never started: a call waits at most a minute for its permit, retries take their time
        clients = fetch_clients(env, credentials, InvocationDeadline(), environ=variables)
        return cls(env, variables, credentials, clients)


def _stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError:
        raise UsageError(f"no stack named {stack!r}") from None
    if not found:
        raise UsageError(f"no stack named {stack!r}")
    return {o["OutputKey"]: o.get("OutputValue", "") for o in found[0].get("Outputs", [])}


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or arguments argparse refused (it said why)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.run(args)
    except (UsageError, ConfigurationError) as exc:
        print(f"leadsync {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LeadsyncError as exc:
        print(f"leadsync {args.command}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return code


if __name__ == "__main__":
    sys.exit(main())
