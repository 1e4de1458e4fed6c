"""The field map users edit: visitor attribute → Marketo field, and each field's write policy.

Loaded once per cold start from `field_map.toml` beside this module (or the file named by
FIELD_MAP_FILE) and validated whole, so a typo fails the deploy's first run with a clear
message instead of writing the wrong field.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import ErrorDetails

from leadsync.mapping.edited_file import parse_edited, read_edited_file
from leadsync.models import Visitor

DEFAULT_PATH = Path(__file__).with_name("field_map.toml")
KEY_FIELD = "email"
# the visitor's attributes that hold one value a Marketo field can take (pre-chat answers
# feed list rules, not fields)
SOURCES = frozenset(set(Visitor.model_fields) - {"chat_ids", "prechat"})

FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]


class Policy(StrEnum):
    """When an existing lead's field is written (a new lead gets every mapped value)."""

    ALWAYS = "always"  # whenever leadsync's value differs
    IF_EMPTY = "if_empty"  # only where Marketo has no value
    NEWEST_WINS = "newest_wins"  # when the latest chat is newer than the lead's last update
    GREATEST = "greatest"  # when leadsync's value is greater (counts, latest times)
    NEVER = "never"  # only when leadsync creates the lead


class FieldRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str | None = None
    value: str | int | float | bool | None = None
    policy: Policy = Policy.ALWAYS
    max_length: int = Field(default=255, ge=1, le=65_535)

    @model_validator(mode="after")
    def _one_origin(self) -> Self:
        if (self.source is None) == (self.value is None):
            raise ValueError("give exactly one of `source` and `value`")
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(
                f"unknown source {self.source!r}; one of: {', '.join(sorted(SOURCES))}"
            )
        return self


class FieldMap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fields: dict[FieldName, FieldRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _keyed_by_email(self) -> Self:
        key = self.fields.get(KEY_FIELD)
        if key is None or key.source != "email":
            raise ValueError(f'`fields.{KEY_FIELD}` must map source = "email" (the lookup key)')
        return self

    @property
    def names(self) -> list[str]:
        """Every destination field, the key first: what a lookup asks for."""
        return [KEY_FIELD, *(name for name in self.fields if name != KEY_FIELD)]

    @classmethod
    def parse(cls, text: str, origin: str = "field map") -> FieldMap:
        return parse_edited(cls, text, origin, _problem)


def _problem(error: ErrorDetails, data: dict[str, Any]) -> str:
    return f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"


def load_field_map(path: str | Path | None = None) -> FieldMap:
    """The field map at `path`, else at $FIELD_MAP_FILE, else `field_map.toml` here."""
    text, origin = read_edited_file(
        path, env_var="FIELD_MAP_FILE", default=DEFAULT_PATH, what="field map"
    )
    return FieldMap.parse(text, origin)


@cache
def default_field_map() -> FieldMap:
    """The deployed field map, read once per cold start."""
    return load_field_map()
