"""One worker of `make bench-limiter`: a process like one upload Lambda copy, pushing its share
of writes through the real Marketo client and the shared DynamoDB limiter.

Environment: the function's (STATE_TABLE, CREDENTIALS_SECRET, MARKETO_*), AWS_ENDPOINT_URL,
and BENCH_WORKER, BENCH_CALLS, BENCH_RECORDS. Prints one JSON line with its figures.
"""

from __future__ import annotations

import json
import os
import time

from leadsync.limiter.api import BudgetExhausted
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.marketo.client import MarketoClient
from leadsync.marketo.config import MarketoEndpoints
from leadsync.runtime.secrets import load_credentials


def main() -> None:
    worker = int(os.environ["BENCH_WORKER"])
    calls = int(os.environ["BENCH_CALLS"])
    records = int(os.environ["BENCH_RECORDS"])
    credentials = load_credentials(os.environ["CREDENTIALS_SECRET"])
    limiter = DynamoDBLimiter(os.environ["STATE_TABLE"], LimiterConfig.from_env(os.environ))
    client = MarketoClient(
        MarketoEndpoints(str(credentials.marketo_rest_url), str(credentials.marketo_identity_url)),
        credentials.marketo_client_id,
        credentials.marketo_client_secret,
        limiter,
        deadline=lambda: time.monotonic() + 30,
    )
    retries: dict[str, int] = {}
    delivered = 0
    for call in range(calls):
        batch = [
            {"email": f"bench-{worker}-{call}-{n}@example.com", "firstName": f"W{worker}"}
            for n in range(records)
        ]
        while True:
            try:
                results = client.create_or_update(batch)
            except BudgetExhausted as exc:
                retries["budget"] = retries.get("budget", 0) + 1
                time.sleep(min(exc.retry_after_seconds, 1.0))
                continue
            except Exception as exc:  # the work waits and is tried again: nothing is dropped
                if not getattr(exc, "retryable", False):
                    raise
                kind = type(exc).__name__
                retries[kind] = retries.get(kind, 0) + 1
                time.sleep(float(getattr(exc, "retry_after", None) or 0.2))
                continue
            delivered += sum(1 for r in results if r.status in ("created", "updated"))
            break
    print(
        json.dumps(
            {
                "worker": worker,
                "delivered": delivered,
                "retries": retries,
                "ddb_writes": limiter.stats.writes,
                "ddb_reads": limiter.stats.reads,
                "ddb_conflicts": limiter.stats.conflicts,
                "finished_at": time.time(),
                "http_calls": dict(client.calls),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
