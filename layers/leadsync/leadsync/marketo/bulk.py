"""Bulk lead import: the multipart body Marketo expects, measured before it is sent; the
job's status; the files of rows that failed or were imported with a warning."""

from __future__ import annotations

from typing import Literal

from urllib3 import encode_multipart_formdata
from urllib3.fields import RequestField

from leadsync.marketo.calls import Call, CallRunner
from leadsync.marketo.errors import MarketoBadResponse, MarketoBodyTooLarge
from leadsync.marketo.models import Envelope, ImportJob
from leadsync.marketo.rest import get

FORMATS = {"csv": "text/csv", "tsv": "text/tab-separated-values", "ssv": "text/plain"}


def import_body(
    content: bytes,
    *,
    fmt: str,
    lookup_field: str,
    list_id: int | None,
    partition_name: str | None,
) -> tuple[bytes, str]:
    """(body, content type) of a `POST /bulk/v1/leads.json`."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {sorted(FORMATS)}, not {fmt!r}")
    fields: list[RequestField] = [
        RequestField("format", fmt),
        RequestField("lookupField", lookup_field),
    ]
    if list_id is not None:
        fields.append(RequestField("listId", str(int(list_id))))
    if partition_name is not None:
        fields.append(RequestField("partitionName", partition_name))
    file = RequestField("file", content, filename=f"leads.{fmt}")
    file.make_multipart(content_type=FORMATS[fmt])
    fields.append(file)
    for field in fields[:-1]:
        field.make_multipart()
    return encode_multipart_formdata(fields)


def job_of(envelope: Envelope) -> ImportJob:
    if not envelope.result or not isinstance(envelope.result[0], dict):
        raise MarketoBadResponse(
            "local:bad-result", "import answer without a job", request_id=envelope.request_id
        )
    try:
        return ImportJob.model_validate(envelope.result[0])
    except ValueError:
        raise MarketoBadResponse(
            "local:bad-result", "malformed import job", request_id=envelope.request_id
        ) from None


def submit_import(
    runner: CallRunner,
    content: bytes,
    *,
    fmt: str,
    lookup_field: str,
    list_id: int | None,
    partition_name: str | None,
) -> ImportJob:
    body, content_type = import_body(
        content,
        fmt=fmt,
        lookup_field=lookup_field,
        list_id=list_id,
        partition_name=partition_name,
    )
    limit = runner.config.bulk_max_file_bytes
    if len(body) >= limit:
        raise MarketoBodyTooLarge(
            "local:file-too-large",
            f"import body is {len(body)} bytes; Marketo takes less than {limit}",
        )
    call = Call(
        "bulk_submit",
        "POST",
        "/bulk/v1/leads.json",
        body,
        content_type,
        runner.config.bulk_read_timeout_s,
    )
    return job_of(runner.envelope(call))


def import_status(runner: CallRunner, batch_id: int) -> ImportJob:
    return job_of(get(runner, "bulk_status", f"/bulk/v1/leads/batch/{int(batch_id)}.json", {}))


def result_file(runner: CallRunner, batch_id: int, rows: Literal["failures", "warnings"]) -> bytes:
    """The rows of an import that failed, or were imported with a warning, in the submitted
    format plus `Import Failure Reason` (or `Import Warning Reason`)."""
    return runner.file(
        Call(
            f"bulk_{rows}",
            "GET",
            f"/bulk/v1/leads/batch/{int(batch_id)}/{rows}.json",
            read_timeout_s=runner.config.bulk_read_timeout_s,
        )
    )
