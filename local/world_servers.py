"""The local world's servers, each a child process on loopback: moto, the fault proxy the
functions reach AWS through, and the Marketo and LiveChat simulators, which accept the
credentials the stack's secret will hold."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from local.processes import ServerProcess
from local.stack import ROOT

if TYPE_CHECKING:
    from local.world import WorldOptions


def new_credentials() -> dict[str, str]:
    """Fresh API credentials of both services and the webhook's secret."""
    return {
        "livechat_account_id": f"local-{secrets.token_hex(4)}",
        "livechat_token": secrets.token_urlsafe(24),
        "marketo_client_id": secrets.token_hex(8),
        "marketo_client_secret": secrets.token_urlsafe(24),
        "livechat_webhook_secret": secrets.token_urlsafe(24),
        "livechat_client_id": secrets.token_hex(16),
    }


def moto(options: WorldOptions, logs: Path) -> ServerProcess:
    return ServerProcess(
        "moto", ["-m", "local.moto_server"], logs / "moto.log", ROOT, detached=options.keep
    )


def fault_proxy(options: WorldOptions, target_url: str, logs: Path) -> ServerProcess:
    """The fault proxy in front of `target_url`, configured by `options.aws_faults`."""
    config = options.state_dir / "aws-faults.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(options.aws_faults), encoding="utf-8")
    args = ["--target", target_url, "--port", "0", "--config", str(config)]
    return ServerProcess(
        "aws-faults",
        ["-m", "local.aws_faults", *args, "--seed", str(options.seed)],
        logs / "aws-faults.log",
        ROOT,
        detached=options.keep,
    )


def marketo(options: WorldOptions, creds: dict[str, str], logs: Path) -> ServerProcess:
    return ServerProcess(
        "marketo",
        [
            "-m",
            "local.simulators.marketo",
            "--port",
            "0",
            # "--flag=value": a random secret may start with "-"
            f"--client-id={creds['marketo_client_id']}",
            f"--client-secret={creds['marketo_client_secret']}",
            *(["--fresh"] if options.fresh else []),
            *options.marketo_args,
        ],
        logs / "marketo.log",
        ROOT,
        detached=options.keep,
    )


def livechat(
    options: WorldOptions, creds: dict[str, str], chats: tuple[datetime, datetime], logs: Path
) -> ServerProcess:
    """The LiveChat simulator holding `options.chats` chats generated in the `chats` span."""
    start, end = chats
    return ServerProcess(
        "livechat",
        [
            "-m",
            "local.simulators.livechat",
            "--port",
            "0",
            f"--account-id={creds['livechat_account_id']}",
            f"--token={creds['livechat_token']}",
            "--full-scopes",
            f"--client-id={creds['livechat_client_id']}",
            "--seed",
            str(options.seed),
            "--chats",
            str(options.chats),
            "--start",
            start.isoformat(),
            "--end",
            end.isoformat(),
            *options.livechat_args,
        ],
        logs / "livechat.log",
        ROOT,
        detached=options.keep,
    )
