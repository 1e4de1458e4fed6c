"""The TOML files users edit beside the code (the field map, the list rules): found at the
path given, else the one an environment variable names, else the default, read and
validated whole; every failure is one ConfigurationError that names the file and, for a
file that does not validate, every problem in it."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from leadsync.errors import ConfigurationError

# how one validation error reads to the user, given the whole file's data
Problem = Callable[[ErrorDetails, dict[str, Any]], str]


def read_edited_file(
    path: str | Path | None, *, env_var: str, default: Path, what: str
) -> tuple[str, str]:
    """(the file's text, its path): the path given, else $`env_var`, else `default`."""
    target = Path(path or os.environ.get(env_var) or default)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"{what} {target}: cannot read: {exc.strerror}") from None
    return text, str(target)


def parse_edited[M: BaseModel](model: type[M], text: str, origin: str, problem: Problem) -> M:
    """`text`, TOML, validated as `model`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{origin}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [problem(error, data) for error in exc.errors()]
        raise ConfigurationError(f"{origin}: " + "; ".join(problems)) from None
