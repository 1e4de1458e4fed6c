"""The configuration document, the chaos defaults, and the injector's decisions: matching,
budgets, switching off, counting, reproducibility."""

from __future__ import annotations

from typing import Any

import pytest

from local.aws_faults import CHAOS_DEFAULTS, PROTECTED, FaultConfig, FaultKey, FaultRule
from local.aws_faults.faults import Injector
from local.aws_faults.operations import Call

PUT = Call("dynamodb", "PutItem", "json")
SEND = Call("sqs", "SendMessage", "json")


def _rule(**fields: Any) -> FaultRule:
    return FaultRule.from_dict({"probability": 1.0} | fields)


def test_a_document_reads_and_writes_back_the_same() -> None:
    document = {
        "seed": 7,
        "enabled": True,
        "faults": [
            {"service": "dynamodb", "operation": "*", "kind": "throttling", "probability": 0.02},
            {
                "service": "sqs",
                "operation": ["SendMessage*", "DeleteMessage*"],
                "kind": "ServiceUnavailable",
                "probability": 0.01,
                "after": True,
            },
            {
                "service": "*",
                "operation": "*",
                "kind": "latency",
                "probability": 0.1,
                "min_ms": 20,
                "max_ms": 200,
            },
            {
                "service": "s3",
                "operation": "PutObject",
                "kind": "SlowDown",
                "probability": 1.0,
                "times": 2,
            },
        ],
    }
    config = FaultConfig.from_dict(document)
    assert config.to_dict() == document
    assert FaultConfig.from_dict(config.to_dict()) == config


def test_service_and_operation_default_to_everything() -> None:
    rule = FaultRule.from_dict({"kind": "throttling", "probability": 0.5})
    assert (rule.service, rule.operations) == ("*", ("*",))
    with pytest.raises(ValueError, match="a fault needs probability"):
        FaultRule.from_dict({"kind": "throttling"})


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"kind": "SlowDown", "service": "dynamodb"}, "no service matching"),
        ({"kind": "Bogus"}, "no service matching"),
        ({"kind": "throttling", "probability": 1.5}, "probability"),
        ({"kind": "throttling", "probability": True}, "probability"),
        ({"kind": "throttling", "after": True}, "`after`"),
        ({"kind": "SlowDown", "after": True}, "`after`"),
        ({"kind": "latency", "min_ms": 50, "max_ms": 10}, "min_ms"),
        ({"kind": "throttling", "times": -1}, "times"),
        ({"kind": "throttling", "times": 1.5}, "times"),
        ({"kind": "throttling", "operation": []}, "operation"),
        ({"kind": "throttling", "propability": 0.1}, "unknown fault keys: propability"),
        ({"probability": 0.1}, "kind"),
    ],
)
def test_a_wrong_rule_is_refused_with_its_reason(fields: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        FaultRule.from_dict({"probability": 1.0} | fields)


def test_a_wrong_document_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown config keys: fault"):
        FaultConfig.from_dict({"fault": []})
    with pytest.raises(ValueError, match="enabled"):
        FaultConfig.from_dict({"enabled": "no"})


def test_wildcards_never_reach_the_protected_services() -> None:
    everything = _rule(kind="latency")
    for service in PROTECTED:
        assert not everything.matches(Call(service, "Anything", "query"))
        assert _rule(service=service, kind="latency").matches(Call(service, "Anything", "query"))
    assert everything.matches(Call("events", "PutEvents", "json"))
    assert not everything.matches(Call("", "", "none"))


def test_operations_match_by_wildcard_or_list() -> None:
    rule = _rule(service="sqs", operation=["SendMessage*", "ReceiveMessage"], kind="throttling")
    assert rule.matches(SEND)
    assert rule.matches(Call("sqs", "SendMessageBatch", "json"))
    assert rule.matches(Call("sqs", "ReceiveMessage", "json"))
    assert not rule.matches(Call("sqs", "GetQueueAttributes", "json"))


def test_chaos_defaults_throttle_every_service_the_functions_use_and_spare_deployment() -> None:
    throttled = {
        rule.service
        for rule in CHAOS_DEFAULTS.faults
        if (error := rule.error_on(rule.service)) is not None and error.throttling
    }
    assert throttled == {"dynamodb", "sqs", "s3", "ses", "sesv2", "secretsmanager"}
    for rule in CHAOS_DEFAULTS.faults:
        assert rule.probability <= 0.1
        assert not rule.after
        assert not any(rule.covers(service) for service in PROTECTED)
    for operation in ("SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch"):
        call = Call("sqs", operation, "json")
        assert any(rule.matches(call) and rule.kind != "latency" for rule in CHAOS_DEFAULTS.faults)
    assert not any(
        rule.matches(Call("sqs", "GetQueueAttributes", "json")) and rule.kind != "latency"
        for rule in CHAOS_DEFAULTS.faults
    )


# -- the injector ------------------------------------------------------------------------


def test_the_first_error_rule_that_fires_answers_and_latency_adds_up() -> None:
    injector = Injector(
        FaultConfig(
            (
                _rule(kind="latency", min_ms=10, max_ms=10),
                _rule(service="dynamodb", kind="ThrottlingException"),
                _rule(service="dynamodb", kind="InternalServerError"),
                _rule(kind="latency", min_ms=5, max_ms=5),
            )
        )
    )
    decision = injector.decide(PUT)
    assert decision.error is not None
    assert decision.error.code == "ThrottlingException"
    assert decision.delay_seconds == pytest.approx(0.015)
    assert injector.counts() == {
        FaultKey("dynamodb", "PutItem", "latency"): 2,
        FaultKey("dynamodb", "PutItem", "ThrottlingException"): 1,
    }


def test_a_rule_skips_services_without_its_error() -> None:
    injector = Injector(FaultConfig((_rule(kind="SlowDown"),)))
    assert injector.decide(PUT).error is None
    assert injector.decide(Call("s3", "PutObject", "rest-xml")).error is not None


def test_times_caps_a_rule_and_after_marks_the_count() -> None:
    injector = Injector(
        FaultConfig((_rule(service="sqs", kind="InternalFailure", after=True, times=2),))
    )
    decisions = [injector.decide(SEND) for _ in range(4)]
    assert [d.error is not None for d in decisions] == [True, True, False, False]
    assert all(d.after for d in decisions[:2])
    assert injector.counts() == {FaultKey("sqs", "SendMessage", "InternalFailure:applied"): 2}


def test_same_seed_same_faults() -> None:
    config = FaultConfig(
        (
            _rule(kind="throttling", probability=0.3),
            _rule(kind="latency", probability=0.5, max_ms=100),
        )
    )

    def run(seed: int) -> list[tuple[str | None, float, str]]:
        injector = Injector(config, seed=seed)
        decisions = [injector.decide(PUT if i % 2 else SEND) for i in range(200)]
        return [
            (d.error.code if d.error else None, d.delay_seconds, d.request_id) for d in decisions
        ]

    assert run(7) == run(7)
    assert run(7) != run(8)
    faults = [code for code, _, _ in run(7) if code]
    assert 30 < len(faults) < 90  # about 30% of 200


def test_update_replaces_what_it_names_and_keeps_the_rest() -> None:
    injector = Injector(FaultConfig((_rule(kind="throttling"),), seed=3))
    assert injector.decide(PUT).error is not None
    injector.update({"enabled": False})
    assert injector.decide(PUT) == injector.decide(SEND)
    assert injector.decide(PUT).error is None
    snapshot = injector.snapshot()
    assert snapshot["enabled"] is False
    assert (len(snapshot["faults"]), snapshot["seed"]) == (1, 3)
    injector.update(
        {"enabled": True, "faults": [{"service": "sqs", "kind": "throttling", "probability": 1}]}
    )
    assert injector.decide(PUT).error is None
    assert injector.decide(SEND).error is not None
    with pytest.raises(ValueError, match="probability"):
        injector.update({"faults": [{"kind": "throttling", "probability": 2}]})
    assert injector.snapshot()["faults"][0]["service"] == "sqs"  # a refused update changes nothing


def test_the_snapshot_counts_calls_and_faults() -> None:
    injector = Injector(FaultConfig((_rule(service="dynamodb", kind="throttling"),)))
    injector.decide(PUT)
    injector.decide(SEND)
    injector.decide(Call("", "", "none"))
    snapshot = injector.snapshot()
    assert snapshot["requests"] == {"dynamodb": 1, "sqs": 1}
    assert snapshot["injected_total"] == 1
    assert snapshot["injected"] == [
        {
            "service": "dynamodb",
            "operation": "PutItem",
            "kind": "ProvisionedThroughputExceededException",
            "count": 1,
        }
    ]
