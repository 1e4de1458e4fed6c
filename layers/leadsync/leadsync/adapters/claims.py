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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.clock import Clock, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_TRANSACTION_ITEMS = 100
# Each retry drops at least one refused item, so a chunk rarely needs more than two; past
# this bound the chunk is finished item by item.
MAX_TRANSACTIONS_PER_CHUNK = 3
CLAIM_PK = "claim#create#"
CLAIM_SK = "claim"
_NAMES = {"#holder": "holder", "#expires": "expires_at"}
_USABLE_REASONS = frozenset({"None", "ConditionalCheckFailed"})

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
    """Claims on e-mails about to be created in Marketo, in as few DynamoDB requests as
    possible: one transaction per 100 e-mails when nobody else holds any of them.

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
        """Apply `operation` to every key; return the keys its condition refused."""
        refused: set[str] = set()
        for start in range(0, len(pks), MAX_TRANSACTION_ITEMS):
            refused |= self._apply_chunk(pks[start : start + MAX_TRANSACTION_ITEMS], operation)
        return refused

    def _apply_chunk(self, pks: list[str], operation: Operation) -> set[str]:
        """A transaction is all or nothing: drop the refused items and try the rest again."""
        refused: set[str] = set()
        pending = pks
        for _ in range(MAX_TRANSACTIONS_PER_CHUNK):
            if not pending:
                return refused
            failed = self._transact([operation(pk) for pk in pending])
            if failed is None:
                break
            if not failed:
                return refused
            refused.update(pending[index] for index in failed)
            pending = [pk for index, pk in enumerate(pending) if index not in failed]
        refused.update(pk for pk in pending if not self._write_one(operation(pk)))
        return refused

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> set[int] | None:
        """Indexes of the items whose condition failed (empty: all written), or None
        when the cancellation does not say which ones."""
        self.requests += 1
        try:
            self._client.transact_write_items(TransactItems=items)
        except AWS_ERRORS as exc:
            if aws.error_code(exc) != "TransactionCanceledException":
                raise translate_error(exc, "TransactWriteItems") from exc
            return _refused_indexes(exc, len(items))
        return set()

    def _write_one(self, item: TransactWriteItemTypeDef) -> bool:
        """Write one item alone; False when its condition failed."""
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


def _refused_indexes(exc: Exception, count: int) -> set[int] | None:
    response = getattr(exc, "response", None)
    reasons = response.get("CancellationReasons") if isinstance(response, dict) else None
    if not isinstance(reasons, list) or len(reasons) != count:
        return None
    codes = [str(reason.get("Code", "")) if isinstance(reason, dict) else "" for reason in reasons]
    if any(code not in _USABLE_REASONS for code in codes):
        return None
    failed = {index for index, code in enumerate(codes) if code == "ConditionalCheckFailed"}
    return failed or None
