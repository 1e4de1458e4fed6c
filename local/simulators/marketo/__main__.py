"""`python -m local.simulators.marketo --port 0 --client-id ID --client-secret S [...]`.

Every scalar key of SimulatorConfig and FaultConfig is a flag (`window_seconds` ->
`--window-seconds`, lists comma-separated: `--denied-permissions lead_write,schema`); a
boolean flag alone means true (`--fresh`); structured keys (custom_fields, lists,
extra_clients) come from --config.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from .config import FaultConfig, SimulatorConfig, load_config
from .simulator import MarketoSimulator

_FILE_ONLY = {"custom_fields", "lists", "extra_clients", "faults"}


def _parse_bool(raw: str) -> bool:
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {raw!r}")


def _converter(hint: Any) -> Callable[[str], Any]:
    if typing.get_origin(hint) in {typing.Union, types.UnionType}:
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) is list:
        item = typing.get_args(hint)[0]
        return lambda raw: [item(v.strip()) for v in raw.split(",") if v.strip()]
    if hint is bool:
        return _parse_bool
    if hint in {int, float, str}:
        return typing.cast(Callable[[str], Any], hint)
    raise TypeError(f"no flag for type {hint!r}")


def _add_flags(parser: argparse.ArgumentParser, cls: type[Any], dest_prefix: str) -> None:
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in _FILE_ONLY:
            continue
        extra: dict[str, Any] = {"nargs": "?", "const": True} if hints[f.name] is bool else {}
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=dest_prefix + f.name,
            type=_converter(hints[f.name]),
            default=argparse.SUPPRESS,
            metavar=f.name.upper(),
            **extra,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.simulators.marketo",
        description="A local Marketo REST/bulk API with real limits and switchable faults.",
    )
    parser.add_argument("--config", default=None, help="JSON file of config keys")
    _add_flags(parser, SimulatorConfig, "cfg.")
    _add_flags(parser, FaultConfig, "fault.")
    return parser


def config_from_args(argv: Sequence[str] | None = None) -> SimulatorConfig:
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    overrides: dict[str, Any] = {k[4:]: v for k, v in args.items() if k.startswith("cfg.")}
    faults = {k[6:]: v for k, v in args.items() if k.startswith("fault.")}
    if faults:
        overrides["faults"] = faults
    try:
        return load_config(args.get("config"), overrides)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    sim = MarketoSimulator(config_from_args(argv))
    sim.start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"marketo-simulator listening on {sim.base_url}", flush=True)
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
