"""Import a function's handler module from functions/<name>/ as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_handler(function: str) -> ModuleType:
    """`load_handler("fetch")` imports functions/fetch/fetch_handler.py once."""
    name = f"{function}_handler"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "functions" / function / f"{name}.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def event(name: str) -> dict[str, object]:
    import json

    loaded: dict[str, object] = json.loads((ROOT / "events" / name).read_text())
    return loaded
