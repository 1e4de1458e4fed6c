"""Each handler module imports fast enough for a cold start (boto3 and friends load lazily)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.handlers import ROOT

pytestmark = pytest.mark.integration
BUDGET_MS = 400

_PROBE = """
import sys, time
sys.path[:0] = [{layer!r}, {folder!r}]
started = time.perf_counter()
import {module}
print(round((time.perf_counter() - started) * 1000))
"""


@pytest.mark.parametrize("function", ["fetch", "upload", "digest"])
def test_handler_import_time(function: str) -> None:
    probe = _PROBE.format(
        layer=str(ROOT / "layers" / "leadsync"),
        folder=str(ROOT / "functions" / function),
        module=f"{function}_handler",
    )
    timings = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
        )
        timings.append(int(done.stdout.strip()))
    assert min(timings) < BUDGET_MS, f"{function}_handler imports in {min(timings)} ms"
