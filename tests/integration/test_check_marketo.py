"""`leadsync check` on the Marketo side, against the simulator over HTTP: a fresh instance,
fields of the wrong type, a list name held twice, a role missing permissions, refused
credentials. Each problem is one failed line with its fix; --fix creates only what is
missing and unambiguous, and a second --fix changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from leadsync.lists.rules import ListRules
from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo import MarketoClient, MarketoEndpoints
from leadsync.marketo.schema import Folder
from leadsync.readiness.marketo_checks import MarketoSetup, check_marketo
from leadsync.readiness.report import Report
from leadsync.runtime.wiring.meter import quota_calls
from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from tests.support.limiters import OpenLimiter

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "leadsync-client", "leadsync-secret"
NOW = datetime.now(UTC)
RULES = ListRules.parse(
    '[[rules]]\nname = "Hot chats"\ntag = "hot"\n[[rules]]\nname = "Poland"\ncountry = "Poland"\n'
)


def _client(sim: MarketoSimulator, secret: str = SECRET) -> MarketoClient:
    endpoints = MarketoEndpoints(sim.base_url, f"{sim.base_url}/identity")
    return MarketoClient(
        endpoints, CLIENT_ID, secret, OpenLimiter(), deadline=lambda: time.monotonic() + 10
    )


def _check(
    sim: MarketoSimulator, *, fix: bool = False, rules: ListRules = RULES, secret: str = SECRET
) -> tuple[Report, int]:
    client = _client(sim, secret)
    setup = MarketoSetup(default_field_map(), rules, list_folder=Folder(id=12))
    report = Report()
    check_marketo(client, setup, report, fix=fix, now=NOW)
    return report, quota_calls(client.calls)


def _status(report: Report) -> dict[str, str]:
    return {line.check: line.status for line in report.lines}


@pytest.fixture
def fresh() -> Iterator[MarketoSimulator]:
    config = SimulatorConfig(client_id=CLIENT_ID, client_secret=SECRET, fresh=True)
    with MarketoSimulator(config) as sim:
        yield sim


def _sim(**changes: Any) -> MarketoSimulator:
    return MarketoSimulator(
        SimulatorConfig(client_id=CLIENT_ID, client_secret=SECRET, **changes)
    ).start()


def test_a_fresh_instance_fails_then_fix_creates_fields_and_lists_then_all_pass(
    fresh: MarketoSimulator,
) -> None:
    report, calls = _check(fresh)
    failed = {line.check for line in report.lines if line.status == "failed"}
    assert {"field livechatTags", "field livechatFirstChat", "field timezone"} <= failed
    assert {"list 'Hot chats'", "list 'Poland'"} <= failed
    assert calls <= 6
    fixed, _ = _check(fresh, fix=True)
    assert fixed.ok, fixed.text()
    created = {line.check for line in fixed.lines if line.status == "fixed"}
    assert created == failed
    again, calls_again = _check(fresh, fix=True)
    assert again.ok
    assert not [line for line in again.lines if line.status == "fixed"]
    assert calls_again <= 6
    assert sorted(item["name"] for item in fresh.store.lists()) == ["Hot chats", "Poland"]


def test_a_field_of_the_wrong_type_fails_and_fix_leaves_it_alone() -> None:
    custom = [
        {"name": "livechatFirstChat", "dataType": "string", "length": 255},
        {"name": "livechatChatCount", "dataType": "string", "length": 255},
    ]
    sim = _sim(fresh=False, custom_fields=custom, lists=[])
    try:
        report, _ = _check(sim, fix=True, rules=ListRules())
        lines = {line.check: line for line in report.lines}
        for name in ("livechatFirstChat", "livechatChatCount"):
            assert lines[f"field {name}"].status == "failed"
            assert "cannot be changed through the API" in lines[f"field {name}"].fix
        assert lines["field livechatTags"].status == "fixed"
        assert not report.ok
    finally:
        sim.stop()


def test_a_list_name_held_by_two_lists_fails_and_fix_creates_nothing() -> None:
    sim = _sim(lists=[{"id": 2001, "name": "Hot chats"}, {"id": 2002, "name": "Hot chats"}])
    try:
        rules = ListRules.parse('[[rules]]\nname = "Hot chats"\ntag = "hot"\n')
        report, _ = _check(sim, fix=True, rules=rules)
        line = next(x for x in report.lines if x.check == "list 'Hot chats'")
        assert line.status == "failed"
        assert "2001, 2002" in line.detail
        assert "list_id" in line.fix
        assert [item["id"] for item in sim.store.lists()] == [2001, 2002]
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("denied", "check", "grant"),
    [
        ("lead_write", "marketo permission: write leads", "Read-Write Lead"),
        ("bulk_import", "marketo permission: bulk import", "bulk import"),
        ("schema", "marketo permission: create fields", "Read-Write Schema Custom Field"),
        ("assets", "list 'Hot chats'", "Read-Write Assets"),
    ],
)
def test_a_missing_permission_is_one_failed_line_naming_what_to_grant(
    fresh: MarketoSimulator, denied: str, check: str, grant: str
) -> None:
    fresh.set_config({"denied_permissions": [denied]})
    report, _ = _check(fresh, fix=True)
    line = next(x for x in report.lines if x.check == check)
    assert line.status == "failed"
    assert "603" in line.detail
    assert grant in line.fix


def test_no_lead_read_stops_the_marketo_checks_with_one_line(fresh: MarketoSimulator) -> None:
    fresh.set_config({"denied_permissions": ["lead_read", "lead_write"]})
    report, calls = _check(fresh)
    assert [(x.check, x.status) for x in report.lines] == [
        ("marketo credentials", "passed"),
        ("marketo permission: read leads", "failed"),
    ]
    assert calls == 1


def test_refused_credentials_are_one_line_and_never_printed(fresh: MarketoSimulator) -> None:
    report, calls = _check(fresh, secret="not-the-secret")
    assert [(x.check, x.status) for x in report.lines] == [("marketo credentials", "failed")]
    assert "not-the-secret" not in report.text() + report.json()
    assert calls == 0
