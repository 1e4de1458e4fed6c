"""A world a `--keep` run leaves running: its servers' pids, addresses, chat span and stack,
written to world.json for the next run to use again, or to stop."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from local.moto_server import SES_MESSAGES_PATH
from local.ports import get_json
from local.stack import DeployedStack

WORLD_FILE = "world.json"


@dataclass(frozen=True)
class KeptWorld:
    pids: list[int]
    aws_url: str
    marketo_url: str
    livechat_url: str
    # the time span the LiveChat simulator's chats were generated in
    chats_start: datetime
    chats_end: datetime
    stack: DeployedStack

    def save(self, state_dir: Path) -> None:
        kept = {
            "pids": self.pids,
            "aws_url": self.aws_url,
            "marketo_url": self.marketo_url,
            "livechat_url": self.livechat_url,
            "chats_start": self.chats_start.isoformat(),
            "chats_end": self.chats_end.isoformat(),
            "stack": {
                "name": self.stack.name,
                "outputs": self.stack.outputs,
                "resources": self.stack.resources,
                "template": self.stack.template,
            },
        }
        (state_dir / WORLD_FILE).write_text(json.dumps(kept), encoding="utf-8")

    @classmethod
    def load(cls, state_dir: Path) -> KeptWorld | None:
        """The world a previous `--keep` run left, if one did and its servers still answer;
        one whose servers do not answer is stopped."""
        try:
            kept = json.loads((state_dir / WORLD_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        try:
            get_json(f"{kept['marketo_url']}/_sim/health")
            get_json(f"{kept['livechat_url']}/_sim/health")
            get_json(f"{kept['aws_url']}{SES_MESSAGES_PATH}")
        except OSError:
            stop_kept_world(state_dir)
            return None
        return cls(
            pids=[int(pid) for pid in kept.get("pids", [])],
            aws_url=kept["aws_url"],
            marketo_url=kept["marketo_url"],
            livechat_url=kept["livechat_url"],
            chats_start=datetime.fromisoformat(kept["chats_start"]),
            chats_end=datetime.fromisoformat(kept["chats_end"]),
            stack=DeployedStack(**kept["stack"]),
        )


def stop_kept_world(state_dir: Path) -> bool:
    """Stop the servers a `--keep` run left running; True if there were any."""
    path = state_dir / WORLD_FILE
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pids = [int(pid) for pid in kept.get("pids", [])]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for processes to exit, bounded by the deadline
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
