"""Driving the bulk path on the local world: the BulkQueue drained into the bulk function
while the Marketo simulator's clock moves, so imports finish without real waiting."""

from __future__ import annotations

import threading

from local.event_sources import DrainReport
from local.world import LocalWorld


def drain_bulk(
    world: LocalWorld,
    *,
    advance_s: float = 30.0,
    every_s: float = 0.5,
    deadline_s: float = 600.0,
) -> DrainReport:
    """Drain the BulkQueue (its delayed polls included); meanwhile the simulator's clock
    jumps `advance_s` every `every_s` of real time."""
    done = threading.Event()

    def move() -> None:
        while not done.wait(every_s):
            world.advance_marketo_clock(advance_s)

    mover = threading.Thread(target=move, daemon=True)
    mover.start()
    try:
        return world.drain_queue("BulkFunction", deadline_s=deadline_s)
    finally:
        done.set()
        mover.join()
