"""The Marketo simulator as its own tests start it, and what they read from its answers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from local.simulators.marketo.testing import SimClient

CLIENT_ID, CLIENT_SECRET = "c", "s"
ROOT = Path(__file__).resolve().parents[2]


def sim_config(**settings: Any) -> SimulatorConfig:
    """The test credentials and writes without delay, unless `settings` say otherwise."""
    defaults: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "write_delay_ms": 0,
    }
    return SimulatorConfig(**{**defaults, **settings})


@contextmanager
def running_sim(**settings: Any) -> Iterator[MarketoSimulator]:
    """The simulator on loopback with `sim_config(**settings)`, stopped afterwards."""
    with MarketoSimulator(sim_config(**settings)) as sim:
        yield sim


def sim_client(sim: MarketoSimulator) -> SimClient:
    return SimClient(sim.base_url, CLIENT_ID, CLIENT_SECRET)


def statuses(body: dict[str, Any]) -> list[str]:
    """Each record's status in a successful answer; a skipped record's reason code instead."""
    assert body["success"] is True, body
    return [
        r["status"] if r["status"] != "skipped" else r["reasons"][0]["code"] for r in body["result"]
    ]


def simulator_process(*args: str) -> subprocess.Popen[str]:
    """The simulator's command line with `args`, on a free port: its first line on stdout (a
    pipe) is `marketo-simulator listening on URL`."""
    command = [sys.executable, "-m", "local.simulators.marketo", "--port", "0", *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
