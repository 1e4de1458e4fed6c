"""template.yaml, transformed by the SAM translator, created in moto's CloudFormation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.processes import ServerProcess
from local.stack import DeployedStack, deploy, load_template

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[boto3.session.Session, str]]:
    logs = tmp_path_factory.mktemp("logs")
    server = ServerProcess("moto", ["-m", "local.moto_server"], logs / "moto.log", ROOT)
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    try:
        yield session, server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def stack(aws: tuple[boto3.session.Session, str]) -> DeployedStack:
    session, url = aws
    return deploy(
        "leadsync-test",
        {
            "AdminEmail": "admin@example.com",
            "SenderEmail": "leadsync@example.com",
            "UploadConcurrency": "4",
        },
        session,
        url,
    )


def _client(aws: tuple[boto3.session.Session, str], service: str) -> Any:
    session, url = aws
    return session.client(service, endpoint_url=url)  # type: ignore[call-overload]


def test_queues_and_redrive_policy(aws: Any, stack: DeployedStack) -> None:
    sqs = _client(aws, "sqs")
    attrs = sqs.get_queue_attributes(
        QueueUrl=stack.outputs["SyncQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    dlq = sqs.get_queue_attributes(
        QueueUrl=stack.outputs["DeadLetterQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 5
    assert attrs["SqsManagedSseEnabled"] == "true"
    # With the default parameters the visibility timeout is six times the upload function's
    # timeout, as AWS advises for an SQS event source.
    upload = _client(aws, "lambda").get_function_configuration(
        FunctionName=stack.outputs["UploadFunctionName"]
    )
    assert int(attrs["VisibilityTimeout"]) >= 6 * int(upload["Timeout"])


def test_state_table_as_declared(aws: Any, stack: DeployedStack) -> None:
    table = _client(aws, "dynamodb").describe_table(TableName=stack.outputs["StateTableName"])
    declared = load_template()["Resources"]["StateTable"]["Properties"]
    assert table["Table"]["KeySchema"] == declared["KeySchema"]
    assert table["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = _client(aws, "dynamodb").describe_time_to_live(TableName=stack.outputs["StateTableName"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_functions_with_runtime_handlers_and_layer(aws: Any, stack: DeployedStack) -> None:
    lam = _client(aws, "lambda")
    expected = {
        "FetchFunctionName": "fetch_handler.handler",
        "UploadFunctionName": "upload_handler.handler",
        "DigestFunctionName": "digest_handler.handler",
        "BulkFunctionName": "bulk_handler.handler",
        "PriorityUploadFunctionName": "upload_handler.handler",
        "WebhookFunctionName": "webhook_handler.handler",
        "HealthFunctionName": "health_handler.handler",
    }
    for output, handler in expected.items():
        config = lam.get_function(FunctionName=stack.outputs[output])["Configuration"]
        assert config["Runtime"] == "python3.13"
        assert config["Handler"] == handler
        assert config["Environment"]["Variables"]["STATE_TABLE"] == stack.outputs["StateTableName"]
    cfn_functions = [
        r for r in stack.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    assert len(cfn_functions) == len(expected)
    assert all(f["Properties"]["Architectures"] == ["arm64"] for f in cfn_functions)
    assert all(
        f["Properties"]["Layers"]
        == [
            {
                "Ref": next(
                    k
                    for k, v in stack.template["Resources"].items()
                    if v["Type"] == "AWS::Lambda::LayerVersion"
                )
            }
        ]
        for f in cfn_functions
    )


def test_upload_concurrency_cap_and_event_source_mapping(aws: Any, stack: DeployedStack) -> None:
    lam = _client(aws, "lambda")
    upload = lam.get_function(FunctionName=stack.outputs["UploadFunctionName"])
    assert upload["Concurrency"]["ReservedConcurrentExecutions"] == 4
    mappings = lam.list_event_source_mappings(FunctionName=stack.outputs["UploadFunctionName"])[
        "EventSourceMappings"
    ]
    assert len(mappings) == 1
    mapping = mappings[0]
    queue_arn = _client(aws, "sqs").get_queue_attributes(
        QueueUrl=stack.outputs["SyncQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert mapping["EventSourceArn"] == queue_arn
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == 4
    assert (
        mapping["ScalingConfig"]["MaximumConcurrency"]
        <= (upload["Concurrency"]["ReservedConcurrentExecutions"])
    )


def test_bulk_queue_bucket_and_event_source_mapping(aws: Any, stack: DeployedStack) -> None:
    lam = _client(aws, "lambda")
    sqs = _client(aws, "sqs")
    name = stack.outputs["BulkFunctionName"]
    [mapping] = lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=stack.outputs["BulkQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert mapping["EventSourceArn"] == attrs["QueueArn"]
    assert mapping["BatchSize"] == 1
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    dlq = sqs.get_queue_attributes(
        QueueUrl=stack.outputs["BulkDeadLetterQueueUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["deadLetterTargetArn"] == dlq["QueueArn"]
    bulk = lam.get_function(FunctionName=name)["Configuration"]
    assert int(attrs["VisibilityTimeout"]) >= 6 * int(bulk["Timeout"])
    s3 = _client(aws, "s3")
    bucket = stack.outputs["BulkBucketName"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # moto's CloudFormation applies neither the public access block nor the lifecycle rules:
    # the template is checked for those
    declared = stack.template["Resources"]["BulkBucket"]["Properties"]
    assert all(declared["PublicAccessBlockConfiguration"].values())
    [expiry] = declared["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == {"Ref": "BulkStagedRetentionDays"}
    fetch = lam.get_function(FunctionName=stack.outputs["FetchFunctionName"])["Configuration"]
    assert fetch["Environment"]["Variables"]["BULK_BUCKET"] == bucket


def test_schedules_target_fetch_and_digest(aws: Any, stack: DeployedStack) -> None:
    events = _client(aws, "events")
    by_target: dict[str, str] = {}
    for rule in events.list_rules()["Rules"]:
        for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
            by_target[target["Arn"].rsplit(":", 1)[-1]] = rule["ScheduleExpression"]
    assert by_target[stack.outputs["FetchFunctionName"]] == "rate(1 hour)"
    assert by_target[stack.outputs["DigestFunctionName"]] == "cron(0 13 * * ? *)"


def test_secret_is_declared_for_the_credentials(aws: Any, stack: DeployedStack) -> None:
    names = [s["Name"] for s in _client(aws, "secretsmanager").list_secrets()["SecretList"]]
    assert "leadsync-test/credentials" in names
    secret = stack.template["Resources"]["CredentialsSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert "SecretString" not in secret["Properties"]
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert env["CREDENTIALS_SECRET"] == {"Fn::Sub": "${AWS::StackName}/credentials"}
    assert secret["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}/credentials"}


def test_alarm_topic_dashboard_and_metric_dimensions(aws: Any, stack: DeployedStack) -> None:
    topic = _client(aws, "sns").get_topic_attributes(TopicArn=stack.outputs["AlertTopicArn"])
    assert topic["Attributes"]["KmsMasterKeyId"] == stack.resources["AlertKey"]
    assert stack.outputs["DashboardName"] == "leadsync-test"
    dashboard = _client(aws, "cloudwatch").get_dashboard(DashboardName="leadsync-test")
    widgets = json.loads(dashboard["DashboardBody"])["widgets"]
    rows = [row for widget in widgets for row in widget["properties"]["metrics"]]
    queues = {row[3] for row in rows if row[0] == "AWS/SQS"}
    for output in ("SyncQueueUrl", "DeadLetterQueueUrl"):
        assert stack.outputs[output].rsplit("/", 1)[-1] in queues
    assert {row[5] for row in rows if row[0] == "leadsync"} == {"leadsync-test"}
    assert {"ActivitiesWritten", "ActivitiesRefused"} <= {r[1] for r in rows if r[0] == "leadsync"}
    lam = _client(aws, "lambda")
    fetch = lam.get_function(FunctionName=stack.outputs["FetchFunctionName"])["Configuration"]
    variables = fetch["Environment"]["Variables"]
    assert variables["STACK_NAME"] == "leadsync-test"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "leadsync"
    assert variables["CHAT_ACTIVITIES"] == "false"  # chat activities are opt-in


def test_invalid_template_is_refused_clearly(aws: Any, tmp_path: Path) -> None:
    session, url = aws
    broken = tmp_path / "template.yaml"
    broken.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.13\n"
        "      Handler: x.handler\n      CodeUri: s3://b/k.zip\n      Events:\n"
        "        E:\n          Type: SQS\n          Properties: {}\n"
    )
    with pytest.raises(ValueError, match="not a valid SAM template"):
        deploy("broken", {}, session, url, template_path=broken)


def test_the_priority_lane_has_its_own_queue_copies_and_limiter_lane(
    aws: Any, stack: DeployedStack
) -> None:
    lam = _client(aws, "lambda")
    priority = lam.get_function(FunctionName=stack.outputs["PriorityUploadFunctionName"])
    variables = priority["Configuration"]["Environment"]["Variables"]
    assert variables["LIMITER_LANE"] == "priority"
    assert variables["SYNC_QUEUE_URL"] == stack.outputs["PriorityQueueUrl"]
    assert priority["Concurrency"]["ReservedConcurrentExecutions"] == 2
    [mapping] = lam.list_event_source_mappings(
        FunctionName=stack.outputs["PriorityUploadFunctionName"]
    )["EventSourceMappings"]
    assert mapping["EventSourceArn"].endswith(stack.outputs["PriorityQueueUrl"].rsplit("/", 1)[-1])
    upload = lam.get_function(FunctionName=stack.outputs["UploadFunctionName"])
    shared = upload["Configuration"]["Environment"]["Variables"]
    assert "LIMITER_LANE" not in shared  # the normal lane
    assert (str(shared["PRIORITY_CALLS_PER_WINDOW"]), str(shared["PRIORITY_DAILY_CAP"])) == (
        "10",
        "2000",
    )
    assert stack.outputs["WebhookUrl"].endswith("/webhooks/livechat")
    assert stack.outputs["HealthUrl"].endswith("/health")
