"""The lead directory and the list membership leadsync keeps, in the state table.

Directory: which lead a create of this run made, so that list operations of the same run,
queued before the lead existed, can name it. Item `pk = lead#<sha256 of the normalized
e-mail>`, `sk = id`, with `lead_id` (or `failed = true` when Marketo refused the create for
good) and `expires_at` (TTL: LEAD_RETENTION). The address itself is not stored.

Membership: the static lists leadsync put a lead in, so that a later run knows what to take
out. Item `pk = member#<list id>`, `sk = <lead id>`, `added_at`.

Reads and writes go in batches (BatchGetItem: 100 keys, BatchWriteItem: 25 items); what
DynamoDB leaves unprocessed is sent again, with a short backoff, a few times.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from leadsync.adapters.batches import BatchedItems
from leadsync.runtime.clock import iso_utc

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        WriteRequestTypeDef,
    )

LEAD_RETENTION = timedelta(days=7)
_LEAD_PK = "lead#"
_LEAD_SK = "id"
_MEMBER_PK = "member#"

Key = dict[str, "AttributeValueTypeDef"]
Item = Mapping[str, "AttributeValueTypeDef"]


def lead_key(email: str) -> str:
    """The partition key of an e-mail's directory entry; case and surrounding blanks do not
    matter, as Marketo matches e-mails the same way."""
    normalized = email.strip().lower()
    if not normalized:
        raise ValueError("an e-mail must not be empty")
    return _LEAD_PK + hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def member_key(list_id: int, lead_id: int) -> Key:
    return {"pk": {"S": f"{_MEMBER_PK}{int(list_id)}"}, "sk": {"S": str(int(lead_id))}}


class DynamoDBLeadDirectory(BatchedItems):
    """Lead ids by e-mail for the run's list operations, and leadsync's list memberships."""

    RETENTION = LEAD_RETENTION

    # Directory ---------------------------------------------------------------------------

    def announce(self, ids: Mapping[str, int]) -> int:
        """Remember e-mail → lead id (the lead exists now); return how many."""
        return self._put_leads({email: {"lead_id": {"N": str(int(i))}} for email, i in ids.items()})

    def announce_failed(self, emails: Iterable[str]) -> int:
        """Remember that these e-mails' creates were refused for good; return how many."""
        return self._put_leads({email: {"failed": {"BOOL": True}} for email in emails})

    def ids_of(self, emails: Iterable[str]) -> dict[str, int | None]:
        """E-mail (as given) → its lead id, or None when its create failed; e-mails nobody
        announced yet are absent."""
        by_key: dict[str, list[str]] = {}
        for email in emails:
            by_key.setdefault(lead_key(email), []).append(email)
        keys: list[Key] = [{"pk": {"S": pk}, "sk": {"S": _LEAD_SK}} for pk in by_key]
        known: dict[str, int | None] = {}
        for item in self._get(keys, "pk, lead_id, failed"):
            value: int | None
            if "lead_id" in item:
                value = int(item["lead_id"].get("N", "0")) or None
            elif item.get("failed", {}).get("BOOL"):
                value = None
            else:
                continue
            for email in by_key.get(item["pk"].get("S", ""), []):
                known[email] = value
        return known

    def _put_leads(self, values: Mapping[str, Item]) -> int:
        now = self._clock()
        expires = self._expires_at(now)
        items: dict[str, WriteRequestTypeDef] = {}
        for email, extra in values.items():
            pk = lead_key(email)
            items[pk] = {  # the last value of an e-mail given twice wins
                "PutRequest": {
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"S": _LEAD_SK},
                        **extra,
                        "announced_at": {"S": iso_utc(now)},
                        "expires_at": {"N": expires},
                    }
                }
            }
        self._write(list(items.values()))
        return len(items)

    # Membership --------------------------------------------------------------------------

    def add_members(self, list_id: int, ids: Iterable[int]) -> int:
        """Note leads leadsync put in a static list; return how many."""
        at = iso_utc(self._clock())
        unique = list(dict.fromkeys(int(i) for i in ids))
        self._write(
            [
                {"PutRequest": {"Item": {**member_key(list_id, i), "added_at": {"S": at}}}}
                for i in unique
            ]
        )
        return len(unique)

    def remove_members(self, list_id: int, ids: Iterable[int]) -> int:
        """Forget leads taken out of a static list (forgetting an unknown one is no error)."""
        unique = list(dict.fromkeys(int(i) for i in ids))
        self._write([{"DeleteRequest": {"Key": member_key(list_id, i)}} for i in unique])
        return len(unique)

    def memberships(self, ids: Iterable[int], list_ids: Iterable[int]) -> dict[int, frozenset[int]]:
        """Lead id → the lists among `list_ids` leadsync put it in; every lead is a key."""
        leads = list(dict.fromkeys(int(i) for i in ids))
        lists = list(dict.fromkeys(int(i) for i in list_ids))
        found: dict[int, set[int]] = {lead: set() for lead in leads}
        keys = [member_key(list_id, lead) for list_id in lists for lead in leads]
        for item in self._get(keys, "pk, sk"):
            list_id = int(item["pk"].get("S", "").removeprefix(_MEMBER_PK))
            lead = int(item["sk"].get("S", "0"))
            if lead in found:
                found[lead].add(list_id)
        return {lead: frozenset(lists_of) for lead, lists_of in found.items()}
