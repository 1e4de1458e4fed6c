"""Chats read again after a late bulk import.

Marketo cannot cancel an import. A job leadsync gave up on (its records sent to the REST
path) may still run later, and then it writes the values its file was decided with, at
staging, over what the REST path wrote since for the same leads. The bulk function, which
watches such a job until Marketo ends it, then asks the fetch to read the chats again from
the file's staging time: every visitor with a newer chat is decided again against its lead
as it is now, and its newest values are written again. A visitor with no newer chat holds
the import's values, which are its latest.

The request also says when the import can have written: a lead last updated then holds the
file's values, as old as the file, whatever Marketo's `updatedAt` says, so the fetch decides
`newest_wins` fields against the file's staging time instead (`StaleAware`). A value someone
typed into such a lead in that span can be overwritten by a chat newer than the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from leadsync.marketo.models import Lead
from leadsync.ports import LeadLookup
from leadsync.runtime.clock import iso_utc, parse_iso
from leadsync.sync.fetch.decide import UPDATED_AT


@dataclass(frozen=True)
class Reread:
    """One request to read chats again (several merge into one)."""

    read_from: datetime  # read the chats again from here; moves on as windows are read
    staged_at: datetime  # when the late import's values were decided
    imported_from: datetime  # the import wrote its late rows between these two
    imported_until: datetime
    version: int = 0  # the stored request's version: it is cleared only as it was read

    def merged(self, other: Reread) -> Reread:
        """Both requests in one: the earliest start, the widest span of late writes."""
        return replace(
            self,
            read_from=min(self.read_from, other.read_from),
            staged_at=min(self.staged_at, other.staged_at),
            imported_from=min(self.imported_from, other.imported_from),
            imported_until=max(self.imported_until, other.imported_until),
        )

    def as_staged(self, lead: Lead) -> Lead:
        """The lead with the file's staging time as its last update when the import may
        have been its last writer."""
        raw = lead.get(UPDATED_AT)
        try:
            updated = parse_iso(raw) if isinstance(raw, str) and raw else None
        except ValueError:
            return lead
        if updated is None or not self.imported_from <= updated <= self.imported_until:
            return lead
        return lead.model_copy(
            update={"fields": {**lead.fields, UPDATED_AT: iso_utc(self.staged_at)}}
        )


@dataclass(frozen=True)
class StaleAware:
    """A lookup whose leads last written by the late import look as old as its file."""

    inner: LeadLookup
    reread: Reread

    def lookup_by_email(
        self, emails: Iterable[str], fields: Sequence[str] = ()
    ) -> dict[str, list[Lead]]:
        found = self.inner.lookup_by_email(emails, fields)
        return {
            email: [self.reread.as_staged(lead) for lead in leads] for email, leads in found.items()
        }
