"""Reading an SQS queue (on moto) the way a test checks it."""

from __future__ import annotations

import boto3


def queue_depth(url: str) -> int:
    """The messages in the queue, visible or in flight."""
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())
