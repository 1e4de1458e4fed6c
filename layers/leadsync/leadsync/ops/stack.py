"""A deployed stack as an operator's command reaches it from a workstation: boto3's session
and clients, the stack's outputs and parameters, and the fetch function's side (its
environment, credentials and clients) for the commands that run the fetch's logic."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boto3.session import Session

    from leadsync.runtime.config import FetchEnv
    from leadsync.runtime.secrets import Credentials
    from leadsync.runtime.wiring.clients import FetchClients


class UsageError(Exception):
    """The command cannot run as asked: a missing stack, a bad date, no credentials..."""


def session(args: argparse.Namespace) -> Session:
    """boto3's session for --profile and --region, refused without a region or credentials."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        found = boto3.session.Session(profile_name=args.profile, region_name=args.region)
    except ProfileNotFound as exc:
        raise UsageError(str(exc)) from None
    if not found.region_name:
        raise UsageError("no AWS region: set AWS_REGION or pass --region")
    if found.get_credentials() is None:
        raise UsageError("no AWS credentials: set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID")
    return found


def client(session: Session, service: str) -> Any:
    """A client with the adapters' timeouts and retries."""
    from botocore.config import Config

    from leadsync.adapters import aws

    config = Config(
        connect_timeout=aws.CONNECT_TIMEOUT_SECONDS,
        read_timeout=aws.READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": aws.MAX_ATTEMPTS},
    )
    return session.client(service, config=config)  # type: ignore[call-overload]


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    """A described stack's outputs, by key."""
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}


def parameters_of(stack: Mapping[str, Any]) -> dict[str, str]:
    """A described stack's parameters, by key."""
    return {
        p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in stack.get("Parameters", [])
    }


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    """The outputs of the stack named `stack`; a usage error when there is none."""
    from botocore.exceptions import ClientError

    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError:
        raise UsageError(f"no stack named {stack!r}") from None
    if not found:
        raise UsageError(f"no stack named {stack!r}")
    return outputs_of(found[0])


@dataclass
class FetchSide:
    """What a command that runs the fetch's logic from a workstation needs: the stack's fetch
    function's environment, its credentials, and the fetch's clients for LiveChat and Marketo
    (through the limiter and the breaker every copy shares; no invocation's time limit)."""

    env: FetchEnv
    variables: dict[str, str]
    credentials: Credentials
    clients: FetchClients

    @classmethod
    def of(cls, args: argparse.Namespace) -> FetchSide:
        from leadsync.runtime.config import FetchEnv, load
        from leadsync.runtime.secrets import load_credentials
        from leadsync.runtime.wiring.clients import fetch_clients
        from leadsync.runtime.wiring.deadline import InvocationDeadline

        variables = _fetch_variables(args)
        _reach_aws_as(args)
        env = load(FetchEnv, variables)
        credentials = load_credentials(env.credentials_secret)
        # never started: a call waits at most a minute for its permit, retries take their time
        clients = fetch_clients(env, credentials, InvocationDeadline(), environ=variables)
        return cls(env, variables, credentials, clients)


def _fetch_variables(args: argparse.Namespace) -> dict[str, str]:
    """The environment of the stack's fetch function, as Lambda gives it."""
    aws = session(args)
    outputs = stack_outputs(client(aws, "cloudformation"), args.stack)
    function = outputs.get("FetchFunctionName")
    if not function:
        raise UsageError(f"stack {args.stack!r} has no output FetchFunctionName")
    configuration = client(aws, "lambda").get_function_configuration(FunctionName=function)
    return {
        name: str(value)
        for name, value in configuration.get("Environment", {}).get("Variables", {}).items()
    }


def _reach_aws_as(args: argparse.Namespace) -> None:
    """The adapters reach AWS the way the caller does."""
    import os

    if args.profile:
        os.environ["AWS_PROFILE"] = args.profile
    if args.region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
