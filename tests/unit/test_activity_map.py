"""The activity map users edit: the shipped file loads, and every mistake Marketo would
refuse (or leadsync could not fill) is named before anything is written."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from leadsync.activities.config import (
    DEFAULT_PATH,
    ActivityMap,
    DataType,
    Source,
    default_activity_map,
    load_activity_map,
)
from leadsync.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
HEAD = """
[type]
api_name = "livechatChat"
name = "LiveChat chat"
trigger_name = "Had a LiveChat chat"
filter_name = "Had LiveChat chat"
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        ActivityMap.parse(text, "activities.toml")
    return str(caught.value)


def _attribute(api_name: str, source: str, data_type: str, extra: str = "") -> str:
    return (
        f'\n[attributes.{api_name}]\nsource = "{source}"\nname = "{api_name.strip('"')} name"\n'
        f'data_type = "{data_type}"\n{extra}'
    )


def test_the_shipped_map_loads_with_the_default_attributes() -> None:
    amap = load_activity_map(DEFAULT_PATH)
    assert amap.enabled is True
    assert amap.type.api_name == "livechatChat"
    assert (amap.type.name, amap.type.trigger_name, amap.type.filter_name) == (
        "LiveChat chat",
        "Had a LiveChat chat",
        "Had LiveChat chat",
    )
    assert (amap.primary.api_name, amap.primary.name) == ("chatId", "Chat ID")
    sources = {rule.source: rule.data_type for rule in amap.attributes.values()}
    assert sources == {
        Source.AGENT_NAMES: DataType.STRING,
        Source.GROUP: DataType.STRING,
        Source.TAGS: DataType.STRING,
        Source.START_PAGE: DataType.LINK,
        Source.DURATION_SECONDS: DataType.INTEGER,
        Source.MESSAGE_COUNT: DataType.INTEGER,
        Source.RATING: DataType.STRING,
        Source.PRECHAT_ANSWERS: DataType.TEXT,
    }
    assert amap.transcript_length == 0  # personal data: off unless turned on


def test_the_default_map_is_read_once() -> None:
    assert default_activity_map() is default_activity_map()


def test_the_commented_transcript_example_is_valid_when_turned_on() -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert "personal data" in text
    before, marker, example = text.partition("# [attributes.transcriptExcerpt]")
    turned_on = re.sub(r"^# (\w+ = )", r"\1", marker[2:] + example, flags=re.MULTILINE)
    amap = ActivityMap.parse(before + turned_on)
    assert amap.attributes["transcriptExcerpt"].source is Source.TRANSCRIPT_EXCERPT
    assert amap.transcript_length == 2000


def test_an_empty_file_is_marketo_s_defaults_without_attributes() -> None:
    amap = ActivityMap.parse("")
    assert amap.type.api_name == "livechatChat"
    assert amap.attributes == {}


def test_the_file_named_by_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "mine.toml"
    target.write_text("enabled = false\n" + HEAD, encoding="utf-8")
    monkeypatch.setenv("ACTIVITY_MAP_FILE", str(target))
    assert load_activity_map().enabled is False
    with pytest.raises(ConfigurationError, match=r"activity map .*absent\.toml: cannot read"):
        load_activity_map(tmp_path / "absent.toml")


def test_not_toml_is_said_so() -> None:
    assert _error("[type\napi_name = 1").startswith("activities.toml: not valid TOML")


def test_an_unknown_source_names_the_attribute_and_the_sources() -> None:
    message = _error(HEAD + _attribute("chatMood", "mood", "string"))
    assert "attributes.chatMood.source: unknown source 'mood'; one of: agent_names" in message
    assert "transcript_excerpt" in message


def test_an_unknown_data_type_names_marketo_s_types() -> None:
    message = _error(HEAD + _attribute("startPage", "start_page", "url"))
    assert "attributes.startPage.data_type: unknown data_type 'url'; one of: string" in message


@pytest.mark.parametrize(
    ("source", "data_type", "needed"),
    [
        ("message_count", "string", "integer"),
        ("duration_seconds", "float", "integer"),
        ("tags", "integer", "string or text"),
        ("start_page", "email", "link or string or text"),
        ("ended_at", "date", "datetime"),
    ],
)
def test_a_type_that_cannot_hold_the_source_is_refused(
    source: str, data_type: str, needed: str
) -> None:
    message = _error(HEAD + _attribute("someFact", source, data_type))
    assert (
        f"attributes.someFact: source '{source}' needs data_type {needed}"
        f" (found '{data_type}')" in message
    )


def test_more_than_twenty_attributes_are_refused() -> None:
    attributes = "".join(_attribute(f"tags{i}", "tags", "string") for i in range(21))
    message = _error(HEAD + attributes)
    assert "at most 20 attributes (Marketo's limit for an activity type), found 21" in message
    twenty = "".join(_attribute(f"tags{i}", "tags", "string") for i in range(20))
    assert len(ActivityMap.parse(HEAD + twenty).attributes) == 20


@pytest.mark.parametrize("bad", ["chat-tags", "chat_tags", "123", "chätTags", "x" * 256])
def test_an_attribute_api_name_must_be_letters_and_digits(bad: str) -> None:
    message = _error(HEAD + _attribute(f'"{bad}"', "tags", "string"))
    assert f"attributes.{bad}: {bad!r} is no Marketo apiName" in message


def test_the_type_and_primary_api_names_are_checked_too() -> None:
    message = _error('[type]\napi_name = "livechat chat"\n[primary]\napi_name = "1"\n')
    assert "type.api_name: 'livechat chat' is no Marketo apiName" in message
    assert "primary.api_name: '1' is no Marketo apiName" in message


def test_api_names_and_names_are_each_used_once() -> None:
    same_api = HEAD + _attribute("ChatId", "tags", "string")
    assert "each attribute needs its own apiName: 'ChatId'" in _error(same_api)
    same_name = HEAD + _attribute("tagsA", "tags", "string") + _attribute("tagsB", "tags", "text")
    same_name = same_name.replace('"tagsB name"', '"TAGSA name"')
    assert "each attribute needs its own name: 'TAGSA name'" in _error(same_name)


def test_max_length_fits_the_data_type() -> None:
    assert "is more than a string attribute holds (255)" in _error(
        HEAD + _attribute("chatTags", "tags", "string", "max_length = 256\n")
    )
    assert "max_length applies to text attributes, not integer" in _error(
        HEAD + _attribute("messageCount", "message_count", "integer", "max_length = 5\n")
    )
    amap = ActivityMap.parse(
        HEAD
        + _attribute("answers", "prechat_answers", "text", "max_length = 5000\n")
        + _attribute("chatTags", "tags", "string")
        + _attribute("messageCount", "message_count", "integer")
    )
    lengths = {name: rule.length for name, rule in amap.attributes.items()}
    assert lengths == {"answers": 5000, "chatTags": 255, "messageCount": None}


def test_a_misspelt_key_and_a_blank_name_are_named() -> None:
    message = _error('[type]\napiName = "x"\nname = " "\n')
    assert "type.apiName: Extra inputs are not permitted" in message
    assert "type.name: String should have at least 1 character" in message


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    message = _error(
        HEAD + _attribute("a-b", "tags", "string") + _attribute("count", "message_count", "text")
    )
    assert message.startswith("activities.toml: ")
    assert "attributes.a-b:" in message
    assert "attributes.count: source 'message_count'" in message


def test_the_map_ships_with_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = project["tool"]["setuptools"]["package-data"]
    assert package_data["leadsync.activities"] == ["activity_map.toml"]
    # the layer is built from layers/leadsync/ as it is: the file beside the module is in it
    assert DEFAULT_PATH.parent == ROOT / "layers" / "leadsync" / "leadsync" / "activities"
