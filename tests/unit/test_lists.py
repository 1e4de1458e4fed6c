"""List rules: loading, validation, each condition; and the visitor values they read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from leadsync.errors import ConfigurationError
from leadsync.lists.rules import (
    DEFAULT_PATH,
    ListRule,
    ListRules,
    desired_lists,
    load_list_rules,
)
from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.models import MAX_ID_LENGTH, MAX_PRECHAT_ANSWERS, Visitor
from tests.support.chats import AGENT, HUGE, MARKUP, customer, entry, form, survey, thread

RULES = """
[[rules]]
list_id = 1001
name = "Hot chats"
tag = "hot"

[[rules]]
list_id = 1002
country = "Poland"

[[rules]]
list_id = 1003
name = "Enterprise"
prechat = { question = "Company size", answer = "1000+" }

[[rules]]
list_id = 1004
chat_count_at_least = 3

[[rules]]
list_id = 1002
name = "Poland, by tag"
tag = "pl"
"""


def _visitor(**values: Any) -> Visitor:
    return Visitor.model_validate({"email": "jane@example.com", **values})


def _rules(text: str = RULES) -> ListRules:
    return ListRules.parse(text)


def _error(text: str) -> str:
    with pytest.raises(ConfigurationError) as raised:
        ListRules.parse(text, "rules.toml")
    return str(raised.value)


# ---------------------------------------------------------------------------------------
# loading


def test_the_shipped_file_loads_and_manages_no_list() -> None:
    rules = load_list_rules(DEFAULT_PATH)
    assert rules.rules == []
    assert rules.list_ids == frozenset()


def test_the_shipped_examples_are_valid_rules_once_uncommented() -> None:
    lines = DEFAULT_PATH.read_text(encoding="utf-8").splitlines()
    examples = "\n".join(
        line.removeprefix("# ")
        for line in lines[lines.index("# Examples:") + 1 :]
        if line.startswith("# ")
    )
    rules = ListRules.parse(examples)
    assert rules.list_ids == {1001, 1002, 1003, 1004}


def test_the_environment_names_another_file(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "rules.toml"
    target.write_text(RULES, encoding="utf-8")
    monkeypatch.setenv("LIST_RULES_FILE", str(target))
    rules = load_list_rules()
    assert [rule.list_id for rule in rules.rules] == [1001, 1002, 1003, 1004, 1002]
    assert rules.list_ids == {1001, 1002, 1003, 1004}
    assert rules.rules[0].label == "list 1001 (Hot chats)"
    assert rules.rules[1].label == "list 1002"


def test_an_explicit_path_wins_over_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LIST_RULES_FILE", str(tmp_path / "absent.toml"))
    assert load_list_rules(DEFAULT_PATH).rules == []


def test_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"list rules .*absent\.toml: cannot read"):
        load_list_rules(tmp_path / "absent.toml")


def test_a_file_that_is_not_toml_says_so() -> None:
    assert _error("[[rules]\nlist_id = 1").startswith("rules.toml: not valid TOML")


# ---------------------------------------------------------------------------------------
# validation: the message names the rule


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'list_id = 7\nname = "Both"\ntag = "a"\ncountry = "b"',
            "rules[0] (list 7, 'Both'): give exactly one condition of `tag`, `country`, "
            "`prechat`, `chat_count_at_least` (found `tag`, `country`)",
        ),
        ("list_id = 7", "rules[0] (list 7): give exactly one condition"),
        ('tag = "a"', "rules[0] (no list_id): name the list: `list_id`, or its exact `name`"),
        ('name = "Hot"\ntag = "a"\ncountry = "b"', "rules[0] ('Hot'): give exactly one condition"),
        ('list_id = 0\ntag = "a"', "rules[0] (list 0): list_id: Input should be greater than 0"),
        ('list_id = "x"\ntag = "a"', "rules[0] (list 'x'): list_id:"),
        ('list_id = 7\ntag = "  "', "rules[0] (list 7): tag: String should have at least 1"),
        ("list_id = 7\nchat_count_at_least = 0", "rules[0] (list 7): chat_count_at_least:"),
        ('list_id = 7\nprechat = { question = "Q" }', "rules[0] (list 7): prechat.answer:"),
        ('list_id = 7\ntag = "a"\ncolour = "red"', "rules[0] (list 7): colour: Extra inputs"),
        ('list_id = 7\ncountry = "' + "P" * 300 + '"', "rules[0] (list 7): country: String"),
    ],
)
def test_a_bad_rule_is_named_in_the_error(body: str, expected: str) -> None:
    message = _error('[[rules]]\nlist_id = 1\ntag = "fine"\n\n[[rules]]\n' + body)
    assert message.startswith("rules.toml: ")
    assert expected.replace("rules[0]", "rules[1]") in message


def test_every_bad_rule_is_reported_at_once() -> None:
    message = _error('[[rules]]\nlist_id = 1\n\n[[rules]]\nlist_id = 2\ntag = "a"\nzone = 1')
    assert "rules[0] (list 1)" in message
    assert "rules[1] (list 2): zone" in message


def test_unknown_top_level_keys_are_refused() -> None:
    assert "lists: Extra inputs are not permitted" in _error("[[lists]]\nlist_id = 1")


# ---------------------------------------------------------------------------------------
# conditions


def test_a_tag_rule_matches_a_tag_of_any_chat_exactly() -> None:
    rule = ListRule(list_id=1, tag="hot")
    assert rule.matches(_visitor(tags=["cold", "hot"]))
    assert not rule.matches(_visitor(tags=["HOT", "hotter"]))
    assert not rule.matches(_visitor())


def test_a_country_rule_ignores_case_and_spaces() -> None:
    rule = ListRule(list_id=1, country=" poland ")
    assert rule.matches(_visitor(country="Poland"))
    assert rule.matches(_visitor(country="POLAND"))
    assert not rule.matches(_visitor(country="Polska"))
    assert not rule.matches(_visitor())


def test_a_prechat_rule_matches_the_answer_to_its_question() -> None:
    rule = ListRule.model_validate(
        {"list_id": 1, "prechat": {"question": "company size", "answer": " 1000+ "}}
    )
    assert rule.matches(_visitor(prechat={"Company size:": "1000+"}))
    assert rule.matches(_visitor(prechat={"COMPANY SIZE": "1000+", "Other": "x"}))
    assert not rule.matches(_visitor(prechat={"Company size": "10-99"}))
    assert not rule.matches(_visitor(prechat={"Team size": "1000+"}))
    assert not rule.matches(_visitor())


def test_a_chat_count_rule_is_a_threshold() -> None:
    rule = ListRule(list_id=1, chat_count_at_least=3)
    assert not rule.matches(_visitor(chat_count=2))
    assert rule.matches(_visitor(chat_count=3))
    assert rule.matches(_visitor(chat_count=30))


def test_a_visitor_can_belong_in_several_lists() -> None:
    visitor = _visitor(
        tags=["hot", "pl"],
        country="poland",
        prechat={"Company size": "1000+"},
        chat_count=4,
    )
    assert desired_lists(visitor, _rules()) == {1001, 1002, 1003, 1004}


def test_two_rules_for_one_list_put_the_visitor_in_it_once() -> None:
    assert desired_lists(_visitor(tags=["pl"]), _rules()) == {1002}
    assert desired_lists(_visitor(country="Poland", tags=["pl"]), _rules()) == {1002}


def test_a_visitor_meeting_no_rule_belongs_in_no_list() -> None:
    assert desired_lists(_visitor(tags=["cold"], chat_count=1), _rules()) == frozenset()
    assert desired_lists(_visitor(tags=["hot"]), []) == frozenset()


def test_rules_can_be_given_as_a_plain_sequence() -> None:
    rules = [ListRule(list_id=5, tag="a"), ListRule(list_id=6, tag="b")]
    assert desired_lists(_visitor(tags=["b"]), rules) == {6}


# ---------------------------------------------------------------------------------------
# the visitor's pre-chat answers and customer id, as the mapping reads them


def _mapped(*entries: dict[str, Any]) -> Visitor:
    result = map_entries(list(entries))
    assert result.rejections == []
    [visitor] = result.visitors
    return visitor


def test_the_customer_id_comes_from_the_chat() -> None:
    visitor = _mapped(entry(user=customer(user_id="b7f1c3e0-5a")))
    assert visitor.customer_id == "b7f1c3e0-5a"


def test_prechat_answers_come_from_the_form_by_label() -> None:
    events = [
        form(("name", "Jane Doe"), ("email", "jane.doe@example.com"), ("question", "Acme")),
        survey(
            ("Company size:", "1000+"),
            ("Department:", {"id": "2", "label": "Sales"}),
            ("Interests:", [{"id": "a", "label": "Pricing"}, {"id": "b", "label": "API"}]),
            ("Blank:", "   "),
            ("Number:", 42),
            ("Nothing:", None),
        ),
    ]
    visitor = _mapped(entry(thread_=thread(events=events)))
    assert visitor.prechat == {
        "question": "Acme",  # tests.support's form() labels a field with its type
        "Company size:": "1000+",
        "Department:": "Sales",
        "Interests:": "Pricing, API",
        "Number:": "42",
    }


def test_postchat_and_agent_forms_are_not_prechat_answers() -> None:
    events = [
        survey(("Rate us:", "5"), form_type="postchat"),
        survey(("Company size:", "1"), author=AGENT["id"]),
        survey(("Plan:", "Pro"), form_type=None, event_id="older-form"),
    ]
    visitor = _mapped(entry(thread_=thread(events=events)))
    assert visitor.prechat == {"Plan:": "Pro"}


def test_the_latest_answer_wins_within_a_chat_and_across_chats() -> None:
    first = thread(
        "T1",
        "2026-01-15T12:00:00.000000Z",
        events=[survey(("Size:", "1-9"), ("Role:", "CTO"))],
    )
    second = thread(
        "T2",
        "2026-01-16T12:00:00.000000Z",
        events=[survey(("Size:", "10-99"), event_id="a"), survey(("Size:", "100+"), event_id="b")],
    )
    later_chat = thread("T3", "2026-02-01T12:00:00.000000Z", events=[survey(("Size:", "1000+"))])
    earlier_chat = thread("T4", "2026-01-01T12:00:00.000000Z", events=[survey(("Goal:", "Buy"))])
    one = _mapped(entry("C1", thread_=first), entry("C1", thread_=second))
    assert one.prechat == {"Size:": "100+", "Role:": "CTO"}
    merged = _mapped(
        entry("C2", thread_=later_chat),
        entry("C1", thread_=first),
        entry("C1", thread_=second),
        entry("C3", thread_=earlier_chat, user=customer(user_id="cust-old")),
    )
    assert merged.prechat == {"Size:": "1000+", "Role:": "CTO", "Goal:": "Buy"}
    assert merged.chat_count == 3
    assert merged.customer_id == "cust-1"  # the latest chat's


def test_the_customer_id_of_an_older_chat_fills_a_newer_chat_without_one() -> None:
    anonymous = customer()
    del anonymous["id"]
    visitor = _mapped(
        entry("C1", user=customer(user_id="cust-9")),
        entry("C2", user=anonymous, thread_=thread("T2", "2026-02-01T12:00:00.000000Z")),
    )
    assert visitor.customer_id == "cust-9"
    assert visitor.chat_count == 2


def test_prechat_answers_are_cleaned_and_bounded() -> None:
    answers = [(f"Q{i:02d} {MARKUP}", f"{MARKUP}A{i}") for i in range(40)]
    visitor = _mapped(entry(thread_=thread(events=[survey(*answers, ("Huge:", HUGE))])))
    assert len(visitor.prechat) == MAX_PRECHAT_ANSWERS
    assert all("<" not in q and "<" not in a for q, a in visitor.prechat.items())
    assert all(len(q) <= 255 and len(a) <= 255 for q, a in visitor.prechat.items())
    assert visitor.prechat["Q00 alert('x')"] == "alert('x') A0"


def test_the_model_cleans_what_it_is_given() -> None:
    visitor = _visitor(
        prechat={" Size ": " <b>big</b> ", "": "x", "Empty": "", "N": 3, 5: "five"},
        customer_id="  " + "c" * 500,
    )
    assert visitor.prechat == {"Size": "big", "N": "3", "5": "five"}
    assert visitor.customer_id == "c" * MAX_ID_LENGTH
    assert _visitor(prechat="not answers").prechat == {}
    assert _visitor(prechat=None, customer_id=None).prechat == {}


def test_a_visitor_without_forms_has_no_answers_and_round_trips() -> None:
    visitor = _mapped(entry())
    assert visitor.prechat == {}
    again = Visitor.model_validate_json(visitor.model_dump_json())
    assert again == visitor
    stamped = _visitor(last_chat_at=datetime(2026, 1, 1, tzinfo=UTC), prechat={"Q": "A"})
    assert Visitor.model_validate_json(stamped.model_dump_json()) == stamped


def test_pre_chat_answers_feed_list_rules_not_marketo_fields() -> None:
    from leadsync.errors import ConfigurationError
    from leadsync.mapping.fieldmap import SOURCES, FieldMap

    assert "prechat" not in SOURCES
    assert "customer_id" in SOURCES
    with pytest.raises(ConfigurationError, match="prechat"):
        FieldMap.parse('[fields.company]\nsource = "prechat"\npolicy = "always"\n')
