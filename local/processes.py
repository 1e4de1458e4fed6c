"""Servers of the local world, each a child process on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


class ServerProcess:
    """Starts a server that announces `... listening on http://127.0.0.1:PORT` on stdout.

    `detached`: the server writes straight to its log and lives in a session of its own, so
    it outlives this process (a kept local world)."""

    def __init__(
        self,
        name: str,
        args: list[str],
        log_path: Path,
        cwd: Path,
        env: dict[str, str] | None = None,
        *,
        detached: bool = False,
    ) -> None:
        self.name = name
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("a", encoding="utf-8")
        if detached:
            start = self._log.tell()
            self.process = subprocess.Popen(
                [sys.executable, "-u", *args],
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=str(cwd),
                env=env,
                start_new_session=True,
            )
            self.url = self._wait_in_log(log_path, start, deadline=time.monotonic() + 30)
            return
        self.process = subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=str(cwd),
            env=env,
        )
        self.url = self._wait_for_url(deadline=time.monotonic() + 30)
        threading.Thread(target=self._copy_output, daemon=True).start()

    def _wait_for_url(self, deadline: float) -> str:
        assert self.process.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self._log.write(line)
                match = _LISTENING.search(line)
                if match:
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(max(0.0, deadline - time.monotonic()))
        if not found:
            self.stop()
            raise RuntimeError(f"{self.name} did not start; see {self._log.name}")
        return found[0]

    def _wait_in_log(self, log_path: Path, start: int, deadline: float) -> str:
        while time.monotonic() < deadline:
            with log_path.open(encoding="utf-8", errors="replace") as log:
                log.seek(start)
                match = _LISTENING.search(log.read())
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                break
            time.sleep(0.05)  # polling a file another process writes, with a deadline
        self.stop()
        raise RuntimeError(f"{self.name} did not start; see {log_path}")

    def detach(self) -> int:
        """Leave the server running past this process; returns its pid."""
        self._log.close()
        return self.process.pid

    def _copy_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log.write(line)
            self._log.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            wait_or_kill(self.process, timeout=10)
        self._log.close()


def wait_or_kill(process: subprocess.Popen[str], timeout: float) -> None:
    """Wait for a process asked to end; kill it when it takes longer than `timeout` seconds."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
