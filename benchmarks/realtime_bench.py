"""Webhook latency while the hourly sync keeps the Marketo budget busy.

On the local world (moto + simulators), with leadsync's share at 20 calls / 20 s of which
the priority lane keeps 10 (PriorityCallsPerWindow), the bench

1. loads the LiveChat simulator with CHATS chats and starts the hourly run, with the upload's
   SQS event source mapping running, so the normal lane works at its budget,
2. starts `leadsync backfill --since` the start of those chats beside it (a process of its
   own, as an operator would run it), so two runs compete for the normal lane,
3. while both run, sends WEBHOOKS LiveChat `incoming_chat` deliveries over the stack's HTTP
   API, one every SPACING seconds (5 s: each costs two calls, a lookup and a write, so 0.4
   calls a second of the priority lane's 0.43), each for a visitor no other work knows,
4. measures, per webhook, the time from sending it to its lead being in Marketo (polling the
   simulator's lead table), with a deadline; a webhook whose lead never appears is lost.

It prints how busy the normal lane was while the webhooks ran (its calls per 20 s from the
simulator's audit, against its budget), then exactly one line:

    realtime: webhooks=N p50_seconds=N p95_seconds=N max_seconds=N lost=N
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "leadsync")]

from local.simulators.livechat.authored import authored_chat  # noqa: E402
from local.simulators.livechat.webhooks import WebhookSender, incoming_chat  # noqa: E402
from local.world import LocalWorld, WorldOptions  # noqa: E402

# a small share, so that the hourly run keeps its lane at the budget while the webhooks run
PARAMETERS = {
    "MarketoCallsPerWindow": "20",
    "MarketoMaxInFlight": "5",
    "PriorityCallsPerWindow": "10",
    "PriorityMaxInFlight": "2",
    "PriorityDailyCap": "2000",
}
NORMAL_BUDGET = 10  # calls per 20 s left to the normal lane


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


class Watcher:
    """Polls the simulator for the webhook visitors' leads; first seen time per e-mail."""

    def __init__(self, world: LocalWorld) -> None:
        self._world = world
        self._lock = threading.Lock()
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def expect(self, email: str, at: float) -> None:
        with self._lock:
            self.sent[email] = at

    def _pending(self) -> list[str]:
        with self._lock:
            return [email for email in self.sent if email not in self.seen]

    def _run(self) -> None:
        while not self._stop.is_set():
            pending = self._pending()
            if pending:
                found = self._world.marketo_leads_of(*pending)
                now = time.monotonic()
                with self._lock:
                    for lead in found:
                        email = str(lead.get("email") or "").lower()
                        if email in self.sent and email not in self.seen:
                            self.seen[email] = now
            self._stop.wait(0.05)  # the poll interval of a watcher thread, not a test wait

    def wait_all(self, deadline_s: float) -> None:
        end = time.monotonic() + deadline_s
        while self._pending() and time.monotonic() < end:
            self._stop.wait(0.1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def lane_load(world: LocalWorld, since: int, start: float, end: float) -> tuple[int, int]:
    """(calls, of which the hourly run's) in the busiest 20 s of the simulator's audit between
    the wall times `start` and `end`. A webhook's calls carry one visitor each; the hourly
    run's lookups and writes carry many."""
    audit = world.marketo_audit(since=since, limit=1_000_000).get("requests", [])
    total: Counter[int] = Counter()
    bulk: Counter[int] = Counter()
    for request in audit:
        action = str(request.get("action", ""))
        at = float(request.get("epoch") or 0.0)
        if action == "identity" or action.startswith("stats:") or not start <= at <= end:
            continue
        window = int((at - start) // 20)
        total[window] += 1
        bulk[window] += int(request.get("records") or 0) > 1
    busiest = max(total, key=lambda w: total[w], default=None)
    return (total[busiest], bulk[busiest]) if busiest is not None else (0, 0)


def start_backfill(world: LocalWorld) -> subprocess.Popen[str]:
    assert world.stack is not None
    since = (world.chats_start - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {
        **os.environ,
        **world.aws_env,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "leadsync"), str(ROOT)]),
    }
    command = "from leadsync.ops.cli import main; raise SystemExit(main())"
    return subprocess.Popen(
        [sys.executable, "-c", command, "backfill", "--stack", world.stack.name, "--since", since],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10000)
    parser.add_argument("--webhooks", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=5.0)
    parser.add_argument("--deadline", type=float, default=120.0)
    parser.add_argument("--keep-logs", type=Path, help="keep the world's state and logs here")
    args = parser.parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    with tempfile.TemporaryDirectory(prefix="leadsync-realtime-") as state:
        options = WorldOptions(
            stack_name="leadsync-realtime",
            state_dir=args.keep_logs or Path(state),
            chats=args.chats,
            parameters=PARAMETERS,
        )
        with LocalWorld(options) as world:
            world.rewind_fetch_mark(world.chats_start - timedelta(minutes=5))
            api = world.http_api()
            sender = WebhookSender(f"{api.url}/webhooks/livechat", retries=3)
            priority = world.listen("PriorityUploadFunction")
            listening = world.listen("UploadFunction") + priority
            seq = int(world.marketo_audit(limit=0).get("total_requests", 0))
            hourly: dict[str, Any] = {}

            def run_hourly() -> None:
                hourly.update(world.fire_schedule("FetchFunction").result)

            fetch = threading.Thread(target=run_hourly, daemon=True)
            fetch.start()
            backfill = start_backfill(world)
            say(f"hourly run and backfill started over {args.chats} chats; webhooks follow")
            watcher = Watcher(world).start()
            time.sleep(3.0)  # let the hourly run reach Marketo before the first webhook
            started = time.monotonic()
            wall_start = time.time()
            statuses: Counter[int | None] = Counter()
            answers: list[float] = []
            for n in range(args.webhooks):
                email = f"realtime.{n}@visitors.example.com"
                chat = authored_chat(
                    f"RT{n:04d}",
                    email=email,
                    at=datetime.now(UTC) - timedelta(seconds=5),
                    customer_id=f"rt-customer-{n}",
                    country="Poland",
                )
                sent_at = time.monotonic()
                result = sender.deliver(incoming_chat(chat, secret_key=world.webhook_secret))
                answers.append(time.monotonic() - sent_at)
                statuses[result.statuses[-1]] += 1
                if result.delivered:
                    watcher.expect(email, sent_at)
                else:
                    say(f"webhook {n}: not taken: {result.statuses}")
                    watcher.expect(email, sent_at)
                next_at = started + (n + 1) * args.spacing
                time.sleep(max(0.0, next_at - time.monotonic()))  # the webhooks' own pace
            watcher.wait_all(args.deadline)
            wall_end = time.time()
            watcher.stop()
            fetch.join(timeout=900)
            backfilled, _ = backfill.communicate(timeout=900)
            say(f"backfill: exit {backfill.returncode}: {backfilled.strip().splitlines()[-1:]}")
            for source in listening:
                source.stop()
            say(f"webhook answers: {dict(statuses)}, p50 {percentile(answers, 0.5):.2f} s")
            served = [s for source in priority for s in source.seconds]
            say(
                f"priority upload invocations: {len(served)}, p50 {percentile(served, 0.5):.2f} s, "
                f"max {max(served, default=0.0):.2f} s"
            )
            say(
                "hourly run: "
                + " ".join(f"{k}={hourly.get(k)}" for k in ("chats", "visitors", "messages"))
            )
            calls, hourly_calls = lane_load(world, seq, wall_start, wall_end)
            say(
                f"busiest 20 s while the webhooks ran: {calls} Marketo calls, {hourly_calls} of "
                f"them the hourly run's (its lane's budget: {NORMAL_BUDGET})"
            )
            latencies = [watcher.seen[e] - watcher.sent[e] for e in watcher.seen]
            lost = len(watcher.sent) - len(watcher.seen)
            if latencies:
                say(f"mean {statistics.mean(latencies):.2f} s over {len(latencies)} webhooks")
    line = (
        f"realtime: webhooks={args.webhooks} p50_seconds={percentile(latencies, 0.5):.2f} "
        f"p95_seconds={percentile(latencies, 0.95):.2f} "
        f"max_seconds={max(latencies, default=0.0):.2f} lost={lost}"
    )
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
