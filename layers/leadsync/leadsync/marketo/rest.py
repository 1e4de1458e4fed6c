"""Marketo's REST call shapes above one call: a read that turns into POST `_method=GET` when
its URI would be too long, lead reads page after page, and writes packed into as few calls
as the limits allow, their results in input order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from leadsync.marketo.calls import FORM, JSON, Call, CallRunner
from leadsync.marketo.chunking import JsonArrayBody, encode_json, pack, query_string
from leadsync.marketo.errors import (
    MarketoBadResponse,
    MarketoBodyTooLarge,
    MarketoError,
    MarketoUriTooLong,
)
from leadsync.marketo.models import Envelope, Lead, RecordResult
from leadsync.marketo.results import lead_of, map_results, too_large


def get(
    runner: CallRunner,
    kind: str,
    path: str,
    params: Mapping[str, str],
    read_timeout: float | None = None,
) -> Envelope:
    """GET while the URI fits, else POST `?_method=GET` with a form body (Marketo's way)."""
    query = query_string(params)
    target = f"{path}?{query}" if query else path
    if len(runner.url(target).encode()) <= runner.config.max_uri_bytes:
        try:
            return runner.envelope(Call(kind, "GET", target, read_timeout_s=read_timeout))
        except MarketoUriTooLong:
            pass  # the server's limit is tighter than configured: the POST form below
    body = query.encode()
    if len(body) > runner.config.max_body_bytes:
        raise MarketoBodyTooLarge("local:body-too-large", "query too long even as a body")
    return runner.envelope(Call(kind, "POST", f"{path}?_method=GET", body, FORM, read_timeout))


def lead_pages(
    runner: CallRunner, kind: str, path: str, params: Mapping[str, str], read_timeout: float
) -> Iterator[Lead]:
    """Every lead of a read, following nextPageToken to the last page."""
    token: str | None = None
    while True:
        query = {**params, **({"nextPageToken": token} if token else {})}
        envelope = get(runner, kind, path, query, read_timeout)
        for raw in envelope.result:
            yield lead_of(raw, envelope)
        if not (envelope.more_result and envelope.next_page_token):
            return
        if envelope.next_page_token == token:
            raise MarketoBadResponse(
                "local:paging",
                "the same nextPageToken came back",
                request_id=envelope.request_id,
            )
        token = envelope.next_page_token


def write(
    runner: CallRunner,
    kind: str,
    method: str,
    path: str,
    body: JsonArrayBody,
    items: Sequence[bytes],
) -> list[RecordResult]:
    """Calls of ≤ records_per_call items and ≤ max_body_bytes; results in input order."""
    limit = runner.config.max_body_bytes
    packing = pack(
        [len(i) for i in items],
        max_items=runner.config.records_per_call,
        max_bytes=limit,
        overhead=body.overhead,
    )
    results = {i: too_large(i, len(items[i]) + body.overhead, limit) for i in packing.oversized}
    for chunk in packing.chunks:
        try:
            envelope = runner.envelope(
                Call(kind, method, path, body.build([items[i] for i in chunk]), JSON)
            )
            results.update((r.index, r) for r in map_results(chunk, envelope))
        except MarketoError as exc:
            # earlier calls were applied: hand their results over with the failure
            exc.completed = tuple(results[i] for i in sorted(results))
            raise
    return [results[i] for i in range(len(items))]


def id_items(ids: Sequence[int]) -> list[bytes]:
    return [encode_json({"id": int(i)}) for i in ids]


def list_path(list_id: int, tail: str = "leads.json") -> str:
    return f"/rest/v1/lists/{int(list_id)}/{tail}"
