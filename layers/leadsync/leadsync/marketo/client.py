"""The ONE Marketo client: every REST and bulk call takes a limiter permit and gives it back.

No hidden sleeps, no hidden retries: pacing is the limiter's job and retrying is the caller's
decision, made from the classified exceptions (errors.py). The only replays are the ones
Marketo's contract prescribes: once after 601/602 with a new token, and once as
POST `_method=GET` should a GET be refused with 414 despite the local URI check.

Each call's shape lives beside its subject: rest.py (reads, paging, packed writes), schema.py
(fields and static lists), bulk.py (imports); calls.py runs one call.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import requests
from pydantic import SecretStr

from leadsync.limiter.api import Limiter
from leadsync.marketo import bulk, schema
from leadsync.marketo.activities import ActivitiesApi
from leadsync.marketo.auth import TokenProvider
from leadsync.marketo.calls import JSON, Call, CallRunner
from leadsync.marketo.chunking import (
    FILTER_SEPARATOR,
    JsonArrayBody,
    encode_json,
    lookup_value_size,
    pack,
    query_string,
)
from leadsync.marketo.config import MarketoClientConfig, MarketoEndpoints
from leadsync.marketo.models import ErrorStats, ImportJob, Lead, RecordResult, Usage
from leadsync.marketo.rest import get, id_items, lead_pages, list_path, write
from leadsync.marketo.results import first, map_results
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

    def check_token(self) -> None:
        """Ask Marketo's identity service for a new token (no quota, no permit): raises
        when the credentials are refused or Marketo is out of reach."""
        self._tokens.invalidate()
        self._tokens.token()

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
        read_timeout = self.config.lookup_read_timeout_s
        for chunk in packing.chunks:
            params = {**base, "filterValues": ",".join(wanted[i] for i in chunk)}
            for lead in lead_pages(self._runner, "lookup", LEADS, params, read_timeout):
                key = _lead_email(lead)
                if key in out:
                    out[key].append(lead)
        return out

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
        return write(self._runner, kind, "POST", LEADS, JsonArrayBody(head), items)

    def delete(self, ids: Sequence[int]) -> list[RecordResult]:
        path = "/rest/v1/leads/delete.json"
        return write(self._runner, "delete", "POST", path, JsonArrayBody({}), id_items(ids))

    # -- list membership ------------------------------------------------------------------
    def add_to_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]:
        return self._members("list_add", "POST", list_id, ids)

    def remove_from_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]:
        return self._members("list_remove", "DELETE", list_id, ids)

    def _members(
        self, kind: str, method: str, list_id: int, ids: Sequence[int]
    ) -> list[RecordResult]:
        path = list_path(list_id)
        return write(self._runner, kind, method, path, JsonArrayBody({}), id_items(ids))

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
        path = list_path(list_id, "leads/ismember.json")
        for chunk in packing.chunks:
            params = {"id": ",".join(str(unique[i]) for i in chunk)}
            envelope = get(self._runner, "list_is_member", path, params)
            for result in map_results([unique[i] for i in chunk], envelope):
                out[result.index] = result.status == "memberof"
        return out

    # -- statistics -----------------------------------------------------------------------
    def usage_today(self) -> Usage:
        """What the whole instance (every integration) used today, by Marketo's count."""
        return first(Usage, get(self._runner, "usage", "/rest/v1/stats/usage.json", {}))

    def error_stats(self) -> ErrorStats:
        return first(ErrorStats, get(self._runner, "error_stats", "/rest/v1/stats/errors.json", {}))

    # -- the instance's schema and lists --------------------------------------------------
    def lead_fields(self) -> list[LeadField]:
        """Every lead field with its type, length and whether the API may write it."""
        return schema.lead_fields(self._runner)

    def create_lead_fields(self, fields: Sequence[NewField]) -> list[RecordResult]:
        """Custom fields, one result each (`created`, or `skipped` with its reasons)."""
        return schema.create_lead_fields(self._runner, fields)

    def static_lists(self, names: Sequence[str]) -> list[StaticList]:
        """The static lists with these exact names (several may share one)."""
        return schema.static_lists(self._runner, "name", names)

    def static_lists_by_id(self, ids: Sequence[int]) -> list[StaticList]:
        return schema.static_lists(self._runner, "id", [str(int(i)) for i in ids])

    def create_static_list(self, name: str, folder: Folder, description: str = "") -> StaticList:
        """A new static list (asset API); Marketo refuses a name already taken (709)."""
        return schema.create_static_list(self._runner, name, folder, description)

    def probe(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> None:
        """One call whose only answer of interest is whether the API role may make it
        (MarketoAccessDenied when not); any other refusal is the caller's to read."""
        data = encode_json(dict(body)) if body is not None else None
        self._runner.envelope(Call("probe", method, path, data, JSON if data else None))

    @property
    def activities(self) -> ActivitiesApi:
        """Custom activities: the type leadsync owns, adding records, reading them back."""
        return ActivitiesApi(self._runner)

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
        return bulk.submit_import(
            self._runner,
            csv_bytes,
            fmt=format,
            lookup_field=lookup_field,
            list_id=list_id,
            partition_name=partition_name,
        )

    def import_status(self, batch_id: int) -> ImportJob:
        return bulk.import_status(self._runner, batch_id)

    def import_failures(self, batch_id: int) -> bytes:
        """The rows that failed, in the submitted format, plus `Import Failure Reason`."""
        return bulk.result_file(self._runner, batch_id, "failures")

    def import_warnings(self, batch_id: int) -> bytes:
        return bulk.result_file(self._runner, batch_id, "warnings")


def _email_key(email: str) -> str:
    key = email.strip().lower()
    if not key or "," in key:
        raise ValueError("an email to look up must be non-empty and hold no comma")
    return key


def _lead_email(lead: Lead) -> str:
    value = lead.get("email")
    return value.strip().lower() if isinstance(value, str) else ""
