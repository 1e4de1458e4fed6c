"""`python -m local.aws_faults --target URL [--port N] [--config FILE | --chaos] [--seed N]`

Starts the AWS fault proxy in front of the AWS endpoint at URL and prints
`aws-faults listening on http://127.0.0.1:PORT`. Each injected error is logged on stderr, and
so are the counts when it stops (SIGTERM or SIGINT).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from local.aws_faults.config import FaultConfig
from local.aws_faults.defaults import CHAOS_DEFAULTS
from local.aws_faults.proxy import FaultProxy, stderr_log


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.aws_faults", description=__doc__)
    parser.add_argument("--target", required=True, help="the AWS endpoint, e.g. moto's URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", type=Path, help="a JSON fault configuration")
    source.add_argument("--chaos", action="store_true", help="the chaos run's default mix")
    parser.add_argument("--seed", type=int, help="overrides the configuration's seed")
    args = parser.parse_args(argv)
    config = FaultConfig()
    if args.config is not None:
        config = FaultConfig.load(args.config)
    elif args.chaos:
        config = CHAOS_DEFAULTS
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FaultProxy(
        args.target, config, seed=args.seed, host=args.host, port=args.port, log=stderr_log
    ) as proxy:
        print(f"aws-faults listening on {proxy.url}", flush=True)
        stop.wait()
        summary = proxy.snapshot()
    stderr_log(f"aws-faults: injected {json.dumps(summary['injected'])}")


if __name__ == "__main__":
    main()
