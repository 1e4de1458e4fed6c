"""The field map users edit: visitor attribute → Marketo field, and each field's write policy.

Loaded once per cold start from `field_map.toml` beside this module (or the file named by
FIELD_MAP_FILE) and validated whole, so a typo fails the deploy's first run with a clear
message instead of writing the wrong field.
"""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from leadsync.errors import ConfigurationError
from leadsync.models import Visitor

DEFAULT_PATH = Path(__file__).with_name("field_map.toml")
KEY_FIELD = "email"
# the visitor's attributes that hold one value a Marketo field can take (pre-chat answers
# feed list rules, not fields)
SOURCES = frozenset(set(Visitor.model_fields) - {"chat_ids", "prechat"})

FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$")]


class Policy(StrEnum):
    ALWAYS = "always"
    IF_EMPTY = "if_empty"
    NEWEST_WINS = "newest_wins"
    GREATEST = "greatest"
    NEVER = "never"


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
        try:
            return cls.model_validate(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{origin}: not valid TOML: {exc}") from None
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
                for error in exc.errors()
            ]
            raise ConfigurationError(f"{origin}: " + "; ".join(problems)) from None


def load_field_map(path: str | Path | None = None) -> FieldMap:
    target = Path(path or os.environ.get("FIELD_MAP_FILE") or DEFAULT_PATH)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"field map {target}: cannot read: {exc.strerror}") from None
    return FieldMap.parse(text, str(target))


@cache
def default_field_map() -> FieldMap:
    return load_field_map()
