"""HTTP servers of the local world that answer on a background thread of this process: the
simulators, the AWS fault proxy and the stack's HTTP API."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from http.server import HTTPServer
from typing import Self

# how long stop() may wait for the serving loop to notice it must end
POLL_INTERVAL_S = 0.05


class Served(ABC):
    """Something that serves between start() and stop(); `with it:` does both."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class BackgroundServer(Served):
    """`server` answering on a daemon thread named `name`, from start() until stop()."""

    def __init__(self, server: HTTPServer, name: str) -> None:
        self.server = server
        self.name = name
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.server.serve_forever,
                args=(POLL_INTERVAL_S,),
                name=self.name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (also when it never served)."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()

    def wait(self) -> None:
        """Block while the server serves (a signal or Ctrl-C still gets through)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)
