"""Which AWS service and operation an HTTP request calls, read the way AWS itself routes it.

The service comes from the SigV4 credential scope (`Credential=AKID/DATE/REGION/SERVICE/...`),
the operation from the protocol: `X-Amz-Target` (JSON), `Action=` in the query or form body
(query), or method and path (REST: S3, SES v2, Lambda).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from local.aws_faults.routes import REST_ROUTES, s3_operation

Protocol = Literal["json", "query", "rest-json", "rest-xml", "none"]

UNKNOWN = "Unknown"

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# JSON services by the prefix of their X-Amz-Target, for requests without a credential scope
_TARGET_PREFIXES = {
    "DynamoDB_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "secretsmanager": "secretsmanager",
}
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Call:
    """One request as AWS sees it; `service` is "" when it is no AWS API call at all."""

    service: str
    operation: str
    protocol: Protocol


NOT_AWS = Call("", "", "none")


def identify(method: str, target: str, headers: Mapping[str, str], body: bytes) -> Call:
    """`target` is the request line's path and query; `headers` have lower-case names."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    service = _signing_service(headers, query)
    amz_target = headers.get("x-amz-target", "")
    if amz_target:
        prefix, _, operation = amz_target.rpartition(".")
        service = service or _TARGET_PREFIXES.get(prefix, "")
        return Call(service, operation or UNKNOWN, "json") if service else NOT_AWS
    if service == "ses" and parts.path.startswith("/v2/"):
        service = "sesv2"  # SES v2 signs with the same scope as v1, on REST paths of its own
    if not service:
        return NOT_AWS
    action = _action(query, headers, body)
    if action:
        return Call(service, action, "query")
    if service == "s3":
        return Call(service, s3_operation(method, parts.path, query, headers), "rest-xml")
    routes = REST_ROUTES.get(service)
    found = routes.match(method, parts.path) if routes is not None else None
    return Call(service, found or UNKNOWN, "rest-json")


def _signing_service(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> str:
    # presigned URLs carry the scope in the query instead of the Authorization header
    credential = headers.get("authorization", "")
    if not credential and "X-Amz-Credential" in query:
        credential = "Credential=" + query["X-Amz-Credential"][0]
    match = _SCOPE.search(credential)
    return match.group(1) if match else ""


def _action(query: Mapping[str, list[str]], headers: Mapping[str, str], body: bytes) -> str:
    if "Action" in query:
        return query["Action"][0]
    if headers.get("content-type", "").startswith(_FORM) and body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if "Action" in form:
            return form["Action"][0]
    return ""
