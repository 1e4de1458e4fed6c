"""The mix of AWS misbehaviour the chaos run meets: a few per cent throttling wherever the
functions call AWS, rarer 5xx, and some slow answers. Every error here is one the standard
retry mode retries; what gets through three attempts is the product's to handle.

Deployment, Lambda management and STS are never touched (config.PROTECTED), and no error
is answered after applying the call: add `"after": true` to a 5xx rule to test that.
"""

from __future__ import annotations

from local.aws_faults.config import FaultConfig

# what the functions do with messages, single and batch
_SQS_WORK = ["SendMessage*", "ReceiveMessage", "DeleteMessage*", "ChangeMessageVisibility*"]

CHAOS_DEFAULTS = FaultConfig.from_dict(
    {
        "faults": [
            {
                "service": "dynamodb",
                "kind": "ProvisionedThroughputExceededException",
                "probability": 0.02,
            },
            {"service": "dynamodb", "kind": "ThrottlingException", "probability": 0.01},
            {"service": "dynamodb", "kind": "InternalServerError", "probability": 0.005},
            {
                "service": "sqs",
                "operation": _SQS_WORK,
                "kind": "RequestThrottled",
                "probability": 0.02,
            },
            {
                "service": "sqs",
                "operation": _SQS_WORK,
                "kind": "ServiceUnavailable",
                "probability": 0.005,
            },
            {"service": "s3", "kind": "SlowDown", "probability": 0.03},
            {"service": "s3", "kind": "InternalError", "probability": 0.005},
            {"service": "ses", "kind": "Throttling", "probability": 0.03},
            {"service": "sesv2", "kind": "TooManyRequestsException", "probability": 0.03},
            {"service": "secretsmanager", "kind": "ThrottlingException", "probability": 0.03},
            {"service": "*", "kind": "latency", "probability": 0.1, "min_ms": 20, "max_ms": 200},
        ]
    }
)
