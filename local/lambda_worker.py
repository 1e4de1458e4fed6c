"""One Lambda execution environment: a process that loads a handler and serves invocations.

Started by `local.lambda_runtime` with the function's environment. Invocations arrive as JSON
lines on stdin; each answer goes back as one JSON line on the protocol descriptor. Anything the
handler prints (Powertools logs go to stdout) lands in the function's log file instead, as in
CloudWatch Logs. Like a warm Lambda, module state survives between invocations of one worker and
is never shared between workers.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any


class LambdaContext:
    """The attributes of the context object Lambda passes to a Python handler."""

    def __init__(self, function_name: str, timeout_seconds: float, memory_mb: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{os.environ.get('AWS_REGION', 'us-east-1')}:123456789012:"
            f"function:{function_name}"
        )
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_handler(spec: str) -> Any:
    module_name, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def main() -> None:
    # Only the function's code and its layers are importable, as in a Lambda environment.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    protocol = os.fdopen(int(os.environ["LEADSYNC_WORKER_FD"]), "w", buffering=1)
    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    timeout = float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    started = time.monotonic()
    try:
        handler = _load_handler(os.environ["_HANDLER"])
        init_error = None
    except Exception as exc:  # an init error fails every invocation, as in Lambda
        handler = None
        init_error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_exc().splitlines(),
        }
        traceback.print_exc()
    protocol.write(
        json.dumps({"ready": True, "init_ms": (time.monotonic() - started) * 1000}) + "\n"
    )
    for line in sys.stdin:
        event = json.loads(line)
        if handler is None:
            protocol.write(json.dumps({"error": init_error}) + "\n")
            continue
        context = LambdaContext(function_name, timeout, memory)
        try:
            result = handler(event, context)
            protocol.write(json.dumps({"result": result}, default=str) + "\n")
        except Exception as exc:
            traceback.print_exc()
            sys.stdout.flush()
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            protocol.write(json.dumps({"error": error}) + "\n")
        sys.stdout.flush()
        sys.stderr.flush()


if __name__ == "__main__":
    main()
