"""Attack 8 (shared gate roles after the attack-7 fixes, commits 1d9ff9c, 37f5179, c6e0875):
what the session binding (each target role trusts ``assumed-role/<shared role>/<function>``)
and the hotfix function's own-service check still let through.

Findings fail on c6e0875; the checks marked ``# HELD`` pass (what was tried and held).
"""

from __future__ import annotations

import importlib
import itertools
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Template

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the gate execution harness
import test_gate_execution as tge
from test_gate_execution import local_aws  # noqa: F401  (fixture)

from hands_off.naming import (
    GATE_FUNCTION_SUFFIXES,
    RolePurpose,
    ServiceNaming,
    SharedGateRole,
    shared_gate_role_name,
)
from hands_off.stacks.gate_roles import GateRoles
from hands_off.stacks.service_access import ServiceAccessStack
from hands_off_gates.contract import CHECK_FUNCTION_KEY
from hands_off_gates.hotfix import foreign_groups

TOOLING, REGION = "111111111111", "us-east-1"
TARGET = "222222222222"

# Service names chosen to collide with the gate names: suffixes of the function names, the
# shared roles' words, and each other's prefixes/suffixes. Every one is a valid service name.
LOOKALIKES = (
    "orders",
    "orders-gates",
    "orders-hotfix",
    "orders-gates-hotfix",
    "orders-hotfix-gates",
    "gates",
    "hotfix",
    "gates-hotfix",
    "gates-checker",
    "gates-checker-us-east",
    "x-orders",
    "a",
    "a-gate",
    "a-hotfix",
)


def _resolve(value: Any) -> str:
    """A CloudFormation value as text, ``Fn::Join`` joined, the partition spelled ``aws``."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join("aws" if p == {"Ref": "AWS::Partition"} else _resolve(p) for p in parts)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _gate_roles(fleet: Any) -> GateRoles:
    [stack] = [c for c in fleet.app.node.children if isinstance(c, GateRoles)]
    return stack


def _statements(stack: GateRoles, kind: SharedGateRole) -> list[dict[str, Any]]:
    template = dict(Template.from_stack(stack).to_json())
    logical_id = stack.get_logical_id(stack.roles[kind].node.default_child)  # type: ignore[arg-type]
    return [
        statement
        for policy in template["Resources"][logical_id]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


# --- findings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "suffix"), [(SharedGateRole.HOTFIX, "hotfix"), (SharedGateRole.CHECKER, "gates")]
)
def test_shared_gate_roles_assume_target_roles_only_from_functions_of_their_own_account_and_region(
    fleet: Any, kind: SharedGateRole, suffix: str
) -> None:
    """FINDING (medium for hotfix, low for checker): the session binding is a binding to a
    function NAME, and that name is not unique where it matters.

    Each target ``hands-off-<svc>-hotfix-writer`` trusts
    ``arn:aws:sts::<tooling>:assumed-role/hands-off-gates-hotfix-us-east-1/hands-off-<svc>-hotfix``.
    Lambda names the session after the function, but (1) an IAM role is global: a Lambda function
    in ANY region of the tooling account may run as ``hands-off-gates-hotfix-us-east-1``
    (its trust is ``lambda.amazonaws.com`` with no condition), and (2) function names are unique
    per region only. So a function named ``hands-off-catalog-hotfix`` created in eu-west-1 (the
    name is free there) with the us-east-1 shared hotfix role opens a session whose ARN is
    byte-equal to catalog's real function's session: it assumes catalog's writer in every target
    account and turns catalog's CodeDeploy alarm rollback off (no override, no page, no log line in
    catalog's log group). The shared role's own policy (``sts:AssumeRole`` on
    ``arn:aws:iam::*:role/hands-off-*-hotfix-writer``) does not stop it either. Likewise a function
    named ``hands-off-<svc>-hotfix`` in the tooling region before <svc>'s pipeline creates it,
    or after it is deleted (squatting the name).

    Before the change the trusted principal was a per-service ROLE: reaching catalog's writer took
    ``iam:PassRole`` on catalog's own role. Now ``iam:PassRole`` on the ONE shared role (which every
    team's pipeline uses) plus ``lambda:CreateFunction`` in any region reaches every service's
    writers, and the attacker picks the session name.

    Fix: pin where the session may come from in the shared role's identity policy, which
    Lambda supports (``lambda:SourceFunctionArn`` is injected into every request made with the
    execution role's credentials; it is not usable in the target's trust policy, a resource
    policy): on the ``sts:AssumeRole`` statement, ``ArnLike lambda:SourceFunctionArn
    arn:<partition>:lambda:<tooling region>:<tooling account>:function:hands-off-*-<suffix>``.
    With the name-bound trust, only the function of that name in the tooling region then gets in.
    (And/or deny ``iam:PassRole`` on ``hands-off-gates-*`` to all but the CloudFormation execution
    role, documented in the README.)
    """
    stack = _gate_roles(fleet)
    region, account = str(stack.region), str(stack.account)
    assumes = [s for s in _statements(stack, kind) if "sts:AssumeRole" in json.dumps(s.get("Action"))]
    assert assumes
    want = f"arn:aws:lambda:{region}:{account}:function:hands-off-*-{suffix}"
    for statement in assumes:
        condition = statement.get("Condition", {})
        keys = {key.lower() for operator in condition.values() for key in operator}
        values = [
            _resolve(v)
            for operator in condition.values()
            for key, vs in operator.items()
            if key.lower() == "lambda:sourcefunctionarn"
            for v in (vs if isinstance(vs, list) else [vs])
        ]
        pinned = "lambda:sourcefunctionarn" in keys and bool(values) and all(v == want for v in values)
        assert pinned, (
            f"{shared_gate_role_name(kind, region)} may sts:AssumeRole {statement['Resource']} from ANY "
            f"function that runs as it, in any region (condition: {condition or 'none'}): a function "
            f"named hands-off-<other service>-{suffix} in another region gets the very session ARN "
            "the other service's target roles trust"
        )


@pytest.mark.usefixtures("local_aws")
def test_one_pipelines_checks_function_does_not_read_another_pipelines_override(
    fleet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FINDING (low: read only; information disclosure across teams).

    The hotfix function got an own-service check (``foreign_groups``); the checks function did
    not, and its shared role may now read EVERY pipeline's override parameter and its history
    (``/hands-off/*/override``, ``ssm:GetParameterHistory``) and every pipeline's executions. So
    anyone who may invoke orders' checks function (``hands-off-orders-gates``: a team role scoped
    to ``hands-off-orders-*``, or anything running as the shared machine role) invokes it with
    ``{"gate_function": "override", "parameter_name": "/hands-off/catalog-application/override"}``
    and gets catalog's override back: whether a hotfix/bypass is in force, for which stages and
    execution, its ``why`` (incident text) and the IAM identity ARN of the person who wrote it.
    Before the change orders' checker role could read orders' override only.

    Fix: as in ``hotfix.foreign_groups``, the checks handler (``dispatch``) refuses, when the
    function is ``hands-off-<svc>-gates``, an override ``parameter_name`` other than
    ``/hands-off/<svc>-application/override``, a ``pipeline`` other than ``<svc>-application``
    (the execution check) and a ``role_arn`` other than ``...:role/hands-off-<svc>-gate-reader``
    (IAM cannot key the shared role's SSM resources to the calling function, so the code check is
    the fix; the target reader's trust already stops the role_arn case).
    """
    catalog = ServiceNaming(service="catalog", tooling_account=TOOLING, tooling_region=REGION)
    boto3.client("ssm").put_parameter(
        Name=catalog.override_parameter,
        Type="String",
        Value=json.dumps(
            {
                "who": "carol",
                "why": "SECRET-INCIDENT-42 payment outage",
                "stages": ["Prod-2"],
                "scope": ["hotfix"],
                "execution_id": "catalog-exec-1",
                "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
            }
        ),
        Overwrite=True,
    )
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-gates")
    dispatch = importlib.import_module("hands_off_gates.dispatch")
    event = {
        CHECK_FUNCTION_KEY: "override",
        "parameter_name": catalog.override_parameter,
        "pipeline": "orders-application",
        "stage": "Prod-2",
        "execution_id": "catalog-exec-1",
    }
    try:
        result = dispatch.handler(event, None)
    except Exception:
        return  # refusing with an error is a fix too
    text = json.dumps(result)
    leaked = "SECRET-INCIDENT-42" in text or "carol" in text or result.get("active") is True
    assert not leaked, f"orders' checks function read catalog's override: {text}"


# --- held ----------------------------------------------------------------------------------------


def test_no_two_lookalike_services_share_a_trusted_session_or_a_role_name() -> None:  # HELD
    # HELD: the session a target role trusts is (shared role, hands-off-<svc>-<suffix>): the role
    # fixes the suffix (checker -> gates, hotfix -> hotfix), so two services share a session only
    # if they share a name. No service role name equals a shared role name (those end in a region,
    # no purpose ends in a digit). Tried: services ending in -gates/-hotfix, 'gates', 'hotfix',
    # 'gates-checker-us-east' and prefixes of each other.
    from hands_off.model.identity import _check_service_name

    for name in LOOKALIKES:
        _check_service_name(name, "service")  # each is a valid service name
    namings = [ServiceNaming(service=s, tooling_account=TOOLING, tooling_region=REGION) for s in LOOKALIKES]
    trusted: dict[str, str] = {}
    for naming in namings:
        for kind, suffix in (
            (SharedGateRole.CHECKER, GATE_FUNCTION_SUFFIXES[0]),
            (SharedGateRole.HOTFIX, GATE_FUNCTION_SUFFIXES[1]),
        ):
            session = naming.shared_gate_role_session_arn(kind, naming.gate_function(suffix))
            assert session not in trusted, (naming.service, trusted.get(session))
            trusted[session] = naming.service
    # Any gate function of one service, run as any shared role, is never a session another trusts.
    for a, b in itertools.permutations(namings, 2):
        for kind in SharedGateRole:
            for suffix in GATE_FUNCTION_SUFFIXES:
                session = a.shared_gate_role_session_arn(kind, a.gate_function(suffix))
                assert trusted.get(session) in (None, a.service), (a.service, b.service, session)
    shared = {shared_gate_role_name(kind, REGION) for kind in SharedGateRole}
    for naming in namings:
        for purpose in RolePurpose:
            assert naming.role(purpose) not in shared, naming.role(purpose)


def test_the_hotfix_check_refuses_lookalike_services_readers() -> None:  # HELD
    # HELD: foreign_groups takes the service from the whole function name (fullmatch) and compares
    # ':role/hands-off-<svc>-gate-reader' with the ':role/' anchor: a service whose name ends or
    # begins like another's is refused both ways; an unrecognised name only occurs without the
    # shared roles (per-pipeline roles, exact ARNs).
    def reader(service: str, account: str = TARGET) -> dict[str, Any]:
        return {"role_arn": f"arn:aws:iam::{account}:role/hands-off-{service}-gate-reader"}

    for own, other in itertools.permutations(LOOKALIKES, 2):
        function = f"hands-off-{own}-hotfix"
        assert foreign_groups([reader(other)], function), (own, other)
        assert not foreign_groups([reader(own), reader(own, "333333333333")], function), own
    # a service's hotfix function read as another's by a greedy/lazy regex split
    assert foreign_groups([reader("orders")], "hands-off-orders-hotfix-hotfix")
    assert foreign_groups([reader("orders-hotfix")], "hands-off-orders-hotfix")
    # no role, a writer instead of a reader, a non-mapping group
    assert foreign_groups([{"role_arn": None}], "hands-off-orders-hotfix")
    assert foreign_groups(
        [{"role_arn": f"arn:aws:iam::{TARGET}:role/hands-off-catalog-hotfix-writer"}],
        "hands-off-orders-hotfix",
    )
    assert foreign_groups(["x"], "hands-off-orders-hotfix")


@pytest.mark.parametrize(
    "module", ["hotfix", "dispatch", "handler", "../hotfix", "hotfix.handler", "contract"]
)
def test_the_checks_function_cannot_be_steered_to_the_hotfix_module(module: str) -> None:  # HELD
    # HELD: dispatch serves CHECK_MODULES only (an exact tuple); the hotfix module (the one that
    # assumes writers) is not reachable through the checks function, and the checker role may not
    # assume writers anyway.
    dispatch = importlib.import_module("hands_off_gates.dispatch")
    with pytest.raises(dispatch.UnknownGateFunction):
        dispatch.handler({CHECK_FUNCTION_KEY: module, "action": "arm", "groups": []}, None)


def test_readers_trust_the_checker_session_and_writers_the_hotfix_session_only(fleet: Any) -> None:  # HELD
    # HELD: the reader trusts the CHECKER role's session of hands-off-<svc>-gates and the writer the
    # HOTFIX role's session of hands-off-<svc>-hotfix, one principal each, no wildcard, no role ARN:
    # the checks function cannot assume a writer, the hotfix function cannot read through a reader,
    # and neither shared role as a whole is trusted.
    stacks = [c for c in fleet.app.node.find_all() if isinstance(c, ServiceAccessStack)]
    assert stacks
    checked = 0
    for stack in stacks:
        template = dict(Template.from_stack(stack).to_json())
        for resource in template["Resources"].values():
            name = resource["Properties"].get("RoleName", "") if resource["Type"] == "AWS::IAM::Role" else ""
            for purpose, kind, suffix in (
                ("gate-reader", SharedGateRole.CHECKER, "gates"),
                ("hotfix-writer", SharedGateRole.HOTFIX, "hotfix"),
            ):
                if not name.endswith(f"-{purpose}"):
                    continue
                service = name.removeprefix("hands-off-").removesuffix(f"-{purpose}")
                role = shared_gate_role_name(kind, REGION)
                want = f"arn:aws:sts::{TOOLING}:assumed-role/{role}/hands-off-{service}-{suffix}"
                for statement in resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                    principal = statement["Principal"]
                    assert set(principal) == {"AWS"}, (name, principal)
                    assert _resolve(principal["AWS"]) == want, (name, principal)
                    assert "Condition" not in statement or statement["Condition"], name
                    checked += 1
    assert checked


@pytest.mark.usefixtures("local_aws")
def test_the_bake_reads_a_group_through_its_own_reader_only(fleet: Any) -> None:  # HELD
    # HELD: the bake's alarm_rollback_off reads with the group's role_arn as given (the reader), in
    # the checks function (checker session): another service's reader refuses that session by its
    # trust; the bake's groups come from the own-input-checked, digest-verified input only.
    catalog = dict(Template.from_stack(fleet.pipeline("catalog")).to_json())
    groups = tge.action_input(catalog, "Prod-2", "Prod-2-Bake")["hotfix_groups"]
    assert groups
    assert all(":role/hands-off-catalog-gate-reader" in g["role_arn"] for g in groups)
    hotfix = importlib.import_module("hands_off_gates.hotfix")
    seen: list[str | None] = []

    def factory(region: str, role_arn: str | None) -> Any:
        seen.append(role_arn)
        raise RuntimeError("stop")

    target = hotfix.parse_hotfix_groups(groups)[0]
    with pytest.raises(RuntimeError):
        hotfix.alarm_rollback_off(target, factory)
    assert seen == [groups[0]["role_arn"]]
