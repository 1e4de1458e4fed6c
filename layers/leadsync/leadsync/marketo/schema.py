"""What an instance holds: its lead fields and static lists, as leadsync reads and creates them.

Read through `describe2.json` (which fields exist, their type, length and whether the API may
write them), the lead Field Management API (creating custom fields) and the static-list
routes of the lead and asset APIs.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
