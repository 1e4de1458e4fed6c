"""`make bench-limiter`: how much of its Marketo budget leadsync uses, and whether it ever
breaks a limit, with several processes sharing the one DynamoDB limiter.

On the local world with compressed time (a 2 s window instead of 20 s), N worker processes (by
default the template's upload concurrency) push writes through the real client and limiter
until at least --calls Marketo calls are made; then the same again while another integration
consumes half of the instance's rate in the simulator. Figures come from the simulator's audit.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local.stack import load_template  # noqa: E402
from local.world import LocalWorld, WorldOptions  # noqa: E402

LEADSYNC_USER = "leadsync@marketo.sim"


def _template_default(name: str) -> int:
    return int(load_template()["Parameters"][name]["Default"])


def _run(name: str, args: argparse.Namespace, neighbour_per_window: int) -> dict[str, Any]:
    instance_rate = args.instance_calls_per_window
    options = WorldOptions(
        stack_name=f"bench-{name}",
        chats=1,
        state_dir=ROOT / ".local" / f"bench-limiter-{name}",
        marketo_args=[
            "--window-seconds",
            str(args.window),
            "--calls-per-window",
            str(instance_rate),
            "--max-in-flight",
            "10",
            "--daily-quota",
            "1000000",
            "--api-user-id",
            LEADSYNC_USER,
            "--neighbour-calls-per-window",
            str(neighbour_per_window),
        ],
        parameters={
            "MarketoWindowSeconds": str(args.window),
            "MarketoCallsPerWindow": str(args.budget),
            "MarketoMaxInFlight": str(args.in_flight),
            "MarketoDailyCap": "500000",
            "MarketoDailyQuota": "1000000",
            "UploadConcurrency": str(args.workers),
        },
    )
    calls_each = math.ceil(args.calls / args.workers)
    with LocalWorld(options) as world:
        upload = world.functions["UploadFunction"]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": os.pathsep.join(str(p) for p in upload.paths[1:]),
            **world.aws_env,
            **upload.environment,
            "MARKETO_JITTER_MS": str(args.jitter_ms),
            "BENCH_CALLS": str(calls_each),
            "BENCH_RECORDS": str(args.records),
        }
        started = time.monotonic()
        workers = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "benchmarks" / "limiter_worker.py")],
                env={**env, "BENCH_WORKER": str(i)},
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(args.workers)
        ]
        reports = []
        for worker in workers:
            out, _ = worker.communicate()
            if worker.returncode != 0:
                raise RuntimeError(f"a worker failed with {worker.returncode}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
        seconds = time.monotonic() - started
        audit = world.marketo_audit()
        leads = len(world_leads(world))
    return _figures(name, args, audit, reports, seconds, leads)


def world_leads(world: LocalWorld) -> list[dict[str, Any]]:
    import urllib.request

    with urllib.request.urlopen(f"{world.marketo_url}/_sim/leads", timeout=60) as answer:  # noqa: S310
        body = json.loads(answer.read())
    leads: list[dict[str, Any]] = body["leads"] if isinstance(body, dict) else body
    return leads


def _figures(
    name: str,
    args: argparse.Namespace,
    audit: dict[str, Any],
    reports: list[dict[str, Any]],
    seconds: float,
    leads: int,
) -> dict[str, Any]:
    ours = [r for r in audit["requests"] if r.get("user") == LEADSYNC_USER and r.get("counted")]
    times = sorted(r["epoch"] for r in ours)
    first, last = times[0], times[-1]
    full_windows = int((last - first) // args.window)
    per_window = [0] * max(1, full_windows)
    for t in times:
        index = int((t - first) // args.window)
        if index < full_windows:
            per_window[index] += 1
    utilization = [count / args.budget for count in per_window]
    limit_errors = sum(
        1
        for r in audit["requests"]
        if r.get("user") == LEADSYNC_USER
        and any(str(e.get("code")) in ("606", "607", "615") for e in r.get("errors", []))
    )
    calls = len(ours)
    writes = sum(r["ddb_writes"] for r in reports)
    reads = sum(r["ddb_reads"] for r in reports)
    finished = [r["finished_at"] for r in reports]
    records = args.records * math.ceil(args.calls / args.workers) * args.workers
    return {
        "run": name,
        "calls": calls,
        "budget_utilization_median": statistics.median(utilization),
        "budget_utilization_worst": min(utilization),
        "peak_in_flight": audit.get("peak_in_flight", 0),
        "peak_calls_in_window": audit.get("peak_calls_in_window_by_user", {}).get(
            LEADSYNC_USER, audit.get("peak_calls_in_window")
        ),
        "limit_errors": limit_errors,
        "seconds": seconds,
        "ideal_seconds": calls / (args.budget / args.window),
        "ddb_writes_per_call": writes / max(1, calls),
        "ddb_reads_per_call": reads / max(1, calls),
        # How unevenly the workers were served: all have the same number of calls to make.
        "finish_spread_seconds": max(finished) - min(finished),
        "records_sent": records,
        "records_delivered": sum(r["delivered"] for r in reports),
        "leads_in_marketo": leads,
        "windows": len(utilization),
        "retries": _sum_retries(reports),
    }


def _sum_retries(reports: list[dict[str, Any]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for report in reports:
        for kind, count in report["retries"].items():
            total[kind] = total.get(kind, 0) + count
    return total


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench-limiter", description=__doc__)
    parser.add_argument("--workers", type=int, default=_template_default("UploadConcurrency"))
    parser.add_argument("--calls", type=int, default=1000, help="Marketo calls to make at least")
    parser.add_argument("--records", type=int, default=10, help="records per call")
    parser.add_argument("--window", type=int, default=2, help="compressed window, seconds")
    parser.add_argument("--budget", type=int, default=_template_default("MarketoCallsPerWindow"))
    parser.add_argument("--in-flight", type=int, default=_template_default("MarketoMaxInFlight"))
    parser.add_argument("--instance-calls-per-window", type=int, default=100)
    parser.add_argument(
        "--jitter-ms",
        type=int,
        default=100,
        help="the limiter's allowance for late arrival, scaled to the window",
    )
    args = parser.parse_args()
    runs = [
        _run("alone", args, 0),
        _run("noisy_neighbour", args, args.instance_calls_per_window // 2),
    ]
    print(
        f"{'run':<16}{'calls':>7}{'util med':>10}{'util worst':>11}{'peak/win':>9}"
        f"{'in flight':>10}{'limit err':>10}{'seconds':>9}{'ideal':>7}{'writes/call':>12}"
        f"{'reads/call':>11}{'delivered':>10}"
    )
    for r in runs:
        print(
            f"{r['run']:<16}{r['calls']:>7}{r['budget_utilization_median']:>10.2f}"
            f"{r['budget_utilization_worst']:>11.2f}{r['peak_calls_in_window']!s:>9}"
            f"{r['peak_in_flight']:>10}{r['limit_errors']:>10}{r['seconds']:>9.1f}"
            f"{r['ideal_seconds']:>7.1f}{r['ddb_writes_per_call']:>12.2f}"
            f"{r['ddb_reads_per_call']:>11.2f}  "
            f"{r['records_delivered']:>5}/{r['records_sent']}"
        )
        print(
            f"  retries: {r['retries']}  leads in Marketo: {r['leads_in_marketo']}"
            f"  workers finished within {r['finish_spread_seconds']:.1f} s of each other"
        )
    for r in runs:
        print(
            f"limiter: run={r['run']} calls={r['calls']} "
            f"budget_utilization_median={r['budget_utilization_median']:.2f} "
            f"budget_utilization_worst={r['budget_utilization_worst']:.2f} "
            f"peak_in_flight={r['peak_in_flight']} limit_errors={r['limit_errors']} "
            f"seconds={r['seconds']:.0f} ideal_seconds={r['ideal_seconds']:.0f} "
            f"ddb_writes_per_call={r['ddb_writes_per_call']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
