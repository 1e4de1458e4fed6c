"""Operations of the REST services, by method and path.

Templates are written as botocore's service models write them (`METHOD /path/{Param}`), so a
unit test can hold each one against the model. S3 is regular enough to be read by rule:
`/{Bucket}` or `/{Bucket}/{Key+}`, told apart further by a subresource in the query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PARAM = re.compile(r"\{[^}]+\}")


class RestRoutes:
    def __init__(self, templates: Mapping[str, str]) -> None:
        routes = [(*_compile(route), operation) for operation, route in templates.items()]
        # a literal segment wins over a parameter in the same place (`contacts/list`)
        routes.sort(key=lambda route: route[2])
        self._routes = [(method, pattern, operation) for method, pattern, _, operation in routes]

    @property
    def operations(self) -> frozenset[str]:
        return frozenset(operation for _, _, operation in self._routes)

    def match(self, method: str, path: str) -> str | None:
        for route_method, pattern, operation in self._routes:
            if route_method == method and pattern.fullmatch(path):
                return operation
        return None


def _compile(route: str) -> tuple[str, re.Pattern[str], int]:
    """`METHOD /a/{B}/c` → (method, regex of the path, number of parameters)."""
    method, _, template = route.partition(" ")
    template = template.split("?", 1)[0].rstrip("/")
    regex = ""
    position = 0
    for param in _PARAM.finditer(template):
        regex += re.escape(template[position : param.start()])
        regex += ".+" if param.group().endswith("+}") else "[^/]+"
        position = param.end()
    regex += re.escape(template[position:]) + "/?"
    return method, re.compile(regex), len(_PARAM.findall(template))


SESV2 = RestRoutes(
    {
        "SendEmail": "POST /v2/email/outbound-emails",
        "SendBulkEmail": "POST /v2/email/outbound-bulk-emails",
        "GetAccount": "GET /v2/email/account",
        "CreateEmailIdentity": "POST /v2/email/identities",
        "GetEmailIdentity": "GET /v2/email/identities/{EmailIdentity}",
        "DeleteEmailIdentity": "DELETE /v2/email/identities/{EmailIdentity}",
        "ListEmailIdentities": "POST /v2/email/list-identities",
        "CreateConfigurationSet": "POST /v2/email/configuration-sets",
        "GetConfigurationSet": "GET /v2/email/configuration-sets/{ConfigurationSetName}",
        "DeleteConfigurationSet": "DELETE /v2/email/configuration-sets/{ConfigurationSetName}",
        "CreateEmailTemplate": "POST /v2/email/templates",
        "GetEmailTemplate": "GET /v2/email/templates/{TemplateName}",
        "ListEmailTemplates": "GET /v2/email/templates",
        "GetSuppressedDestination": "GET /v2/email/suppression/addresses/{EmailAddress}",
        "PutSuppressedDestination": "PUT /v2/email/suppression/addresses",
        "CreateContact": "POST /v2/email/contact-lists/{ContactListName}/contacts",
        "ListContacts": "POST /v2/email/contact-lists/{ContactListName}/contacts/list",
        "GetContact": "GET /v2/email/contact-lists/{ContactListName}/contacts/{EmailAddress}",
    }
)

LAMBDA = RestRoutes(
    {
        "Invoke": "POST /2015-03-31/functions/{FunctionName}/invocations",
        "CreateFunction": "POST /2015-03-31/functions",
        "ListFunctions": "GET /2015-03-31/functions",
        "GetFunction": "GET /2015-03-31/functions/{FunctionName}",
        "DeleteFunction": "DELETE /2015-03-31/functions/{FunctionName}",
        "GetFunctionConfiguration": "GET /2015-03-31/functions/{FunctionName}/configuration",
        "UpdateFunctionConfiguration": "PUT /2015-03-31/functions/{FunctionName}/configuration",
        "UpdateFunctionCode": "PUT /2015-03-31/functions/{FunctionName}/code",
        "AddPermission": "POST /2015-03-31/functions/{FunctionName}/policy",
        "PutFunctionConcurrency": "PUT /2017-10-31/functions/{FunctionName}/concurrency",
        "CreateEventSourceMapping": "POST /2015-03-31/event-source-mappings",
        "ListEventSourceMappings": "GET /2015-03-31/event-source-mappings",
        "GetEventSourceMapping": "GET /2015-03-31/event-source-mappings/{UUID}",
        "UpdateEventSourceMapping": "PUT /2015-03-31/event-source-mappings/{UUID}",
        "DeleteEventSourceMapping": "DELETE /2015-03-31/event-source-mappings/{UUID}",
    }
)

REST_ROUTES = {"sesv2": SESV2, "lambda": LAMBDA}

# query parameters S3 accepts empty, so never taken for subresources
_PARAMETERS = frozenset(
    {"prefix", "delimiter", "marker", "start-after", "continuation-token", "encoding-type"}
)
# S3 subresources: query key → {method: operation}, on a bucket and on an object
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}
_BUCKET_STEMS = {
    "acl": "BucketAcl",
    "cors": "BucketCors",
    "encryption": "BucketEncryption",
    "lifecycle": "BucketLifecycleConfiguration",
    "logging": "BucketLogging",
    "notification": "BucketNotificationConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "policy": "BucketPolicy",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "BucketReplication",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "website": "BucketWebsite",
}
_BUCKET_SPECIAL = {
    ("DELETE", "lifecycle"): "DeleteBucketLifecycle",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "uploads"): "ListMultipartUploads",
    ("GET", "versions"): "ListObjectVersions",
    ("POST", "delete"): "DeleteObjects",
}
_BUCKET_PLAIN = {
    "GET": "ListObjects",
    "PUT": "CreateBucket",
    "DELETE": "DeleteBucket",
    "HEAD": "HeadBucket",
}
_OBJECT_STEMS = {"acl": "ObjectAcl", "tagging": "ObjectTagging"}
_OBJECT_SPECIAL = {
    ("GET", "attributes"): "GetObjectAttributes",
    ("POST", "uploads"): "CreateMultipartUpload",
    ("POST", "restore"): "RestoreObject",
}
_MULTIPART = {
    "GET": "ListParts",
    "POST": "CompleteMultipartUpload",
    "DELETE": "AbortMultipartUpload",
}
_OBJECT_PLAIN = {"GET": "GetObject", "DELETE": "DeleteObject", "HEAD": "HeadObject"}


def s3_operation(
    method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
) -> str:
    """Path-style S3 (what botocore sends to a custom endpoint on an IP address)."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else "Unknown"
    if not key:
        return _bucket_operation(method, query)
    return _object_operation(method, query, headers)


def _subresources(query: Mapping[str, list[str]]) -> list[str]:
    # a subresource is a bare key (`?lifecycle`); parameters carry values (`prefix=a/`)
    return [key for key, values in query.items() if values == [""] and key not in _PARAMETERS]


def _bucket_operation(method: str, query: Mapping[str, list[str]]) -> str:
    subresources = _subresources(query)
    for sub in subresources:
        if (method, sub) in _BUCKET_SPECIAL:
            return _BUCKET_SPECIAL[(method, sub)]
        if sub in _BUCKET_STEMS and method in _VERBS:
            return _VERBS[method] + _BUCKET_STEMS[sub]
    if subresources:
        return "Unknown"
    if method == "GET" and query.get("list-type") == ["2"]:
        return "ListObjectsV2"
    return _BUCKET_PLAIN.get(method, "Unknown")


def _object_operation(
    method: str, query: Mapping[str, list[str]], headers: Mapping[str, str]
) -> str:
    copy = "x-amz-copy-source" in headers
    if "uploadId" in query:
        if method == "PUT":
            return "UploadPartCopy" if copy else "UploadPart"
        return _MULTIPART.get(method, "Unknown")
    subresources = _subresources(query)
    for sub in subresources:
        if (method, sub) in _OBJECT_SPECIAL:
            return _OBJECT_SPECIAL[(method, sub)]
        if sub in _OBJECT_STEMS and method in _VERBS:
            return _VERBS[method] + _OBJECT_STEMS[sub]
    if subresources:
        return "Unknown"
    if method == "PUT":
        return "CopyObject" if copy else "PutObject"
    return _OBJECT_PLAIN.get(method, "Unknown")
