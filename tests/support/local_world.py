"""The local world as an end-to-end test module starts it: its state in a temporary folder
of its own, stopped when the module is done with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.world import LocalWorld, WorldOptions


@contextmanager
def started_world(
    tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any
) -> Iterator[LocalWorld]:
    """The local world with these `WorldOptions`, its state in a new temporary folder `name`."""
    with LocalWorld(WorldOptions(state_dir=tmp_path_factory.mktemp(name), **options)) as world:
        yield world


def stored_errors(world: LocalWorld) -> list[dict[str, Any]]:
    """The error store's items in the world's state table, as DynamoDB returns them."""
    assert world.stack is not None
    table = world.stack.outputs["StateTableName"]
    items: list[dict[str, Any]] = world.client("dynamodb").scan(TableName=table)["Items"]
    return [item for item in items if item["pk"]["S"].startswith("error#")]
