"""What an instance holds: its lead fields and static lists, as leadsync reads and creates them.

Read through `describe2.json` (which fields exist, their type, length and whether the API may
write them), the lead Field Management API (creating custom fields) and the static-list
routes of the lead and asset APIs.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from leadsync.marketo.calls import FORM, Call, CallRunner
from leadsync.marketo.chunking import JsonArrayBody, encode_json, query_string
from leadsync.marketo.errors import MarketoBadResponse
from leadsync.marketo.models import RecordResult
from leadsync.marketo.rest import get, write
from leadsync.marketo.results import parsed

# dataType values Marketo's Field Management API takes when it creates a field: no text
# area, no reference, no formula (those are made in Marketo Admin)
CREATABLE_TYPES = frozenset(
    {
        "boolean",
        "currency",
        "date",
        "datetime",
        "email",
        "float",
        "integer",
        "percent",
        "phone",
        "score",
        "string",
        "url",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class LeadField(_Model):
    """One field of the lead schema, as `describe2.json` lists it."""

    name: str
    display_name: str = Field(default="", alias="displayName")
    data_type: str = Field(alias="dataType")
    length: int | None = None
    updateable: bool = True


class NewField(_Model):
    """A custom field to create (Field Management API)."""

    name: str
    display_name: str = Field(alias="displayName")
    data_type: str = Field(alias="dataType")
    description: str = ""


class StaticList(_Model):
    id: int
    name: str
    program_name: str | None = Field(default=None, alias="programName")
    workspace_name: str | None = Field(default=None, alias="workspaceName")


class Folder(_Model):
    """Where the asset API puts a new static list: a folder or a program."""

    id: int
    type: str = "Folder"


def lead_fields(runner: CallRunner) -> list[LeadField]:
    envelope = get(runner, "describe", "/rest/v1/leads/describe2.json", {})
    fields: list[LeadField] = []
    for entity in envelope.result:
        raw = entity.get("fields", []) if isinstance(entity, dict) else []
        fields.extend(parsed(LeadField, item, envelope) for item in raw)
    return fields


def create_lead_fields(runner: CallRunner, fields: Sequence[NewField]) -> list[RecordResult]:
    items = [encode_json(f.model_dump(by_alias=True, exclude_defaults=True)) for f in fields]
    return write(
        runner,
        "schema_create",
        "POST",
        "/rest/v1/leads/schema/fields.json",
        JsonArrayBody({}),
        items,
    )


def static_lists(runner: CallRunner, key: str, values: Sequence[str]) -> list[StaticList]:
    """The static lists whose `key` (name, id) is one of `values`, every page read."""
    per_call = runner.config.records_per_call
    out: list[StaticList] = []
    for start in range(0, len(values), per_call):
        params = {key: ",".join(values[start : start + per_call])}
        token: str | None = None
        while True:
            query = {**params, **({"nextPageToken": token} if token else {})}
            envelope = get(runner, "lists", "/rest/v1/lists.json", query)
            out.extend(parsed(StaticList, raw, envelope) for raw in envelope.result)
            if not (envelope.more_result and envelope.next_page_token):
                break
            token = envelope.next_page_token
    return out


def create_static_list(
    runner: CallRunner, name: str, folder: Folder, description: str
) -> StaticList:
    form = {"folder": folder.model_dump_json(), "name": name}
    if description:
        form["description"] = description
    body = query_string(form).encode()
    envelope = runner.envelope(
        Call("list_create", "POST", "/rest/asset/v1/staticLists.json", body, FORM)
    )
    if not envelope.result:
        raise MarketoBadResponse(
            "local:bad-result", "no list in the answer", request_id=envelope.request_id
        )
    return parsed(StaticList, envelope.result[0], envelope)
