"""`leadsync`: the operator's command line.

    leadsync replay --stack NAME [--since DATE] [--until DATE] [--dry-run] [--max N]
    leadsync plan --stack NAME
    leadsync erase --file PATH|s3://bucket/key (--stack NAME | --erasure-queue-url URL)
    leadsync backfill --stack NAME --since DATE [--window-hours N] [--retention-days N]
    leadsync check --stack NAME [--fix] [--json] [--list-folder [Program:]ID]

AWS access is boto3's own: the profile (AWS_PROFILE or --profile), the region (AWS_REGION or
--region), and AWS_ENDPOINT_URL for an emulated AWS such as the local world's.

This module is the parser and the dispatcher; each command is carried out by
`command(args)` in its own module (COMMANDS), imported only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from leadsync.errors import ConfigurationError, LeadsyncError
from leadsync.ops.stack import UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# -- argument types ---------------------------------------------------------------------------


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


def _aws_access(command: argparse.ArgumentParser) -> None:
    """--profile and --region, which every command takes."""
    aws = command.add_argument_group("AWS access (else boto3's usual sources)")
    aws.add_argument("--profile", help="the AWS profile (default: AWS_PROFILE)")
    aws.add_argument("--region", help="the AWS region (default: AWS_REGION)")


def _stack(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stack", metavar="NAME", required=True, help="the stack's name")


# -- the commands: each one's help is its docstring's first paragraph, its description the rest


def _replay(replay: argparse.ArgumentParser) -> None:
    """re-drive the dead letters and the undeliverable records, after a fix

    Send the dead-letter queue's batches and the error store's undeliverable records back to the
    sync queue, once each, then delete the dead letters and mark the entries replayed. The
    upload never duplicates a lead, so a record that was in fact written costs a lookup. Chats
    rejected before they became visitors are counted only: fix them at the source and rewind the
    fetch mark.
    """
    where = replay.add_argument_group("where the failures are (a stack, or all three)")
    where.add_argument("--stack", metavar="NAME", help="the CloudFormation stack's name")
    where.add_argument("--sync-queue-url", metavar="URL")
    where.add_argument("--dead-letter-queue-url", metavar="URL")
    where.add_argument("--state-table", metavar="TABLE")
    _aws_access(replay)
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


def _plan(plan: argparse.ArgumentParser) -> None:
    """what the next hourly run would do and cost, writing nothing

    Fetch and diff as the next run would (the same window, lookups and decisions), then print
    the creates, the updates by field, the list additions and removals, the deletes and the
    rejects, the Marketo calls by kind and the daily budget left after them. Nothing is queued,
    stored or marked. The lookups are real Marketo calls and count against the quota.
    """
    _stack(plan)
    _aws_access(plan)


def _erase(erase: argparse.ArgumentParser) -> None:
    """queue the erasure of every e-mail in a file

    Read a file of e-mail addresses (one a line, or CSV with an `email` column; a local path or
    s3://bucket/key) and put each on the stack's erasure queue; the next run deletes every lead
    Marketo holds for them. Bad lines are reported by number, masked; nothing is printed in
    clear.
    """
    erase.add_argument("--file", required=True, metavar="PATH", help="a path or s3://bucket/key")
    target = erase.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", metavar="NAME", help="the stack's name")
    target.add_argument("--erasure-queue-url", metavar="URL")
    erase.add_argument("--dry-run", action="store_true", help="read and check; queue nothing")
    _aws_access(erase)


def _backfill(backfill: argparse.ArgumentParser) -> None:
    """sync every chat since a date (resumable)

    Read every LiveChat chat from DATE to now, a window at a time, through the same fetch as the
    hourly run (lookups, field policies; the bulk-import path when the volume calls for it), and
    queue or stage the writes. The backfill keeps its own mark: run the same command again after
    a stop and it goes on from the last whole window, duplicating nothing. A DATE older than
    LiveChat keeps archives (LIVECHAT_ARCHIVE_RETENTION_DAYS, or --retention-days) is refused.
    """
    _stack(backfill)
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
    _aws_access(backfill)


def _check(check: argparse.ArgumentParser) -> None:
    """is the stack ready: Marketo, LiveChat, the webhook and SES, each with its fix

    One line per check, passed or failed, and for each failure the fix: the Marketo credentials
    and the API role's permissions, every field of the field map and every list of the list
    rules, the LiveChat token and archive retention, the webhook and its secret, the SES
    identities. A handful of Marketo calls, counted. Exit 0 only when the stack will work. --fix
    creates what the APIs can: missing fields, lists named by name, the webhook; it never
    changes or deletes anything.
    """
    _stack(check)
    check.add_argument("--fix", action="store_true", help="create what is missing and can be")
    check.add_argument("--json", action="store_true", help="the report as JSON")
    check.add_argument(
        "--list-folder",
        metavar="[Program:]ID",
        help="where --fix creates static lists: a folder id, or Program:ID",
    )
    _aws_access(check)


# each command: what declares its arguments, and the module whose `command(args)` carries it
# out, imported only when it runs
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], str]] = {
    "replay": (_replay, "leadsync.ops.replay.command"),
    "plan": (_plan, "leadsync.ops.plan"),
    "erase": (_erase, "leadsync.ops.erase"),
    "backfill": (_backfill, "leadsync.ops.backfill"),
    "check": (_check, "leadsync.ops.check"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadsync", description="Operate a deployed leadsync stack."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (arguments, _module) in COMMANDS.items():
        summary, _, description = (inspect.getdoc(arguments) or "").partition("\n\n")
        arguments(commands.add_parser(name, help=summary, description=description))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or arguments argparse refused (it said why)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        succeeded: bool = importlib.import_module(COMMANDS[args.command][1]).command(args)
    except (UsageError, ConfigurationError) as exc:
        print(f"leadsync {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LeadsyncError as exc:
        print(f"leadsync {args.command}: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if succeeded else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
