"""What goes wrong around the sync while it runs: environments killed mid-invocation, and a
progress line now and then."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

from local.lambda_runtime import FunctionPool
from local.world import LocalWorld

Say = Callable[[str], None]


class _Background:
    """A loop on a thread of its own while the `with` block runs; `_run` watches `_stop`."""

    name = "chaos"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()


class Killer(_Background):
    """Every few seconds, SIGKILLs an upload environment some way into an invocation."""

    name = "chaos-killer"

    def __init__(self, pool: FunctionPool, kills: int, every_s: float, seed: str, say: Say) -> None:
        self._pool = pool
        self._kills = kills
        self._every = every_s
        self._rng = random.Random(f"kills-{seed}")
        self._say = say
        self.sent = 0
        super().__init__()

    def _run(self) -> None:
        while self.sent < self._kills and not self._stop.wait(self._every):
            into = self._rng.uniform(0.1, 1.5)
            while not self._stop.is_set():
                pid = self._pool.kill_busy(into, self._rng)
                if pid is not None:
                    self.sent += 1
                    self._say(
                        f"killed {self._pool.spec.logical_id} process {pid} {into:.1f} s or "
                        "more into its invocation "
                        f"({self.sent}/{self._kills})"
                    )
                    break
                self._stop.wait(0.05)  # polling the environments until one is busy long enough


class Progress(_Background):
    """A line every few seconds while the queue drains."""

    name = "chaos-progress"

    def __init__(self, world: LocalWorld, say: Say, every_s: float = 5.0) -> None:
        self._world = world
        self._say = say
        self._every = every_s
        super().__init__()

    def _run(self) -> None:
        assert self._world.stack is not None
        sqs = self._world.client("sqs")
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        last = ""
        while not self._stop.wait(self._every):
            try:
                sync = sqs.get_queue_attributes(
                    QueueUrl=self._world.stack.outputs["SyncQueueUrl"], AttributeNames=names
                )["Attributes"]
                dead = self._world.queue_depth("DeadLetterQueueUrl")
                calls = self._world.marketo_audit(limit=0).get("total_requests", 0)
            except (OSError, KeyError, ValueError) as exc:  # progress only
                self._say(f"progress unavailable: {type(exc).__name__}")
                continue
            line = (
                f"queue: visible={sync[names[0]]} in flight={sync[names[1]]} "
                f"delayed={sync[names[2]]} dead letters={dead} | marketo requests={calls}"
            )
            if line != last:
                self._say(line)
                last = line
