"""The wall clock of the functions' execution environments, which a run can move forward so
that days pass for leadsync as they pass for Marketo in its simulator.

Each environment loads `local/clock_shift/sitecustomize.py`, which adds the offset this
writes to the wall clock (time.time, datetime.now); the monotonic clock stays real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

SITE = Path(__file__).resolve().parent / "clock_shift"


class FunctionClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset_s = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write()

    def env(self) -> dict[str, str]:
        return {"LEADSYNC_LOCAL_CLOCK_FILE": str(self.path)}

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset_s)

    def move_to(self, moment: datetime) -> None:
        """From now on the functions read `moment` (and the time runs on from there);
        environments see it within a second."""
        offset = moment.timestamp() - datetime.now(UTC).timestamp()
        if offset < self.offset_s:
            raise ValueError("the functions' clock only moves forward")
        self.offset_s = offset
        self._write()

    def _write(self) -> None:
        self.path.write_text(f"{self.offset_s:.3f}\n", encoding="utf-8")
