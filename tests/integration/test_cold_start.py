"""What a cold start pays for: each handler module imports only what it needs up front.

Timings live in `make bench-coldstart`; this checks the cause instead: the heavy modules a
handler needs only when it runs (boto3's session machinery, the X-Ray SDK behind Powertools'
Tracer) are not imported with the handler.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.handlers import ROOT

pytestmark = pytest.mark.integration

_PROBE = """
import json, sys
sys.path[:0] = [{layer!r}, {folder!r}]
import {module}
print(json.dumps(sorted(sys.modules)))
"""
NOT_AT_IMPORT = ("boto3", "aws_xray_sdk")


@pytest.mark.parametrize("function", ["fetch", "upload", "digest"])
def test_handler_import_leaves_heavy_modules_for_later(function: str) -> None:
    probe = _PROBE.format(
        layer=str(ROOT / "layers" / "leadsync"),
        folder=str(ROOT / "functions" / function),
        module=f"{function}_handler",
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(done.stdout))
    assert f"{function}_handler" in loaded
    assert not [name for name in NOT_AT_IMPORT if name in loaded]
