"""How fast the Marketo simulator answers 300-lead createOrUpdate calls on loopback.

    .venv/bin/python benchmarks/marketo_sim_throughput.py [--threads 4] [--seconds 10]
        [--in-process]

Limits are raised out of the way: this measures the simulator, not Marketo's limits. By
default the simulator runs in its own process, as the local world runs it, so the client
threads do not share its interpreter lock.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from tests.support.marketo_sim import simulator_process

RECORDS = 300
HIGH_LIMITS = {"calls_per_window": 10**9, "max_in_flight": 10**6, "daily_quota": 10**9}


@contextlib.contextmanager
def _simulator(in_process: bool, write_delay_ms: int) -> Iterator[str]:
    if in_process:
        config = SimulatorConfig().updated(
            {
                "client_id": "bench",
                "client_secret": "bench",
                "write_delay_ms": write_delay_ms,
                **HIGH_LIMITS,
            }
        )
        with MarketoSimulator(config) as sim:
            yield sim.base_url
        return
    flags = ["--client-id=bench", "--client-secret=bench", f"--write-delay-ms={write_delay_ms}"]
    flags += [f"--{k.replace('_', '-')}={v}" for k, v in HIGH_LIMITS.items()]
    proc = simulator_process(*flags)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip().rsplit(" ", 1)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _worker(
    base_url: str,
    token: str,
    index: int,
    until: float,
    latencies: list[float],
    lock: threading.Lock,
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    mine: list[float] = []
    call = 0
    while time.perf_counter() < until:
        leads = [
            {
                "email": f"t{index}-{i}@bench.example",
                "firstName": f"F{call}",
                "livechatChatCount": call,
                "city": "Lyon",
            }
            for i in range(RECORDS)
        ]
        started = time.perf_counter()
        resp = session.post(
            f"{base_url}/rest/v1/leads.json",
            json={"action": "createOrUpdate", "input": leads},
            timeout=30,
        )
        mine.append(time.perf_counter() - started)
        body = resp.json()
        if not body.get("success") or len(body["result"]) != RECORDS:
            raise RuntimeError(f"unexpected answer: {str(body)[:300]}")
        call += 1
    with lock:
        latencies.extend(mine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--write-delay-ms", type=int, default=0)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    with _simulator(args.in_process, args.write_delay_ms) as base_url:
        token = requests.get(
            f"{base_url}/identity/oauth/token",
            params={
                "grant_type": "client_credentials",
                "client_id": "bench",
                "client_secret": "bench",
            },
            timeout=10,
        ).json()["access_token"]
        latencies: list[float] = []
        lock = threading.Lock()
        started = time.perf_counter()
        until = started + args.seconds
        threads = [
            threading.Thread(target=_worker, args=(base_url, token, i, until, latencies, lock))
            for i in range(args.threads)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        audit: dict[str, Any] = requests.get(f"{base_url}/_sim/audit?limit=0", timeout=30).json()
        leads = requests.get(f"{base_url}/_sim/leads", timeout=30).json()["count"]
    calls = len(latencies)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] if ordered else 0.0
    print(f"threads={args.threads} seconds={elapsed:.1f} write_delay_ms={args.write_delay_ms}")
    print(f"calls={calls} req/s={calls / elapsed:.1f} records/s={calls * RECORDS / elapsed:.0f}")
    print(f"latency p50={statistics.median(ordered) * 1000:.1f} ms p95={p95 * 1000:.1f} ms")
    print(
        f"simulator: peak_in_flight={audit['peak_in_flight']} "
        f"requests={audit['total_requests']} leads={leads}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
