"""`leadsync replay`: where the stack keeps its failures, the replay, and what it says."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadsync.errors import LeadsyncError
from leadsync.ops.stack import UsageError, client, outputs_of, parameters_of, session

if TYPE_CHECKING:
    from boto3.session import Session

# the replay's arguments (or the stack's outputs) that say where the failures are
OUTPUTS = {
    "sync_queue_url": "SyncQueueUrl",
    "dead_letter_queue_url": "DeadLetterQueueUrl",
    "state_table": "StateTableName",
}
DEFAULT_RECORDS_PER_CALL = 300
DEFAULT_MAX_BODY_BYTES = 1_048_576


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


def command(args: argparse.Namespace) -> bool:
    """Replay the stack's failures; True when nothing went wrong."""
    from leadsync.adapters.dead_letters import DeadLetters
    from leadsync.adapters.queue import SqsQueue
    from leadsync.adapters.state import StateStore
    from leadsync.ops.replay.report import when
    from leadsync.ops.replay.run import ReplayOptions, replay
    from leadsync.sync.fetch.batching import BatchLimits

    if args.since and args.until and args.since >= args.until:
        raise UsageError("--since must be before --until")
    _check_targets(args)
    aws = session(args)
    targets = _targets(args, aws)
    sqs = client(aws, "sqs")
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
        errors=StateStore(targets.state_table, client(aws, "dynamodb")),
        queue=SqsQueue(targets.sync_queue_url, sqs),
        options=options,
    )
    span = f"{when(report.since)} … {when(report.until)}"
    dry = " (dry run: nothing is sent, deleted or marked)" if args.dry_run else ""
    print(f"replay: failures recorded {span}{dry}")
    for line in report.lines:
        print(f"  {line}")
    for problem in report.problems:
        print(f"  problem: {problem}")
    print(report.summary(), flush=True)
    return not report.problems


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


def _targets(args: argparse.Namespace, aws: Session) -> Targets:
    if args.stack:
        return stack_targets(client(aws, "cloudformation"), args.stack)
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
    outputs = outputs_of(found[0])
    missing = [key for key in OUTPUTS.values() if not outputs.get(key)]
    if missing:
        raise UsageError(
            f"stack {stack!r} has no output {', '.join(missing)}: is it a leadsync stack, "
            "fully deployed?"
        )
    parameters = parameters_of(found[0])
    return Targets(
        **{name: outputs[key] for name, key in OUTPUTS.items()},
        records_per_call=_number(parameters.get("MarketoRecordsPerCall"), DEFAULT_RECORDS_PER_CALL),
        max_body_bytes=_number(parameters.get("MarketoMaxBodyBytes"), DEFAULT_MAX_BODY_BYTES),
        stack=stack,
    )


def _number(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default
