"""Attack 7 (shared gate roles, commit 1d9ff9c): what the four roles every pipeline of a tooling
account and region now shares let through that per-pipeline roles did not.

Findings fail on that commit; the checks marked ``# HELD`` pass (what was tried and held).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the gate execution harness
import test_gate_execution as tge
from test_gate_execution import local_aws, pipeline_template  # noqa: F401  (fixtures)

from hands_off.constructs.deployment_gates import DeploymentGates, SharedGateRoles
from hands_off.naming import ServiceNaming, SharedGateRole
from hands_off.stacks.gate_roles import GateRoles
from hands_off.stacks.service_access import ServiceAccessStack
from hands_off_gates.contract import CHECK_MODULES  # noqa: F401  (the harness's handlers)
from tests.constructs.conftest import new_stack

TOOLING, REGION = "111111111111", "us-east-1"


# --- helpers -------------------------------------------------------------------------------------


def _access_stacks(fleet: Any) -> list[ServiceAccessStack]:
    stacks = [c for c in fleet.app.node.find_all() if isinstance(c, ServiceAccessStack)]
    assert stacks, "the example fleet has target-account access stacks"
    return stacks


def _role_trust(template: dict[str, Any], role_name: str) -> list[dict[str, Any]]:
    [role] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == role_name
    ]
    return list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])


def _bound_to(statement: dict[str, Any], function_name: str) -> bool:
    """Whether an ``sts:AssumeRole`` trust statement lets only the session of the Lambda function
    ``function_name`` in (Lambda names its execution role's session after the function): by a
    role-session principal (``arn:aws:sts::<tooling>:assumed-role/<role>/<function>``) or by a
    condition naming the function (e.g. ``aws:userid`` ``*:<function>``)."""
    aws = statement.get("Principal", {}).get("AWS", [])
    principals = [
        json.dumps(p) if not isinstance(p, str) else p for p in (aws if isinstance(aws, list) else [aws])
    ]
    sessions = bool(principals) and all(
        ":assumed-role/" in p and p.endswith(f"/{function_name}") for p in principals
    )
    return sessions or function_name in json.dumps(statement.get("Condition", {}))


# --- findings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("purpose", "suffix"), [("hotfix-writer", "hotfix"), ("gate-reader", "gates")])
def test_a_services_target_roles_trust_only_its_own_gate_function_not_every_pipelines(
    fleet: Any, purpose: str, suffix: str
) -> None:
    """FINDING (medium: hotfix-writer; low: gate-reader).

    Before the change, ``hands-off-<service>-hotfix-writer`` trusted the role of that service's
    own hotfix function only, and that role could assume that service's writers only (exact
    ARNs): invoking orders' hotfix function could at worst touch orders' deployment groups. Now
    every writer trusts the one shared ``hands-off-gates-hotfix-<region>`` role, which may assume
    ``arn:aws:iam::*:role/hands-off-*-hotfix-writer``, and the hotfix function takes the role it
    assumes from its EVENT (``groups[].role_arn``, ``hands_off_gates.hotfix``: no check that it
    names its own service). So anyone who may ``lambda:InvokeFunction`` ANY one pipeline's hotfix
    function (a team's on-call role scoped to ``hands-off-orders-*``, or anything run as the shared
    machine role) can invoke it with ``{"action": "arm", "groups": [<catalog's group, catalog's
    gate-reader role ARN>]}`` and turn CodeDeploy alarm rollback OFF for every other service's
    production copies, with no override and no page (the AUDIT line is in orders' log group).
    Likewise the checks function reads any service's alarms through any gate-reader.

    Fix: bind each target role's trust to its own service's function session, e.g. principal
    ``arn:aws:sts::<tooling>:assumed-role/hands-off-gates-hotfix-<region>/hands-off-<service>-hotfix``
    (Lambda names the session after the function), and/or have the hotfix and checks handlers
    refuse a ``role_arn`` that is not ``hands-off-<own service>-gate-reader``.
    """
    checked = 0
    for stack in _access_stacks(fleet):
        template = dict(Template.from_stack(stack).to_json())
        names = [
            r["Properties"]["RoleName"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName", "").endswith(f"-{purpose}")
        ]
        for name in names:
            service = name.removeprefix("hands-off-").removesuffix(f"-{purpose}")
            function = f"hands-off-{service}-{suffix}"
            for statement in _role_trust(template, name):
                checked += 1
                assert _bound_to(statement, function), (
                    f"{stack.stack_name}: {name} trusts {statement['Principal']} without binding it to "
                    f"{function}: every pipeline's {suffix} function of the tooling account may assume it"
                )
    assert checked


@pytest.mark.usefixtures("local_aws")
def test_one_pipelines_hotfix_function_refuses_another_services_groups(
    fleet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FINDING (medium), the same as above seen from the function: the code-level half.

    Orders' hotfix function (``hands-off-orders-hotfix``, run as the shared hotfix role), invoked
    directly with catalog's deployment groups and catalog's gate-reader role ARN, turns catalog's
    CodeDeploy alarm rollback OFF (``arm``, no override needed: the function does not check one).
    With per-pipeline roles IAM refused the AssumeRole of catalog's writer; with the shared role
    nothing does (moto enforces no IAM, so this shows what AWS would now allow).

    Fix: the hotfix (and checks) handlers refuse a ``role_arn`` not named
    ``hands-off-<own service>-gate-reader`` (own service from ``AWS_LAMBDA_FUNCTION_NAME``,
    ``hands-off-<service>-hotfix``), failing closed; plus the trust binding above.
    """
    catalog = dict(Template.from_stack(fleet.pipeline("catalog")).to_json())
    foreign = tge.action_input(catalog, "Prod-2", "Prod-2-Gate")
    groups = foreign["hotfix_groups"]
    assert groups
    assert all(":role/hands-off-catalog-gate-reader" in g["role_arn"] for g in groups)
    tge.create_groups(groups, enabled=True)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-hotfix")
    import importlib

    hotfix = importlib.import_module("hands_off_gates.hotfix")
    hotfix.handler.clients["codedeploy"] = tge.CODEDEPLOY.factory
    event = {
        "action": "arm",
        "groups": groups,
        "pipeline": "orders-application",
        "stage": "Prod-2",
        "execution_id": "attacker",
    }

    result = hotfix.handler(event, None)

    assert tge.groups_enabled(groups) == [True] * len(groups), (
        f"orders' hotfix function turned catalog's alarm rollback off: {result['reason']}"
    )
    assert result["ok"] is False


def test_the_shared_gate_roles_stack_cannot_be_deleted_by_one_teams_cdk_destroy(fleet: Any) -> None:
    """FINDING (medium: availability of every service's gates, alarm rollback left off).

    Every team's app includes ``HandsOffGateRoles-<account>-<region>`` (``hands_off.run`` /
    ``add_account_baselines`` add it), so one team's ``cdk destroy --all`` (or a destroy of that
    stack) deletes the roles EVERY pipeline's gates run as. Unlike the baseline
    (``termination_protection=True``) nothing stops it. Then no gate of any service can read its
    alarms (all block), no bake or ``Restore`` can turn a hotfixed group's alarm rollback back on
    (groups stay with rollback off), and redeploying the stack does not repair it: IAM rewrote each
    target account's trust policy to the deleted role's unique id (``AROA…``), and the access
    stacks' templates did not change, so their redeploys are no-ops. Before the change a deleted
    pipeline stack only took its own gates with it.

    Fix: ``termination_protection=True`` on ``GateRoles`` (as on ``AccountBaseline``), and/or
    ``RemovalPolicy.RETAIN`` on its roles; say so in the README.
    """
    [stack] = [c for c in fleet.app.node.children if isinstance(c, GateRoles)]
    template = dict(Template.from_stack(stack).to_json())
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    retained = all(r.get("DeletionPolicy") == "Retain" for r in roles)
    assert stack.termination_protection or retained, (
        "hands-off-gate-roles has neither termination protection nor retained roles"
    )


def test_gates_with_shared_roles_and_no_inputs_of_their_own_do_not_read_any_pipelines_input() -> None:
    """FINDING (low: the public construct; every real pipeline has inputs).

    ``DeploymentGates._own_input`` returns ``then`` (the GetParameter) when the pipeline has no
    ``config_parameter_arns``: the own-input check disappears while the shared machine role may
    read every pipeline's ``/hands-off/*/gates/*``. Such a construct's ``Restore`` (anyone who may
    start it, or a gate of it started by hand) reads and acts on another pipeline's input: the
    attack6 scenario, unguarded. With shared roles it should fail closed instead (no inputs ->
    nothing is its own), or refuse to be built.

    Fix: in ``_own_input``, with no own parameters go to ``other``; or raise ``ValueError`` for
    ``shared_roles`` with an empty ``config_parameter_arns``.
    """
    naming = ServiceNaming(service="orders", tooling_account=TOOLING, tooling_region=REGION)
    roles = SharedGateRoles.of(naming)
    stack = new_stack()
    try:
        DeploymentGates(
            stack,
            "Gates",
            pipeline_name=naming.pipeline,
            reader_role_arns=[],
            override_parameter_name=naming.override_parameter,
            checker_role_name=naming.role("gate-checker"),  # type: ignore[arg-type]
            config_parameter_arns=[],
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
            shared_roles=roles,
        )
    except ValueError:
        return  # refusing to build it is a fix too
    template = dict(Template.from_stack(stack).to_json())
    for key, resource in template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        definition = resource["Properties"]["DefinitionString"]
        text = definition if isinstance(definition, str) else json.dumps(definition)
        if "getParameter" not in text:
            continue
        assert "OwnInput?" in text, f"{key} reads $.config_parameter with no own-input check"


# --- held ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(
    "spelling",
    [
        "arn:aws:ssm:us-east-1:{account}:parameter{name}",  # ARN form of another pipeline's input
        "{name}:1",  # version selector
        "{name}/",  # trailing slash
        " {name}",  # whitespace
        "{own}:1",  # selector on its own name (still not byte-equal: refused)
    ],
)
def test_other_spellings_of_an_input_name_do_not_pass_the_own_input_check(  # HELD
    pipeline_template: dict[str, Any],  # noqa: F811
    fleet: Any,
    spelling: str,
) -> None:
    # HELD: the Choice compares byte for byte with its own names; every other spelling fails closed.
    catalog = dict(Template.from_stack(fleet.pipeline("catalog")).to_json())
    foreign = tge.action_input(catalog, "Prod-2", "Prod-2-Gate")
    pointer = tge.store(tge.fast(foreign, window=tge.ALWAYS_OPEN))
    account = boto3.client("sts").get_caller_identity()["Account"]
    own = "/hands-off/orders-application/gates/Prod-2-Gate"
    pointer["config_parameter"] = spelling.format(name=pointer["config_parameter"], own=own, account=account)
    result = tge.run(tge.machine(pipeline_template, "Gate"), {}, pointer=pointer)
    assert result["status"] == "FAILED", result
    assert result["error"] == "GateInputTampered"
    assert "not one of the inputs of pipeline orders-application" in result["cause"]


@pytest.mark.usefixtures("local_aws")
def test_restore_stage_ended_pointer_ignores_a_config_parameter_in_the_event(  # HELD
    pipeline_template: dict[str, Any],  # noqa: F811
    fleet: Any,
) -> None:
    # HELD: a stage_ended start carrying catalog's pointer fields uses only the definition's own
    # pointer; an unknown stage acts on nothing.
    catalog = dict(Template.from_stack(fleet.pipeline("catalog")).to_json())
    foreign = tge.action_input(catalog, "Prod-2", "Prod-2-Gate")
    groups = foreign["hotfix_groups"]
    tge.create_groups(groups, enabled=False)
    pointer = tge.store(foreign)
    event = {
        "stage_ended": {"stage": "Nope", "execution_id": "x", "state": "FAILED"},
        "pointer": pointer,
        **pointer,
    }
    calls = len(tge.CODEDEPLOY.calls)
    result = tge.run(tge.machine(pipeline_template, "Restore"), {}, pointer=event)
    assert result["status"] == "FAILED", result
    assert result["error"] == "GateInputUnverified"
    assert tge.CODEDEPLOY.calls[calls:] == []
    assert tge.groups_enabled(groups) == [False] * len(groups)


def test_cdk_nag_acknowledgements_name_only_the_resources_the_roles_hold(fleet: Any) -> None:  # HELD
    # HELD: every acknowledgement of the gate roles is AwsSolutions-IAM5 for one exact resource its
    # own role's policy holds (no blanket rule, no Action:: wildcard); Resource::* on the machine
    # role only (Step Functions logging and X-Ray have no resource-level permissions).
    [stack] = [c for c in fleet.app.node.children if isinstance(c, GateRoles)]
    template = dict(Template.from_stack(stack).to_json())
    for kind, role in stack.roles.items():
        logical_id = stack.get_logical_id(role.node.default_child)  # type: ignore[arg-type]
        resources: set[str] = set()
        for policy in template["Resources"][logical_id]["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                found = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                for resource in found:
                    if isinstance(resource, dict) and "Fn::Join" in resource:
                        sep, parts = resource["Fn::Join"]
                        resource = sep.join(
                            "<AWS::Partition>" if p == {"Ref": "AWS::Partition"} else str(p) for p in parts
                        )
                    resources.add(str(resource))
                    resources.add(str(resource).replace("arn:<AWS::Partition>:", "arn:aws:"))
                    resources.add(str(resource).replace("arn:aws:", "arn:<AWS::Partition>:"))
        acknowledged = [
            rule
            for entry in role.node.metadata
            if entry.type == "aws:cdk:acknowledged-rules"
            for rule in entry.data
        ]
        assert acknowledged, kind
        for rule in acknowledged:
            prefix, suffix = "Annotation::AwsSolutions-IAM5[Resource::", "]"
            assert rule.startswith(prefix), (kind, rule)
            assert rule.endswith(suffix), (kind, rule)
            resource = rule[len(prefix) : -len(suffix)]
            assert resource in resources, (kind, rule)
            if resource == "*":
                assert kind == SharedGateRole.MACHINE, (kind, rule)
