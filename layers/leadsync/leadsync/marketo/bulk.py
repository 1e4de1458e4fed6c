"""Bulk lead import: the multipart body Marketo expects, measured before it is sent."""

from __future__ import annotations

from urllib3 import encode_multipart_formdata
from urllib3.fields import RequestField

from leadsync.marketo.errors import MarketoBadResponse
from leadsync.marketo.models import Envelope, ImportJob

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
