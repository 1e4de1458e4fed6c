"""`python -m local.simulators.livechat --port 0 ...`: run the simulator until interrupted."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.simulators.livechat.configuration import (
    DEFAULT_ARCHIVE_RETENTION_MONTHS,
    DEFAULT_CLIENT_ID,
)
from local.simulators.livechat.data import GenerationParams, chats_for_visitors
from local.simulators.livechat.faults import FaultConfig
from local.simulators.livechat.scopes import DEFAULT_SCOPES, FULL_SCOPES
from local.simulators.livechat.server import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_TOKEN,
    LiveChatSimulator,
)
from local.simulators.livechat.webhooks import DEFAULT_ORGANIZATION_ID


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.simulators.livechat", description=__doc__
    )
    parser.add_argument("--host", default=None, help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="0 picks a free port")
    parser.add_argument("--account-id", default=None)
    parser.add_argument("--token", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--chats", type=int, default=None, help="how many chats to generate")
    parser.add_argument(
        "--visitors",
        type=int,
        default=None,
        help="generate as many chats as it takes for this many distinct visitors with an "
        "e-mail (instead of --chats)",
    )
    parser.add_argument("--start", default=None, help="ISO 8601 start of the chats' window")
    parser.add_argument("--end", default=None, help="ISO 8601 end of the chats' window")
    parser.add_argument(
        "--scope",
        action="append",
        default=None,
        help=f"a scope of the token (repeat for more; default {', '.join(DEFAULT_SCOPES)})",
    )
    parser.add_argument(
        "--full-scopes",
        action="store_true",
        help=f"the token holds {', '.join(FULL_SCOPES)}",
    )
    parser.add_argument(
        "--client-id",
        action="append",
        default=None,
        help=f"a Client ID the organization owns (repeat for more; default {DEFAULT_CLIENT_ID})",
    )
    parser.add_argument(
        "--archive-retention-months",
        type=int,
        default=None,
        help=f"chat archive retention (default {DEFAULT_ARCHIVE_RETENTION_MONTHS}; -1 unlimited)",
    )
    parser.add_argument(
        "--license-webhooks-disabled",
        action="store_true",
        help="license webhooks start disabled (as after disable_license_webhooks)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="JSON: {host, port, account_id, token, scopes, client_ids, "
        "archive_retention_months, license_webhooks_enabled, organization_id, "
        "generation: {...}, faults: {...}}",
    )
    _add_fault_flags(parser)
    return parser


def _add_fault_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per fault setting, over the config file's `faults` (and switchable later
    over HTTP: POST /_sim/faults)."""
    group = parser.add_argument_group("faults", "list_archives misbehaving on purpose")
    text = FaultConfig.help()
    for setting in dataclasses.fields(FaultConfig):
        name = setting.name
        # --seed already seeds the generated chats.
        flag = "--fault-seed" if name == "seed" else "--" + name.replace("_", "-")
        dest = f"fault_{name}"
        if setting.type == "bool":
            group.add_argument(flag, dest=dest, action="store_true", default=None, help=text[name])
        else:
            kind = int if setting.type == "int" else float
            group.add_argument(flag, dest=dest, type=kind, default=None, help=text[name])


def _faults(args: argparse.Namespace, config: dict[str, Any]) -> FaultConfig:
    settings = dict(config.get("faults", {}))
    for setting in dataclasses.fields(FaultConfig):
        value = getattr(args, f"fault_{setting.name}")
        if value is not None:
            settings[setting.name] = value
    try:
        return FaultConfig.from_mapping(settings)
    except ValueError as exc:
        raise SystemExit(f"faults: {exc}") from exc


def simulator_from_args(argv: Sequence[str] | None = None) -> LiveChatSimulator:
    args = build_parser().parse_args(argv)
    config: dict[str, Any] = {}
    if args.config is not None:
        config = json.loads(args.config.read_text(encoding="utf-8"))
        if not isinstance(config, dict):
            raise SystemExit("--config: a JSON object expected")
    generation = dict(config.get("generation", {}))
    for name in ("seed", "chats", "start", "end"):
        if getattr(args, name) is not None:
            generation[name] = getattr(args, name)
    if args.visitors is not None:
        wanted = GenerationParams.from_mapping(generation)
        generation["chats"] = chats_for_visitors(wanted, args.visitors)
    scopes = args.scope or config.get("scopes", DEFAULT_SCOPES)
    if args.full_scopes:
        scopes = [*FULL_SCOPES, *scopes]
    retention = args.archive_retention_months
    return LiveChatSimulator(
        GenerationParams.from_mapping(generation),
        account_id=args.account_id or config.get("account_id", DEFAULT_ACCOUNT_ID),
        token=args.token or config.get("token", DEFAULT_TOKEN),
        scopes=scopes,
        host=args.host or config.get("host", "127.0.0.1"),
        port=args.port if args.port is not None else int(config.get("port", 0)),
        faults=_faults(args, config),
        client_ids=args.client_id or config.get("client_ids", [DEFAULT_CLIENT_ID]),
        archive_retention_months=int(
            retention
            if retention is not None
            else config.get("archive_retention_months", DEFAULT_ARCHIVE_RETENTION_MONTHS)
        ),
        license_webhooks_enabled=not args.license_webhooks_disabled
        and bool(config.get("license_webhooks_enabled", True)),
        organization_id=config.get("organization_id", DEFAULT_ORGANIZATION_ID),
    )


def main(argv: Sequence[str] | None = None) -> int:
    sim = simulator_from_args(argv).start()
    print(f"livechat-simulator listening on {sim.base_url}", flush=True)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
