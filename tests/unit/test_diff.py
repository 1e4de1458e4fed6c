from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.errors import ConfigurationError
from leadsync.mapping.fieldmap import FieldMap, Policy, default_field_map, load_field_map
from leadsync.models import Visitor
from leadsync.sync.fetch.decide import Action, candidate, decide, marketo_value, same
from leadsync.sync.fetch.writes import lookup_fields, plan_writes
from tests.support.fakes import FakeMarketo

FMAP = default_field_map()
CHAT = datetime(2026, 1, 15, 12, 40, 1, 2000, tzinfo=UTC)


def _visitor(**values: object) -> Visitor:
    base: dict[str, object] = {
        "email": "jane@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "country": "United States",
        "region": "California",
        "city": "San Francisco",
        "first_chat_at": CHAT - timedelta(hours=1),
        "last_chat_at": CHAT,
        "chat_count": 2,
        "tags": ["sales", "pricing"],
        "chat_ids": ["C1", "C2"],
    }
    return Visitor.model_validate({**base, **values})


def test_the_shipped_field_map_protects_geography_and_maps_every_attribute() -> None:
    for name in ("country", "state", "city", "timezone"):
        assert FMAP.fields[name].policy is Policy.IF_EMPTY
    sources = {rule.source for rule in FMAP.fields.values() if rule.source}
    assert sources >= {
        "email", "first_name", "last_name", "phone", "country", "region", "city", "timezone",
        "first_chat_at", "last_chat_at", "chat_count", "referrer", "landing_page", "tags",
    }  # fmt: skip
    assert lookup_fields(FMAP)[0] == "email"
    assert lookup_fields(FMAP)[-1] == "updatedAt"


def test_a_new_visitor_is_created_with_every_value_in_marketo_form() -> None:
    decision = decide(candidate(_visitor(), FMAP), None, FMAP, CHAT)
    assert decision.action is Action.CREATE
    assert decision.fields["livechatLastChat"] == "2026-01-15T12:40:01Z"
    assert decision.fields["livechatTags"] == "pricing, sales"
    assert decision.fields["leadSource"] == "LiveChat"
    assert "phone" not in decision.fields  # no value, nothing sent


def test_geography_marketo_already_has_is_kept_and_counted() -> None:
    values = candidate(_visitor(), FMAP)
    lead = {
        "email": "jane@example.com",
        "firstName": "Jane",
        "lastName": "Doe",
        "country": "Canada",
        "state": None,
        "city": "",
        "updatedAt": "2026-01-15T13:00:00Z",
    }
    decision = decide(values, (7, lead), FMAP, CHAT)
    assert decision.action is Action.UPDATE
    assert decision.lead_id == 7
    assert "country" not in decision.fields
    assert decision.fields["state"] == "California"
    assert decision.fields["city"] == "San Francisco"
    assert "country" in decision.protected
    assert "leadSource" not in decision.fields  # set on create only


def test_a_lead_that_already_says_it_all_costs_no_write() -> None:
    values = candidate(_visitor(), FMAP)
    lead = dict(values.items())
    lead["livechatLastChat"] = "2026-01-15T12:40:01.000Z"  # another spelling of one instant
    lead["livechatChatCount"] = "2"
    lead["updatedAt"] = "2026-01-15T13:00:00Z"
    assert decide(values, (7, lead), FMAP, CHAT).action is Action.UNCHANGED


def test_newest_wins_follows_the_lead_last_update() -> None:
    values = candidate(_visitor(first_name="Janet"), FMAP)
    older = {"email": "jane@example.com", "firstName": "Jane", "updatedAt": "2026-01-15T12:00:00Z"}
    newer = {**older, "updatedAt": "2026-01-15T13:00:00Z"}
    assert decide(values, (1, older), FMAP, CHAT).fields["firstName"] == "Janet"
    kept = decide(values, (1, newer), FMAP, CHAT)
    assert "firstName" not in kept.fields
    assert "firstName" in kept.protected


def test_greatest_only_moves_forward() -> None:
    values = candidate(_visitor(chat_count=2), FMAP)
    lead = {"email": "jane@example.com", "livechatChatCount": 5, "updatedAt": None}
    assert "livechatChatCount" not in decide(values, (1, lead), FMAP, CHAT).fields
    lead["livechatChatCount"] = 1
    assert decide(values, (1, lead), FMAP, CHAT).fields["livechatChatCount"] == 2


_policies = st.sampled_from(list(Policy))
_text = st.one_of(st.none(), st.just(""), st.text(max_size=20))


@settings(max_examples=200, deadline=None)
@given(ours=st.text(min_size=1, max_size=20).filter(str.strip), theirs=_text, policy=_policies)
def test_if_empty_and_never_never_overwrite_a_value(
    ours: str, theirs: str | None, policy: Policy
) -> None:
    fmap = FieldMap.model_validate(
        {"fields": {"email": {"source": "email"}, "city": {"source": "city", "policy": policy}}}
    )
    values = {"email": "a@example.com", "city": ours.strip()}
    decision = decide(values, (1, {"email": "a@example.com", "city": theirs}), fmap, CHAT)
    has_value = theirs is not None and theirs.strip() != ""
    if policy in (Policy.IF_EMPTY, Policy.NEVER) and has_value:
        assert "city" not in decision.fields
    if policy is not Policy.NEVER and not has_value:
        assert decision.fields["city"] == ours.strip()
    if has_value and same(values["city"], theirs):
        assert decision.action is Action.UNCHANGED


def test_marketo_values_are_trimmed_and_cut_to_the_field_length() -> None:
    assert marketo_value("  x  ", 255) == "x"
    assert marketo_value("y" * 300, 255) == "y" * 255
    assert marketo_value("   ", 255) is None
    assert marketo_value(["b", "a"], 255) == "b, a"


def test_plan_writes_counts_and_keeps_only_real_changes() -> None:
    marketo = FakeMarketo()
    fresh = _visitor(email="new@example.com")
    same_lead = _visitor(email="same@example.com")
    geo = _visitor(email="geo@example.com")
    marketo.add(**{**candidate(same_lead, FMAP), "updatedAt": "2026-01-15T13:00:00Z"})
    marketo.add(email="geo@example.com", country="France", updatedAt="2026-01-15T13:00:00Z")
    marketo.add(email="geo@example.com", country="Spain")  # a duplicate: the oldest is kept up
    found = marketo.lookup_by_email([v.email for v in (fresh, same_lead, geo)], lookup_fields(FMAP))
    plan = plan_writes([fresh, same_lead, geo], found, FMAP)
    assert (plan.creates, plan.updates, plan.unchanged, plan.protected_kept) == (1, 1, 1, 1)
    assert plan.duplicate_leads == 1
    update = next(r for r in plan.records if r.action == "update")
    assert update.lead_id == min(marketo.by_email("geo@example.com"))
    assert "country" not in update.fields
    assert update.chat_ids == ["C1", "C2"]


def test_a_broken_field_map_is_a_clear_configuration_error(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    bad = tmp_path / "fields.toml"
    bad.write_text('[fields.email]\nsource = "email"\n[fields.city]\nsource = "town"\n')
    with pytest.raises(ConfigurationError, match="unknown source 'town'"):
        load_field_map(bad)
    bad.write_text('[fields.city]\nsource = "city"\npolicy = "sometimes"\n')
    with pytest.raises(ConfigurationError, match=r"fields\.city\.policy"):
        load_field_map(bad)
    bad.write_text("not toml = = =")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_field_map(bad)
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_field_map(tmp_path / "missing.toml")


def test_a_list_too_long_for_its_field_keeps_whole_items_only() -> None:
    from leadsync.sync.fetch.decide import marketo_value

    tags = [f"tag-{n:03d}" for n in range(100)]  # 7 characters each, ", " between
    value = marketo_value(tags, 40)
    assert value == "tag-000, tag-001, tag-002, tag-003"
    assert marketo_value(["x" * 50], 40) == "x" * 40
    assert marketo_value(["", "  "], 40) is None
