"""AWS errors as the services put them on the wire, so botocore parses the codes AWS sends.

Each service has a catalog of the errors the proxy can answer with: the code, the HTTP status
and the message AWS documents. How the error is written depends on the protocol the request
spoke (JSON `__type`, query `<ErrorResponse>`, S3 `<Error>`, REST-JSON `x-amzn-ErrorType`);
botocore reads the code from exactly those places (botocore/parsers.py).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

from local.aws_faults.operations import Call


@dataclass(frozen=True)
class AwsError:
    code: str
    status: int
    message: str
    throttling: bool = False  # refused for the rate: never applied, retried after a backoff

    @property
    def server_side(self) -> bool:
        """AWS blames itself (the Receiver), not the caller, for a 5xx."""
        return self.status >= 500

    @property
    def may_be_applied(self) -> bool:
        """AWS warns that a call answered with a 5xx other than throttling may have been
        applied; only those can be answered after forwarding the call."""
        return self.server_side and not self.throttling


def _catalog(*errors: AwsError) -> dict[str, AwsError]:
    return {error.code: error for error in errors}


CATALOG: dict[str, dict[str, AwsError]] = {
    "dynamodb": _catalog(
        AwsError(
            "ProvisionedThroughputExceededException",
            400,
            "The level of configured provisioned throughput for the table was exceeded. "
            "Consider increasing your provisioning level with the UpdateTable API.",
            throttling=True,
        ),
        AwsError(
            "ThrottlingException",
            400,
            "Throughput exceeds the current capacity of your table or index. DynamoDB is "
            "automatically scaling your table or index so please try again shortly.",
            throttling=True,
        ),
        AwsError(
            "RequestLimitExceeded",
            400,
            "Throughput exceeds the current throughput limit for your account.",
            throttling=True,
        ),
        AwsError("InternalServerError", 500, "Internal server error"),
        AwsError("ServiceUnavailable", 503, "The service is currently unavailable or busy."),
    ),
    "sqs": _catalog(
        AwsError("RequestThrottled", 400, "Request is throttled.", throttling=True),
        AwsError("ThrottlingException", 400, "Rate exceeded", throttling=True),
        AwsError("InternalFailure", 500, "The request processing has failed."),
        AwsError("ServiceUnavailable", 503, "Service is unavailable. Try again later."),
    ),
    "s3": _catalog(
        AwsError("SlowDown", 503, "Please reduce your request rate.", throttling=True),
        AwsError("InternalError", 500, "We encountered an internal error. Please try again."),
        AwsError("ServiceUnavailable", 503, "Please reduce your request rate."),
    ),
    "ses": _catalog(
        AwsError("Throttling", 400, "Maximum sending rate exceeded.", throttling=True),
        AwsError("InternalFailure", 500, "The request processing has failed."),
        AwsError("ServiceUnavailable", 503, "Service is unavailable. Try again later."),
    ),
    "sesv2": _catalog(
        AwsError(
            "TooManyRequestsException", 429, "Maximum sending rate exceeded.", throttling=True
        ),
        AwsError(
            "InternalServiceErrorException",
            500,
            "The request couldn't be processed because an error occurred with the "
            "Amazon SES API v2.",
        ),
    ),
    "secretsmanager": _catalog(
        AwsError("ThrottlingException", 400, "Rate exceeded", throttling=True),
        AwsError("InternalServiceError", 500, "An error occurred on the server side."),
    ),
}

# Kinds that name the usual error of a family in every service's own words.
ALIASES: dict[str, dict[str, str]] = {
    "throttling": {
        "dynamodb": "ProvisionedThroughputExceededException",
        "sqs": "RequestThrottled",
        "s3": "SlowDown",
        "ses": "Throttling",
        "sesv2": "TooManyRequestsException",
        "secretsmanager": "ThrottlingException",
    },
    "server_error": {
        "dynamodb": "InternalServerError",
        "sqs": "InternalFailure",
        "s3": "InternalError",
        "ses": "InternalFailure",
        "sesv2": "InternalServiceErrorException",
        "secretsmanager": "InternalServiceError",
    },
}


def resolve(service: str, kind: str) -> AwsError | None:
    """The error a fault of `kind` is on `service`; None when the service has no such error."""
    code = ALIASES.get(kind, {}).get(service, kind)
    return CATALOG.get(service, {}).get(code)


# JSON protocol details: the `__type` namespace and content type each service answers with
_JSON_TYPE_PREFIX = {"dynamodb": "com.amazonaws.dynamodb.v20120810#", "sqs": "com.amazonaws.sqs#"}
_JSON_CONTENT_TYPE = {"secretsmanager": "application/x-amz-json-1.1"}
# services whose JSON errors name the message `Message` (their models say so)
_CAPITALISED_MESSAGE = frozenset({"secretsmanager"})


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def render(call: Call, error: AwsError, request_id: str, method: str) -> Answer:
    """The error as `call.service` writes it for a request in `call.protocol`."""
    if call.protocol == "json":
        return _json(call.service, error, request_id)
    if call.protocol == "query":
        return _query(error, request_id)
    if call.protocol == "rest-xml":
        return _s3(error, request_id, head=method == "HEAD")
    body = json.dumps({"message": error.message}).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", error.code),
    ]
    return Answer(error.status, headers, body)


def _json(service: str, error: AwsError, request_id: str) -> Answer:
    message_key = "Message" if service in _CAPITALISED_MESSAGE else "message"
    document = {"__type": _JSON_TYPE_PREFIX.get(service, "") + error.code}
    document[message_key] = error.message
    body = json.dumps(document).encode()
    headers = [
        ("Content-Type", _JSON_CONTENT_TYPE.get(service, "application/x-amz-json-1.0")),
        ("x-amzn-RequestId", request_id),
    ]
    if service == "sqs":
        # SQS speaks JSON but keeps its query-era codes; botocore prefers this header's code
        fault = "Receiver" if error.server_side else "Sender"
        headers.append(("x-amzn-query-error", f"{error.code};{fault}"))
    if service == "dynamodb":
        headers.append(("x-amz-crc32", str(zlib.crc32(body))))
    return Answer(error.status, headers, body)


def _query(error: AwsError, request_id: str) -> Answer:
    fault = "Receiver" if error.server_side else "Sender"
    body = (
        "<ErrorResponse><Error>"
        f"<Type>{fault}</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    return Answer(error.status, headers, body)


def _s3(error: AwsError, request_id: str, *, head: bool) -> Answer:
    host_id = request_id.replace("-", "")
    headers = [
        ("Content-Type", "application/xml"),
        ("x-amz-request-id", request_id),
        ("x-amz-id-2", host_id),
    ]
    if head:  # S3 answers HEAD without a body; botocore then takes the status as the code
        return Answer(error.status, headers, b"")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    ).encode()
    return Answer(error.status, headers, body)
