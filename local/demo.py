"""`make demo`: the hourly sync on the local world, from the schedule to the leads in Marketo.

A fresh world holds generated chats (2,000 by default); a third of their visitors are already
in Marketo, half of those with geography Marketo got elsewhere. One cycle runs: schedule →
fetch → SQS → upload at the template's concurrency → digest. With --keep the world stays up
and the next `--keep` run uses it again: the same chats, re-read, must cost no write.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from local.check_run import run_check
from local.kept_world import stop_kept_world
from local.sync_run import CycleReport, run_cycle, seed_known_visitors
from local.world import LocalWorld, WorldOptions


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _say(line: str) -> None:
    print(f"    {line}", flush=True)


def _show(title: str, value: Any) -> None:
    print(f"    {title}: {json.dumps(value, default=str)}", flush=True)


def _open_world(args: argparse.Namespace) -> LocalWorld:
    options = WorldOptions(chats=args.chats, seed=args.seed, keep=args.keep, fresh=args.fresh)
    if args.keep:
        kept = LocalWorld.attach(options)
        if kept is not None:
            _step(f"using the world a previous --keep run left running ({kept.aws_url})")
            return kept
    _step("starting the local world: moto server, the Marketo and LiveChat simulators")
    world = LocalWorld(options)
    try:
        world.start()
    except BaseException:
        world.stop()
        raise
    assert world.stack is not None
    _show(
        "endpoints",
        {"aws": world.aws_url, "marketo": world.marketo_url, "livechat": world.livechat_url},
    )
    _step(f"deployed template.yaml as stack {world.stack.name}")
    seeded = seed_known_visitors(world)
    with_geo = sum(1 for lead in seeded if "country" in lead)
    _step(f"Marketo already knows {len(seeded)} of the visitors ({with_geo} with geography set)")
    return world


def _summary(world: LocalWorld, report: CycleReport) -> None:
    _step("what the cycle did")
    drained = report.drain
    _show(
        "upload",
        {
            "invocations": drained.invocations,
            "messages": drained.messages,
            "deleted": drained.deleted,
            "failed": drained.failed,
        },
    )
    for error in drained.errors[:5]:
        _show("upload error", error)
    _show("marketo calls by kind", report.calls_by_action)
    _show("leads in marketo", len(world.marketo_leads()))
    _show("sync queue", world.queue_depth("SyncQueueUrl"))
    _show("dead-letter queue", world.queue_depth("DeadLetterQueueUrl"))


def _digest(world: LocalWorld) -> None:
    """Fire the digest; write the e-mail SES accepted, both parts, to .local/outbox/."""
    _step("the daily schedule fires the digest function")
    digest = world.fire_schedule("DigestFunction").result
    _show("digest returned", digest)
    outbox = world.options.state_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    parts = {"html": outbox / "digest.html", "text": outbox / "digest.txt"}
    for path in parts.values():
        path.unlink(missing_ok=True)  # never leave an older run's mail to be taken for this one
    sent = digest.get("message_id") if isinstance(digest, dict) else None
    mail = next((m for m in world.sent_emails() if sent and m["id"] == sent), None)
    if mail is None:
        _show("no e-mail", "nothing to report and DIGEST_SEND_ALL_CLEAR is off")
        return
    _show("subject", mail["subject"])
    for part, path in parts.items():
        path.write_text(mail[part] or "", encoding="utf-8")
        _show(f"the {part} part SES accepted", str(path))


def _checked(world: LocalWorld, *flags: str) -> bool:
    _step(f"leadsync check {' '.join(flags)}".rstrip())
    run = run_check(world, *flags)
    for line in run.output.splitlines():
        print(line if line.startswith("check: ") else f"    {line}", flush=True)
    return run.code == 0


def _first_day(world: LocalWorld) -> None:
    """A freshly provisioned Marketo: the first run stops before any write, check names
    what is missing, check --fix creates it, and the next run delivers everything."""
    _step("the first hourly run, before anything is set up in Marketo")
    first = run_cycle(world, say=_say)
    _show("fetch stopped", first.fetch.get("stopped"))
    _show("leads written", first.created + first.updated)
    _show("records Marketo refused for a missing field", first.field_errors)
    _checked(world)
    _checked(world, "--fix")
    if not _checked(world):
        raise SystemExit("leadsync check still fails after --fix")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--chats", type=int, default=2000, help="chats the LiveChat side holds")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated dataset")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the world running, and use the one a previous --keep run left",
    )
    parser.add_argument("--stop", action="store_true", help="stop a kept world and exit")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="a freshly provisioned Marketo and an unregistered webhook: check, fix, sync",
    )
    args = parser.parse_args(argv)
    if args.stop:
        stopped = stop_kept_world(WorldOptions().state_dir)
        print("stopped the kept world" if stopped else "no kept world is running")
        return 0
    world = _open_world(args)
    try:
        if args.fresh:
            _first_day(world)
            _step("the next hourly run, after the fix")
        report = run_cycle(world, say=_say)
        _summary(world, report)
        _digest(world)
    finally:
        world.stop()
    if args.keep:
        print(
            "    the world is still running: `make demo KEEP=1` uses it, `make demo-stop` ends it"
        )
    print(report.line(), flush=True)
    return 0 if not report.drain.errors else 1


if __name__ == "__main__":
    sys.exit(main())
