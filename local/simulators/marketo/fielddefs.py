"""Lead field definitions: Marketo's standard fields, the default custom ones, their types.

Names, labels and types follow Adobe's list of standard fields (list-of-standard-fields.md)
and field types (field-types.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# (API name, dataType, length) of the standard fields an API user may write
STANDARD_FIELDS: tuple[tuple[str, str, int | None], ...] = (
    ("email", "email", 255),
    ("firstName", "string", 255),
    ("lastName", "string", 255),
    ("phone", "phone", 255),
    ("country", "string", 255),
    ("state", "string", 255),
    ("city", "string", 255),
    ("address", "text", 65535),
    ("postalCode", "string", 255),
    ("company", "string", 255),
    ("title", "string", 255),
    ("website", "url", 255),
    ("leadSource", "string", 255),
    ("salutation", "string", 255),
    ("middleName", "string", 255),
    ("mobilePhone", "phone", 255),
    ("fax", "phone", 255),
    ("dateOfBirth", "date", None),
    ("department", "string", 255),
    ("leadRole", "string", 255),
    ("industry", "string", 255),
    ("annualRevenue", "currency", None),
    ("numberOfEmployees", "integer", None),
    ("sicCode", "string", 255),
    ("site", "string", 255),
    ("mainPhone", "phone", 255),
    ("rating", "string", 255),
    ("leadStatus", "string", 255),
    ("leadScore", "score", None),
    ("unsubscribed", "boolean", None),
    ("unsubscribedReason", "text", 65535),
    ("doNotCall", "boolean", None),
    ("doNotCallReason", "string", 255),
    ("emailInvalid", "boolean", None),
    ("emailInvalidCause", "string", 255),
    ("billingStreet", "text", 65535),
    ("billingCity", "string", 255),
    ("billingState", "string", 255),
    ("billingCountry", "string", 255),
    ("billingPostalCode", "string", 255),
    ("anonymousIP", "string", 255),
    ("inferredCompany", "string", 255),
    ("inferredCountry", "string", 255),
    ("inferredStateRegion", "string", 255),
    ("inferredCity", "string", 255),
    ("inferredPostalCode", "string", 255),
    ("inferredMetropolitanArea", "string", 255),
    ("inferredPhoneAreaCode", "string", 255),
)

DEFAULT_CUSTOM_FIELDS: tuple[tuple[str, str, int | None], ...] = (
    ("livechatVisitorId", "string", 255),
    ("livechatFirstChat", "datetime", None),
    ("livechatLastChat", "datetime", None),
    ("livechatChatCount", "integer", None),
    ("livechatTags", "text", 65535),
    ("livechatReferrer", "url", 255),
    ("livechatLandingPage", "url", 255),
    ("timezone", "string", 255),
)

# Fields Marketo maintains itself ("System managed"): readable, never writable through the API.
SYSTEM_FIELDS: tuple[tuple[str, str, int | None], ...] = (
    ("id", "integer", None),
    ("createdAt", "datetime", None),
    ("updatedAt", "datetime", None),
    ("isAnonymous", "boolean", None),
    ("priority", "integer", None),
    ("relativeScore", "integer", None),
    ("urgency", "float", None),
)

# Friendly labels that are not the API name split into words
LABELS: dict[str, str] = {
    "email": "Email Address",
    "phone": "Phone Number",
    "company": "Company Name",
    "title": "Job Title",
    "leadRole": "Role",
    "mobilePhone": "Mobile Phone Number",
    "fax": "Fax Number",
    "dateOfBirth": "Date of Birth",
    "numberOfEmployees": "Num Employees",
    "rating": "Lead Rating",
    "billingStreet": "Billing Address",
    "sicCode": "SIC Code",
    "anonymousIP": "Anonymous IP",
}

DATA_TYPES = frozenset(
    {
        "string",
        "email",
        "phone",
        "url",
        "text",
        "reference",
        "integer",
        "percent",
        "score",
        "float",
        "currency",
        "boolean",
        "date",
        "datetime",
    }
)
# What the Field Management API creates (swagger CreateLeadField.dataType): no text area,
# reference or formula
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
SHORT_TEXT_TYPES = frozenset({"string", "email", "phone", "url", "reference"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    data_type: str
    length: int | None = None
    read_only: bool = False
    display_name: str = ""
    description: str | None = None
    hidden: bool = False
    html_encoding: bool = True
    sensitive: bool = False
    custom: bool = False
    api_created: bool = False

    @property
    def label(self) -> str:
        return self.display_name or LABELS.get(self.name) or words(self.name)

    @classmethod
    def parse(cls, raw: Any) -> FieldDef:
        """A custom field from the config file (as made in Marketo Admin, not by the API)."""
        if isinstance(raw, str):
            return cls(raw, "string", 255, custom=True)
        if not isinstance(raw, dict) or "name" not in raw:
            raise ValueError(f"a custom field needs at least a name: {raw!r}")
        data_type = str(raw.get("dataType", raw.get("data_type", "string")))
        if data_type not in DATA_TYPES:
            raise ValueError(f"unknown dataType {data_type!r} for field {raw['name']!r}")
        length = raw.get("length", 255 if data_type in SHORT_TEXT_TYPES else None)
        return cls(
            str(raw["name"]),
            data_type,
            None if length is None else int(length),
            display_name=str(raw.get("displayName", "")),
            description=raw.get("description"),
            custom=True,
        )


def standard_schema() -> list[FieldDef]:
    """System then standard fields, with the metadata Marketo shows for them."""
    defs = [
        FieldDef(n, t, ln, read_only=True, html_encoding=False, sensitive=True)
        for n, t, ln in SYSTEM_FIELDS
    ]
    defs += [
        FieldDef(n, t, ln, html_encoding=t in SHORT_TEXT_TYPES or t == "text", sensitive=True)
        for n, t, ln in STANDARD_FIELDS
    ]
    return defs


def words(name: str) -> str:
    spaced = re.sub(r"(?<!^)(?=[A-Z])", " ", name)
    return spaced[:1].upper() + spaced[1:]
