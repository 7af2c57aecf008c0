# ruff: noqa: F811  (the fixtures of test_gate_execution are imported by name)
"""Attack review 5: the merged checks function (``hands_off_gates.dispatch``), the hotfix
function's own role and the target accounts' ``hotfix`` roles, the one machine log group.

Every test asserts the SAFE behaviour. A test marked FINDING fails on the code it was written
against (main at 96de533) and passes once the finding is fixed; the others are regression tests
for attacks that held.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_gate_execution as tge  # puts tests/gates on the path (codedeploy_fake)
from codedeploy_fake import FakeCodeDeploy, _error
from test_gate_execution import local_aws, pipeline_template  # noqa: F401  (fixtures)

from hands_off.blueprint import SSM_STANDARD_LIMIT, plan_pipeline
from hands_off.model import GatePolicy
from hands_off.model.example import example_environments
from hands_off.naming import RolePurpose, ServiceNaming
from tests.iam_permissions import identity_statements

# tests/gates has a test_hotfix_attack.py too: load the synth one by its path
_spec = importlib.util.spec_from_file_location(
    "synth_test_hotfix_attack", Path(__file__).resolve().parent / "test_hotfix_attack.py"
)
assert _spec is not None
assert _spec.loader is not None
_hotfix_attack = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hotfix_attack)
_EventBridge = _hotfix_attack._EventBridge

# ------------------------------------------------------------------------------- FINDINGS

# The Gates log groups of the release before 5880b81 (tests/synth/__snapshots__ at 234b8f3): a
# Lambda log group per gate function and one per state machine. Logical ids hash the construct
# path inside the stack, so they are the same in every pipeline stack.
PREVIOUS_GATE_LOG_GROUPS = {
    "GatesDecideFunctionLogs3352DF59": "DecideFunctionLogs (the override AUDIT lines)",
    "GatesExecutionFunctionLogsCCF041A8": "ExecutionFunctionLogs (rollback AUDIT lines)",
    "GatesHotfixFunctionLogs5C53010B": "HotfixFunctionLogs (the hotfix AUDIT lines)",
    "GatesGateLogsD30CAC5B": "GateLogs (gate executions, with their data)",
}
"""The Gates log groups of the release before 5880b81 that hold AUDIT lines (decide, execution,
hotfix) or the gate executions; the other six (the alarms, time-window, override and bake
functions' and the bake and restore machines' logs) held operational lines only, and the README's
Upgrading note says they go with the upgrade."""


def test_the_upgrade_deletes_no_gate_audit_log(pipeline_template: dict[str, Any]) -> None:
    """FINDING (medium, audit trail lost on upgrade; fixed): 5880b81 replaced the check functions'
    and the machines' log groups with new ones under new logical ids, all ``DeletionPolicy:
    Delete``: the self-mutation to that release would have deleted up to a year of ``decide``'s
    override AUDIT lines and ``execution``'s rollback AUDIT lines. Now the groups it kept logging
    to keep their logical ids (decide's for the checks, the gate machine's for the machines), the
    execution check's old group stays (retained), and every gate log group is retained."""
    resources = pipeline_template["Resources"]
    deleted = [
        f"{logical_id} ({what})"
        for logical_id, what in PREVIOUS_GATE_LOG_GROUPS.items()
        if resources.get(logical_id, {}).get("Type") != "AWS::Logs::LogGroup"
        or resources[logical_id].get("DeletionPolicy") != "Retain"
    ]
    assert not deleted, (
        "the pipeline's self-mutation to this release deletes these Gates log groups "
        f"(DeletionPolicy Delete, removed from the template): {deleted}"
    )


def test_every_gate_log_group_outlives_its_resource(pipeline_template: dict[str, Any]) -> None:
    """FINDING (medium, same root cause as above): every Gates log group, the one holding the
    hotfix's AUDIT lines and the one holding the three machines' executions included, is
    ``DeletionPolicy: Delete``: any later change of a construct id (as 5880b81 made) or a removed
    pipeline deletes the audit trail before its one-year retention. Fix: ``RemovalPolicy.RETAIN``."""
    not_retained = [
        logical_id
        for logical_id, r in pipeline_template["Resources"].items()
        if r["Type"] == "AWS::Logs::LogGroup"
        and logical_id.startswith("Gates")
        and (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) != ("Retain", "Retain")
    ]
    assert not not_retained, f"these gate log groups are deleted with their resource: {not_retained}"


def test_the_service_roles_of_two_services_never_share_a_name() -> None:
    """FINDING (low, name collision; fixed: the target role is ``hotfix-writer``): 8ea83ff added the
    purposes ``gate-hotfix`` (tooling account) and ``hotfix`` (target accounts). ``hands-
    off-<service>-<purpose>`` is then ambiguous: service ``orders``' hotfix-function role and
    service ``orders-gate``'s target hotfix role are both ``hands-off-orders-gate-hotfix`` (both
    valid service names, nothing checks prefixes across a fleet). In an account that is both
    ``orders``' tooling account and one of ``orders-gate``'s targets, the second stack to deploy
    fails (role exists); and the role that exists there is the one every ``orders`` target
    ``hotfix`` role trusts by ARN, whichever service created it. No other pair of purposes collides
    so (no purpose is ``<word>-<another purpose>``). Fix: name the target role so no purpose ends
    with another (e.g. ``hotfix-writer``, or ``gate-hotfix`` → ``gates-hotfix``), or reject service
    names ending in ``-gate``."""
    tooling = "111111111111"
    names: dict[str, tuple[str, str]] = {}
    clashes = []
    for service in ("orders", "orders-gate"):
        naming = ServiceNaming(service=service, tooling_account=tooling, tooling_region="us-east-1")
        for purpose in RolePurpose:
            name = naming.role(purpose)
            if name in names:
                clashes.append(f"{name}: {names[name]} and {(service, str(purpose))}")
            names[name] = (service, str(purpose))
    assert not clashes, f"role names shared by two services: {clashes}"


@pytest.mark.parametrize("length", [19, 28])
def test_the_example_waves_still_fit_a_service_name_that_fit_before(length: int) -> None:
    """FINDING (low, compatibility; fails closed at synth; fixed: the writer role is derived from
    ``role_arn``, not carried): each ``hotfix_groups`` entry of every
    gate and bake input gained ``hotfix_role_arn`` (~80 characters per copy), which the
    4,096-character SSM parameter limit pays for. With the example fleet's waves (Prod-4: five
    regions) a service name of up to 28 characters planned before 8ea83ff, only up to 18 now:
    e.g. a 19-28 character service that deployed yesterday fails ``cdk synth`` after the
    upgrade ("the gate configuration is 4122 characters, over the 4,096"). Fix: do not repeat
    the role per copy (the hotfix role is the reader's account's ``hotfix`` role: carry one
    ``hotfix_role_arns`` map per account, or derive it from ``role_arn``'s account), or store
    the inputs as Advanced parameters (8 KB)."""
    naming = ServiceNaming(
        service="s" + "x" * (length - 1), tooling_account="111111111111", tooling_region="us-east-1"
    )
    planned = plan_pipeline(
        example_environments(), naming, deployment_policy=lambda stage: stage.policy, gate_policy=GatePolicy()
    )
    assert max(len(s.json) for s in planned.step_inputs) <= SSM_STANDARD_LIMIT


class _UpgradedAccounts(FakeCodeDeploy):
    """CodeDeploy as the target accounts answer once their access stacks are at 8ea83ff: the
    gate-reader role lost ``UpdateDeploymentGroup`` (it may still read the groups)."""

    def _answer(self, region: str, role_arn: str | None, operation: str, params: dict[str, Any]) -> Any:
        if operation == "UpdateDeploymentGroup" and role_arn and role_arn.endswith("-gate-reader"):
            with self._lock:
                self.calls.append((region, role_arn, operation, params))
            return _error("AccessDeniedException", f"{role_arn} is not authorized to UpdateDeploymentGroup")
        return super()._answer(region, role_arn, operation, params)


@pytest.mark.usefixtures("local_aws")
def test_a_hotfix_armed_before_the_upgrade_is_turned_back_on(
    pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FINDING (low, upgrade path: alarm rollback left off; it does page; fixed: the writer role
    is derived from the reader's ARN, which inputs of every release carry): a hotfix armed at
    Prod-2 before the pipeline self-mutates to 8ea83ff (the old gate turned the group off
    through the gate-reader role). The bake already running keeps the input it loaded at its
    start, whose ``hotfix_groups`` have no ``hotfix_role_arn``: its ``RestoreHotfix`` now runs
    in the hotfix function (its own role), which falls back to ``role_arn``, the gate-reader
    role: the hotfix function's role may not assume it, and once the account's access stack is
    updated the reader may not update groups either -> ``HotfixNotRestored``. The ``Restore``
    machine started for that failure re-reads the parameter, which the self-mutation rewrote
    (new digest) -> ``GateInputTampered``. Both page, but alarm rollback stays OFF until the
    stage's next gate (and an ``OnFailure`` rollback of that stage deploys with it off when the
    account's new hotfix role does not exist yet: its disarm fails and the rollback is let
    through). README "Upgrading / To the one checks function" says "the bake or the Restore
    turns CodeDeploy alarm rollback back on" — no longer true for this upgrade.

    Simulated with moto: the bake runs the new definition on the old-shaped input (the hotfix
    task's payload is the same in both definitions; the function ARN is unchanged, only its
    role changed), with a CodeDeploy whose reader role may not update (lenient: the real
    AssumeRole would already fail). Fix: when ``hotfix_role_arn`` is absent, derive the
    account's ``hotfix`` role from ``role_arn`` (same account, ``-gate-reader`` → ``-hotfix``)
    instead of writing through the reader; or a one-release transition; and correct the
    README Upgrading note (let bakes under a hotfix finish before upgrading, or turn the
    groups on by hand)."""
    monkeypatch.setattr(tge, "CODEDEPLOY", _UpgradedAccounts())
    new_input = {
        **tge.action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
        "bake_seconds": 1,
        "poll_seconds": 1,
    }
    old_groups = [{k: v for k, v in g.items() if k != "hotfix_role_arn"} for g in new_input["hotfix_groups"]]
    old_input = {**new_input, "hotfix_groups": old_groups}
    # the hotfix the old gate armed: alarm rollback off
    tge.create_groups(old_groups, enabled=False)
    tge.create_alarms(old_input["checks"])
    bridge = _EventBridge(pipeline_template)
    pointer = tge.store(old_input)
    bake_arn = tge.start(bridge.machine("Bake"), old_input, pointer)
    bake = bridge.finish(bake_arn)
    # the self-mutation rewrote the parameter with the new input (its new digest is in the new
    # pipeline's action, not in this execution's input)
    tge.rewrite(pointer, json.dumps(new_input, separators=(",", ":")))
    bridge.deliver(bridge.status_event(bake_arn))
    restores = [bridge.finish(arn) for arn in bridge.started]

    assert tge.groups_enabled(old_groups) == [True] * len(old_groups), (
        "alarm rollback left OFF after the upgrade: bake "
        f"{bake['status']}/{bake.get('error')}, restore "
        f"{[(r['status'], r.get('error')) for r in restores]}"
    )


# ------------------------------------------------------------------- attempts that held


@pytest.mark.usefixtures("local_aws")
def test_a_rewritten_role_arn_fails_the_gate_as_tampered(pipeline_template: dict[str, Any]) -> None:
    """HELD: the gate input's SHA-256 covers each group's ``role_arn``, from which the hotfix
    derives the writer role (the digest is of the whole parameter value): pointing it at another
    service's roles fails closed, before anything is armed, and pages."""
    gate_input = tge.fast(
        tge.action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=tge.ALWAYS_OPEN
    )
    groups = gate_input["hotfix_groups"]
    tge.create_groups(groups)
    tge.create_alarms(gate_input["app_checks"], state="ALARM")
    tge.write_override(gate_input, scope=["hotfix"], execution_id="test-execution")
    pointer = tge.store(gate_input)
    rewritten = [
        {**g, "role_arn": g["role_arn"].replace("hands-off-orders", "hands-off-catalog")} for g in groups
    ]
    tge.rewrite(pointer, json.dumps({**gate_input, "hotfix_groups": rewritten}, separators=(",", ":")))

    result = tge.run(tge.machine(pipeline_template, "Gate"), gate_input, pointer=pointer)

    assert (result["status"], result["error"]) == ("FAILED", "GateInputTampered")
    assert tge.CODEDEPLOY.updates() == []
    assert tge.groups_enabled(groups) == [True] * len(groups)


def _trusted_by(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal", {})
    found = principal.get("AWS", []) if isinstance(principal, dict) else [principal]
    return found if isinstance(found, list) else [found]


def test_only_the_gate_hotfix_role_may_assume_a_hotfix_role_anywhere(fleet: Any) -> None:
    """HELD: across every synthesized template (pipelines, access stacks, copies, baselines, the
    shared gate roles), each ``hands-off-<svc>-hotfix-writer`` role trusts exactly the tooling
    account and region's shared ``hands-off-gates-hotfix-<region>`` role's session of that
    service's hotfix function (``hands-off-<svc>-hotfix``: no account root, no wildcard, no
    condition-less service, not the role itself, which every pipeline's functions run as), no
    identity policy but that role's names a hotfix-writer role (or a wildcard role) in
    ``sts:AssumeRole``, and it names nothing else; the gate-reader roles trust only the shared
    checker role's session of their service's checks function, which may assume nothing else; and
    only the hotfix-writer roles may ``UpdateDeploymentGroup``."""
    # each service's function's session of the shared role (Lambda names it after the function)
    tooling = "arn:aws:sts::111111111111:assumed-role/hands-off-gates-{}-us-east-1/hands-off-{}-{}"
    problems = []
    for path in sorted(Path(fleet.outdir).rglob("*.template.json")):
        template = json.loads(path.read_text())
        resources = template.get("Resources", {})
        shared = path.name.startswith("HandsOffGateRoles-")
        for logical_id, r in resources.items():
            if r["Type"] != "AWS::IAM::Role":
                continue
            name = r["Properties"].get("RoleName")
            trust = r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            trusted = [p for s in trust for p in _trusted_by(s)]
            services = any("Service" in s.get("Principal", {}) for s in trust)
            for suffix, shared_role, function in (
                ("-hotfix-writer", "hotfix", "hotfix"),
                ("-gate-reader", "checker", "gates"),
            ):
                if not (isinstance(name, str) and name.endswith(suffix)):
                    continue
                service = name.removeprefix("hands-off-").removesuffix(suffix)
                if trusted != [tooling.format(shared_role, service, function)] or services:
                    problems.append(f"{path.name}/{logical_id} trusts {trust}")
        for holder, statement in identity_statements(template):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            targets = statement.get("Resource", [])
            targets = [targets] if not isinstance(targets, list) else targets
            hotfix_holder = shared and holder.startswith("HotfixRole")
            checker_holder = shared and holder.startswith("CheckerRole")
            if any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
                for arn in targets:
                    text = json.dumps(arn)
                    writer = "-hotfix-writer" in text
                    if (writer and not hotfix_holder) or (
                        text.endswith('role/*"')
                        and "ResourceTag/aws-cdk:bootstrap-role" not in json.dumps(statement)
                    ):
                        problems.append(f"{path.name}/{holder} may assume {text}")
                    if hotfix_holder and not re.search(r'role/hands-off-\*-hotfix-writer"', text):
                        problems.append(f"{path.name}/{holder} (the hotfix function) may assume {text}")
                    if checker_holder and not re.search(r'role/hands-off-\*-gate-reader"', text):
                        problems.append(f"{path.name}/{holder} (the checks) may assume {text}")
            if any(
                a in ("codedeploy:UpdateDeploymentGroup", "codedeploy:*", "*") for a in actions
            ) and not holder.startswith("HotfixRole"):
                problems.append(f"{path.name}/{holder} may update deployment groups")
    assert not problems, problems
    # Not vacuous: the fleet has writer and reader roles, and the shared roles that may assume them.
    names = [
        r["Properties"].get("RoleName")
        for path in Path(fleet.outdir).rglob("*.template.json")
        for r in json.loads(path.read_text()).get("Resources", {}).values()
        if r["Type"] == "AWS::IAM::Role"
    ]
    assert any(isinstance(n, str) and n.endswith("-hotfix-writer") for n in names)
    assert any(isinstance(n, str) and n.endswith("-gate-reader") for n in names)
    assert "hands-off-gates-hotfix-us-east-1" in names


def test_the_checks_function_cannot_be_routed_to_the_hotfix_module(pipeline_template: dict[str, Any]) -> None:
    """HELD: every task that invokes the checks function names one of the six check modules in a
    literal ``gate_function`` (never a ``.$`` path an input could steer), every hotfix task
    invokes the hotfix function, and nothing else invokes either."""
    resources = pipeline_template["Resources"]
    [checks] = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and "Checks" in k]
    [hotfix] = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function" and "Hotfix" in k]
    functions = {checks: "dispatch", hotfix: "hotfix"}
    seen: list[tuple[str, str, Any]] = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if state.get("Type") == "Task" and ":lambda:" in str(state.get("Resource")):
                function = state["Resource"].rsplit(":", 1)[-1]
                parameters = state.get("Parameters", {})
                seen.append(
                    (name, function, parameters.get("gate_function", parameters.get("gate_function.$")))
                )
                assert "gate_function.$" not in parameters, name

    for r in resources.values():
        if r["Type"] == "AWS::StepFunctions::StateMachine":
            definition = json.loads(
                tge.render(r["Properties"]["DefinitionString"], functions, "111111111111")
            )
            walk(definition["States"])
    assert seen
    for name, function, module in seen:
        if function == "dispatch":
            assert module in ("alarms", "time_window", "override", "decide", "bake", "execution"), name
        else:
            assert function == "hotfix", name
            assert module is None, name
            assert "Hotfix" in name, name


def test_the_reader_role_is_never_used_to_update() -> None:
    """HELD (unit): the hotfix module updates through the account's writer role it derives from
    the reader's ARN (an input of any release names only the reader), never through the reader,
    which the upgraded accounts refuse anyway."""
    from hands_off_gates.hotfix import set_hotfix

    fake = _UpgradedAccounts()
    fake.add_group("us-east-1", "hands-off-lambda", "orders-prod")
    reader = "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader"
    groups = [
        {
            "region": "us-east-1",
            "role_arn": reader,
            "application": "hands-off-lambda",
            "deployment_group": "orders-prod",
            "own_alarms": ["orders-prod-health"],
        }
    ]
    result = set_hotfix("arm", groups, fake.factory, pipeline="p", stage="Prod-2", execution_id="e")
    assert result["ok"] is True
    assert {role for _, role, _, _ in fake.calls} == {reader.replace("-gate-reader", "-hotfix-writer")}
    assert fake.enabled("us-east-1", "hands-off-lambda", "orders-prod") is False
    with pytest.raises(ClientError):
        fake.factory("us-east-1", reader).update_deployment_group(
            applicationName="hands-off-lambda", currentDeploymentGroupName="orders-prod"
        )
    assert boto3  # (imported for the moto fixtures)
