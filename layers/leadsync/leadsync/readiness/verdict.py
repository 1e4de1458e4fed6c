"""A verdict on the lead schema: when it was reached, for which field map, what it found."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from leadsync.readiness.fields import FieldProblem, summary


class SchemaVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    fingerprint: str
    checked_at: AwareDatetime
    problems: tuple[FieldProblem, ...] = ()
    # the day its problems last went to the error store: one entry a day, not one a run
    reported_on: str | None = None

    def fresh(self, fingerprint: str, now: datetime, max_age: timedelta) -> bool:
        return self.fingerprint == fingerprint and now - self.checked_at < max_age

    def summary(self) -> str:
        return summary(self.problems)
