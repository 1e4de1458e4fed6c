"""One fetch run against in-memory fakes, as the fetch's logic tests drive it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadsync.sync.fetch.run import FetchSettings, run
from leadsync.sync.fetch.summary import FetchSummary
from tests.support.fakes import FakeMarketo


def fetch_once(
    source: Any,
    state: Any,
    queue: Any,
    *,
    settings: FetchSettings,
    at: datetime,
    destination: Any = None,
    **options: Any,
) -> FetchSummary:
    """The fetch at `at`: `source` read into `queue`, the mark and errors kept in `state`.
    Marketo is an empty FakeMarketo unless `destination` is given."""
    return run(
        source=source,
        state=state,
        queue=queue,
        destination=FakeMarketo() if destination is None else destination,
        settings=settings,
        now=lambda: at,
        **options,
    )
