"""Fixtures of the integration suite: the Marketo simulator and the upload handler wired to
it, moto's table and queues."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from local.simulators.marketo import MarketoSimulator
from tests.support.handlers import put_secret, start_marketo, upload_handler


@pytest.fixture
def marketo() -> Iterator[MarketoSimulator]:
    """The Marketo simulator on loopback, as `start_marketo` configures it."""
    sim = start_marketo()
    yield sim
    sim.stop()


@pytest.fixture
def upload(
    monkeypatch: pytest.MonkeyPatch,
    marketo: MarketoSimulator,
    state_table: str,
    queues: dict[str, str],
) -> Iterator[ModuleType]:
    """The upload handler, its environment pointing at moto and the Marketo simulator; its
    cached environment and wiring are forgotten afterwards."""
    module = upload_handler(monkeypatch, put_secret(marketo), state_table, queues)
    yield module
    module.environment.cache_clear()
    module.wired.cache_clear()
