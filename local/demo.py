"""`make demo`: the job on the local world, from the schedule to what exists afterwards."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from local.world import LocalWorld, WorldOptions


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _show(title: str, value: Any) -> None:
    print(f"    {title}: {json.dumps(value, default=str)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--chats", type=int, default=2000, help="chats the LiveChat side holds")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated dataset")
    args = parser.parse_args(argv)
    started = time.monotonic()
    _step("starting the local world: moto server, the Marketo and LiveChat simulators")
    with LocalWorld(WorldOptions(chats=args.chats, seed=args.seed)) as world:
        _show(
            "endpoints",
            {"aws": world.aws_url, "marketo": world.marketo_url, "livechat": world.livechat_url},
        )
        assert world.stack is not None
        _step(f"deployed template.yaml as stack {world.stack.name}")
        for key, value in sorted(world.stack.outputs.items()):
            _show(key, value)
        _step("the hourly schedule fires the fetch function")
        fetched = world.fire_schedule("FetchFunction")
        _show("fetch returned", fetched.result)
        _show("fetch seconds", round(fetched.seconds, 2))
        _step("the SQS event source mapping feeds the upload function")
        drained = world.drain_queue("UploadFunction")
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
        _step("the daily schedule fires the digest function")
        digest = world.fire_schedule("DigestFunction")
        _show("digest returned", digest.result)
        outbox = world.options.state_dir / "outbox"
        outbox.mkdir(parents=True, exist_ok=True)
        for mail in world.sent_emails():
            path = outbox / f"{mail['id']}.html"
            path.write_text(mail["body"] or "", encoding="utf-8")
            _show(
                "mail SES accepted",
                {"to": mail["destinations"], "subject": mail["subject"], "file": str(path)},
            )
        _step("what exists now")
        description = world.describe()
        for resource in description.pop("resources"):
            print(f"    {resource[0]:<34} {resource[1]:<36} {resource[2]}")
        for key, value in description.items():
            _show(key, value)
        audit = world.marketo_audit()
        _show(
            "marketo calls",
            {k: audit.get(k) for k in ("quota_used", "peak_calls_in_window", "peak_in_flight")},
        )
        print(f"demo: seconds={time.monotonic() - started:.1f} logs={world.options.state_dir}/logs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
