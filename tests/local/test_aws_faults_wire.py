"""Every error of the catalog, as the proxy writes it, read back by botocore's own parsers:
the code AWS sends, and standard retry mode's verdict on it."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse, HeadersDict, HTTPHeaders
from botocore.model import OperationModel
from botocore.parsers import create_parser
from botocore.retries.standard import (
    RetryContext,
    StandardRetryConditions,
    ThrottledRetryableChecker,
)

from local.aws_faults.operations import Call, Protocol
from local.aws_faults.wire import ALIASES, CATALOG, Answer, AwsError, render, resolve

OPERATION = {
    "dynamodb": "PutItem",
    "sqs": "SendMessage",
    "s3": "PutObject",
    "ses": "SendEmail",
    "sesv2": "SendEmail",
    "secretsmanager": "GetSecretValue",
}
PROTOCOL: dict[str, Protocol] = {
    "dynamodb": "json",
    "sqs": "json",
    "s3": "rest-xml",
    "ses": "query",
    "sesv2": "rest-json",
    "secretsmanager": "json",
}
ERRORS = [(service, error) for service, errors in CATALOG.items() for error in errors.values()]


def _operation(service: str, name: str | None = None) -> OperationModel:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(name or OPERATION[service])


def _parse(answer: Answer, operation: OperationModel, protocol: str) -> dict[str, Any]:
    response = {
        "status_code": answer.status,
        "headers": HeadersDict(answer.headers),
        "body": answer.body,
    }
    parsed: dict[str, Any] = create_parser(protocol).parse(
        response,
        operation.output_shape,  # type: ignore[arg-type]  # errors need no output shape
    )
    return parsed


def _headers(answer: Answer) -> HTTPHeaders:
    headers = HTTPHeaders()
    for name, value in answer.headers:
        headers[name] = value
    return headers


def _retry_verdict(
    answer: Answer, operation: OperationModel, parsed: dict[str, Any]
) -> tuple[bool, bool]:
    context = RetryContext(
        attempt_number=1,
        operation_model=operation,
        parsed_response=parsed,
        http_response=AWSResponse("http://aws", answer.status, _headers(answer), None),
    )
    retried = StandardRetryConditions(max_attempts=3).is_retryable(context)
    return retried, ThrottledRetryableChecker().is_retryable(context)


@pytest.mark.parametrize(("service", "error"), ERRORS, ids=[f"{s}.{e.code}" for s, e in ERRORS])
def test_botocore_reads_the_code_and_retries_it(service: str, error: AwsError) -> None:
    operation = _operation(service)
    call = Call(service, operation.name, PROTOCOL[service])
    answer = render(call, error, "0f0e0d0c-0000-4000-8000-000000000000", "POST")
    assert answer.status == error.status
    parsed = _parse(answer, operation, operation.metadata["protocol"])
    assert parsed["Error"]["Code"] == error.code
    assert parsed["Error"]["Message"] == error.message
    assert parsed["ResponseMetadata"]["RequestId"] == "0f0e0d0c-0000-4000-8000-000000000000"
    retried, throttled = _retry_verdict(answer, operation, parsed)
    assert retried, "standard retry mode retries every error AWS says to retry"
    assert throttled == error.throttling, "botocore backs off longer after throttling"


@pytest.mark.parametrize("code", sorted(CATALOG["sqs"]))
def test_sqs_on_the_query_protocol_gets_the_same_codes(code: str) -> None:
    error = CATALOG["sqs"][code]
    answer = render(Call("sqs", "SendMessage", "query"), error, "r-1", "POST")
    parsed = _parse(answer, _operation("sqs"), "query")
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Type"] == ("Receiver" if error.server_side else "Sender")


def test_sqs_json_errors_carry_the_query_compatible_header() -> None:
    answer = render(
        Call("sqs", "SendMessage", "json"), CATALOG["sqs"]["RequestThrottled"], "r", "POST"
    )
    assert ("x-amzn-query-error", "RequestThrottled;Sender") in answer.headers
    assert b'"__type": "com.amazonaws.sqs#RequestThrottled"' in answer.body


def test_a_head_request_to_s3_gets_the_status_alone() -> None:
    operation = _operation("s3", "HeadObject")
    answer = render(Call("s3", "HeadObject", "rest-xml"), CATALOG["s3"]["SlowDown"], "r", "HEAD")
    assert answer.body == b""
    parsed = _parse(answer, operation, "rest-xml")
    assert parsed["Error"]["Code"] == "503"  # what S3 itself gives a HEAD
    assert _retry_verdict(answer, operation, parsed)[0]


def test_dynamodb_errors_carry_a_valid_crc32() -> None:
    import zlib

    answer = render(
        Call("dynamodb", "PutItem", "json"), CATALOG["dynamodb"]["ThrottlingException"], "r", "POST"
    )
    assert ("x-amz-crc32", str(zlib.crc32(answer.body))) in answer.headers


def test_aliases_name_a_catalog_error_of_each_service() -> None:
    for alias, codes in ALIASES.items():
        for service, code in codes.items():
            assert resolve(service, alias) == CATALOG[service][code]
    assert resolve("sesv2", "Throttling") is None
    assert resolve("cloudformation", "throttling") is None
