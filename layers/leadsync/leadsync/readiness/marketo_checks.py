"""`leadsync check` on the Marketo side: credentials, the API role's permissions, every
mapped field, every listed static list and the chat-activity type; with `fix`, the fields,
lists and type created.

A handful of calls: a token (free), one describe, one probe per permission the
configuration needs, one list lookup, and with `fix` one create and one describe more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from leadsync.activities.config import ActivityMap
from leadsync.lists.rules import ListRules
from leadsync.mapping.fieldmap import FieldMap
from leadsync.marketo.client import MarketoClient
from leadsync.marketo.errors import MarketoAccessDenied, MarketoError
from leadsync.marketo.schema import Folder, LeadField
from leadsync.readiness.activity_type import check_activity_type
from leadsync.readiness.fields import fields_to_create, problems
from leadsync.readiness.gate import VerdictStore, decide
from leadsync.readiness.report import Report

ROLE = "Marketo Admin > Users & Roles > the API user's role"


@dataclass(frozen=True)
class MarketoSetup:
    field_map: FieldMap
    list_rules: ListRules
    bulk_enabled: bool = True
    list_folder: Folder | None = None
    # chat activities on: their type checked (created and approved with `fix`)
    activity_map: ActivityMap | None = None


def check_marketo(
    client: MarketoClient,
    setup: MarketoSetup,
    report: Report,
    *,
    fix: bool = False,
    verdicts: VerdictStore | None = None,
    now: datetime,
) -> None:
    try:
        client.check_token()
    except MarketoError as exc:
        report.add(
            "marketo credentials",
            "failed",
            f"the identity service refused them ({exc.code})",
            "put the LaunchPoint service's Client Id and Secret into the stack's secret "
            "(marketo_client_id, marketo_client_secret) and check marketo_identity_url",
        )
        return
    report.add("marketo credentials", "passed", "the identity service issued a token")
    try:
        schema = client.lead_fields()
    except MarketoError as exc:
        _refused(report, "marketo permission: read leads", exc, "Read-Write Lead")
        return
    report.add("marketo permission: read leads", "passed", "describe2.json answered")
    _probe(report, client, "write leads", "Read-Write Lead", _write_probe)
    # Adobe names no permission for the statistics routes: a 603 there means the role has no
    # API access at all, or Marketo's IP allow-listing refuses the caller
    usage_fix = "an API role (Access API), and the caller's IP in Admin > Web Services"
    _probe(report, client, "usage", usage_fix, lambda c: c.usage_today())
    if setup.bulk_enabled:
        _probe(report, client, "bulk import", "Read-Write Lead (bulk import)", _bulk_probe)
    schema = _fields(client, setup.field_map, schema, report, fix=fix)
    if verdicts is not None:
        previous = verdicts.get()
        verdict, _ = decide(setup.field_map, schema, at=now, previous=previous)
        verdicts.put(verdict)  # the functions go on at once once it fits
    _lists(client, setup, report, fix=fix)
    if setup.activity_map is not None and setup.activity_map.enabled:
        check_activity_type(client, setup.activity_map, report, fix=fix)


def _write_probe(client: MarketoClient) -> None:
    client.probe("POST", "/rest/v1/leads.json", {"action": "updateOnly", "input": []})


def _bulk_probe(client: MarketoClient) -> None:
    client.probe("GET", "/bulk/v1/leads/batch/0.json")


def _probe(
    report: Report,
    client: MarketoClient,
    what: str,
    grant: str,
    call: Callable[[MarketoClient], object],
) -> None:
    try:
        call(client)
    except MarketoAccessDenied as exc:
        _refused(report, f"marketo permission: {what}", exc, grant)
        return
    except MarketoError:
        pass  # refused for another reason than the role: the permission is there
    report.add(f"marketo permission: {what}", "passed", "allowed")


def _refused(report: Report, check: str, exc: MarketoError, grant: str) -> None:
    if isinstance(exc, MarketoAccessDenied):
        report.add(check, "failed", f"access denied ({exc.code})", f"grant {grant} in {ROLE}")
    else:
        report.add(check, "failed", f"Marketo answered {exc.code}", "see `leadsync check --json`")


def _fields(
    client: MarketoClient, fmap: FieldMap, schema: list[LeadField], report: Report, *, fix: bool
) -> list[LeadField]:
    found = problems(fmap, schema)
    create = fields_to_create(fmap, found) if fix else []
    if create:
        try:
            results = client.create_lead_fields(create)
        except MarketoError as exc:
            grant = "Read-Write Schema Custom Field"
            _refused(report, "marketo permission: create fields", exc, grant)
        else:
            fixes = {p.field: p.fix for p in found}
            for new, result in zip(create, results, strict=True):
                if result.status == "created":
                    report.add(f"field {new.name}", "fixed", f"created ({new.data_type})")
                else:
                    why = "; ".join(f"{r.code} {r.message}" for r in result.reasons)
                    report.add(
                        f"field {new.name}", "failed", f"not created: {why}", fixes[new.name]
                    )
            schema = client.lead_fields()
            found = problems(fmap, schema)
    fixed = {line.check for line in report.lines if line.status in ("fixed", "failed")}
    for problem in found:
        if f"field {problem.field}" not in fixed:
            report.add(f"field {problem.field}", "failed", problem.detail, problem.fix)
    good = len(fmap.fields) - len(found)
    if good:
        report.add("fields", "passed", f"{good} of {len(fmap.fields)} mapped fields exist and fit")
    return schema


def _lists(client: MarketoClient, setup: MarketoSetup, report: Report, *, fix: bool) -> None:
    rules = setup.list_rules
    names = rules.unresolved
    ids = sorted(rules.list_ids)
    if not names and not ids:
        return
    try:
        by_name = client.static_lists(names) if names else []
        by_id = client.static_lists_by_id(ids) if ids else []
    except MarketoError as exc:
        _refused(report, "static lists", exc, "Read-Write Lead")
        return
    have = {item.id for item in by_id}
    for list_id in ids:
        if list_id in have:
            report.add(f"list {list_id}", "passed", "exists")
        else:
            report.add(
                f"list {list_id}",
                "failed",
                "no static list has this id",
                "name the list by its `name` in list_rules.toml, or fix the id",
            )
    for name in names:
        matches = [item for item in by_name if item.name == name]
        if len(matches) == 1:
            report.add(f"list {name!r}", "passed", f"exists (id {matches[0].id})")
        elif matches:
            ids_text = ", ".join(str(m.id) for m in matches)
            report.add(
                f"list {name!r}",
                "failed",
                f"{len(matches)} lists have this name (ids {ids_text})",
                "give the rule the `list_id` of the right one in list_rules.toml",
            )
        elif fix and setup.list_folder is not None:
            _create_list(client, name, setup.list_folder, report)
        else:
            report.add(
                f"list {name!r}",
                "failed",
                "no static list has this name",
                "run `leadsync check --fix --list-folder ID` (a folder or program id), or "
                "create it in Marketing Activities",
            )


def _create_list(client: MarketoClient, name: str, folder: Folder, report: Report) -> None:
    try:
        made = client.create_static_list(name, folder, "Kept by leadsync's list rules")
    except MarketoError as exc:
        _refused(report, f"list {name!r}", exc, "Read-Write Assets")
        return
    report.add(f"list {name!r}", "fixed", f"created (id {made.id})")
