"""(service, operation) read from the requests botocore itself builds, and the REST route
tables held against botocore's service models."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config
from botocore.loaders import Loader

from local.aws_faults.operations import NOT_AWS, Call, identify
from local.aws_faults.routes import LAMBDA, SESV2, RestRoutes, s3_operation


class _Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__(request.url)
        self.request = request


def _capture(request: AWSPreparedRequest, **_: Any) -> None:
    raise _Captured(request)


def _sent(service: str, method: str, params: dict[str, Any]) -> Call:
    """Identify the request botocore sends for client.`method`(**params), sending nothing."""
    client: Any = boto3.client(  # type: ignore[call-overload]
        service,
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKID",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.meta.events.register("before-send", _capture)
    with pytest.raises(_Captured) as captured:
        getattr(client, method)(**params)
    request = captured.value.request
    url = urlsplit(request.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    headers = {
        name.lower(): value.decode() if isinstance(value, bytes) else value
        for name, value in request.headers.items()
    }
    body: Any = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    return identify(request.method, target, headers, bytes(body or b""))


KEY = {"pk": {"S": "a"}}
SQS_URL = "http://127.0.0.1:9/123456789012/q"
SIMPLE = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}

CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("dynamodb", "put_item", {"TableName": "t", "Item": KEY}, "PutItem", "json"),
    ("dynamodb", "update_item", {"TableName": "t", "Key": KEY}, "UpdateItem", "json"),
    ("dynamodb", "query", {"TableName": "t"}, "Query", "json"),
    ("dynamodb", "batch_write_item", {"RequestItems": {}}, "BatchWriteItem", "json"),
    ("sqs", "send_message", {"QueueUrl": SQS_URL, "MessageBody": "x"}, "SendMessage", "json"),
    ("sqs", "send_message_batch", {"QueueUrl": SQS_URL, "Entries": []}, "SendMessageBatch", "json"),
    ("sqs", "receive_message", {"QueueUrl": SQS_URL}, "ReceiveMessage", "json"),
    ("sqs", "delete_message", {"QueueUrl": SQS_URL, "ReceiptHandle": "r"}, "DeleteMessage", "json"),
    (
        "sqs",
        "change_message_visibility_batch",
        {"QueueUrl": SQS_URL, "Entries": []},
        "ChangeMessageVisibilityBatch",
        "json",
    ),
    ("secretsmanager", "get_secret_value", {"SecretId": "s"}, "GetSecretValue", "json"),
    ("s3", "list_buckets", {}, "ListBuckets", "rest-xml"),
    ("s3", "create_bucket", {"Bucket": "b"}, "CreateBucket", "rest-xml"),
    ("s3", "head_bucket", {"Bucket": "b"}, "HeadBucket", "rest-xml"),
    ("s3", "list_objects_v2", {"Bucket": "b", "Prefix": "p/"}, "ListObjectsV2", "rest-xml"),
    ("s3", "list_objects", {"Bucket": "b"}, "ListObjects", "rest-xml"),
    (
        "s3",
        "delete_objects",
        {"Bucket": "b", "Delete": {"Objects": []}},
        "DeleteObjects",
        "rest-xml",
    ),
    (
        "s3",
        "put_bucket_lifecycle_configuration",
        {"Bucket": "b", "LifecycleConfiguration": {"Rules": []}},
        "PutBucketLifecycleConfiguration",
        "rest-xml",
    ),
    ("s3", "get_bucket_encryption", {"Bucket": "b"}, "GetBucketEncryption", "rest-xml"),
    ("s3", "put_object", {"Bucket": "b", "Key": "a/b.json", "Body": b"x"}, "PutObject", "rest-xml"),
    ("s3", "get_object", {"Bucket": "b", "Key": "a/b.json"}, "GetObject", "rest-xml"),
    ("s3", "head_object", {"Bucket": "b", "Key": "a"}, "HeadObject", "rest-xml"),
    ("s3", "delete_object", {"Bucket": "b", "Key": "a"}, "DeleteObject", "rest-xml"),
    (
        "s3",
        "copy_object",
        {"Bucket": "b", "Key": "a", "CopySource": "b/c"},
        "CopyObject",
        "rest-xml",
    ),
    ("s3", "get_object_tagging", {"Bucket": "b", "Key": "a"}, "GetObjectTagging", "rest-xml"),
    (
        "s3",
        "create_multipart_upload",
        {"Bucket": "b", "Key": "a"},
        "CreateMultipartUpload",
        "rest-xml",
    ),
    (
        "s3",
        "upload_part",
        {"Bucket": "b", "Key": "a", "PartNumber": 1, "UploadId": "u", "Body": b"x"},
        "UploadPart",
        "rest-xml",
    ),
    (
        "s3",
        "complete_multipart_upload",
        {"Bucket": "b", "Key": "a", "UploadId": "u"},
        "CompleteMultipartUpload",
        "rest-xml",
    ),
    (
        "s3",
        "abort_multipart_upload",
        {"Bucket": "b", "Key": "a", "UploadId": "u"},
        "AbortMultipartUpload",
        "rest-xml",
    ),
    (
        "sesv2",
        "send_email",
        {"FromEmailAddress": "a@b.c", "Destination": {"ToAddresses": ["d@e.f"]}, "Content": SIMPLE},
        "SendEmail",
        "rest-json",
    ),
    ("sesv2", "get_email_identity", {"EmailIdentity": "a@b.c"}, "GetEmailIdentity", "rest-json"),
    (
        "sesv2",
        "create_email_identity",
        {"EmailIdentity": "a@b.c"},
        "CreateEmailIdentity",
        "rest-json",
    ),
    ("sesv2", "get_account", {}, "GetAccount", "rest-json"),
    ("sesv2", "list_contacts", {"ContactListName": "l"}, "ListContacts", "rest-json"),
    (
        "ses",
        "send_email",
        {
            "Source": "a@b.c",
            "Destination": {"ToAddresses": ["d@e.f"]},
            "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        },
        "SendEmail",
        "query",
    ),
    ("ses", "verify_email_identity", {"EmailAddress": "a@b.c"}, "VerifyEmailIdentity", "query"),
    ("lambda", "invoke", {"FunctionName": "f"}, "Invoke", "rest-json"),
    ("lambda", "list_functions", {}, "ListFunctions", "rest-json"),
    ("lambda", "get_function", {"FunctionName": "f"}, "GetFunction", "rest-json"),
    (
        "lambda",
        "update_event_source_mapping",
        {"UUID": "0" * 36, "Enabled": False},
        "UpdateEventSourceMapping",
        "rest-json",
    ),
    ("lambda", "list_event_source_mappings", {}, "ListEventSourceMappings", "rest-json"),
    ("cloudformation", "describe_stacks", {}, "DescribeStacks", "query"),
    ("sts", "get_caller_identity", {}, "GetCallerIdentity", "query"),
    ("events", "list_rules", {}, "ListRules", "json"),
]


@pytest.mark.parametrize(
    ("service", "method", "params", "operation", "protocol"),
    CASES,
    ids=[f"{case[0]}.{case[3]}" for case in CASES],
)
def test_identifies_what_botocore_sends(
    service: str, method: str, params: dict[str, Any], operation: str, protocol: str
) -> None:
    assert _sent(service, method, params) == Call(service, operation, protocol)  # type: ignore[arg-type]


SIGNED_SQS = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, Signed..."


def test_sqs_on_the_query_protocol_by_its_form_action() -> None:
    headers = {
        "authorization": SIGNED_SQS,
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    body = b"Action=SendMessage&Version=2012-11-05&QueueUrl=q&MessageBody=x"
    assert identify("POST", "/", headers, body) == Call("sqs", "SendMessage", "query")
    assert identify("GET", "/?Action=ReceiveMessage", {"authorization": SIGNED_SQS}, b"") == Call(
        "sqs", "ReceiveMessage", "query"
    )


def test_the_target_names_the_service_when_nothing_is_signed() -> None:
    headers = {"x-amz-target": "DynamoDB_20120810.GetItem"}
    assert identify("POST", "/", headers, b"{}") == Call("dynamodb", "GetItem", "json")


def test_a_presigned_url_carries_its_scope_in_the_query() -> None:
    scope = "AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
    target = f"/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={scope}"
    assert identify("GET", target, {}, b"") == Call("s3", "GetObject", "rest-xml")


def test_moto_routes_of_its_own_are_no_aws_calls() -> None:
    assert identify("GET", "/_local/ses/messages", {}, b"") == NOT_AWS
    assert identify("POST", "/moto-api/reset", {}, b"") == NOT_AWS


# -- the tables against botocore's models ----------------------------------------------------


@cache
def _model(service: str) -> dict[str, Any]:
    model: dict[str, Any] = Loader().load_service_model(service, "service-2")
    return model


def _example_path(request_uri: str) -> str:
    path = request_uri.split("?", 1)[0]
    for name in ("EmailIdentity", "EmailAddress"):
        path = path.replace("{" + name + "}", "someone%40example.com")
    return path.replace("{", "x-").replace("}", "").replace("+", "")


@pytest.mark.parametrize(("service", "routes"), [("sesv2", SESV2), ("lambda", LAMBDA)])
def test_every_rest_route_is_the_models(service: str, routes: RestRoutes) -> None:
    """Each operation of the model that a route matches is that route's operation, and every
    route is matched by its operation."""
    found_names = set()
    for name, spec in _model(service)["operations"].items():
        http = spec["http"]
        found = routes.match(http["method"], _example_path(http["requestUri"]))
        if found is not None:
            assert found == name, f"{http['method']} {http['requestUri']}"
            found_names.add(found)
    assert found_names == routes.operations


# named as botocore sends them (CASES): told apart by headers and query members
S3_BY_MEMBERS = {
    "CopyObject",
    "UploadPart",
    "UploadPartCopy",
    "ListParts",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
}
# older names of operations sent on the same path and subresource
S3_SUPERSEDED = {
    "GetBucketLifecycle",
    "PutBucketLifecycle",
    "GetBucketNotification",
    "PutBucketNotification",
    "ListDirectoryBuckets",
}


def test_every_s3_operation_read_by_rule_is_the_models() -> None:
    """Read from the model's path and subresource alone, an S3 operation is named as the
    model names it, or left Unknown; never taken for another."""
    named = set()
    for name, spec in _model("s3")["operations"].items():
        method, uri = spec["http"]["method"], spec["http"]["requestUri"]
        path, _, sub = uri.partition("?")
        query = {key: [value] for key, _, value in (p.partition("=") for p in sub.split("&") if p)}
        example = path.replace("{Bucket}", "b").replace("{Key+}", "k/e.json")
        found = s3_operation(method, example, query, {})
        if found == "Unknown" or name in S3_BY_MEMBERS | S3_SUPERSEDED:
            continue
        assert found == name, f"{method} {uri}"
        named.add(name)
    assert {"PutObject", "GetObject", "DeleteObject", "DeleteObjects", "ListObjectsV2"} <= named
    assert len(named) >= 40
