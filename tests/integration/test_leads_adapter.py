"""The lead directory and list membership against moto in server mode, on a table built
from template.yaml."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from leadsync.adapters.leads import DynamoDBLeadDirectory, lead_key
from leadsync.errors import ConfigurationError, DependencyError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 8, 5, 30, tzinfo=UTC)


class Recording:
    """The real client, counting the calls and the items of each; it may hold back the
    second half of a request's items for its first `stingy` answers, as DynamoDB does."""

    def __init__(self, stingy: int = 0) -> None:
        self._client = boto3.client("dynamodb")
        self.calls: list[tuple[str, int]] = []
        self.stingy = stingy

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> Any:
        [(table, requests)] = RequestItems.items()
        self.calls.append(("write", len(requests)))
        if self.stingy and len(requests) > 1:
            self.stingy -= 1
            half = len(requests) // 2
            self._client.batch_write_item(RequestItems={table: requests[:half]})
            return {"UnprocessedItems": {table: requests[half:]}}
        return self._client.batch_write_item(RequestItems=RequestItems)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> Any:
        [(table, wanted)] = RequestItems.items()
        self.calls.append(("get", len(wanted["Keys"])))
        if self.stingy and len(wanted["Keys"]) > 1:
            self.stingy -= 1
            half = len(wanted["Keys"]) // 2
            first: Any = {**wanted, "Keys": wanted["Keys"][:half]}
            answer = self._client.batch_get_item(RequestItems={table: first})
            return {
                "Responses": answer["Responses"],
                "UnprocessedKeys": {table: {**wanted, "Keys": wanted["Keys"][half:]}},
            }
        return self._client.batch_get_item(RequestItems=RequestItems)


def _directory(table: str, client: Any = None, **kw: Any) -> DynamoDBLeadDirectory:
    return DynamoDBLeadDirectory(
        table, cast("DynamoDBClient | None", client), clock=lambda: T0, sleep=lambda _: None, **kw
    )


def _items(table: str) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", boto3.client("dynamodb").scan(TableName=table)["Items"])


def test_announced_ids_and_failures_are_found_by_email(state_table: str) -> None:
    directory = _directory(state_table)
    assert directory.announce({"a@example.com": 11, "b@example.com": 12}) == 2
    assert directory.announce_failed(["c@example.com"]) == 1
    found = directory.ids_of([" A@Example.com", "b@example.com", "c@example.com", "d@example.com"])
    # the spelling given comes back; unknown e-mails are absent; a failure is None
    assert found == {" A@Example.com": 11, "b@example.com": 12, "c@example.com": None}


def test_the_directory_keeps_no_address_and_expires(state_table: str) -> None:
    _directory(state_table).announce({"a@example.com": 11})
    [item] = _items(state_table)
    digest = hashlib.sha256(b"a@example.com").hexdigest()
    assert item["pk"] == {"S": f"lead#{digest}"} == {"S": lead_key("A@example.com ")}
    assert item["sk"] == {"S": "id"}
    assert item["lead_id"] == {"N": "11"}
    assert int(item["expires_at"]["N"]) == int((T0 + timedelta(days=7)).timestamp())
    assert "example.com" not in str(item)


def test_a_later_announcement_replaces_a_failure(state_table: str) -> None:
    directory = _directory(state_table)
    directory.announce_failed(["a@example.com"])
    directory.announce({"a@example.com": 99})  # a replay created it after all
    assert directory.ids_of(["a@example.com"]) == {"a@example.com": 99}


def test_many_leads_go_in_batches_and_unprocessed_items_are_sent_again(state_table: str) -> None:
    client = Recording(stingy=2)
    directory = _directory(state_table, client)
    ids = {f"v{n}@example.com": 1000 + n for n in range(130)}
    assert directory.announce(ids) == 130
    writes = [n for kind, n in client.calls if kind == "write"]
    assert max(writes) <= 25
    assert len(writes) == 6 + 2  # 130 in 25s, two answers left half behind
    client.calls.clear()
    client.stingy = 1
    assert directory.ids_of(list(ids)) == ids
    gets = [n for kind, n in client.calls if kind == "get"]
    assert max(gets) <= 100
    assert len(gets) == 2 + 1


def test_memberships_are_added_read_and_removed(state_table: str) -> None:
    client = Recording()
    directory = _directory(state_table, client)
    assert directory.add_members(1001, [1, 2, 3, 2]) == 3
    assert directory.add_members(1002, [2]) == 1
    assert directory.memberships([1, 2, 3, 4], [1001, 1002, 1003]) == {
        1: frozenset({1001}),
        2: frozenset({1001, 1002}),
        3: frozenset({1001}),
        4: frozenset(),
    }
    assert directory.remove_members(1001, [2, 3, 77]) == 3  # 77 was never there
    assert directory.memberships([1, 2, 3], [1001, 1002]) == {
        1: frozenset({1001}),
        2: frozenset({1002}),
        3: frozenset(),
    }
    keys = sorted((i["pk"]["S"], i["sk"]["S"]) for i in _items(state_table))
    assert keys == [("member#1001", "1"), ("member#1002", "2")]


def test_memberships_of_many_leads_read_100_keys_a_request(state_table: str) -> None:
    client = Recording()
    directory = _directory(state_table, client)
    directory.add_members(1001, range(1, 301))
    client.calls.clear()
    found = directory.memberships(range(1, 301), [1001, 1002])
    assert all(lists == frozenset({1001}) for lists in found.values())
    assert [n for _, n in client.calls] == [100] * 6


def test_nothing_asked_costs_no_request(state_table: str) -> None:
    client = Recording()
    directory = _directory(state_table, client)
    assert directory.ids_of([]) == {}
    assert directory.memberships([], [1001]) == {}
    assert directory.add_members(1001, []) == 0
    assert client.calls == []


def test_items_left_unprocessed_every_time_are_a_retryable_failure(state_table: str) -> None:
    client = Recording(stingy=100)
    directory = _directory(state_table, client, max_attempts=3)
    with pytest.raises(DependencyError) as caught:
        directory.announce({f"v{n}@example.com": n + 1 for n in range(8)})
    assert caught.value.retryable
    assert len(client.calls) == 3


def test_a_missing_table_is_a_configuration_error(moto_server: str) -> None:
    with pytest.raises(ConfigurationError):
        _directory("no-such-table").ids_of(["a@example.com"])
