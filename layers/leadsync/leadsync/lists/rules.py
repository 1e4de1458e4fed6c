"""Marketo static lists a visitor belongs in, from rules users edit.

Each rule names a static list and exactly one condition on the canonical visitor: a chat
tag, a country, an answer to a pre-chat question, or a number of chats. A visitor belongs in
every list one of whose rules it meets. Rules are loaded from `list_rules.toml` beside this
module (or the file named by LIST_RULES_FILE) and validated whole, so a typo fails the first
run with a message that names the rule instead of filling the wrong list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, StringConstraints, model_validator
from pydantic_core import ErrorDetails

from leadsync.errors import ConfigurationError
from leadsync.mapping.edited_file import parse_edited, read_edited_file
from leadsync.models import Visitor

DEFAULT_PATH = Path(__file__).with_name("list_rules.toml")
CONDITIONS = ("tag", "country", "prechat", "chat_count_at_least")

Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


def fold(text: str) -> str:
    """How list rules compare text: trimmed, case-folded, a trailing colon ignored.

    `Company:` is how LiveChat labels a question; a rule may write it with or without.
    """
    return text.strip().removesuffix(":").strip().casefold()


class PrechatAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    question: Phrase
    answer: Phrase


class ListRule(BaseModel):
    """A Marketo static list and the one condition that puts a visitor in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # a list by its id, or by its exact name (looked up once per cold start)
    list_id: PositiveInt | None = None
    name: Phrase | None = None
    tag: Phrase | None = None
    country: Phrase | None = None
    prechat: PrechatAnswer | None = None
    chat_count_at_least: PositiveInt | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        if self.list_id is None and self.name is None:
            raise ValueError("name the list: `list_id`, or its exact `name`")
        given = [name for name in CONDITIONS if getattr(self, name) is not None]
        if len(given) != 1:
            found = ", ".join(f"`{name}`" for name in given) or "none"
            raise ValueError(
                f"give exactly one condition of {', '.join(f'`{c}`' for c in CONDITIONS)}"
                f" (found {found})"
            )
        return self

    @property
    def label(self) -> str:
        """How messages name the rule: its list id and, when given, its name."""
        if self.list_id is None:
            return f"list {self.name!r}"
        return f"list {self.list_id}" + (f" ({self.name})" if self.name else "")

    def matches(self, visitor: Visitor) -> bool:
        if self.tag is not None:
            return self.tag in visitor.tags  # tags are exact, as LiveChat shows them
        if self.country is not None:
            return visitor.country is not None and fold(visitor.country) == fold(self.country)
        if self.prechat is not None:
            question, answer = fold(self.prechat.question), fold(self.prechat.answer)
            return any(
                fold(asked) == question and fold(given) == answer
                for asked, given in visitor.prechat.items()
            )
        assert self.chat_count_at_least is not None
        return visitor.chat_count >= self.chat_count_at_least


class ListRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[ListRule] = Field(default_factory=list)

    @property
    def list_ids(self) -> frozenset[int]:
        """Every list the rules manage: the only lists leadsync ever adds to or removes from."""
        return frozenset(rule.list_id for rule in self.rules if rule.list_id is not None)

    @property
    def unresolved(self) -> list[str]:
        """The names of lists the rules name without an id, in order."""
        return list(dict.fromkeys(r.name for r in self.rules if r.list_id is None and r.name))

    def resolved(self, ids: Mapping[str, int]) -> ListRules:
        """The rules with each list named only by name given its id."""
        missing = [name for name in self.unresolved if name not in ids]
        if missing:
            raise ConfigurationError(
                "list rules name lists Marketo does not have (or has twice): "
                + ", ".join(repr(n) for n in missing)
                + "; run `leadsync check` for the fix"
            )
        return ListRules(
            rules=[
                r if r.list_id is not None else r.model_copy(update={"list_id": ids[str(r.name)]})
                for r in self.rules
            ]
        )

    @classmethod
    def parse(cls, text: str, origin: str = "list rules") -> ListRules:
        return parse_edited(cls, text, origin, _problem)


def _problem(error: ErrorDetails, data: dict[str, Any]) -> str:
    """`rules[2] (list 1234, "Poland"): country: ...`: the rule as the user wrote it."""
    loc, message = error["loc"], error["msg"].removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index, rest = loc[1], loc[2:]
        where = f"rules[{index}]"
        raw = data.get("rules")
        rule = raw[index] if isinstance(raw, list) and index < len(raw) else None
        if isinstance(rule, dict):
            named = [f"list {rule['list_id']!r}" if "list_id" in rule else "no list_id"]
            named = named if "list_id" in rule or "name" not in rule else []
            if isinstance(rule.get("name"), str):
                named.append(repr(rule["name"]))
            where += f" ({', '.join(named)})"
        field = ".".join(str(part) for part in rest)
        return f"{where}: {field}: {message}" if field else f"{where}: {message}"
    return f"{'.'.join(str(part) for part in loc) or 'file'}: {message}"


def desired_lists(visitor: Visitor, rules: ListRules | Iterable[ListRule]) -> frozenset[int]:
    """The ids of every managed list the visitor belongs in."""
    chosen = rules.rules if isinstance(rules, ListRules) else rules
    return frozenset(
        rule.list_id for rule in chosen if rule.list_id is not None and rule.matches(visitor)
    )


def load_list_rules(path: str | Path | None = None) -> ListRules:
    """The list rules at `path`, else at $LIST_RULES_FILE, else `list_rules.toml` here."""
    text, origin = read_edited_file(
        path, env_var="LIST_RULES_FILE", default=DEFAULT_PATH, what="list rules"
    )
    return ListRules.parse(text, origin)


@cache
def default_list_rules() -> ListRules:
    """The deployed list rules, read once per cold start."""
    return load_list_rules()
