"""What leadsync last wrote to each lead, so that two paths never write the same change twice.

The hourly sync decides from a lookup made when its run started; a webhook for the same
visitor may write the same values in between. Before writing, the upload asks this ledger
what was written to each e-mail since its own decision and leaves out what is there already.

Item: `pk = written#<sha256 of the e-mail>`, `sk = lead`, `at` (ISO time of the write),
`values` (a map field → short digest of the value written: equal values, equal digests; no
value in clear), `expires_at` (TTL, LEDGER_RETENTION).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadsync.adapters.batches import BatchedItems
from leadsync.runtime.clock import iso_utc, parse_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, WriteRequestTypeDef

LEDGER_RETENTION = timedelta(days=2)  # beyond the fetch's overlap and a day of retries
_PK_PREFIX = "written#"
_SK = "lead"


def ledger_key(email: str) -> str:
    return _PK_PREFIX + hashlib.sha256(email.encode()).hexdigest()


def value_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LedgerEntry:
    at: datetime
    values: Mapping[str, str]  # field → value_digest

    def holds(self, name: str, value: Any) -> bool:
        return self.values.get(name) == value_digest(value)

    def differs(self, name: str, value: Any) -> bool:
        """A value of this field was written, and it was another one."""
        return name in self.values and not self.holds(name, value)


class DynamoDBWriteLedger(BatchedItems):
    RETENTION = LEDGER_RETENTION

    def written(self, emails: Iterable[str]) -> dict[str, LedgerEntry]:
        """E-mail → what was last written to its lead, for those written lately."""
        by_key = {ledger_key(email): email for email in emails}
        found = self._get(
            [_key(pk) for pk in by_key], "pk, #at, #values", {"#at": "at", "#values": "values"}
        )
        out: dict[str, LedgerEntry] = {}
        for item in found:
            email = by_key.get(item["pk"].get("S", ""))
            at = item.get("at", {}).get("S")
            values = item.get("values", {}).get("M", {})
            if email is None or at is None:
                continue
            out[email] = LedgerEntry(
                parse_iso(at), {name: v.get("S", "") for name, v in values.items()}
            )
        return out

    def record(self, writes: Mapping[str, Mapping[str, Any]]) -> int:
        """Remember e-mail → the values just written to its lead (merged over what an
        earlier write left, which still holds for the fields this one did not touch)."""
        if not writes:
            return 0
        before = self.written(writes)
        now = self._clock()
        expires = self._expires_at(now)
        requests: list[WriteRequestTypeDef] = []
        for email, values in writes.items():
            merged = dict(before[email].values) if email in before else {}
            merged.update({name: value_digest(value) for name, value in values.items()})
            requests.append(
                {
                    "PutRequest": {
                        "Item": {
                            **_key(ledger_key(email)),
                            "at": {"S": iso_utc(now)},
                            "values": {"M": {k: {"S": v} for k, v in merged.items()}},
                            "expires_at": {"N": expires},
                        }
                    }
                }
            )
        self._write(requests)
        return len(requests)


def _key(pk: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": pk}, "sk": {"S": _SK}}
