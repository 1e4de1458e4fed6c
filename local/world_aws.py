"""AWS in the local world: moto as the world reads it, AWS as the functions reach it (through
the fault proxy when there is one, on their movable clock), and the stack's queues, state
table and the e-mail SES accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from local.function_clock import FunctionClock
from local.moto_server import SES_MESSAGES_PATH
from local.ports import get_json, post_json
from local.stack import DeployedStack

REGION = "us-east-1"
ACCOUNT = "123456789012"
# a queue's message counts, as GetQueueAttributes names them
_VISIBLE = "ApproximateNumberOfMessages"
_IN_FLIGHT = "ApproximateNumberOfMessagesNotVisible"
_DELAYED = "ApproximateNumberOfMessagesDelayed"


class AwsSide:
    """AWS at `aws_url` (moto), and at `functions_aws_url` for the functions."""

    aws_url: str
    functions_aws_url: str
    clock: FunctionClock | None
    stack: DeployedStack | None

    # -- sessions and clients --------------------------------------------------------------
    @property
    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    @property
    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
            region_name=REGION,
        )

    @property
    def function_env(self) -> dict[str, str]:
        """AWS as the functions see it: through the fault proxy when there is one, and
        their movable clock."""
        env = {**self.aws_env, "AWS_ENDPOINT_URL": self.functions_aws_url or self.aws_url}
        return {**env, **(self.clock.env() if self.clock else {})}

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.aws_url)  # type: ignore[call-overload]

    # -- the fault proxy -------------------------------------------------------------------
    def aws_faults(self) -> dict[str, Any]:
        """What the fault proxy did to the functions' AWS calls (GET /_faults)."""
        if self.functions_aws_url == self.aws_url:
            return {"injected_total": 0, "injected": []}
        answer: dict[str, Any] = get_json(f"{self.functions_aws_url}/_faults")
        return answer

    def set_aws_faults(self, enabled: bool) -> None:
        if self.functions_aws_url != self.aws_url:
            post_json(f"{self.functions_aws_url}/_faults", {"enabled": enabled})

    # -- the stack's resources -------------------------------------------------------------
    def request_erasures(self, emails: list[str]) -> None:
        """Send erasure requests (one e-mail a message) to the stack's erasure queue."""
        assert self.stack is not None
        sqs = self.client("sqs")
        url = self.stack.outputs["ErasureQueueUrl"]
        for start in range(0, len(emails), 10):
            chunk = emails[start : start + 10]
            entries = [{"Id": str(n), "MessageBody": email} for n, email in enumerate(chunk)]
            answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(f"erasure queue refused {answer['Failed']}")

    def rewind_fetch_mark(self, to: datetime) -> None:
        """Set the high-water mark, as an operator replaying a time span would."""
        assert self.stack is not None
        self.client("dynamodb").put_item(
            TableName=self.stack.outputs["StateTableName"],
            Item={
                "pk": {"S": "source#livechat"},
                "sk": {"S": "hwm"},
                "mark": {"S": to.astimezone(UTC).isoformat().replace("+00:00", "Z")},
                "updated_at": {"S": datetime.now(UTC).isoformat().replace("+00:00", "Z")},
            },
        )

    def queue_depth(self, output_key: str) -> int:
        """The messages the queue holds visible or in flight."""
        return self._messages(output_key, [_VISIBLE, _IN_FLIGHT])

    def waiting(self, output_key: str) -> int:
        """Every message the queue holds: visible, in flight or delayed."""
        return self._messages(output_key, [_VISIBLE, _IN_FLIGHT, _DELAYED])

    def _messages(self, output_key: str, counts: list[str]) -> int:
        assert self.stack is not None
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.outputs[output_key], AttributeNames=counts
        )["Attributes"]
        return sum(int(attrs[name]) for name in counts)

    def sent_emails(self) -> list[dict[str, Any]]:
        """Every e-mail the emulated SES accepted."""
        messages: list[dict[str, Any]] = get_json(f"{self.aws_url}{SES_MESSAGES_PATH}")
        return messages
