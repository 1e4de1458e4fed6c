"""The e-mail last synced per LiveChat customer, in the state table.

Item: `pk = identity#<sha256 of the customer id>`, `sk = email`, `email` (the address, in
clear: it is what the next run looks up when the customer's address changes), `synced_at`
and `expires_at` (TTL: a customer not seen for IDENTITY_RETENTION is forgotten). The
customer id itself is not stored.
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

IDENTITY_RETENTION = timedelta(days=400)
_PK_PREFIX = "identity#"
_SK = "email"

Key = dict[str, "AttributeValueTypeDef"]


def identity_key(customer_id: str) -> str:
    return _PK_PREFIX + hashlib.sha256(customer_id.encode()).hexdigest()


class IdentityStore(BatchedItems):
    RETENTION = IDENTITY_RETENTION

    def get_many(self, customer_ids: Iterable[str]) -> dict[str, str]:
        """Customer id → the address last synced, for those remembered."""
        by_key = {identity_key(customer_id): customer_id for customer_id in customer_ids}
        remembered: dict[str, str] = {}
        found = self._get([_key(pk) for pk in by_key], "pk, email")
        for item in found:
            pk, email = item["pk"].get("S"), item.get("email", {}).get("S")
            if pk in by_key and email:
                remembered[by_key[pk]] = email
        return remembered

    def put_many(self, identities: Mapping[str, str]) -> int:
        """Remember customer id → address (after its lead was written); return how many."""
        now = self._clock()
        expires = self._expires_at(now)
        items = {identity_key(customer_id): email for customer_id, email in identities.items()}
        requests: list[WriteRequestTypeDef] = [
            {
                "PutRequest": {
                    "Item": {
                        **_key(pk),
                        "email": {"S": email},
                        "synced_at": {"S": iso_utc(now)},
                        "expires_at": {"N": expires},
                    }
                }
            }
            for pk, email in items.items()
        ]
        self._write(requests)
        return len(requests)

    def delete_many(self, customer_ids: Iterable[str]) -> int:
        """Forget customers (an erasure); forgetting an unknown one is no error."""
        keys = dict.fromkeys(identity_key(customer_id) for customer_id in customer_ids)
        requests: list[WriteRequestTypeDef] = [{"DeleteRequest": {"Key": _key(pk)}} for pk in keys]
        self._write(requests)
        return len(requests)


def _key(pk: str) -> Key:
    return {"pk": {"S": pk}, "sk": {"S": _SK}}
