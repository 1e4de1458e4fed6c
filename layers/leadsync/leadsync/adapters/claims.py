"""Short leases on e-mails, so two upload workers never send a "createOnly" for one e-mail at once.

Marketo can create two leads when two creates of the same e-mail overlap. A worker claims
the e-mails of its creates in the state table first and creates only those it got; the
rest wait for a later attempt. A claim is an item keyed by the e-mail's SHA-256 (never the
address itself: it is personal data) holding its `holder` and `expires_at` (also the TTL).
A claim can be taken when absent, expired, or already ours: the condition checks
`expires_at` itself because DynamoDB's TTL deletes expired items only eventually.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.runtime.clock import Clock, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# conditional writes in flight at once (boto3 clients are thread-safe)
PARALLEL_WRITES = 8
CLAIM_PK = "claim#create#"
CLAIM_SK = "claim"
_NAMES = {"#holder": "holder", "#expires": "expires_at"}

Operation = Callable[[str], "TransactWriteItemTypeDef"]


@dataclass(frozen=True)
class ClaimResult:
    """`claimed`: ours now, safe to create. `held`: someone else's, retry them later.

    Both keep the input order; an e-mail given twice appears once.
    """

    claimed: tuple[str, ...]
    held: tuple[str, ...]


def claim_key(email: str) -> str:
    """The partition key of an e-mail's claim; case and blanks around it do not matter,
    as Marketo matches e-mails the same way."""
    normalized = email.strip().lower()
    if not normalized:
        raise ValueError("an e-mail to claim must not be empty")
    return CLAIM_PK + hashlib.sha256(normalized.encode("utf-8")).hexdigest()


class CreateClaims:
    """Claims on e-mails about to be created in Marketo: one conditional write per e-mail,
    several at once.

    `requests` counts the DynamoDB requests sent (SDK retries excluded), for cost reports.
    """

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._clock = clock
        self._lock = threading.Lock()
        self.requests = 0

    def claim(self, emails: Sequence[str], holder: str, lease: timedelta) -> ClaimResult:
        """Claim every e-mail that is free, expired or already `holder`'s, for `lease`.

        A redelivered message, claiming with the same holder, gets its own claims back.
        On an error the claims already taken stay until their lease ends.
        """
        if not holder:
            raise ValueError("a claim needs a holder")
        if lease <= timedelta(0):
            raise ValueError("a claim's lease must be positive")
        now = self._clock()
        values = {
            ":holder": {"S": holder},
            ":now": {"N": str(math.floor(now.timestamp()))},
        }
        expires = str(math.ceil((now + lease).timestamp()))

        def put(pk: str) -> TransactWriteItemTypeDef:
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"S": CLAIM_SK},
                        "holder": {"S": holder},
                        "expires_at": {"N": expires},
                    },
                    "ConditionExpression": (
                        "attribute_not_exists(pk) OR #expires < :now OR #holder = :holder"
                    ),
                    "ExpressionAttributeNames": _NAMES,
                    "ExpressionAttributeValues": values,
                }
            }

        keyed = _unique(emails)
        refused = self._apply(list(keyed), put)
        return ClaimResult(
            claimed=tuple(email for pk, email in keyed.items() if pk not in refused),
            held=tuple(email for pk, email in keyed.items() if pk in refused),
        )

    def release(self, emails: Sequence[str], holder: str) -> None:
        """Give back `holder`'s claims; claims someone else holds now are left alone."""
        values = {":holder": {"S": holder}}

        def delete(pk: str) -> TransactWriteItemTypeDef:
            return {
                "Delete": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": pk}, "sk": {"S": CLAIM_SK}},
                    "ConditionExpression": "attribute_not_exists(pk) OR #holder = :holder",
                    "ExpressionAttributeNames": {"#holder": "holder"},
                    "ExpressionAttributeValues": values,
                }
            }

        self._apply(list(_unique(emails)), delete)

    def _apply(self, pks: list[str], operation: Operation) -> set[str]:
        """Apply `operation` to every key, one conditional write each; return the keys its
        condition refused. Single writes, not transactions: a claim is independent of the
        others, and a transactional write costs twice the capacity."""
        if not pks:
            return set()
        if len(pks) == 1:
            return set() if self._write_one(operation(pks[0])) else {pks[0]}
        with ThreadPoolExecutor(max_workers=min(PARALLEL_WRITES, len(pks))) as pool:
            written = list(pool.map(lambda pk: self._write_one(operation(pk)), pks))
        return {pk for pk, ok in zip(pks, written, strict=True) if not ok}

    def _write_one(self, item: TransactWriteItemTypeDef) -> bool:
        """Write one item; False when its condition failed."""
        with self._lock:
            self.requests += 1
        action = "PutItem" if "Put" in item else "DeleteItem"
        try:
            if "Put" in item:
                self._client.put_item(**item["Put"])
            else:
                self._client.delete_item(**item["Delete"])
        except AWS_ERRORS as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise translate_error(exc, action) from exc
        return True


def _unique(emails: Sequence[str]) -> dict[str, str]:
    """Claim key to the first spelling of each e-mail, in input order."""
    keyed: dict[str, str] = {}
    for email in emails:
        keyed.setdefault(claim_key(email), email)
    return keyed
