"""The house stays one a newcomer can read: small modules, short functions, thin handlers.

A module over about 300 lines or a function over about 60 is a sign that two things share a
place; the first change that grows one past the line fails here, where it is cheap to split.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = [ROOT / "layers" / "leadsync" / "leadsync", ROOT / "functions", ROOT / "local"]
HANDLERS = sorted((ROOT / "functions").glob("*/*_handler.py"))
MODULE_MAX_LINES = 300
FUNCTION_MAX_LINES = 60
HANDLER_MAX_LINES = 60


def modules() -> list[Path]:
    return sorted(path for folder in CODE for path in folder.rglob("*.py"))


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_module_is_over_300_lines() -> None:
    long = {
        name(path): n
        for path in modules()
        if (n := len(path.read_bytes().splitlines())) > MODULE_MAX_LINES
    }
    assert long == {}


def test_no_function_is_over_60_lines() -> None:
    long: dict[str, int] = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > FUNCTION_MAX_LINES:
                    long[f"{name(path)}:{node.name}"] = lines
    assert long == {}


@pytest.mark.parametrize("handler", HANDLERS, ids=[path.parent.name for path in HANDLERS])
def test_each_handler_is_thin(handler: Path) -> None:
    assert len(handler.read_bytes().splitlines()) <= HANDLER_MAX_LINES


def test_every_function_has_a_handler() -> None:
    assert [path.parent.name for path in HANDLERS] == [
        "bulk",
        "digest",
        "fetch",
        "health",
        "upload",
        "webhook",
    ]
