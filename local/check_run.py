"""`leadsync check` against the local world, run as an operator runs it: the command line,
boto3 pointed at the emulated AWS, the stack's name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

from local.stack import ROOT
from local.world import LocalWorld

_TALLY = re.compile(r"^check: passed=(\d+) failed=(\d+) marketo_calls=(\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class CheckRun:
    code: int
    output: str
    passed: int
    failed: int
    marketo_calls: int


def run_check(world: LocalWorld, *flags: str) -> CheckRun:
    assert world.stack is not None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "leadsync"), str(ROOT)]),
        "LANG": "C.UTF-8",
        **world.aws_env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "leadsync.ops.cli", "check", "--stack", world.stack.name, *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    found = _TALLY.search(done.stdout)
    passed, failed, calls = (int(n) for n in found.groups()) if found else (0, 0, 0)
    return CheckRun(done.returncode, output, passed, failed, calls)
