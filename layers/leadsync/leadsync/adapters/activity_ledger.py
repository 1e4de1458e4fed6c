"""Which chats' activities are in Marketo, and which are on their way: a chat's activity is
written once, never twice.

Marketo cannot delete an activity and has no idempotency key, so a chat sent twice stays
twice. Before an activity goes, the upload takes its chat in this ledger (a conditional
write: `sending`, with the holder and the time); once Marketo answers `added`, the chat is
`written` with Marketo's GUID. A chat found `sending` by another holder whose lease has not
ended waits; one whose lease ended, or the holder's own (its delivery came again), is *in
doubt*: Marketo may hold it, the answer was lost. The upload reads the lead's activities
back before sending such a chat again.

Item: `pk = activity#<chat id>`, `sk = chat`, `state`, `holder`, `at` (ISO: when the send
began or the write was seen), `lease_until` (epoch seconds), `guid`, `expires_at` (TTL: a
year, beyond any window a chat can be read in again).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from leadsync.adapters.aws import AWS_ERRORS, error_code
from leadsync.adapters.batches import BatchedItems
from leadsync.adapters.state import translate_error
from leadsync.runtime.clock import iso_utc, parse_iso

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, WriteRequestTypeDef

ACTIVITY_RETENTION = timedelta(days=365)
_PK = "activity#"
_SK = "chat"
SENDING, WRITTEN = "sending", "written"


@dataclass(frozen=True)
class ActivityClaims:
    """What became of a claim on chats, each list in input order.

    `claimed`: ours to send now. `written`: Marketo has it. `held`: another holder sends it
    now. `in_doubt`: chat → when its send began; Marketo may have it."""

    claimed: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    in_doubt: dict[str, datetime] = field(default_factory=dict)


class DynamoDBActivityLedger(BatchedItems):
    RETENTION = ACTIVITY_RETENTION

    def claim(self, chat_ids: Sequence[str], holder: str, lease: timedelta) -> ActivityClaims:
        """Take every chat nobody has taken; say of the others where they stand."""
        if not holder:
            raise ValueError("a claim needs a holder")
        now = self._clock()
        wanted = list(dict.fromkeys(chat_ids))
        refused = [chat for chat in wanted if not self._put_new(chat, holder, now, lease)]
        states = self._states(refused)
        claimed, written, held = [], [], []
        in_doubt: dict[str, datetime] = {}
        for chat in wanted:
            if chat not in refused:
                claimed.append(chat)
                continue
            item = states.get(chat)
            if item is None:  # gone meanwhile (its expiry): taken again next time
                held.append(chat)
            elif item.state == WRITTEN:
                written.append(chat)
            elif item.holder == holder or item.lease_until <= now.timestamp():
                in_doubt[chat] = item.at
            else:
                held.append(chat)
        return ActivityClaims(tuple(claimed), tuple(written), tuple(held), in_doubt)

    def take_over(self, chat_ids: Iterable[str], holder: str, lease: timedelta) -> None:
        """Chats in doubt that Marketo turned out not to hold: ours to send again now."""
        now = self._clock()
        self._write([self._sending(chat, holder, now, lease) for chat in dict.fromkeys(chat_ids)])

    def mark_written(self, guids: Mapping[str, str]) -> None:
        """Chat → Marketo's GUID of its activity (empty when only read back as there)."""
        now = self._clock()
        expires = self._expires_at(now)
        self._write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            **_key(chat),
                            "state": {"S": WRITTEN},
                            "at": {"S": iso_utc(now)},
                            "guid": {"S": guid[:100]},
                            "expires_at": {"N": expires},
                        }
                    }
                }
                for chat, guid in guids.items()
            ]
        )

    def release(self, chat_ids: Iterable[str]) -> None:
        """Chats whose activity Marketo refused: free to be sent again (a replay)."""
        self._write([{"DeleteRequest": {"Key": _key(chat)}} for chat in dict.fromkeys(chat_ids)])

    def written(self, chat_ids: Iterable[str]) -> set[str]:
        """The chats whose activity Marketo holds."""
        states = self._states(list(dict.fromkeys(chat_ids)))
        return {chat for chat, item in states.items() if item.state == WRITTEN}

    # -- items ----------------------------------------------------------------------------
    def _put_new(self, chat: str, holder: str, now: datetime, lease: timedelta) -> bool:
        item = self._sending(chat, holder, now, lease)["PutRequest"]["Item"]
        try:
            self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except AWS_ERRORS as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise translate_error(exc, "PutItem") from exc
        return True

    def _sending(
        self, chat: str, holder: str, now: datetime, lease: timedelta
    ) -> WriteRequestTypeDef:
        return {
            "PutRequest": {
                "Item": {
                    **_key(chat),
                    "state": {"S": SENDING},
                    "holder": {"S": holder},
                    "at": {"S": iso_utc(now)},
                    "lease_until": {"N": str(math.ceil((now + lease).timestamp()))},
                    "expires_at": {"N": self._expires_at(now)},
                }
            }
        }

    def _states(self, chat_ids: Sequence[str]) -> dict[str, _Stored]:
        if not chat_ids:
            return {}
        names = {"#state": "state", "#at": "at", "#holder": "holder"}
        found = self._get(
            [_key(chat) for chat in chat_ids], "pk, #state, #at, #holder, lease_until", names
        )
        out: dict[str, _Stored] = {}
        for item in found:
            chat = item["pk"].get("S", "")[len(_PK) :]
            at = item.get("at", {}).get("S")
            out[chat] = _Stored(
                state=item.get("state", {}).get("S", ""),
                holder=item.get("holder", {}).get("S", ""),
                at=parse_iso(at) if at else self._clock(),
                lease_until=float(item.get("lease_until", {}).get("N", "0")),
            )
        return out


@dataclass(frozen=True)
class _Stored:
    state: str
    holder: str
    at: datetime
    lease_until: float


def _key(chat: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": _PK + chat}, "sk": {"S": _SK}}
