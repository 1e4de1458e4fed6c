"""AWS resources for tests, built from template.yaml's own definitions."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

_TABLE_CREATE_KEYS = {
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "ProvisionedThroughput",
}
_TABLE_AFTER_KEYS = {"TimeToLiveSpecification", "PointInTimeRecoverySpecification"}


@cache
def template() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return parsed


def properties(logical_id: str) -> dict[str, Any]:
    resource: dict[str, Any] = template()["Resources"][logical_id]
    props: dict[str, Any] = resource.get("Properties", {})
    return props


def resolve(value: Any) -> Any:
    """A property's value with a `Ref` to a parameter replaced by the parameter's default."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template()["Parameters"][value["Ref"]]["Default"]
    return value


def function_environment(logical_id: str) -> dict[str, Any]:
    """Globals' variables overlaid with the function's own (values still unresolved)."""
    variables: dict[str, Any] = dict(template()["Globals"]["Function"]["Environment"]["Variables"])
    own = properties(logical_id).get("Environment", {}).get("Variables", {})
    variables.update(own)
    return variables


def create_table_from_template(client: Any, name: str, logical_id: str = "StateTable") -> None:
    """Create `name` exactly as the template defines `logical_id`; unknown properties fail."""
    props = properties(logical_id)
    unknown = set(props) - _TABLE_CREATE_KEYS - _TABLE_AFTER_KEYS - {"SSESpecification"}
    if unknown:
        raise AssertionError(f"{logical_id} has properties the tests do not build: {unknown}")
    request = {key: value for key, value in props.items() if key in _TABLE_CREATE_KEYS}
    if "SSESpecification" in props:
        request["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
    client.create_table(TableName=name, **request)
    if "TimeToLiveSpecification" in props:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"]
        )
    if "PointInTimeRecoverySpecification" in props:
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"],
        )


def create_queue_from_template(
    client: Any, name: str, logical_id: str, dead_letter_arn: str | None = None
) -> str:
    """Create `name` with the template's attributes; the redrive target is given explicitly."""
    props = properties(logical_id)
    attributes: dict[str, str] = {}
    for key in (
        "VisibilityTimeout",
        "MessageRetentionPeriod",
        "DelaySeconds",
        "MaximumMessageSize",
        "ReceiveMessageWaitTimeSeconds",
    ):
        if key in props:
            attributes[key] = str(resolve(props[key]))
    if "RedrivePolicy" in props:
        if dead_letter_arn is None:
            raise AssertionError(f"{logical_id} needs its dead-letter queue's ARN")
        policy = props["RedrivePolicy"]
        attributes["RedrivePolicy"] = (
            f'{{"deadLetterTargetArn": "{dead_letter_arn}", '
            f'"maxReceiveCount": "{policy["maxReceiveCount"]}"}}'
        )
    url: str = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url
