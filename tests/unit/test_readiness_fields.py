"""The field map against a lead schema: what is missing or unfit, what --fix creates, and
the verdict the functions share (one error-store entry a day, not one a run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsync.errors import ConfigurationError
from leadsync.lists.rules import ListRules
from leadsync.mapping.fieldmap import FieldMap, default_field_map
from leadsync.marketo.schema import CREATABLE_TYPES, LeadField
from leadsync.readiness.fields import display_name, fields_to_create, fingerprint, problems
from leadsync.readiness.gate import decide
from leadsync.readiness.report import Report
from leadsync.sync.failures import ErrorKind

AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
STANDARD = [
    LeadField(name="email", dataType="email", length=255),
    LeadField(name="firstName", dataType="string", length=255),
    LeadField(name="lastName", dataType="string", length=255),
    LeadField(name="phone", dataType="phone", length=255),
    LeadField(name="country", dataType="string", length=255),
    LeadField(name="state", dataType="string", length=255),
    LeadField(name="city", dataType="string", length=255),
    LeadField(name="leadSource", dataType="string", length=255),
    LeadField(name="createdAt", dataType="datetime", updateable=False),
]
LIVECHAT = {
    "livechatFirstChat": ("datetime", None),
    "livechatLastChat": ("datetime", None),
    "livechatChatCount": ("integer", None),
    "livechatTags": ("string", 255),
    "livechatReferrer": ("url", 255),
    "livechatLandingPage": ("url", 255),
    "timezone": ("string", 255),
}


def _complete() -> list[LeadField]:
    extra = [LeadField(name=n, dataType=t, length=ln) for n, (t, ln) in LIVECHAT.items()]
    return [*STANDARD, *extra]


def test_a_fresh_instance_misses_exactly_the_custom_fields_and_fix_creates_each() -> None:
    found = problems(default_field_map(), STANDARD)
    assert {p.field for p in found} == set(LIVECHAT)
    assert {p.reason for p in found} == {"field_missing"}
    assert all("leadsync check --fix" in p.fix for p in found)
    created = fields_to_create(default_field_map(), found)
    assert {(f.name, f.data_type) for f in created} == {(n, t) for n, (t, _) in LIVECHAT.items()}
    assert all(f.data_type in CREATABLE_TYPES for f in created)
    assert len({f.display_name for f in created}) == len(created)  # Marketo wants them unique


def test_the_shipped_field_map_fits_what_the_api_can_create() -> None:
    assert problems(default_field_map(), _complete()) == []


def test_names_match_as_marketo_matches_them_without_case() -> None:
    schema = [
        LeadField(name=f.name.upper(), dataType=f.data_type, length=f.length) for f in _complete()
    ]
    assert problems(default_field_map(), schema) == []


@pytest.mark.parametrize(
    ("data_type", "length", "reason"),
    [
        ("string", 255, "field_type"),  # a datetime written into text: Marketo refuses it
        ("date", None, "field_type"),
        ("datetime", None, None),
    ],
)
def test_a_field_of_another_type_is_named_with_its_fix(
    data_type: str, length: int | None, reason: str | None
) -> None:
    schema = [f for f in _complete() if f.name != "livechatFirstChat"]
    schema.append(LeadField(name="livechatFirstChat", dataType=data_type, length=length))
    found = problems(default_field_map(), schema)
    assert [p.reason for p in found] == ([reason] if reason else [])
    if reason:
        assert "livechatFirstChat is a" in found[0].detail
        assert "cannot be changed through the API" in found[0].fix


def test_a_text_longer_than_the_field_and_a_read_only_field_are_named() -> None:
    fmap = FieldMap.parse(
        '[fields.email]\nsource = "email"\n'
        '[fields.livechatTags]\nsource = "tags"\nmax_length = 2000\n'
        '[fields.createdAt]\nsource = "first_chat_at"\n'
    )
    found = problems(fmap, _complete())
    assert [(p.field, p.reason) for p in found] == [
        ("livechatTags", "field_length"),
        ("createdAt", "field_read_only"),
    ]
    assert "max_length = 255" in found[0].fix


def test_display_names_read_as_a_marketer_would() -> None:
    assert display_name("livechatFirstChat") == "LiveChat First Chat"
    assert display_name("timezone") == "Timezone"
    assert display_name("my_field2") == "My Field2"


def test_the_verdict_goes_to_the_error_store_once_a_day_and_again_when_it_changes() -> None:
    fmap = default_field_map()
    verdict, entry = decide(fmap, STANDARD, at=AT, previous=None)
    assert entry is not None
    assert entry.kind is ErrorKind.CONFIGURATION
    assert entry.reason == "field_missing"
    assert "livechatTags" in entry.detail
    assert "leadsync check --fix" in entry.detail
    again, none = decide(fmap, STANDARD, at=AT + timedelta(hours=1), previous=verdict)
    assert none is None
    assert again.problems == verdict.problems
    tomorrow, entry2 = decide(fmap, STANDARD, at=AT + timedelta(days=1), previous=again)
    assert entry2 is not None
    fewer = [*STANDARD, LeadField(name="livechatTags", dataType="string", length=255)]
    _, changed = decide(fmap, fewer, at=AT + timedelta(days=1, hours=1), previous=tomorrow)
    assert changed is not None
    fixed, nothing = decide(fmap, _complete(), at=AT, previous=verdict)
    assert nothing is None
    assert fixed.problems == ()
    assert verdict.summary().startswith("field_missing: timezone, livechatFirstChat")


def test_a_verdict_holds_for_one_field_map_and_one_hour() -> None:
    fmap = default_field_map()
    verdict, _ = decide(fmap, STANDARD, at=AT, previous=None)
    assert verdict.fresh(fingerprint(fmap), AT + timedelta(minutes=59), timedelta(hours=1))
    assert not verdict.fresh(fingerprint(fmap), AT + timedelta(minutes=61), timedelta(hours=1))
    other = FieldMap.parse('[fields.email]\nsource = "email"\n')
    assert not verdict.fresh(fingerprint(other), AT, timedelta(hours=1))


def test_list_rules_may_name_a_list_by_name_and_are_resolved_to_ids() -> None:
    rules = ListRules.parse(
        '[[rules]]\nname = "Hot chats"\ntag = "hot"\n[[rules]]\nlist_id = 7\ncountry = "Poland"\n'
    )
    assert rules.unresolved == ["Hot chats"]
    assert rules.list_ids == frozenset({7})
    resolved = rules.resolved({"Hot chats": 1234})
    assert resolved.list_ids == frozenset({7, 1234})
    with pytest.raises(ConfigurationError, match="'Hot chats'"):
        rules.resolved({})


def test_a_rule_must_name_its_list() -> None:
    with pytest.raises(ConfigurationError, match="name the list"):
        ListRules.parse('[[rules]]\ntag = "hot"\n')


def test_the_report_counts_lines_and_shows_each_fix() -> None:
    report = Report(marketo_calls=3)
    report.add("marketo credentials", "passed", "a token")
    report.add("field livechatTags", "failed", "missing", "run `leadsync check --fix`")
    report.add("field livechatChatCount", "fixed", "created (integer)")
    report.add("livechat archive retention", "skipped", "the license does not say")
    text = report.text()
    assert "FAIL field livechatTags: missing\n      fix: run `leadsync check --fix`" in text
    assert text.endswith("check: passed=2 failed=1 marketo_calls=3")
    assert not report.ok
    assert '"failed": 1' in report.json()


def test_a_stopped_sync_is_one_digest_line_with_its_fix() -> None:
    from leadsync.report.digest import render

    _, entry = decide(default_field_map(), STANDARD, at=AT, previous=None)
    assert entry is not None
    digest = render([entry], since=None, until=AT + timedelta(hours=1))
    assert "configuration / field_missing" in digest.text
    assert "run `leadsync check --fix`" in digest.text
    assert "configuration / field_missing" in digest.html
