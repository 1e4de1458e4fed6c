"""Custom activity types (an approved version and a draft) and activity records, as data, with
the shapes the Activities API answers with (swagger CustomActivityType, ActivityType,
Activity)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .clock import iso_utc

DRAFT = "draft"
APPROVED = "approved"
APPROVED_WITH_DRAFT = "approved with draft"
DELETED = "deleted"

# swagger CustomActivityTypeAttribute.dataType; activities.md lists the same
DATA_TYPES = frozenset(
    {
        "string",
        "boolean",
        "integer",
        "float",
        "link",
        "email",
        "currency",
        "date",
        "datetime",
        "phone",
        "text",
    }
)


@dataclass(frozen=True)
class Attribute:
    """One attribute of a type; `id` is what read-back calls `primaryAttributeValueId` (swagger
    Activity: "Id of the primary attribute field")."""

    id: int
    api_name: str
    name: str
    data_type: str = "string"
    description: str | None = None

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"apiName": self.api_name, "name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["dataType"] = self.data_type
        return out


@dataclass(frozen=True)
class TypeVersion:
    """The definition of a type as approved or as drafted."""

    name: str
    trigger_name: str
    filter_name: str
    primary: Attribute | None
    attributes: tuple[Attribute, ...] = ()
    description: str | None = None

    def all_attributes(self) -> tuple[Attribute, ...]:
        return ((self.primary,) if self.primary else ()) + self.attributes

    def find(self, api_name: str) -> Attribute | None:
        """The attribute (primary or secondary) with that API name, case ignored."""
        key = api_name.lower()
        return next((a for a in self.all_attributes() if a.api_name.lower() == key), None)


@dataclass
class ActivityType:
    id: int
    api_name: str
    created_at: float
    updated_at: float
    approved: TypeVersion | None = None
    draft: TypeVersion | None = None

    @property
    def status(self) -> str:
        if self.approved is None:
            return DRAFT
        return APPROVED if self.draft is None else APPROVED_WITH_DRAFT

    def latest(self) -> TypeVersion:
        """What changes apply to: the draft, else a copy of the approved version."""
        version = self.draft or self.approved
        assert version is not None
        return version

    def shown(self) -> TypeVersion:
        """What lists show: the approved version, else the draft."""
        version = self.approved or self.draft
        assert version is not None
        return version

    def versions(self) -> tuple[TypeVersion, ...]:
        return tuple(v for v in (self.approved, self.draft) if v is not None)

    def record(
        self, version: TypeVersion | None = None, *, full: bool = True, status: str | None = None
    ) -> dict[str, Any]:
        """One CustomActivityType; `full` adds the attributes (describe and every change)."""
        v = version or self.shown()
        out: dict[str, Any] = {"id": self.id, "apiName": self.api_name, "name": v.name}
        if v.description is not None:
            out["description"] = v.description
        out.update(
            triggerName=v.trigger_name,
            filterName=v.filter_name,
            createdAt=iso_utc(self.created_at),
            updatedAt=iso_utc(self.updated_at),
            status=status or self.status,
        )
        if full:
            if v.primary is not None:
                out["primaryAttribute"] = v.primary.record()
            if v.attributes:
                out["attributes"] = [a.record() for a in v.attributes]
        return out

    def listed(self) -> dict[str, Any]:
        """The approved version as Get Activity Types lists it (swagger ActivityType)."""
        v = self.approved
        assert v is not None
        out: dict[str, Any] = {"id": self.id, "name": v.name, "apiName": self.api_name}
        if v.description is not None:
            out["description"] = v.description
        if v.primary is not None:
            out["primaryAttribute"] = _listed_attribute(v.primary)
        out["attributes"] = [_listed_attribute(a) for a in v.attributes]
        return out


def _listed_attribute(a: Attribute) -> dict[str, Any]:
    return {"apiName": a.api_name, "name": a.name, "dataType": a.data_type}


@dataclass(frozen=True)
class Activity:
    """One activity record, write-once. `attributes` holds (apiName, name, value) as the type
    was when the record was added: later changes to the type are not retroactive."""

    id: int
    lead_id: int
    date_ms: int
    type_id: int
    type_api_name: str
    primary_value: str
    primary_field_id: int | None
    attributes: tuple[tuple[str, str, Any], ...] = ()
    added_at: float = 0.0

    @property
    def guid(self) -> str:
        return str(self.id)

    def record(self) -> dict[str, Any]:
        """One item of Get Lead Activities (swagger Activity); empty attributes left out."""
        out: dict[str, Any] = {
            "id": self.id,
            "marketoGUID": self.guid,
            "leadId": self.lead_id,
            "activityDate": iso_utc(self.date_ms / 1000.0),
            "activityTypeId": self.type_id,
        }
        if self.primary_field_id is not None:
            out["primaryAttributeValueId"] = self.primary_field_id
        out["primaryAttributeValue"] = self.primary_value
        out["attributes"] = [
            {"name": name, "value": value}
            for _, name, value in self.attributes
            if value is not None
        ]
        return out

    def as_dict(self) -> dict[str, Any]:
        """What `sim.activities()` returns: the read-back item plus the type's API name, the
        attributes by API name and when the simulator stored it."""
        out = self.record()
        out["activityTypeApiName"] = self.type_api_name
        out["attributesByApiName"] = {api: value for api, _, value in self.attributes}
        out["addedAt"] = iso_utc(self.added_at)
        return out
