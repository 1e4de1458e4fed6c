"""The last verdict on the lead schema, in the state table: shared by every function and by
`leadsync check`, so the instance is described at most once an hour whatever runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.state import translate_error
from leadsync.readiness.verdict import SchemaVerdict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_KEY = {"pk": {"S": "readiness"}, "sk": {"S": "schema#marketo"}}


class SchemaVerdicts:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()

    def get(self) -> SchemaVerdict | None:
        try:
            item = self._client.get_item(TableName=self._table, Key=_KEY, ConsistentRead=True)
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        raw = item.get("Item", {}).get("verdict", {}).get("S")
        if raw is None:
            return None
        try:
            return SchemaVerdict.model_validate_json(raw)
        except ValidationError:
            return None  # an older shape: describe again

    def put(self, verdict: SchemaVerdict) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={**_KEY, "verdict": {"S": verdict.model_dump_json()}},
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "PutItem") from exc
