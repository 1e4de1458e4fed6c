"""A handful of Marketo's standard activity types, as Get Activity Types lists them.

Ids and names are Marketo's (New Lead 12, Change Data Value 13, Add to List 24, ...); Fill Out
Form's attributes are those of activities.md's example. The simulator records no activity of
these types: reading them back finds nothing.
"""

from __future__ import annotations

from typing import Any

# (id, name, description, (primary name, dataType), ((attribute name, dataType), ...))
_Spec = tuple[int, str, str, tuple[str, str], tuple[tuple[str, str], ...]]

_WEB = (("Client IP Address", "string"), ("Query Parameters", "string"))
_MAIL = (("Campaign Run ID", "integer"), ("Step ID", "integer"), ("Choice Number", "integer"))
_SPECS: tuple[_Spec, ...] = (
    (
        1,
        "Visit Webpage",
        "User visits a web page",
        ("Webpage ID", "integer"),
        (*_WEB, ("Referrer URL", "string"), ("User Agent", "string"), ("Webpage URL", "string")),
    ),
    (
        2,
        "Fill Out Form",
        "User fills out and submits form on web page",
        ("Webform ID", "integer"),
        (
            ("Client IP Address", "string"),
            ("Form Fields", "text"),
            ("Query Parameters", "string"),
            ("Referrer URL", "string"),
            ("User Agent", "string"),
            ("Webpage ID", "integer"),
        ),
    ),
    (6, "Send Email", "Send Marketo Email to a person", ("Mailing ID", "integer"), _MAIL),
    (7, "Email Delivered", "Marketo Email is delivered", ("Mailing ID", "integer"), _MAIL),
    (10, "Open Email", "User opens Marketo Email", ("Mailing ID", "integer"), _MAIL),
    (
        11,
        "Click Email",
        "User clicks on a link in a Marketo Email",
        ("Mailing ID", "integer"),
        _MAIL,
    ),
    (
        12,
        "New Lead",
        "New person",
        ("Lead ID", "integer"),
        (("Source Type", "string"), ("Lead Source", "string"), ("List Name", "string")),
    ),
    (
        13,
        "Change Data Value",
        "Changed attribute value for a person",
        ("Attribute Name", "integer"),
        (
            ("New Value", "string"),
            ("Old Value", "string"),
            ("Reason", "string"),
            ("Source", "string"),
        ),
    ),
    (24, "Add to List", "Person added to a list", ("List ID", "integer"), (("Source", "string"),)),
    (
        25,
        "Remove from List",
        "Person removed from a list",
        ("List ID", "integer"),
        (("Source", "string"),),
    ),
    (37, "Delete Lead", "Delete person", ("Lead ID", "integer"), (("Remove from CRM", "boolean"),)),
)

STANDARD_TYPE_IDS = frozenset(spec[0] for spec in _SPECS)
STANDARD_TYPE_NAMES = frozenset(spec[1].lower() for spec in _SPECS)


def standard_types() -> list[dict[str, Any]]:
    """The standard types as items of Get Activity Types (swagger ActivityType)."""
    return [
        {
            "id": type_id,
            "name": name,
            "description": description,
            "primaryAttribute": {"name": primary[0], "dataType": primary[1]},
            "attributes": [{"name": n, "dataType": t} for n, t in attributes],
        }
        for type_id, name, description, primary, attributes in _SPECS
    ]
