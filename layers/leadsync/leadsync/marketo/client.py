"""The ONE Marketo client: every REST and bulk call takes a limiter permit and gives it back.

No hidden sleeps, no hidden retries: pacing is the limiter's job and retrying is the caller's
decision, made from the classified exceptions (errors.py). The only replays are the ones
Marketo's contract prescribes: once after 601/602 with a new token, and once as
POST `_method=GET` should a GET be refused with 414 despite the local URI check.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import requests
from pydantic import SecretStr, ValidationError

from leadsync.limiter.api import Limiter
from leadsync.marketo.auth import TokenProvider
from leadsync.marketo.bulk import import_body, job_of
from leadsync.marketo.calls import FORM, JSON, Call, CallRunner
from leadsync.marketo.chunking import (
    FILTER_SEPARATOR,
    JsonArrayBody,
    encode_json,
    lookup_value_size,
    pack,
    query_string,
)
from leadsync.marketo.config import MarketoClientConfig, MarketoEndpoints
from leadsync.marketo.errors import (
    MarketoBadResponse,
    MarketoBodyTooLarge,
    MarketoError,
    MarketoUriTooLong,
)
from leadsync.marketo.models import (
    Envelope,
    ErrorStats,
    ImportJob,
    Lead,
    RecordResult,
    Usage,
)
from leadsync.marketo.results import map_results, too_large
from leadsync.marketo.schema import Folder, LeadField, NewField, StaticList
from leadsync.runtime.clock import utc_now

LEADS = "/rest/v1/leads.json"
# room left in a lookup's query or form body for a nextPageToken (Marketo's are ~50 chars)
PAGE_TOKEN_ROOM = 512


class MarketoClient:
    def __init__(
        self,
        endpoints: MarketoEndpoints,
        client_id: str,
        client_secret: str | SecretStr,
        limiter: Limiter,
        *,
        config: MarketoClientConfig | None = None,
        session: requests.Session | None = None,
        deadline: Callable[[], float] | None = None,
        wall_clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or MarketoClientConfig()
        self._owns_session = session is None
        self._session = session or requests.Session()
        secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        wait = self.config.default_wait_s
        self._tokens = TokenProvider(
            endpoints.identity_url,
            client_id,
            secret,
            self._session,
            self.config,
            monotonic=monotonic,
            on_call=self._count_identity,
        )
        self._runner = CallRunner(
            endpoints.rest_url,
            self._tokens,
            limiter,
            self._session,
            self.config,
            deadline=deadline or (lambda: monotonic() + wait),
            wall_clock=wall_clock,
            monotonic=monotonic,
        )

    # -- metrics and lifecycle ------------------------------------------------------------
    @property
    def calls(self) -> Counter[str]:
        """HTTP requests sent, per kind (`identity` included, though it takes no permit)."""
        return self._runner.calls

    @property
    def errors(self) -> Counter[str]:
        """Classified call failures, per code (`606`, `HTTP 503`, `local:timeout`...)."""
        return self._runner.errors

    def _count_identity(self) -> None:
        self._runner.calls["identity"] += 1

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> MarketoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- lookups --------------------------------------------------------------------------
    def lookup_by_email(
        self, emails: Iterable[str], fields: Sequence[str] = ()
    ) -> dict[str, list[Lead]]:
        """Every lead per (trimmed, lower-cased) email; several when Marketo holds duplicates,
        none when it holds no match."""
        if isinstance(emails, str):
            raise TypeError("emails must be a collection of addresses, not one string")
        wanted = list(dict.fromkeys(_email_key(e) for e in emails))
        out: dict[str, list[Lead]] = {email: [] for email in wanted}
        names = ",".join(dict.fromkeys(["email", *(f for f in fields if f != "id")]))
        base = {"filterType": "email", "fields": names, "filterValues": ""}
        packing = pack(
            [lookup_value_size(e) for e in wanted],
            max_items=self.config.records_per_call,
            max_bytes=self.config.max_body_bytes,
            separator=FILTER_SEPARATOR,
            overhead=len(query_string(base)) + PAGE_TOKEN_ROOM,
        )
        if packing.oversized:
            raise ValueError("an email is too long for any lookup call")
        for chunk in packing.chunks:
            params = {**base, "filterValues": ",".join(wanted[i] for i in chunk)}
            for lead in self._pages("lookup", LEADS, params, self.config.lookup_read_timeout_s):
                key = _lead_email(lead)
                if key in out:
                    out[key].append(lead)
        return out

    def _pages(
        self, kind: str, path: str, params: Mapping[str, str], read_timeout: float
    ) -> Iterable[Lead]:
        token: str | None = None
        while True:
            query = {**params, **({"nextPageToken": token} if token else {})}
            envelope = self._get(kind, path, query, read_timeout)
            for raw in envelope.result:
                yield _lead(raw, envelope)
            if not (envelope.more_result and envelope.next_page_token):
                return
            if envelope.next_page_token == token:
                raise MarketoBadResponse(
                    "local:paging",
                    "the same nextPageToken came back",
                    request_id=envelope.request_id,
                )
            token = envelope.next_page_token

    def _get(
        self, kind: str, path: str, params: Mapping[str, str], read_timeout: float | None = None
    ) -> Envelope:
        """GET while the URI fits, else POST `?_method=GET` with a form body (Marketo's way)."""
        query = query_string(params)
        target = f"{path}?{query}" if query else path
        if len(self._runner.url(target).encode()) <= self.config.max_uri_bytes:
            try:
                return self._runner.envelope(Call(kind, "GET", target, read_timeout_s=read_timeout))
            except MarketoUriTooLong:
                pass  # the server's limit is tighter than configured: the POST form below
        body = query.encode()
        if len(body) > self.config.max_body_bytes:
            raise MarketoBodyTooLarge("local:body-too-large", "query too long even as a body")
        return self._runner.envelope(
            Call(kind, "POST", f"{path}?_method=GET", body, FORM, read_timeout)
        )

    def check_token(self) -> None:
        """Ask Marketo's identity service for a new token (no quota, no permit): raises
        when the credentials are refused or Marketo is out of reach."""
        self._tokens.invalidate()
        self._tokens.token()

    # -- lead writes ----------------------------------------------------------------------
    def create_only(
        self, records: Sequence[Mapping[str, Any]], lookup_field: str = "email"
    ) -> list[RecordResult]:
        return self._sync("create_only", "createOnly", records, lookup_field)

    def update_only(
        self, records: Sequence[Mapping[str, Any]], lookup_field: str = "id"
    ) -> list[RecordResult]:
        return self._sync("update_only", "updateOnly", records, lookup_field)

    def create_or_update(
        self, records: Sequence[Mapping[str, Any]], lookup_field: str = "email"
    ) -> list[RecordResult]:
        return self._sync("create_or_update", "createOrUpdate", records, lookup_field)

    def _sync(
        self, kind: str, action: str, records: Sequence[Mapping[str, Any]], lookup_field: str
    ) -> list[RecordResult]:
        head = {"action": action, "lookupField": lookup_field}
        items = [encode_json(dict(record)) for record in records]
        return self._write(kind, "POST", LEADS, JsonArrayBody(head), items)

    def delete(self, ids: Sequence[int]) -> list[RecordResult]:
        return self._write(
            "delete", "POST", "/rest/v1/leads/delete.json", JsonArrayBody({}), _id_items(ids)
        )

    def add_to_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]:
        return self._write(
            "list_add", "POST", _list_path(list_id), JsonArrayBody({}), _id_items(ids)
        )

    def remove_from_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]:
        return self._write(
            "list_remove", "DELETE", _list_path(list_id), JsonArrayBody({}), _id_items(ids)
        )

    def _write(
        self, kind: str, method: str, path: str, body: JsonArrayBody, items: Sequence[bytes]
    ) -> list[RecordResult]:
        """Calls of ≤ records_per_call items and ≤ max_body_bytes; results in input order."""
        limit = self.config.max_body_bytes
        packing = pack(
            [len(i) for i in items],
            max_items=self.config.records_per_call,
            max_bytes=limit,
            overhead=body.overhead,
        )
        results = {i: too_large(i, len(items[i]) + body.overhead, limit) for i in packing.oversized}
        for chunk in packing.chunks:
            try:
                envelope = self._runner.envelope(
                    Call(kind, method, path, body.build([items[i] for i in chunk]), JSON)
                )
                results.update((r.index, r) for r in map_results(chunk, envelope))
            except MarketoError as exc:
                # earlier calls were applied: hand their results over with the failure
                exc.completed = tuple(results[i] for i in sorted(results))
                raise
        return [results[i] for i in range(len(items))]

    # -- list membership ------------------------------------------------------------------
    def is_member(self, list_id: int, ids: Sequence[int]) -> dict[int, bool]:
        """Lead id -> in the list; an unknown lead is not a member."""
        unique = list(dict.fromkeys(int(i) for i in ids))
        out: dict[int, bool] = {}
        packing = pack(
            [len(str(i)) for i in unique],
            max_items=self.config.records_per_call,
            max_bytes=self.config.max_body_bytes,
            separator=FILTER_SEPARATOR,
        )
        for chunk in packing.chunks:
            params = {"id": ",".join(str(unique[i]) for i in chunk)}
            envelope = self._get(
                "list_is_member", _list_path(list_id, "leads/ismember.json"), params
            )
            for result in map_results([unique[i] for i in chunk], envelope):
                out[result.index] = result.status == "memberof"
        return out

    # -- statistics -----------------------------------------------------------------------
    def usage_today(self) -> Usage:
        """What the whole instance (every integration) used today, by Marketo's count."""
        envelope = self._get("usage", "/rest/v1/stats/usage.json", {})
        return _first(Usage, envelope)

    def error_stats(self) -> ErrorStats:
        envelope = self._get("error_stats", "/rest/v1/stats/errors.json", {})
        return _first(ErrorStats, envelope)

    # -- the instance's schema and lists --------------------------------------------------
    def lead_fields(self) -> list[LeadField]:
        """Every lead field with its type, length and whether the API may write it."""
        envelope = self._get("describe", "/rest/v1/leads/describe2.json", {})
        fields: list[LeadField] = []
        for entity in envelope.result:
            raw = entity.get("fields", []) if isinstance(entity, dict) else []
            fields.extend(_parsed(LeadField, item, envelope) for item in raw)
        return fields

    def create_lead_fields(self, fields: Sequence[NewField]) -> list[RecordResult]:
        """Custom fields, one result each (`created`, or `skipped` with its reasons)."""
        items = [encode_json(f.model_dump(by_alias=True, exclude_defaults=True)) for f in fields]
        return self._write(
            "schema_create", "POST", "/rest/v1/leads/schema/fields.json", JsonArrayBody({}), items
        )

    def static_lists(self, names: Sequence[str]) -> list[StaticList]:
        """The static lists with these exact names (several may share one)."""
        return self._lists("name", names)

    def static_lists_by_id(self, ids: Sequence[int]) -> list[StaticList]:
        return self._lists("id", [str(int(i)) for i in ids])

    def _lists(self, key: str, values: Sequence[str]) -> list[StaticList]:
        out: list[StaticList] = []
        for start in range(0, len(values), self.config.records_per_call):
            params = {key: ",".join(values[start : start + self.config.records_per_call])}
            token: str | None = None
            while True:
                query = {**params, **({"nextPageToken": token} if token else {})}
                envelope = self._get("lists", "/rest/v1/lists.json", query)
                out.extend(_parsed(StaticList, raw, envelope) for raw in envelope.result)
                if not (envelope.more_result and envelope.next_page_token):
                    break
                token = envelope.next_page_token
        return out

    def create_static_list(self, name: str, folder: Folder, description: str = "") -> StaticList:
        """A new static list (asset API); Marketo refuses a name already taken (709)."""
        form = {"folder": folder.model_dump_json(), "name": name}
        if description:
            form["description"] = description
        envelope = self._runner.envelope(
            Call(
                "list_create",
                "POST",
                "/rest/asset/v1/staticLists.json",
                query_string(form).encode(),
                FORM,
            )
        )
        if not envelope.result:
            raise MarketoBadResponse(
                "local:bad-result", "no list in the answer", request_id=envelope.request_id
            )
        return _parsed(StaticList, envelope.result[0], envelope)

    def probe(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> None:
        """One call whose only answer of interest is whether the API role may make it
        (MarketoAccessDenied when not); any other refusal is the caller's to read."""
        data = encode_json(dict(body)) if body is not None else None
        self._runner.envelope(Call("probe", method, path, data, JSON if data else None))

    # -- bulk import ----------------------------------------------------------------------
    def submit_import(
        self,
        csv_bytes: bytes,
        format: str = "csv",
        lookup_field: str = "email",
        list_id: int | None = None,
        partition_name: str | None = None,
    ) -> ImportJob:
        """Queue an import. Failures: MarketoBulkBusy (1016/1019/1029: wait, resubmit)."""
        body, content_type = import_body(
            csv_bytes,
            fmt=format,
            lookup_field=lookup_field,
            list_id=list_id,
            partition_name=partition_name,
        )
        limit = self.config.bulk_max_file_bytes
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
            self.config.bulk_read_timeout_s,
        )
        return job_of(self._runner.envelope(call))

    def import_status(self, batch_id: int) -> ImportJob:
        return job_of(self._get("bulk_status", f"/bulk/v1/leads/batch/{int(batch_id)}.json", {}))

    def import_failures(self, batch_id: int) -> bytes:
        """The rows that failed, in the submitted format, plus `Import Failure Reason`."""
        return self._runner.file(
            Call(
                "bulk_failures",
                "GET",
                f"/bulk/v1/leads/batch/{int(batch_id)}/failures.json",
                read_timeout_s=self.config.bulk_read_timeout_s,
            )
        )

    def import_warnings(self, batch_id: int) -> bytes:
        return self._runner.file(
            Call(
                "bulk_warnings",
                "GET",
                f"/bulk/v1/leads/batch/{int(batch_id)}/warnings.json",
                read_timeout_s=self.config.bulk_read_timeout_s,
            )
        )


def _email_key(email: str) -> str:
    key = email.strip().lower()
    if not key or "," in key:
        raise ValueError("an email to look up must be non-empty and hold no comma")
    return key


def _lead_email(lead: Lead) -> str:
    value = lead.get("email")
    return value.strip().lower() if isinstance(value, str) else ""


def _lead(raw: Any, envelope: Envelope) -> Lead:
    if not isinstance(raw, dict) or "id" not in raw:
        raise MarketoBadResponse(
            "local:bad-result", "a lead without an id", request_id=envelope.request_id
        )
    try:
        return Lead.from_raw(raw)
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", "malformed lead", request_id=envelope.request_id
        ) from None


def _parsed[Item: (LeadField, StaticList)](model: type[Item], raw: Any, envelope: Envelope) -> Item:
    try:
        return model.model_validate(raw)
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", f"malformed {model.__name__}", request_id=envelope.request_id
        ) from None


def _first[Stats: (Usage, ErrorStats)](model: type[Stats], envelope: Envelope) -> Stats:
    if not envelope.result:
        return model()
    try:
        return model.model_validate(envelope.result[0])
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", f"malformed {model.__name__}", request_id=envelope.request_id
        ) from None


def _id_items(ids: Sequence[int]) -> list[bytes]:
    return [encode_json({"id": int(i)}) for i in ids]


def _list_path(list_id: int, tail: str = "leads.json") -> str:
    return f"/rest/v1/lists/{int(list_id)}/{tail}"
