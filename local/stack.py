"""Deploys template.yaml into moto's CloudFormation, the way `sam deploy` would.

The functions and the layer are zipped and put in an artifacts bucket (`sam package`), the
SAM transform runs with aws-sam-translator, and the resulting CloudFormation template is
created as a stack. What CloudFormation then holds is what the local world drives.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ARTIFACTS_BUCKET = "leadsync-artifacts"
_SKIP_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True)
class DeployedStack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, str]  # logical id -> physical id
    template: dict[str, Any]  # the transformed CloudFormation template


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    return parsed


def zip_directory(directory: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(directory.rglob("*")):
            if file.is_dir() or _SKIP_PARTS.intersection(file.parts) or file.suffix == ".pyc":
                continue
            archive.write(file, prefix + file.relative_to(directory).as_posix())
    return buffer.getvalue()


def package(template: dict[str, Any], s3: Any, root: Path = ROOT) -> dict[str, Any]:
    """Zip every CodeUri / ContentUri to the artifacts bucket and point the template at it."""
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    packaged: dict[str, Any] = json.loads(json.dumps(template))
    for logical_id, resource in packaged["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(
            props.get("CodeUri"), str
        ):
            key = f"{logical_id}.zip"
            s3.put_object(
                Bucket=ARTIFACTS_BUCKET, Key=key, Body=zip_directory(root / props["CodeUri"])
            )
            props["CodeUri"] = f"s3://{ARTIFACTS_BUCKET}/{key}"
        elif resource["Type"] == "AWS::Serverless::LayerVersion" and isinstance(
            props.get("ContentUri"), str
        ):
            key = f"{logical_id}.zip"
            body = zip_directory(root / props["ContentUri"], prefix="python/")
            s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=key, Body=body)
            props["ContentUri"] = f"s3://{ARTIFACTS_BUCKET}/{key}"
    return packaged


def to_cloudformation(
    template: dict[str, Any],
    parameters: Mapping[str, str],
    session: boto3.session.Session,
    iam: Any,
) -> dict[str, Any]:
    loader = ManagedPolicyLoader(iam)
    translator = Translator(None, Parser(), boto_session=session)
    try:
        transformed: dict[str, Any] = translator.translate(
            json.loads(json.dumps(template)),
            parameter_values=dict(parameters),
            get_managed_policy_map=loader.load,
        )
    except InvalidDocumentException as exc:
        messages = "; ".join(str(cause) for cause in exc.causes)
        raise ValueError(f"template.yaml is not a valid SAM template: {messages}") from exc
    finally:
        translator.metrics.publish()  # they go nowhere; publishing only clears them
    return transformed


def deploy(
    stack_name: str,
    parameters: Mapping[str, str],
    session: boto3.session.Session,
    endpoint_url: str,
    template_path: Path = TEMPLATE,
) -> DeployedStack:
    """Package, transform and create the stack in the CloudFormation at `endpoint_url`."""
    s3 = session.client("s3", endpoint_url=endpoint_url)
    iam = session.client("iam", endpoint_url=endpoint_url)
    cfn = session.client("cloudformation", endpoint_url=endpoint_url)
    packaged = package(load_template(template_path), s3, root=template_path.parent)
    transformed = to_cloudformation(packaged, parameters, session, iam)
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(transformed),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"stack {stack_name} ended in {stack['StackStatus']}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    }
    _complete_what_moto_skips(transformed, stack_name, resources, session, endpoint_url)
    return DeployedStack(stack_name, outputs, resources, transformed)


def _complete_what_moto_skips(
    template: dict[str, Any],
    stack_name: str,
    resources: dict[str, str],
    session: boto3.session.Session,
    endpoint_url: str,
) -> None:
    """Apply, from the template's own definitions, the parts moto's CloudFormation ignores."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::DynamoDB::Table" and "TimeToLiveSpecification" in props:
            session.client("dynamodb", endpoint_url=endpoint_url).update_time_to_live(
                TableName=resources[logical_id],
                TimeToLiveSpecification=props["TimeToLiveSpecification"],
            )
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            name = _substitute(props["Name"], stack_name)
            session.client("secretsmanager", endpoint_url=endpoint_url).create_secret(
                Name=name, Description=str(props.get("Description", ""))
            )


def _substitute(value: Any, stack_name: str) -> str:
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${AWS::StackName}", stack_name)
    return str(value)
