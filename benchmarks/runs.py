"""A benchmark's measurements one after another, their state in one temporary folder: the
progress as it happens, then the figure line of each, the last lines the benchmark prints."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

Say = Callable[[str], None]


def say(line: str) -> None:
    print(line, flush=True)


def measure_each(
    prefix: str, names: Iterable[str], measure: Callable[[str, Path, Say], str]
) -> int:
    """`measure(name, state, say)` for each name in turn, `state` a temporary folder named
    after `prefix`; then each figure line in turn. The exit status: 0."""
    lines = []
    with tempfile.TemporaryDirectory(prefix=prefix) as state:
        for name in names:
            lines.append(measure(name, Path(state), say))
    for line in lines:
        print(line, flush=True)
    return 0
