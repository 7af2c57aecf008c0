"""``DeploymentGates`` running as the tooling account and region's shared roles
(``hands_off.stacks.GateRoles``): no role of its own, and names the shared policies expect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from hands_off.constructs.deployment_gates import DeploymentGates, SharedGateRoles
from hands_off.naming import ServiceNaming

REGION, ACCOUNT = "us-east-1", "111111111111"
NAMING = ServiceNaming(service="orders", tooling_account=ACCOUNT, tooling_region=REGION)
ROLES = SharedGateRoles.of(NAMING)


def _template(stack: Stack, **extra: Any) -> dict[str, Any]:
    gates = DeploymentGates(
        stack,
        "Gates",
        pipeline_name=NAMING.pipeline,
        reader_role_arns=[NAMING.role_arn("222222222222", "gate-reader")],  # type: ignore[arg-type]
        override_parameter_name=NAMING.override_parameter,
        checker_role_name=NAMING.role("gate-checker"),  # type: ignore[arg-type]
        config_parameter_arns=[NAMING.gate_input_parameter_arn("Gamma-Gate")],
        shared_roles=ROLES,
        **extra,
    )
    gates.restore_when_stage_ends([("Gamma", NAMING.gate_input_parameter("Gamma-Gate"), "0" * 64)])
    return dict(Template.from_stack(stack).to_json())


def test_shared_roles_make_no_role_or_policy_here(bare_stack: Callable[..., Stack]) -> None:
    resources = _template(bare_stack())["Resources"]
    kinds = {r["Type"] for r in resources.values()}
    assert "AWS::IAM::Role" not in kinds
    assert "AWS::IAM::Policy" not in kinds


def test_the_functions_and_restore_run_as_the_shared_roles_with_the_names_their_policies_expect(
    bare_stack: Callable[..., Stack], flat: Callable[[Any], Any]
) -> None:
    resources = _template(bare_stack())["Resources"]
    functions = {
        r["Properties"]["FunctionName"]: r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"
    }
    assert set(functions) == {"hands-off-orders-gates", "hands-off-orders-hotfix"}
    assert functions["hands-off-orders-gates"]["Properties"]["Role"] == ROLES.checker
    assert functions["hands-off-orders-hotfix"]["Properties"]["Role"] == ROLES.hotfix
    groups = {
        r["Properties"].get("LogGroupName") for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"
    }
    assert {"/aws/lambda/hands-off-orders-gates", "/aws/lambda/hands-off-orders-hotfix"} <= groups
    machines = {
        k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"
    }
    assert len(machines) == 3
    assert {m["RoleArn"] for m in machines.values()} == {ROLES.machine}
    [restore] = [k for k, m in machines.items() if m.get("StateMachineName") == "hands-off-orders-restore"]
    assert [k for k, m in machines.items() if "StateMachineName" in m] == [restore]
    rules = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 2, "the ended-early and the stage-ended rule"
    for rule in rules:
        assert [(t["Arn"], t["RoleArn"]) for t in rule["Targets"]] == [
            ({"Ref": restore}, ROLES.restore_starter)
        ]
