"""Erasure requests → the leads to delete, in calls Marketo accepts, logged without e-mails.
Pure: no I/O here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadsync.erasure.request import ErasureRequest, ErasureSource, collapse
from leadsync.marketo.models import Lead
from leadsync.runtime.observability import mask_email

MAX_IDS_PER_DELETE = 300


@dataclass(frozen=True)
class Erasure:
    """What one request comes to, in log-safe terms."""

    fingerprint: str
    masked: str
    source: ErasureSource
    reference: str | None
    lead_ids: tuple[int, ...]

    @property
    def found(self) -> bool:
        return bool(self.lead_ids)


@dataclass(frozen=True)
class DeletePlan:
    calls: list[list[int]] = field(default_factory=list)  # lead ids, ≤ the limit per call
    erasures: list[Erasure] = field(default_factory=list)
    not_found: int = 0

    @property
    def lead_ids(self) -> list[int]:
        return [lead_id for call in self.calls for lead_id in call]

    def summary(self) -> dict[str, Any]:
        """What may be logged: counts, fingerprints and masked addresses, never an e-mail."""
        return {
            "requests": len(self.erasures),
            "found": sum(erasure.found for erasure in self.erasures),
            "not_found": self.not_found,
            "leads": len(self.lead_ids),
            "calls": len(self.calls),
            "erasures": [
                {
                    "fingerprint": erasure.fingerprint,
                    "email": erasure.masked,
                    "source": erasure.source.value,
                    "reference": erasure.reference,
                    "lead_ids": list(erasure.lead_ids),
                }
                for erasure in self.erasures
            ],
        }


def plan_deletes(
    requests: Iterable[ErasureRequest],
    found: Mapping[str, Sequence[Lead]],
    *,
    max_per_call: int = MAX_IDS_PER_DELETE,
) -> DeletePlan:
    """Every lead Marketo holds for each requested e-mail, each id once, in calls of at most
    `max_per_call` ids. An e-mail without a lead is counted and costs no call."""
    if max_per_call < 1:
        raise ValueError("max_per_call must be at least 1")
    planned: dict[int, None] = {}
    erasures: list[Erasure] = []
    not_found = 0
    for request in collapse(requests):
        ids = tuple(sorted({lead.id for lead in found.get(request.email, ())}))
        not_found += not ids
        planned.update(dict.fromkeys(ids))
        erasures.append(
            Erasure(
                fingerprint=request.fingerprint,
                masked=mask_email(request.email),
                source=request.source,
                reference=request.reference,
                lead_ids=ids,
            )
        )
    ordered = list(planned)
    calls = [
        ordered[start : start + max_per_call] for start in range(0, len(ordered), max_per_call)
    ]
    return DeletePlan(calls=calls, erasures=erasures, not_found=not_found)
