"""Custom activities: the activity type leadsync owns (its lifecycle: create, attributes,
approve, describe), adding activities to leads, and reading them back.

Marketo keys an activity record by the type's integer id, takes at most 300 records a call
and answers one result per record in input order (`added` with its `marketoGUID`, or
`skipped` with reasons Adobe's example names `errors`: both are read). An activity cannot
be deleted or updated, and Marketo has no idempotency key: a record sent twice is two
activities, so the caller claims each before it goes (sync/upload/activities.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from leadsync.marketo.calls import JSON, Call, CallRunner
from leadsync.marketo.chunking import JsonArrayBody, encode_json, pack
from leadsync.marketo.errors import MarketoBadResponse
from leadsync.marketo.models import Envelope, MarketoReason
from leadsync.marketo.rest import get
from leadsync.marketo.results import parsed, too_large
from leadsync.runtime.clock import iso_utc

EXTERNAL = "/rest/v1/activities/external"
# at most this many lead ids and activity types per read (Marketo's limits)
MAX_LEADS_PER_READ = 30
MAX_TYPES_PER_READ = 10
MAX_RECORDS_PER_CALL = 300


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ActivityAttribute(_Model):
    api_name: str = Field(alias="apiName")
    name: str = ""
    data_type: str = Field(default="string", alias="dataType")
    description: str = ""


class ActivityType(_Model):
    """A custom activity type as Marketo describes it (`status`: draft, approved,
    approved with draft, deleted)."""

    id: int
    api_name: str = Field(alias="apiName")
    name: str = ""
    status: str = ""
    trigger_name: str = Field(default="", alias="triggerName")
    filter_name: str = Field(default="", alias="filterName")
    primary_attribute: ActivityAttribute | None = Field(default=None, alias="primaryAttribute")
    attributes: tuple[ActivityAttribute, ...] = ()

    @property
    def approved(self) -> bool:
        return self.status.startswith("approved")


class ActivityResult(_Model):
    """What became of one activity record; `index` is its position in the caller's input."""

    index: int
    id: int | None = None
    marketo_guid: str | None = Field(default=None, alias="marketoGUID")
    status: str
    reasons: tuple[MarketoReason, ...] = ()

    @property
    def added(self) -> bool:
        return self.status == "added"

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


class StoredActivity(_Model):
    """An activity read back (`activities.json`)."""

    id: int | None = None
    marketo_guid: str | None = Field(default=None, alias="marketoGUID")
    lead_id: int = Field(alias="leadId")
    activity_date: str = Field(default="", alias="activityDate")
    activity_type_id: int = Field(alias="activityTypeId")
    primary_attribute_value: str | None = Field(default=None, alias="primaryAttributeValue")


class ActivitiesApi:
    """The custom-activity calls, through the client's one runner (token, permit, meter)."""

    def __init__(self, runner: CallRunner) -> None:
        self._runner = runner

    # -- the type -------------------------------------------------------------------------
    def custom_types(self) -> list[ActivityType]:
        envelope = get(self._runner, "activity_types", f"{EXTERNAL}/types.json", {})
        return [parsed(ActivityType, raw, envelope) for raw in envelope.result]

    def describe_type(self, api_name: str, *, draft: bool = False) -> ActivityType:
        params = {"draft": "true"} if draft else {}
        envelope = get(self._runner, "activity_type", _type_path(api_name, "describe"), params)
        return _one_type(envelope)

    def create_type(self, definition: Mapping[str, Any]) -> ActivityType:
        """A new type, in draft (`apiName, name, triggerName, filterName, primaryAttribute`)."""
        return _one_type(self._post("activity_type_create", f"{EXTERNAL}/type.json", definition))

    def create_attributes(
        self, api_name: str, attributes: Sequence[Mapping[str, Any]]
    ) -> ActivityType:
        path = _type_path(api_name, "attributes/create")
        return _one_type(self._post("activity_type_attributes", path, {"attributes": attributes}))

    def approve_type(self, api_name: str) -> ActivityType:
        return _one_type(self._post("activity_type_approve", _type_path(api_name, "approve"), {}))

    def _post(self, kind: str, path: str, body: Mapping[str, Any]) -> Envelope:
        call = Call(kind, "POST", path, encode_json(dict(body)), JSON)
        return self._runner.envelope(call)

    # -- records --------------------------------------------------------------------------
    def add(self, records: Sequence[Mapping[str, Any]]) -> list[ActivityResult]:
        """Every record added or skipped with its reasons, in input order: calls of at most
        300 records and `max_body_bytes` each; a record too large for any call is skipped
        here, never sent."""
        items = [encode_json(dict(record)) for record in records]
        limit = self._runner.config.max_body_bytes
        packing = pack(
            [len(i) for i in items],
            max_items=min(self._runner.config.records_per_call, MAX_RECORDS_PER_CALL),
            max_bytes=limit,
            overhead=_BODY.overhead,
        )
        out: dict[int, ActivityResult] = {}
        for i in packing.oversized:
            local = too_large(i, len(items[i]) + _BODY.overhead, limit)
            out[i] = ActivityResult(index=i, status=local.status, reasons=local.reasons)
        for chunk in packing.chunks:
            body = _BODY.build([items[i] for i in chunk])
            call = Call("activities_add", "POST", f"{EXTERNAL}.json", body, JSON)
            envelope = self._runner.envelope(call)
            if len(envelope.result) != len(chunk):
                raise MarketoBadResponse(
                    "local:result-count",
                    f"{len(envelope.result)} results for {len(chunk)} activities",
                    request_id=envelope.request_id,
                )
            answered = zip(chunk, envelope.result, strict=True)
            out.update((i, _result(raw, i, envelope)) for i, raw in answered)
        return [out[i] for i in range(len(items))]

    def read_back(
        self, type_id: int, lead_ids: Sequence[int], since: datetime
    ) -> Iterator[StoredActivity]:
        """The activities of this type on these leads since `since`, every page read."""
        unique = list(dict.fromkeys(lead_ids))
        for start in range(0, len(unique), MAX_LEADS_PER_READ):
            chunk = unique[start : start + MAX_LEADS_PER_READ]
            token = self._paging_token(since)
            while True:
                params = {
                    "nextPageToken": token,
                    "activityTypeIds": str(type_id),
                    "leadIds": ",".join(str(i) for i in chunk),
                }
                envelope = get(self._runner, "activities_read", "/rest/v1/activities.json", params)
                yield from (parsed(StoredActivity, raw, envelope) for raw in envelope.result)
                if not (envelope.more_result and envelope.next_page_token):
                    break
                if envelope.next_page_token == token:
                    raise MarketoBadResponse(
                        "local:paging",
                        "the same nextPageToken came back",
                        request_id=envelope.request_id,
                    )
                token = envelope.next_page_token

    def _paging_token(self, since: datetime) -> str:
        path = "/rest/v1/activities/pagingtoken.json"
        envelope = get(self._runner, "activities_token", path, {"sinceDatetime": iso_utc(since)})
        if not envelope.next_page_token:
            raise MarketoBadResponse(
                "local:bad-result", "no nextPageToken", request_id=envelope.request_id
            )
        return envelope.next_page_token


_BODY = JsonArrayBody({})


def _type_path(api_name: str, action: str) -> str:
    return f"{EXTERNAL}/type/{quote(api_name, safe='')}/{action}.json"


def _one_type(envelope: Envelope) -> ActivityType:
    if not envelope.result:
        raise MarketoBadResponse(
            "local:bad-result", "no activity type in the answer", request_id=envelope.request_id
        )
    return parsed(ActivityType, envelope.result[0], envelope)


def _result(raw: Any, index: int, envelope: Envelope) -> ActivityResult:
    if not isinstance(raw, dict):
        raise MarketoBadResponse(
            "local:bad-result",
            "an activity result is not an object",
            request_id=envelope.request_id,
        )
    # Adobe's example names a skipped record's reasons `errors`, other routes `reasons`
    reasons = raw.get("reasons") or raw.get("errors") or ()
    try:
        return ActivityResult.model_validate({**raw, "reasons": reasons, "index": index})
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", "malformed activity result", request_id=envelope.request_id
        ) from None


class TypeIds(Protocol):
    """Where the approved type's id is kept for every copy (the state table)."""

    def get(self, api_name: str) -> int | None: ...

    def put(self, api_name: str, type_id: int) -> None: ...


class ApprovedType:
    """The id of leadsync's activity type once Marketo has it approved: read from `kept`
    (shared by every copy) or, when it holds none, asked of Marketo and kept; asked again at
    most every `recheck_s` while it is not approved (a user may run `leadsync check --fix`
    meanwhile)."""

    def __init__(
        self,
        api: ActivitiesApi,
        api_name: str,
        *,
        kept: TypeIds | None = None,
        recheck_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api, self._name, self._kept = api, api_name, kept
        self._recheck_s, self._monotonic = recheck_s, monotonic
        self._id: int | None = None
        self._asked_at: float | None = None

    def __call__(self) -> int | None:
        now = self._monotonic()
        if self._id is None and (self._asked_at is None or now - self._asked_at >= self._recheck_s):
            self._asked_at = now
            self._id = self._kept.get(self._name) if self._kept is not None else None
            if self._id is None:
                found = [t for t in self._api.custom_types() if t.api_name == self._name]
                self._id = found[0].id if found and found[0].approved else None
                if self._id is not None and self._kept is not None:
                    self._kept.put(self._name, self._id)
        return self._id
