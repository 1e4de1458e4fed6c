"""The activity map users edit: the Marketo custom activity type a LiveChat chat is written
as, and which fact of the chat goes to which of its attributes.

Loaded once per cold start from `activity_map.toml` beside this module (or the file named by
ACTIVITY_MAP_FILE) and validated whole against Marketo's rules for custom activity types, so
a typo fails the first run with a clear message instead of a type Marketo refuses.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import ErrorDetails

from leadsync.mapping.edited_file import parse_edited, read_edited_file

DEFAULT_PATH = Path(__file__).with_name("activity_map.toml")
MAX_ATTRIBUTES = 20  # Marketo's limit of secondary attributes per activity type
MAX_NAME_LENGTH = 255
STRING_LENGTH = 255  # what a Marketo string (and link) attribute holds
TEXT_LENGTH = 65_535  # what a Marketo text attribute holds
_API_NAME = re.compile(r"[A-Za-z0-9]{1,255}")


class Source(StrEnum):
    """A fact of one chat an attribute can carry."""

    AGENT_NAMES = "agent_names"  # the agents who took part, by name
    GROUP = "group"  # the chat's LiveChat group id(s)
    TAGS = "tags"  # the chat's tags
    START_PAGE = "start_page"  # the page the chat started on
    DURATION_SECONDS = "duration_seconds"  # from the chat's start to its last event
    MESSAGE_COUNT = "message_count"  # messages and files the visitor and agents sent
    RATING = "rating"  # "good" or "bad", as the visitor rated the chat
    RATING_COMMENT = "rating_comment"  # the visitor's comment on the rating
    PRECHAT_ANSWERS = "prechat_answers"  # "Question: answer" lines of the pre-chat form
    TRANSCRIPT_EXCERPT = "transcript_excerpt"  # "Agent/Visitor: text" lines, cut
    ENDED_AT = "ended_at"  # the time of the chat's last event


class DataType(StrEnum):
    """Marketo's data types for custom activity attributes."""

    STRING = "string"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    FLOAT = "float"
    LINK = "link"
    EMAIL = "email"
    CURRENCY = "currency"
    DATE = "date"
    DATETIME = "datetime"
    PHONE = "phone"
    TEXT = "text"


_TEXTS = frozenset({DataType.STRING, DataType.TEXT})
# the data types that can hold each source's value
ACCEPTED_TYPES: dict[Source, frozenset[DataType]] = {
    Source.AGENT_NAMES: _TEXTS,
    Source.GROUP: _TEXTS,
    Source.TAGS: _TEXTS,
    Source.START_PAGE: _TEXTS | {DataType.LINK},
    Source.DURATION_SECONDS: frozenset({DataType.INTEGER}),
    Source.MESSAGE_COUNT: frozenset({DataType.INTEGER}),
    Source.RATING: _TEXTS,
    Source.RATING_COMMENT: _TEXTS,
    Source.PRECHAT_ANSWERS: _TEXTS,
    Source.TRANSCRIPT_EXCERPT: _TEXTS,
    Source.ENDED_AT: frozenset({DataType.DATETIME}),
}
# the most characters an attribute of each text type holds
LENGTH_LIMITS = {
    DataType.STRING: STRING_LENGTH,
    DataType.LINK: STRING_LENGTH,
    DataType.TEXT: TEXT_LENGTH,
}


def _api_name(value: str) -> str:
    if not _API_NAME.fullmatch(value) or value.isdigit():
        raise ValueError(
            f"{value!r} is no Marketo apiName: letters and digits only, at least one letter,"
            f" at most {MAX_NAME_LENGTH} characters"
        )
    return value


def _one_of[E: StrEnum](kind: type[E], what: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and value not in {member.value for member in kind}:
            known = ", ".join(member.value for member in kind)
            raise ValueError(f"unknown {what} {value!r}; one of: {known}")
        return value

    return BeforeValidator(check)


ApiName = Annotated[str, AfterValidator(_api_name)]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class ActivityType(BaseModel):
    """The custom activity type as Marketo shows it: in the lead's activity log, and as the
    Smart List trigger and filter its approval creates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_name: ApiName = "livechatChat"
    name: DisplayName = "LiveChat chat"
    trigger_name: DisplayName = "Had a LiveChat chat"
    filter_name: DisplayName = "Had LiveChat chat"
    description: Description = "A chat the lead had with the website's LiveChat agents"


class PrimaryAttribute(BaseModel):
    """The type's primary attribute: its value is always the LiveChat chat id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_name: ApiName = "chatId"
    name: DisplayName = "Chat ID"
    description: Description = ""


class AttributeRule(BaseModel):
    """One secondary attribute: the chat fact it carries and how Marketo stores it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Annotated[Source, _one_of(Source, "source")]
    name: DisplayName
    data_type: Annotated[DataType, _one_of(DataType, "data_type")]
    description: Description = ""
    max_length: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _fits(self) -> Self:
        accepted = ACCEPTED_TYPES[self.source]
        if self.data_type not in accepted:
            types = " or ".join(sorted(accepted))
            raise ValueError(
                f"source {self.source.value!r} needs data_type {types}"
                f" (found {self.data_type.value!r})"
            )
        limit = LENGTH_LIMITS.get(self.data_type)
        if self.max_length is not None and limit is None:
            raise ValueError(f"max_length applies to text attributes, not {self.data_type.value}")
        if self.max_length is not None and limit is not None and self.max_length > limit:
            raise ValueError(
                f"max_length {self.max_length} is more than a {self.data_type.value}"
                f" attribute holds ({limit})"
            )
        return self

    @property
    def length(self) -> int | None:
        """The most characters written to this attribute; None for numbers and times."""
        if self.data_type not in LENGTH_LIMITS:
            return None
        return self.max_length or STRING_LENGTH


class ActivityMap(BaseModel):
    """Whether chats are written as activities, as which type, with which attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    type: ActivityType = ActivityType()
    primary: PrimaryAttribute = PrimaryAttribute()
    attributes: dict[ApiName, AttributeRule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _marketo_rules(self) -> Self:
        if len(self.attributes) > MAX_ATTRIBUTES:
            raise ValueError(
                f"at most {MAX_ATTRIBUTES} attributes (Marketo's limit for an activity type),"
                f" found {len(self.attributes)}"
            )
        api_names = [self.primary.api_name, *self.attributes]
        names = [self.primary.name, *(rule.name for rule in self.attributes.values())]
        for what, given in (("apiName", api_names), ("name", names)):
            twice = _twice(given)
            if twice:
                raise ValueError(
                    f"each attribute needs its own {what}: {', '.join(map(repr, twice))}"
                    " given more than once (the primary attribute included)"
                )
        return self

    @property
    def transcript_length(self) -> int:
        """The most characters of transcript an attribute takes; 0 when none carries one."""
        lengths = [
            rule.length or 0
            for rule in self.attributes.values()
            if rule.source is Source.TRANSCRIPT_EXCERPT
        ]
        return max(lengths, default=0)

    @classmethod
    def parse(cls, text: str, origin: str = "activity map") -> ActivityMap:
        return parse_edited(cls, text, origin, _problem)


def _twice(values: list[str]) -> list[str]:
    """The values given more than once, compared as Marketo does (case aside), in order."""
    seen: set[str] = set()
    twice: list[str] = []
    for value in values:
        folded = value.casefold()
        if folded in seen and value not in twice:
            twice.append(value)
        seen.add(folded)
    return twice


def _problem(error: ErrorDetails, data: dict[str, Any]) -> str:
    """`attributes.chatTags.source: unknown source 'x'; ...`: where, as the file says it."""
    where = ".".join(str(part) for part in error["loc"] if part != "[key]") or "file"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"


def load_activity_map(path: str | Path | None = None) -> ActivityMap:
    """The activity map at `path`, else at $ACTIVITY_MAP_FILE, else `activity_map.toml` here."""
    text, origin = read_edited_file(
        path, env_var="ACTIVITY_MAP_FILE", default=DEFAULT_PATH, what="activity map"
    )
    return ActivityMap.parse(text, origin)


@cache
def default_activity_map() -> ActivityMap:
    """The deployed activity map, read once per cold start."""
    return load_activity_map()
