"""`make bench-coldstart`: each handler imported in a fresh interpreter, several times.

Beside them, a naive handler that imports boto3, every Powertools utility and pydantic at
module level, measured in the same run, so the ratio means something on any machine.
Ends with one line per function: `coldstart: function=NAME import_ms_median=N`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("fetch", "upload", "digest")

_PROBE = """
import sys, time
sys.path[:0] = [{layer!r}, {folder!r}]
started = time.perf_counter()
{imports}
print(round((time.perf_counter() - started) * 1000, 1))
"""

NAIVE = """
import os
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
import boto3
import pydantic
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.parser import parse
tracer = Tracer(disabled=True)
logger = Logger()
sqs = boto3.client("sqs")
dynamodb = boto3.client("dynamodb")
"""


def _once(imports: str, folder: Path) -> float:
    probe = _PROBE.format(
        layer=str(ROOT / "layers" / "leadsync"), folder=str(folder), imports=imports
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per function")
    args = parser.parse_args(argv)
    medians: dict[str, float] = {}
    rows = []
    for name in (*FUNCTIONS, "naive"):
        folder = ROOT / "functions" / name if name != "naive" else ROOT
        imports = f"import {name}_handler" if name != "naive" else NAIVE
        timings = [_once(imports, folder) for _ in range(args.runs)]
        medians[name] = statistics.median(timings)
        rows.append((name, medians[name], min(timings), max(timings)))
    print(f"{'handler':<10} {'median ms':>10} {'min':>8} {'max':>8} {'vs naive':>9}")
    for name, median, low, high in rows:
        ratio = median / medians["naive"]
        print(f"{name:<10} {median:>10.1f} {low:>8.1f} {high:>8.1f} {ratio:>9.2f}")
    for name in FUNCTIONS:
        print(f"coldstart: function={name} import_ms_median={round(medians[name])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
