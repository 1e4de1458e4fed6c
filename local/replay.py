"""`make replay`: re-drive the local world's failures, then deliver them to the upload.

On the world a `make demo KEEP=1` left running: `leadsync replay --stack <its stack>` runs
against the emulated AWS, exactly as it runs against AWS, then the SQS event source mapping
feeds what was re-driven to the upload function, as AWS would. The replay's own lines come
first; the last line says what the delivery did.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from leadsync.adapters import aws
from leadsync.ops import cli
from local.world import LocalWorld, WorldOptions


def _use_world_aws(world: LocalWorld) -> None:
    """This process talks to the world's AWS, whatever profile the shell has."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(world.aws_env)
    aws.reset_clients()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make replay", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="show what would be re-driven")
    parser.add_argument("--since", metavar="DATE", help="only failures after this date or time")
    parser.add_argument("--until", metavar="DATE", help="only failures up to this date or time")
    parser.add_argument("--max", metavar="N", help="at most N dead letters and error entries")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=WorldOptions().state_dir,
        help="where the kept world's state is (default: .local)",
    )
    args = parser.parse_args(argv)
    world = LocalWorld.attach(WorldOptions(keep=True, state_dir=args.state_dir))
    if world is None or world.stack is None:
        print(
            "make replay: no local world is running: start one with `make demo KEEP=1`, "
            "or replay on AWS with `make replay STACK=name`",
            file=sys.stderr,
        )
        return cli.EXIT_USAGE
    try:
        _use_world_aws(world)
        command = ["replay", "--stack", world.stack.name]
        for option in ("since", "until", "max"):
            if getattr(args, option):
                command += [f"--{option}", getattr(args, option)]
        if args.dry_run:
            command.append("--dry-run")
        leads_before = len(world.marketo_leads())
        code = cli.main(command)
        if code != cli.EXIT_OK or args.dry_run:
            return code
        print("==> the SQS event source mapping delivers the sync queue to the upload", flush=True)
        drained = world.drain_queue("UploadFunction")
        for error in drained.errors[:5]:
            print(f"    upload error: {error}", flush=True)
        leads_after = len(world.marketo_leads())
        print(
            f"delivery: invocations={drained.invocations} messages={drained.messages} "
            f"deleted={drained.deleted} failed={drained.failed} "
            f"leads_added={leads_after - leads_before} "
            f"sync_queue_left={world.queue_depth('SyncQueueUrl')} "
            f"dead_letters_left={world.queue_depth('DeadLetterQueueUrl')}",
            flush=True,
        )
        return cli.EXIT_OK if not drained.errors else cli.EXIT_FAILED
    finally:
        world.stop()


if __name__ == "__main__":
    sys.exit(main())
