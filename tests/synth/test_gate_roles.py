"""The shared gate roles of the tooling account and region (``hands_off.stacks.GateRoles``): what
each may do and who may use it, and the pipelines' gates running as them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from hands_off.stacks.gate_roles import GateRoles
from tests.iam_permissions import role_statements

TOOLING, REGION = "111111111111", "us-east-1"


def _plain(value: Any) -> str:
    """An ARN as the template writes it, joined (the partition stays ``<partition>``)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join("<partition>" if p == {"Ref": "AWS::Partition"} else str(p) for p in parts)
    return str(value)


@pytest.fixture(scope="module")
def roles_template(fleet: Any) -> dict[str, Any]:
    [stack] = [c for c in fleet.app.node.children if isinstance(c, GateRoles)]
    assert (stack.account, stack.region, stack.stack_name) == (TOOLING, REGION, "hands-off-gate-roles")
    # deleting it would leave every pipeline's gates without their roles
    assert stack.termination_protection
    return dict(Template.from_stack(stack).to_json())


def _role(template: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The role named ``name``: its properties and its permissions (action -> plain resources).
    Only ``sts:AssumeRole`` may have a condition: exactly :func:`_from_gate_functions`."""
    [(logical_id, role)] = [
        (k, r) for k, r in template["Resources"].items() if r["Properties"].get("RoleName") == name
    ]
    permissions: dict[str, list[str]] = {}
    for statement in role_statements(template, logical_id):
        assert statement["Effect"] == "Allow"
        if statement["Action"] == "sts:AssumeRole":
            suffix = "gates" if name.startswith("hands-off-gates-checker-") else "hotfix"
            assert statement["Condition"] == _from_gate_functions(suffix)
        else:
            assert "Condition" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in actions:
            permissions.setdefault(action, []).extend(_plain(r) for r in resources)
    return role["Properties"], permissions


def _from_gate_functions(suffix: str) -> dict[str, Any]:
    """Only from the gate functions of the tooling account and region (not one of another
    region named like them: IAM roles are global, function names per region)."""
    arn = f"arn:aws:lambda:{REGION}:{TOOLING}:function:hands-off-*-{suffix}"
    return {"ArnLike": {"lambda:SourceFunctionArn": arn}}


def test_four_roles_one_per_kind_named_by_region(roles_template: dict[str, Any]) -> None:
    resources = roles_template["Resources"]
    assert {r["Type"] for r in resources.values()} == {"AWS::IAM::Role"}
    assert sorted(r["Properties"]["RoleName"] for r in resources.values()) == [
        f"hands-off-gates-{kind}-{REGION}" for kind in ("checker", "hotfix", "machine", "restore-starter")
    ]


def test_the_checker_reads_and_assumes_the_readers_only(roles_template: dict[str, Any]) -> None:
    role, permissions = _role(roles_template, f"hands-off-gates-checker-{REGION}")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    here = f"{REGION}:{TOOLING}"
    assert permissions == {
        "sts:AssumeRole": ["arn:aws:iam::*:role/hands-off-*-gate-reader"],
        "ssm:GetParameter": [f"arn:aws:ssm:{here}:parameter/hands-off/*/override"],
        "ssm:GetParameterHistory": [f"arn:aws:ssm:{here}:parameter/hands-off/*/override"],
        "codepipeline:GetPipelineExecution": [f"arn:aws:codepipeline:{here}:*"],
        "logs:CreateLogStream": [f"arn:aws:logs:{here}:log-group:/aws/lambda/hands-off-*-gates:*"],
        "logs:PutLogEvents": [f"arn:aws:logs:{here}:log-group:/aws/lambda/hands-off-*-gates:*"],
    }


def test_the_hotfix_role_alone_assumes_the_writers(roles_template: dict[str, Any]) -> None:
    role, permissions = _role(roles_template, f"hands-off-gates-hotfix-{REGION}")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    here = f"{REGION}:{TOOLING}"
    assert permissions == {
        "sts:AssumeRole": ["arn:aws:iam::*:role/hands-off-*-hotfix-writer"],
        # arming reads the override itself (the function checks it is its own pipeline's)
        "ssm:GetParameter": [f"arn:aws:ssm:{here}:parameter/hands-off/*/override"],
        "ssm:GetParameterHistory": [f"arn:aws:ssm:{here}:parameter/hands-off/*/override"],
        "logs:CreateLogStream": [f"arn:aws:logs:{here}:log-group:/aws/lambda/hands-off-*-hotfix:*"],
        "logs:PutLogEvents": [f"arn:aws:logs:{here}:log-group:/aws/lambda/hands-off-*-hotfix:*"],
    }


def test_the_machine_role_invokes_the_gate_functions_and_reads_the_inputs(
    roles_template: dict[str, Any],
) -> None:
    role, permissions = _role(roles_template, f"hands-off-gates-machine-{REGION}")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "states.amazonaws.com"
    }
    here = f"{REGION}:{TOOLING}"
    functions = [f"arn:aws:lambda:{here}:function:hands-off-*-{s}" for s in ("gates", "hotfix")]
    assert sorted(permissions.pop("lambda:InvokeFunction")) == sorted(
        [*functions, *(f"{f}:*" for f in functions)]
    )
    assert permissions.pop("ssm:getParameter") == [f"arn:aws:ssm:{here}:parameter/hands-off/*/gates/*"]
    # what remains is Step Functions' logging and tracing, which have no resource-level permissions
    assert {a.split(":")[0] for a in permissions} == {"logs", "xray"}
    assert {r for resources in permissions.values() for r in resources} == {"*"}


def test_the_restore_starter_is_eventbridges_of_this_account_and_starts_restores_only(
    roles_template: dict[str, Any],
) -> None:
    role, permissions = _role(roles_template, f"hands-off-gates-restore-starter-{REGION}")
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": TOOLING}}
    assert permissions == {
        "states:StartExecution": [f"arn:aws:states:{REGION}:{TOOLING}:stateMachine:hands-off-*-restore"]
    }


def test_no_pipeline_has_a_gate_role_of_its_own_and_its_gates_run_as_the_shared_ones(fleet: Any) -> None:
    """Every pipeline's gate functions, machines and restore rules name the shared roles, by the
    names those roles' policies expect; no pipeline template holds a role with a gate's trust."""
    shared = {
        kind: f"arn:aws:iam::{TOOLING}:role/hands-off-gates-{kind}-{REGION}"
        for kind in ("checker", "hotfix", "machine", "restore-starter")
    }
    for pipeline in fleet.pipelines:
        template = json.loads((Path(fleet.outdir) / f"{pipeline.stack_name}.template.json").read_text())
        resources = template["Resources"]
        principals = {
            json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
            for r in resources.values()
            if r["Type"] == "AWS::IAM::Role"
        }
        for service in ("lambda", "states", "events"):
            assert not [p for p in principals if f"{service}.amazonaws.com" in p], (
                pipeline.stack_name,
                service,
            )
        service = pipeline.service_name
        functions = {
            r["Properties"]["FunctionName"]: r["Properties"]["Role"]
            for r in resources.values()
            if r["Type"] == "AWS::Lambda::Function"
        }
        assert functions == {
            f"hands-off-{service}-gates": shared["checker"],
            f"hands-off-{service}-hotfix": shared["hotfix"],
        }
        machines = [
            r["Properties"] for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"
        ]
        assert {m["RoleArn"] for m in machines} == {shared["machine"]}
        assert f"hands-off-{service}-restore" in {m.get("StateMachineName") for m in machines}
        targets = [
            t
            for r in resources.values()
            if r["Type"] == "AWS::Events::Rule"
            for t in r["Properties"]["Targets"]
        ]
        assert {t.get("RoleArn") for t in targets if "RoleArn" in t} == {shared["restore-starter"]}
