"""`leadsync check` for chat activities: the activity type the activity map names exists in
Marketo, has every attribute the map writes, and is approved (Marketo takes activities of
an approved type only); the API role may add activities. With `fix`, the type is created,
its missing attributes added, and it is approved.

A few calls: the types list, one describe, one probe; with `fix`, a create, an attributes
create and an approve.
"""

from __future__ import annotations

from typing import Any

from leadsync.activities.config import ActivityMap
from leadsync.marketo.activities import ActivitiesApi, ActivityType
from leadsync.marketo.client import MarketoClient
from leadsync.marketo.errors import MarketoAccessDenied, MarketoError
from leadsync.readiness.report import Report

ROLE = "Marketo Admin > Users & Roles > the API user's role"
CHECK = "activity type"


def check_activity_type(
    client: MarketoClient, amap: ActivityMap, report: Report, *, fix: bool
) -> None:
    api = client.activities
    name = amap.type.api_name
    try:
        found = [t for t in api.custom_types() if t.api_name == name]
    except MarketoError as exc:
        _refused(report, "marketo permission: activity types", exc, "Read-Write Activity Metadata")
        return
    try:
        if found:
            # the draft holds the newest attributes when there is one
            status = found[0].status
            current = api.describe_type(name, draft=status != "approved")
        elif fix:
            current, status = _create(api, amap, report), "draft"
        else:
            report.add(
                f"{CHECK} {name}",
                "failed",
                "Marketo has no custom activity type with this API name",
                "run `leadsync check --fix` (it creates and approves the type), or create "
                "it in Admin > Marketo Custom Activities",
            )
            return
        _attributes(api, amap, current, status, report, fix=fix)
    except MarketoError as exc:
        _refused(report, f"{CHECK} {name}", exc, "Read-Write Activity Metadata")
        return
    _probe_records(client, report)


def _create(api: ActivitiesApi, amap: ActivityMap, report: Report) -> ActivityType:
    """The type, in draft, with its primary attribute (the chat id)."""
    kind, primary = amap.type, amap.primary
    made = api.create_type(
        {
            "apiName": kind.api_name,
            "name": kind.name,
            "triggerName": kind.trigger_name,
            "filterName": kind.filter_name,
            "description": kind.description,
            "primaryAttribute": {
                "apiName": primary.api_name,
                "name": primary.name,
                "description": primary.description,
                "dataType": "string",
            },
        }
    )
    report.add(f"{CHECK} {kind.api_name}", "fixed", f"created (id {made.id}), in draft")
    return made


def _attributes(
    api: ActivitiesApi,
    amap: ActivityMap,
    current: ActivityType,
    status: str,
    report: Report,
    *,
    fix: bool,
) -> None:
    """Every attribute the map writes on the type (added with `fix`), and the type approved
    (with `fix`, when it is a draft or has one)."""
    name = amap.type.api_name
    have = {a.api_name for a in current.attributes}
    missing = [key for key in amap.attributes if key not in have]
    if missing and not fix:
        report.add(
            f"{CHECK} {name}: attributes",
            "failed",
            f"missing: {', '.join(missing)}",
            "run `leadsync check --fix`, or add them to the type and approve it",
        )
        return
    if missing:
        api.create_attributes(name, [_attribute(amap, key) for key in missing])
        report.add(f"{CHECK} {name}: attributes", "fixed", f"added {', '.join(missing)}")
    if status == "approved" and not missing:
        count = len(amap.attributes)
        report.add(f"{CHECK} {name}", "passed", f"approved, {count} attributes besides the chat id")
    elif fix:
        approved = api.approve_type(name)
        report.add(f"{CHECK} {name}", "fixed", f"approved (id {approved.id})")
    else:
        report.add(
            f"{CHECK} {name}",
            "failed",
            f"status {status!r}: Marketo takes activities of an approved type only, and "
            "approved changes only",
            "run `leadsync check --fix`, or approve it in Admin > Marketo Custom Activities",
        )


def _attribute(amap: ActivityMap, key: str) -> dict[str, Any]:
    rule = amap.attributes[key]
    out: dict[str, Any] = {"apiName": key, "name": rule.name, "dataType": rule.data_type.value}
    if rule.description:
        out["description"] = rule.description
    return out


def _probe_records(client: MarketoClient, report: Report) -> None:
    try:
        client.probe("POST", "/rest/v1/activities/external.json", {"input": []})
    except MarketoAccessDenied as exc:
        _refused(report, "marketo permission: add activities", exc, "Read-Write Activity")
        return
    except MarketoError:
        pass  # refused for another reason than the role: the permission is there
    report.add("marketo permission: add activities", "passed", "allowed")


def _refused(report: Report, check: str, exc: MarketoError, grant: str) -> None:
    if isinstance(exc, MarketoAccessDenied):
        report.add(check, "failed", f"access denied ({exc.code})", f"grant {grant} in {ROLE}")
    else:
        report.add(check, "failed", f"Marketo answered {exc.code}", "see `leadsync check --json`")
