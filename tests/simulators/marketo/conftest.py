"""Fixtures of the Marketo simulator's tests; a module that needs other settings defines its
own `sim`, and `client` talks to that one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.simulators.marketo import MarketoSimulator
from local.simulators.marketo.testing import SimClient
from tests.support.marketo_sim import running_sim, sim_client


@pytest.fixture
def sim() -> Iterator[MarketoSimulator]:
    with running_sim() as s:
        yield s


@pytest.fixture
def client(sim: MarketoSimulator) -> SimClient:
    return sim_client(sim)
