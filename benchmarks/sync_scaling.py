"""`make bench-sync`: how the fetch and diff grow with the number of chats.

For each size, a fresh interpreter serves generated chats from the LiveChat simulator and a
Marketo simulator that already knows a third of the visitors (both in processes of their
own), then runs the real fetch logic
with the real LiveChat and Marketo clients (the fetch and the diff alone: queue and state in
memory, and a limiter that grants at once, so that Marketo's pacing does not hide the
work). It prints time and peak memory per 1,000 chats, and the floor Marketo's budget puts
under the same run: lookup calls over the budget's rate.

    make bench-sync                       # 2,000, 20,000 and 100,000 chats
    make bench-sync ARGS="--sizes 2000"
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUDGET_CALLS_PER_SECOND = 50 / 20


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def _post(url: str, payload: Any) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def _measure(chats: int, logs: Path) -> dict[str, float]:
    """The fetch in this process; the simulators in their own, so memory is the fetch's."""
    sys.path[:0] = [str(ROOT / "layers" / "leadsync"), str(ROOT)]
    from leadsync.limiter.api import Outcome, Permit
    from leadsync.marketo.client import MarketoClient
    from leadsync.marketo.config import MarketoEndpoints
    from leadsync.sources.livechat import LiveChatClient
    from leadsync.sync.fetch import run as fetch
    from leadsync.sync.fetch.batching import BatchLimits
    from local.processes import ServerProcess
    from tests.support.fakes import FakeQueue, FakeState

    class Granting:
        def acquire(self, *, deadline_monotonic: float) -> Permit:
            return Permit("bench", 0, 0)

        def release(self, permit: Permit, outcome: Outcome) -> None:
            return None

    end = datetime(2026, 11, 23, 12, tzinfo=UTC)
    start = end - timedelta(hours=24)
    livechat = ServerProcess(
        "livechat",
        ["-m", "local.simulators.livechat", "--port", "0", "--account-id", "bench",
         "--token", "bench-token", "--seed", "5", "--chats", str(chats),
         "--start", start.isoformat(), "--end", end.isoformat()],
        logs / "livechat.log",
        ROOT,
    )  # fmt: skip
    marketo = ServerProcess(
        "marketo",
        ["-m", "local.simulators.marketo", "--port", "0", "--client-id", "bench",
         "--client-secret", "bench-secret", "--calls-per-window", "1000000000",
         "--daily-quota", "1000000000", "--max-in-flight", "1000000", "--write-delay-ms", "0"],
        logs / "marketo.log",
        ROOT,
    )  # fmt: skip
    try:
        found = _get(f"{livechat.url}/_sim/visitors")["visitors"]
        known = sorted(v["email"] for v in found)[::3]
        for at in range(0, len(known), 1000):
            leads = [{"email": e, "country": "Canada"} for e in known[at : at + 1000]]
            _post(f"{marketo.url}/_sim/leads", {"leads": leads})
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        source = LiveChatClient("bench", "bench-token", livechat.url)
        client = MarketoClient(
            MarketoEndpoints(f"{marketo.url}/rest", f"{marketo.url}/identity"),
            "bench",
            "bench-secret",
            Granting(),
        )
        started = time.perf_counter()
        summary = fetch.run(
            source=source,
            state=FakeState(),
            queue=FakeQueue(),
            destination=client,
            settings=fetch.FetchSettings(
                limits=BatchLimits.for_queue(300, 1_048_576),
                first_start=start,
                max_window=timedelta(hours=48),
            ),
            now=lambda: end,
        )
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        lookups = client.calls["lookup"]
        client.close()
        source.close()
    finally:
        marketo.stop()
        livechat.stop()
    return {
        "chats": summary.chats,
        "visitors": summary.visitors,
        "lookups": lookups,
        "seconds": seconds,
        "peak_mb_over_baseline": (peak - baseline) / 1024,
        "budget_floor_seconds": lookups / BUDGET_CALLS_PER_SECOND,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 100000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory() as logs:
            print(json.dumps(_measure(args.child, Path(logs))))
        return 0
    print(
        f"{'chats':>8} {'visitors':>9} {'lookups':>8} {'seconds':>8} {'s/1k chats':>11} "
        f"{'peak MB':>8} {'MB/1k chats':>12} {'budget floor s':>15}"
    )
    lines = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        per_k = 1000 / row["chats"]
        print(
            f"{row['chats']:>8} {row['visitors']:>9} {row['lookups']:>8} "
            f"{row['seconds']:>8.1f} {row['seconds'] * per_k:>11.3f} "
            f"{row['peak_mb_over_baseline']:>8.0f} {row['peak_mb_over_baseline'] * per_k:>12.2f} "
            f"{row['budget_floor_seconds']:>15.0f}",
            flush=True,
        )
        lines.append(
            f"sync: chats={row['chats']} seconds={row['seconds']:.1f} "
            f"seconds_per_1k={row['seconds'] * per_k:.3f} "
            f"peak_mb_per_1k={row['peak_mb_over_baseline'] * per_k:.2f}"
        )
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
