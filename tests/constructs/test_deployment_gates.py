"""DeploymentGates alone: the gate and bake state machines (ASL shape), their six Lambda functions,
the checker role's exact permissions, and the StateMachineStep that invokes a machine."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Aws, Stack, Stage
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as cp_actions
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Capture, Match, Template

from hands_off.constructs import _asl as asl
from hands_off.constructs.alarm_factory import new_paging_topic, paging_filter_policy
from hands_off.constructs.deployment_gates import (
    HOTFIX_NOT_RESTORED_ERROR,
    HOTFIX_UNSET_ERROR,
    INPUT_TAMPERED_ERROR,
    INPUT_UNVERIFIED_ERROR,
    OVERRIDE_UNREADABLE_ERROR,
    PAGED_ERRORS,
    UNPAGED_ERRORS,
    DeploymentGates,
    StateMachineStep,
    config_digest,
)
from hands_off.constructs.roles import INLINE_POLICY_NAME
from hands_off.naming import ServiceNaming
from hands_off_gates.contract import CHECK_FUNCTION_KEY, CHECK_MODULES
from tests.iam_permissions import role_statements
from tests.round_trips import round_trips

ACCOUNT, REGION = "123456789012", "eu-west-1"  # the bare stack's env (conftest)
PIPELINE = "orders-application"
READERS = [
    "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader",
    "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader",
]
HOTFIXERS = [
    "arn:aws:iam::222222222222:role/hands-off-orders-hotfix-writer",
    "arn:aws:iam::333333333333:role/hands-off-orders-hotfix-writer",
]
OVERRIDE = f"/hands-off/{PIPELINE}/override"
CONFIG_PARAMETERS = [
    f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/hands-off/{PIPELINE}/gates/Gamma-Gate",
    f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/hands-off/{PIPELINE}/gates/Gamma-Bake",
]
MODULES = ("alarms", "time_window", "override", "decide", "bake", "execution", "hotfix")

GATE_STATES = {
    "GateCheckExecution",
    "GateRollback?",
    "GateRollbackAllowed",
    "GateRollbackOwnInput?",
    "GateRollbackLoadConfig",
    "GateRollbackInputIntact?",
    "GateRollbackStart",
    "GateRollbackHotfixInput?",
    "GateRollbackDisarmHotfix",
    "GateRollbackConfigUnread",
    "GateRollbackInputUnverified",
    "GateRollbackHotfixFailed",
    "GateOwnInput?",
    "GateInputNotOwn",
    "GateLoadConfig",
    "GateInputIntact?",
    "GateInputUnverified",
    "GateInputTampered",
    "GateStart",
    "CheckAll",
    "Decide",
    "Proceed?",
    "WaitAndRecheck",
    "Clear",
    "Blocked",
    "Hotfix?",
    "ArmHotfix",
    "DisarmHotfix",
    "HotfixTaskFailed",
    "HotfixSet?",
    "HotfixUnset",
}
BAKE_STATES = {
    "BakeCheckExecution",
    "BakeRollback?",
    "BakeRollbackAllowed",
    "BakeRollbackOwnInput?",
    "BakeRollbackLoadConfig",
    "BakeRollbackInputIntact?",
    "BakeRollbackStart",
    "BakeRollbackHotfixInput?",
    "BakeRollbackRestoreHotfix",
    "BakeRollbackConfigUnread",
    "BakeRollbackInputUnverified",
    "BakeRollbackHotfixFailed",
    "BakeOwnInput?",
    "BakeInputNotOwn",
    "BakeLoadConfig",
    "BakeInputIntact?",
    "BakeInputUnverified",
    "BakeInputTampered",
    "BakeStart",
    "BakeOverride",
    "BakeOverrideFailed",
    "Watch",
    "Baked?",
    "KeepBaking",
    "Baked",
    "BakeFailed",
    "CountUnreadablePoll",
    "UnreadableBudgetLeft?",
    "DoneRestoreHotfix",
    "DoneRestoreHotfixFailed",
    "DoneHotfixRestored?",
    "FailedRestoreHotfix",
    "FailedRestoreHotfixFailed",
    "FailedHotfixRestored?",
    "HotfixNotRestored",
    "CountOverrideFailure",
    "OverrideBudgetLeft?",
    "OverrideBudgetSpent",
    "OverrideFailedRestoreHotfix",
    "OverrideFailedRestoreHotfixFailed",
    "OverrideFailedHotfixRestored?",
    "OverrideUnreadable",
}
# Lambda service errors, throttling and timeouts: retried with backoff on every Lambda task.
LAMBDA_RETRY = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.Unknown",
        "Sandbox.Timedout",
        "States.Timeout",
    ],
    "IntervalSeconds": 2,
    "MaxAttempts": 6,
    "BackoffRate": 2,
    "MaxDelaySeconds": 30,
    "JitterStrategy": "FULL",
}
DIGEST = "0" * 63 + "f"


def lambda_tasks(states: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Task state invoking a function, inside Parallel branches too."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        if state["Type"] == "Parallel":
            for branch in state["Branches"]:
                found.update(lambda_tasks(branch["States"]))
        elif state["Type"] == "Task" and "Function" in state["Resource"]:  # ${<Id>Function<hash>.Arn}
            found[name] = state
    return found


@dataclass
class Built:
    stack: Stack
    gates: DeploymentGates
    template: Template
    flat: Callable[[Any], Any]

    def id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def asl(self, machine: Any) -> dict[str, Any]:
        """The machine's definition, parsed (references become ``${LogicalId.Arn}``)."""
        definition = self.template.to_json()["Resources"][self.id(machine)]["Properties"]["DefinitionString"]
        return json.loads(self.flat(definition))  # type: ignore[no-any-return]

    def function_arn(self, module: str) -> str:
        return "${" + self.id(self.gates.functions[module]) + ".Arn}"

    def policy_statements(self, role: Any) -> list[dict[str, Any]]:
        statements = role_statements(self.template.to_json(), self.id(role))
        return self.flat(statements)  # type: ignore[no-any-return]


def new_gates(stack: Stack) -> DeploymentGates:
    return DeploymentGates(
        stack,
        "Gates",
        pipeline_name=PIPELINE,
        reader_role_arns=READERS,
        override_parameter_name=OVERRIDE,
        checker_role_name="hands-off-orders-gate-checker",
        config_parameter_arns=CONFIG_PARAMETERS,
        hotfix_role_arns=HOTFIXERS,
    )


@pytest.fixture(scope="module")
def built(bare_stack: Callable[..., Stack], flat: Callable[[Any], Any]) -> Built:
    stack = bare_stack()
    gates = new_gates(stack)
    return Built(stack, gates, Template.from_stack(stack), flat)


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def resources_of(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return sorted(resource) if isinstance(resource, list) else [resource]


# ----------------------------------------------------------------------------- machines


def test_three_state_machines_gate_bake_and_restore(built: Built) -> None:
    built.template.resource_count_is("AWS::StepFunctions::StateMachine", 3)
    machines = built.template.find_resources("AWS::StepFunctions::StateMachine")
    assert set(machines) == {built.id(m) for m in (built.gates.gate, built.gates.bake, built.gates.restore)}
    for machine in machines.values():
        properties = machine["Properties"]
        # one role for the three machines
        assert properties["RoleArn"] == {"Fn::GetAtt": [built.id(built.gates.machine_role), "Arn"]}
        assert properties["TracingConfiguration"] == {"Enabled": True}
        assert properties["LoggingConfiguration"]["Level"] == "ALL"
        assert properties["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert built.asl(built.gates.gate)["TimeoutSeconds"] == 7 * 86_400
    assert built.asl(built.gates.bake)["TimeoutSeconds"] == 2 * 86_400
    assert built.asl(built.gates.restore)["TimeoutSeconds"] == 3_600


def test_definitions_are_what_stack_to_json_string_renders(built: Built) -> None:
    """The machines' definitions are serialized in Python (no round trip): exactly the string
    CDK's token-aware ``to_json_string`` makes of the same states, references included."""
    gates, stack = built.gates, built.stack
    resources = built.template.to_json()["Resources"]
    for machine, definition, timeout in (
        (gates.gate, gates._gate_definition, 7 * 86_400),
        (gates.bake, gates._bake_definition, 2 * 86_400),
        (gates.restore, gates._restore_definition, 3_600),
    ):
        expected = stack.resolve(stack.to_json_string(asl.render(definition(), timeout_seconds=timeout)))
        assert resources[built.id(machine)]["Properties"]["DefinitionString"] == expected


def test_gate_machine_has_exactly_its_states(built: Built) -> None:
    asl = built.asl(built.gates.gate)
    assert set(asl["States"]) == GATE_STATES
    assert asl["StartAt"] == "GateCheckExecution"


@pytest.mark.parametrize("prefix", ["Gate", "Bake"])
def test_rollbacks_are_let_through_before_the_parameter_is_even_read(built: Built, prefix: str) -> None:
    """A deleted or rewritten gate parameter must not block the rollback meant to restore service:
    the rollback check comes first, and needs nothing from the parameter."""
    asl = built.asl(built.gates.gate if prefix == "Gate" else built.gates.bake)
    states = asl["States"]
    assert asl["StartAt"] == f"{prefix}CheckExecution"
    check = states[f"{prefix}CheckExecution"]
    assert check["Resource"] == built.function_arn("execution")
    assert check["Parameters"] == {
        "pipeline": PIPELINE,
        "execution_id.$": "$.pipeline_execution_id",
        CHECK_FUNCTION_KEY: "execution",
    }
    assert check["ResultPath"] == "$.execution"
    assert check["Next"] == f"{prefix}Rollback?"
    choice = states[f"{prefix}Rollback?"]
    assert choice["Choices"] == [
        {"Variable": "$.execution.rollback", "BooleanEquals": True, "Next": f"{prefix}RollbackOwnInput?"}
    ]
    assert choice["Default"] == f"{prefix}OwnInput?"
    assert states[f"{prefix}RollbackAllowed"] == {"Type": "Succeed", "OutputPath": "$.execution"}
    # cannot tell (the check itself failed): not a rollback, the normal checks apply
    assert check["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.execution_error", "Next": f"{prefix}OwnInput?"}
    ]


def _own_input_choice(then: str, other: str) -> dict[str, Any]:
    """The Choice that lets only this pipeline's inputs (CONFIG_PARAMETERS, by name) on."""
    path = "$.config_parameter"
    return {
        "Type": "Choice",
        "Choices": [
            {"Not": {"Variable": path, "IsPresent": True}, "Next": other},
            {"Not": {"Variable": path, "IsString": True}, "Next": other},
            {
                "Or": [
                    {"Variable": path, "StringEquals": arn.split(":parameter", 1)[1]}
                    for arn in CONFIG_PARAMETERS
                ],
                "Next": then,
            },
        ],
        "Default": other,
    }


@pytest.mark.parametrize("prefix", ["Gate", "Bake"])
def test_a_machine_reads_only_its_own_pipelines_inputs(built: Built, prefix: str) -> None:
    """With the shared roles a machine may read every pipeline's inputs: an action naming any
    parameter but this pipeline's own fails closed (paged) before anything reads it, and a
    rollback does not use it (the rollback still goes through)."""
    states = built.asl(built.gates.gate if prefix == "Gate" else built.gates.bake)["States"]
    assert states[f"{prefix}OwnInput?"] == _own_input_choice(f"{prefix}LoadConfig", f"{prefix}InputNotOwn")
    foreign = states[f"{prefix}InputNotOwn"]
    assert (foreign["Type"], foreign["Error"]) == ("Fail", INPUT_TAMPERED_ERROR)
    assert f"pipeline {PIPELINE}" in foreign["CausePath"]
    assert states[f"{prefix}RollbackOwnInput?"] == _own_input_choice(
        f"{prefix}RollbackLoadConfig", f"{prefix}RollbackInputUnverified"
    )


def test_restore_uses_only_its_own_pipelines_inputs(built: Built) -> None:
    states = built.asl(built.gates.restore)["States"]
    assert states["RestorePointer"]["Next"] == "RestoreOwnInput?"
    assert states["RestoreOwnInput?"] == _own_input_choice("RestoreLoadConfig", "RestoreNotOwnInput")
    assert states["RestoreNotOwnInput"]["Next"] == "RestoreInputUnverified"
    assert states["RestoreInputUnverified"]["Error"] == INPUT_UNVERIFIED_ERROR


def test_config_parameters_must_be_plain_parameter_arns(bare_stack: Callable[..., Stack]) -> None:
    with pytest.raises(ValueError, match="not an SSM parameter ARN"):
        DeploymentGates(
            bare_stack(),
            "Gates",
            pipeline_name=PIPELINE,
            reader_role_arns=READERS,
            override_parameter_name=OVERRIDE,
            checker_role_name="hands-off-orders-gate-checker",
            config_parameter_arns=[f"arn:aws:s3:::bucket/hands-off/{PIPELINE}/gates/Gamma-Gate"],
        )


@pytest.mark.parametrize(("prefix", "action"), [("Gate", "disarm"), ("Bake", "restore")])
def test_a_rollback_turns_alarm_rollback_back_on_and_nothing_on_that_path_blocks_it(
    built: Built, prefix: str, action: str
) -> None:
    """A failed hotfix deployment may leave a group's CodeDeploy alarm configuration off: the
    rollback's gate (disarm) and bake (restore) turn every group back on, from the verified input
    only, and let the rollback through whatever happens, saying so in the output's ``hotfix``."""
    states = built.asl(built.gates.gate if prefix == "Gate" else built.gates.bake)["States"]
    p, allowed = f"{prefix}Rollback", f"{prefix}RollbackAllowed"
    normal = states[f"{prefix}LoadConfig"]
    load = states[f"{p}LoadConfig"]
    assert {k: v for k, v in load.items() if k not in ("Next", "Catch")} == {
        k: v for k, v in normal.items() if k != "Next"
    }
    assert load["Next"] == f"{p}InputIntact?"
    assert load["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"{p}ConfigUnread"}
    ]
    assert states[f"{p}InputIntact?"] == {
        "Type": "Choice",
        "Choices": [
            {"Not": {"Variable": "$.config_sha256", "IsPresent": True}, "Next": f"{p}InputUnverified"},
            {"Not": {"Variable": "$.config_sha256", "IsString": True}, "Next": f"{p}InputUnverified"},
            {"Variable": "$.loaded.sha256", "StringEqualsPath": "$.config_sha256", "Next": f"{p}Start"},
        ],
        "Default": f"{p}InputUnverified",
    }
    assert states[f"{p}Start"] == {
        "Type": "Pass",
        "Parameters": {
            "input.$": "States.StringToJson($.loaded.value)",
            "execution_id.$": "$.pipeline_execution_id",
            "execution.$": "$.execution",
            "config_parameter.$": "$.config_parameter",
        },
        "Next": f"{p}HotfixInput?",
    }
    task_name = f"{p}{action.capitalize()}Hotfix"
    assert states[f"{p}HotfixInput?"] == {
        "Type": "Choice",
        "Choices": [
            {
                "And": [
                    {"Variable": f"$.input.{k}", "IsPresent": True}
                    for k in ("hotfix_groups", "pipeline", "stage")
                ],
                "Next": task_name,
            }
        ],
        "Default": f"{p}InputUnverified",
    }
    task = states[task_name]
    assert task["Resource"] == built.function_arn("hotfix")
    assert task["Parameters"] == {"action": action, **HOTFIX_PAYLOAD}
    assert (task["ResultPath"], task["Next"]) == ("$.execution.hotfix", allowed)
    assert task["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"{p}HotfixFailed"}
    ]
    note = "CodeDeploy alarm rollback of the stage deployment groups was not made sure to be on"
    for name, reason in (
        (
            "ConfigUnread",
            f"States.Format('gate input could not be read ({{}}): {note} — letting the rollback through', "
            "$.error.Error)",
        ),
        (
            "InputUnverified",
            "States.Format('gate input {} is not what the pipeline was deployed with (or the action gives "
            f"no digest), so it is not used: {note} — letting the rollback through', $.config_parameter)",
        ),
        (
            "HotfixFailed",
            "States.Format('CodeDeploy alarm rollback could not be made sure to be on ({}) — letting the "
            "rollback through', $.error.Error)",
        ),
    ):
        assert states[f"{p}{name}"] == {
            "Type": "Pass",
            "ResultPath": "$.execution.hotfix",
            "Parameters": {"ok": False, "reason.$": reason},
            "Next": allowed,
        }
    # no Fail state is reachable from the rollback path
    reachable, todo = set(), [f"{prefix}Rollback?"]
    while todo:
        name = todo.pop()
        if name in reachable or name == f"{prefix}OwnInput?":  # the Default: not a rollback
            continue
        reachable.add(name)
        state = states[name]
        todo += [state[k] for k in ("Next", "Default") if k in state]
        todo += [c["Next"] for k in ("Choices", "Catch") for c in state.get(k, [])]
    assert {states[n]["Type"] for n in reachable} == {"Choice", "Task", "Pass", "Succeed"}
    assert {n for n in reachable if states[n]["Type"] == "Succeed"} == {allowed}


@pytest.mark.parametrize("prefix", ["Gate", "Bake"])
def test_the_input_is_verified_against_its_digest_before_it_is_used(built: Built, prefix: str) -> None:
    states = built.asl(built.gates.gate if prefix == "Gate" else built.gates.bake)["States"]
    load = states[f"{prefix}LoadConfig"]
    assert load["Resource"] == "arn:aws:states:::aws-sdk:ssm:getParameter"
    assert load["Parameters"] == {"Name.$": "$.config_parameter"}
    assert load["ResultSelector"] == {
        "value.$": "$.Parameter.Value",
        "sha256.$": "States.Hash($.Parameter.Value, 'SHA-256')",
    }
    assert load["ResultPath"] == "$.loaded"
    assert load["Next"] == f"{prefix}InputIntact?"
    intact = states[f"{prefix}InputIntact?"]
    assert intact["Choices"] == [
        {"Not": {"Variable": "$.config_sha256", "IsPresent": True}, "Next": f"{prefix}InputUnverified"},
        {"Not": {"Variable": "$.config_sha256", "IsString": True}, "Next": f"{prefix}InputTampered"},
        {"Variable": "$.loaded.sha256", "StringEqualsPath": "$.config_sha256", "Next": f"{prefix}Start"},
    ]
    assert intact["Default"] == f"{prefix}InputTampered"
    assert states[f"{prefix}InputTampered"] == {
        "Type": "Fail",
        "Error": "GateInputTampered",
        "CausePath": (
            "States.Format('gate input {} was changed outside the pipeline: its SHA-256 is {}, the "
            "pipeline was deployed with {}; failing closed (redeploy the pipeline to restore it)', "
            "$.config_parameter, $.loaded.sha256, $.config_sha256)"
        ),
    }
    assert states[f"{prefix}InputUnverified"] == {
        "Type": "Fail",
        "Error": "GateInputUnverified",
        "CausePath": (
            "States.Format('the pipeline action gives no config_sha256 for gate input {}: it cannot "
            "be verified; failing closed (redeploy the pipeline)', $.config_parameter)"
        ),
    }
    start = states[f"{prefix}Start"]
    assert start["Parameters"]["input.$"] == "States.StringToJson($.loaded.value)"
    assert start["Parameters"]["execution_id.$"] == "$.pipeline_execution_id"


@pytest.mark.parametrize("prefix", ["Gate", "Bake"])
def test_a_throttled_parameter_read_is_retried(built: Built, prefix: str) -> None:
    load = built.asl(built.gates.gate if prefix == "Gate" else built.gates.bake)["States"][
        f"{prefix}LoadConfig"
    ]
    assert load["Retry"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 1,
            "MaxAttempts": 2,
            "BackoffRate": 2,
            "JitterStrategy": "FULL",
        }
    ]


@pytest.mark.parametrize(
    ("machine", "tasks"),
    [
        (
            "gate",
            {
                "GateCheckExecution",
                "AppAlarms",
                "OrgAlarms",
                "CheckWindow",
                "CheckOverride",
                "Decide",
                "ArmHotfix",
                "DisarmHotfix",
                "GateRollbackDisarmHotfix",
            },
        ),
        (
            "bake",
            {
                "BakeCheckExecution",
                "BakeOverride",
                "Watch",
                "DoneRestoreHotfix",
                "FailedRestoreHotfix",
                "OverrideFailedRestoreHotfix",
                "BakeRollbackRestoreHotfix",
            },
        ),
    ],
)
def test_every_lambda_task_retries_lambda_errors_and_timeouts_with_backoff(
    built: Built, machine: str, tasks: set[str]
) -> None:
    found = lambda_tasks(built.asl(getattr(built.gates, machine))["States"])
    assert set(found) == tasks
    for name, task in found.items():
        assert task["Retry"] == [LAMBDA_RETRY], name
        assert task["TimeoutSeconds"] == 90, name  # past the function's 60 s: a hung invoke ends


FALLBACKS = {
    "AppAlarms": {
        "clear": False,
        "label": "app",
        "reasons.$": (
            "States.Array(States.Format('app alarms check failed ({}) — blocking, will re-check', "
            "$.error.Error))"
        ),
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    },
    "OrgAlarms": {
        "clear": False,
        "label": "org",
        "reasons.$": (
            "States.Array(States.Format('org alarms check failed ({}) — blocking, will re-check', "
            "$.error.Error))"
        ),
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    },
    "CheckWindow": {
        "open": False,
        "reason.$": "States.Format('time-window check failed ({}) — blocking, will re-check', $.error.Error)",
    },
    "CheckOverride": {
        "active": False,
        "reason.$": "States.Format('override check failed ({}) — no override applies', $.error.Error)",
    },
}


def test_a_check_that_fails_blocks_and_rechecks_instead_of_failing_the_gate(built: Built) -> None:
    """After its retries, a failed check becomes a blocked result: Decide still decides, the gate
    waits and re-checks, and the failure counts toward max_wait_seconds like any blocker."""
    check_all = built.asl(built.gates.gate)["States"]["CheckAll"]
    for branch in check_all["Branches"]:
        task_name = branch["StartAt"]
        task = branch["States"][task_name]
        assert task["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": f"{task_name}Failed"}
        ]
        assert branch["States"][f"{task_name}Failed"] == {
            "Type": "Pass",
            "Parameters": FALLBACKS[task_name],
            "End": True,
        }
    assert "Catch" not in check_all


def test_a_bake_poll_that_fails_spends_the_error_budget(built: Built) -> None:
    from hands_off_gates.contract import UNREADABLE_POLL_LIMIT

    states = built.asl(built.gates.bake)["States"]
    assert states["BakeStart"]["Parameters"]["bake"] == {"unreadable_polls": 0}
    assert states["Watch"]["Parameters"]["unreadable_polls.$"] == "$.bake.unreadable_polls"
    assert states["Watch"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.watch_error", "Next": "CountUnreadablePoll"}
    ]
    assert states["CountUnreadablePoll"] == {
        "Type": "Pass",
        "ResultPath": "$.bake",
        "Parameters": {
            "status": "UNREADABLE",
            "unreadable_polls.$": "States.MathAdd($.bake.unreadable_polls, 1)",
            "reason.$": (
                "States.Format('bake check could not run ({}): unreadable poll {} in a row; the bake "
                "fails at 5', $.watch_error.Error, States.MathAdd($.bake.unreadable_polls, 1))"
            ),
        },
        "Next": "UnreadableBudgetLeft?",
    }
    assert UNREADABLE_POLL_LIMIT == 5
    assert states["UnreadableBudgetLeft?"] == {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": "$.bake.unreadable_polls",
                "NumericGreaterThanEquals": 5,
                "Next": "FailedRestoreHotfix",
            }
        ],
        "Default": "KeepBaking",
    }


def test_check_all_runs_the_four_checks_in_parallel(built: Built) -> None:
    check_all = built.asl(built.gates.gate)["States"]["CheckAll"]
    assert check_all["Type"] == "Parallel"
    assert check_all["Next"] == "Decide"
    branches = {b["StartAt"]: b["States"][b["StartAt"]] for b in check_all["Branches"]}
    # Decide reads the results by position: app, org, window, override
    assert [b["StartAt"] for b in check_all["Branches"]] == [
        "AppAlarms",
        "OrgAlarms",
        "CheckWindow",
        "CheckOverride",
    ]
    assert branches["AppAlarms"]["Resource"] == built.function_arn("alarms")
    assert branches["AppAlarms"]["Parameters"]["checks.$"] == "$.input.app_checks"
    assert branches["OrgAlarms"]["Resource"] == built.function_arn("alarms")
    assert branches["OrgAlarms"]["Parameters"]["checks.$"] == "$.input.org_checks"
    assert branches["CheckWindow"]["Resource"] == built.function_arn("time_window")
    assert branches["CheckOverride"]["Resource"] == built.function_arn("override")


def test_decide_then_clear_block_or_wait_and_recheck(built: Built) -> None:
    states = built.asl(built.gates.gate)["States"]
    assert states["Decide"]["Resource"] == built.function_arn("decide")
    assert states["Decide"]["Next"] == "Proceed?"
    proceed = states["Proceed?"]
    assert [(c["Variable"], c["Next"]) for c in proceed["Choices"]] == [
        ("$.decision.proceed", "Hotfix?"),  # arm or disarm the hotfix alarms, then Clear
        ("$.decision.give_up", "Blocked"),
    ]
    assert proceed["Default"] == "WaitAndRecheck"
    assert states["WaitAndRecheck"] == {
        "Type": "Wait",
        "SecondsPath": "$.input.check_interval_seconds",
        "Next": "CheckAll",
    }
    assert states["Clear"] == {"Type": "Succeed", "OutputPath": "$.decision"}
    assert states["Blocked"] == {
        "Type": "Fail",
        "Error": "DeploymentBlocked",
        "CausePath": "$.decision.reason",
    }


def test_bake_machine_has_exactly_its_states(built: Built) -> None:
    asl = built.asl(built.gates.bake)
    assert set(asl["States"]) == BAKE_STATES
    assert asl["StartAt"] == "BakeCheckExecution"
    assert asl["States"]["BakeStart"]["Next"] == "BakeOverride"  # then Watch


def test_bake_watches_until_done_or_failed(built: Built) -> None:
    states = built.asl(built.gates.bake)["States"]
    assert states["Watch"]["Resource"] == built.function_arn("bake")
    assert states["Watch"]["Next"] == "Baked?"
    baked = states["Baked?"]
    # done or failed, the hotfix alarms are restored to OK first
    assert [(c["StringEquals"], c["Next"]) for c in baked["Choices"]] == [
        ("DONE", "DoneRestoreHotfix"),
        ("FAILED", "FailedRestoreHotfix"),
    ]
    assert baked["Default"] == "KeepBaking"
    # every poll reads the override again first (a revoked hotfix stops lifting at the next one)
    assert states["KeepBaking"] == {
        "Type": "Wait",
        "SecondsPath": "$.input.poll_seconds",
        "Next": "BakeOverride",
    }
    assert states["BakeFailed"] == {"Type": "Fail", "Error": "BakeFailed", "CausePath": "$.bake.reason"}


# ---------------------------------------------------------------------------- functions


def test_two_functions_one_for_the_checks_one_for_hotfix_on_python_314(built: Built) -> None:
    t = built.template
    t.resource_count_is("AWS::Lambda::Function", 2)
    functions = t.find_resources("AWS::Lambda::Function")
    assert sorted(f["Properties"]["Handler"] for f in functions.values()) == [
        "hands_off_gates.dispatch.handler",
        "hands_off_gates.hotfix.handler",
    ]
    for function in functions.values():
        assert function["Properties"]["Runtime"] == "python3.14"
    # the checks run as the checker role, hotfix as its own (the one that may change groups)
    resources = built.template.to_json()["Resources"]
    role_of = {m: resources[built.id(built.gates.functions[m])]["Properties"]["Role"] for m in MODULES}
    assert {role_of[m]["Fn::GetAtt"][0] for m in CHECK_MODULES} == {built.id(built.gates.checker_role)}
    assert role_of["hotfix"] == {"Fn::GetAtt": [built.id(built.gates.hotfix_role), "Arn"]}
    # the checks share one function; hotfix (it changes deployment groups) has its own
    assert {built.function_arn(m) for m in CHECK_MODULES} == {built.function_arn("alarms")}
    assert built.function_arn("hotfix") != built.function_arn("alarms")
    # one log group per function, one for the three machines, and the execution check's group of
    # releases before the checks shared a function (kept for its AUDIT lines); all retained
    groups = t.find_resources("AWS::Logs::LogGroup")
    assert sorted(k.removeprefix("Gates")[:-8] for k in groups) == [
        "DecideFunctionLogs",
        "ExecutionFunctionLogs",
        "GateLogs",
        "HotfixFunctionLogs",
    ]
    for group in groups.values():
        assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Retain", "Retain")
        assert group["Properties"] == {"RetentionInDays": 365}


def test_every_task_of_the_checks_function_names_its_module_and_hotfix_tasks_do_not(built: Built) -> None:
    checks_arn, hotfix_arn = built.function_arn("alarms"), built.function_arn("hotfix")
    named: set[str] = set()
    for machine in (built.gates.gate, built.gates.bake, built.gates.restore):
        for name, task in lambda_tasks(built.asl(machine)["States"]).items():
            module = task["Parameters"].get(CHECK_FUNCTION_KEY)
            if task["Resource"] == hotfix_arn:
                assert module is None, name
            else:
                assert task["Resource"] == checks_arn, name
                assert module in CHECK_MODULES, name
                named.add(module)
    # each check the machines run is dispatched to its own module
    assert named == set(CHECK_MODULES)


def test_check_tasks_name_the_module_their_state_runs(built: Built) -> None:
    gate = built.asl(built.gates.gate)["States"]
    bake = built.asl(built.gates.bake)["States"]
    branches = {b["StartAt"]: b["States"][b["StartAt"]] for b in gate["CheckAll"]["Branches"]}
    expected = {
        "AppAlarms": (branches, "alarms"),
        "OrgAlarms": (branches, "alarms"),
        "CheckWindow": (branches, "time_window"),
        "CheckOverride": (branches, "override"),
        "Decide": (gate, "decide"),
        "GateCheckExecution": (gate, "execution"),
        "Watch": (bake, "bake"),
    }
    for state, (states, module) in expected.items():
        assert states[state]["Parameters"][CHECK_FUNCTION_KEY] == module, state


def test_the_bundle_holds_every_handler_module_and_tzdata(built: Built) -> None:
    # GIVEN the one asset both functions share
    keys = {
        f["Properties"]["Code"]["S3Key"]
        for f in built.template.find_resources("AWS::Lambda::Function").values()
    }
    [key] = keys
    outdir = Path(Stage.of(built.stack).outdir)  # type: ignore[union-attr]
    bundle = outdir / f"asset.{key.removesuffix('.zip')}"
    # THEN each handler string names a module inside it, and zoneinfo's data ships with it
    for module in (*MODULES, "dispatch"):
        assert (bundle / "hands_off_gates" / f"{module}.py").is_file(), module
        assert callable(importlib.import_module(f"hands_off_gates.{module}").handler)
    assert (bundle / "tzdata" / "zoneinfo").is_dir()
    assert not list(bundle.rglob("*.pyc"))


def test_state_machines_may_invoke_only_the_gate_functions(built: Built) -> None:
    [invoke] = [
        s
        for s in built.policy_statements(built.gates.machine_role)
        if "lambda:InvokeFunction" in actions_of(s)
    ]
    arns = {built.function_arn(m) for m in MODULES}
    assert len(arns) == 2  # the checks function and the hotfix function
    assert set(resources_of(invoke)) == arns | {f"{arn}:*" for arn in arns}


def test_state_machines_read_exactly_the_config_parameters(built: Built) -> None:
    ssm = [
        s
        for s in built.policy_statements(built.gates.machine_role)
        if any(a.startswith("ssm:") for a in actions_of(s))
    ]
    assert [(a.lower(), resources_of(s)) for s in ssm for a in actions_of(s)] == [
        ("ssm:getparameter", sorted(CONFIG_PARAMETERS))
    ]


# ------------------------------------------------------------------------------ checker role


def assumed_only_by_lambda(template: Template, role_name: str) -> None:
    """The role ``role_name`` exists and only Lambda may assume it."""
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": role_name,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_checker_role_is_named_and_assumed_by_lambda(built: Built) -> None:
    assumed_only_by_lambda(built.template, "hands-off-orders-gate-checker")


def test_checker_role_may_do_exactly_this(built: Built) -> None:
    statements = built.policy_statements(built.gates.checker_role)
    by_action = {" ".join(actions_of(s)): resources_of(s) for s in statements}
    log_groups = by_action.pop("logs:CreateLogStream logs:PutLogEvents")
    assert by_action == {
        # the given reader roles and nothing else
        "sts:AssumeRole": sorted(READERS),
        # the override parameter only (its value, and its history: who wrote it is the audited
        # author); gate inputs are read by the state machines
        "ssm:GetParameter ssm:GetParameterHistory": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{OVERRIDE}"],
        "codepipeline:GetPipelineExecution": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{PIPELINE}"],
    }
    [log_group] = log_groups  # the checks function's own: the hotfix function has its own role
    assert "DecideFunctionLogs" in log_group  # (the id of the group it continues)
    assert all(s["Effect"] == "Allow" for s in statements)


def test_hotfix_role_may_only_assume_the_hotfix_roles_and_write_its_log_group(built: Built) -> None:
    # the one role that reaches a target account's hotfix role (UpdateDeploymentGroup); no read of
    # alarms or pipelines, and no reader role; it reads its own pipeline's override (arming
    # checks it itself) and nothing else in SSM
    assumed_only_by_lambda(built.template, "hands-off-orders-gate-hotfix")
    statements = built.policy_statements(built.gates.hotfix_role)
    by_action = {" ".join(actions_of(s)): resources_of(s) for s in statements}
    assert by_action.pop("sts:AssumeRole") == sorted(HOTFIXERS)
    assert by_action.pop("ssm:GetParameter ssm:GetParameterHistory") == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{OVERRIDE}"
    ]
    [log_group] = by_action.pop("logs:CreateLogStream logs:PutLogEvents")
    assert "HotfixFunctionLogs" in log_group
    assert by_action == {}
    # and the checker role reaches no hotfix role
    checker = built.policy_statements(built.gates.checker_role)
    assumed = [r for s in checker if "sts:AssumeRole" in actions_of(s) for r in resources_of(s)]
    assert sorted(assumed) == sorted(READERS)


def test_gate_roles_hold_their_permissions_inline_with_no_separate_policy(built: Built) -> None:
    # The checker and machine roles' statements are their own inline policy (one resource per
    # role, not two), named unlike any DefaultPolicy; no grant made a DefaultPolicy after all.
    built.template.resource_count_is("AWS::IAM::Policy", 0)
    roles = built.template.to_json()["Resources"]
    for role in (built.gates.checker_role, built.gates.machine_role):
        policies = roles[built.id(role)]["Properties"]["Policies"]
        assert [p["PolicyName"] for p in policies] == [INLINE_POLICY_NAME]


def test_machine_role_may_log_and_trace_as_cdk_grants_it(built: Built) -> None:
    # The machines get the role without policy updates: what sfn.StateMachine would grant for
    # logging and tracing is stated in the inline policy, on '*' (no resource-level permissions).
    statements = built.policy_statements(built.gates.machine_role)
    on_any = [s for s in statements if s["Resource"] == "*"]
    assert len(on_any) == 1
    assert sorted(actions_of(on_any[0])) == sorted(
        [
            *(f"logs:{a}" for a in ("CreateLogDelivery", "DeleteLogDelivery", "DescribeLogGroups")),
            *(f"logs:{a}" for a in ("DescribeResourcePolicies", "GetLogDelivery", "ListLogDeliveries")),
            "logs:PutResourcePolicy",
            "logs:UpdateLogDelivery",
            *(f"xray:{a}" for a in ("GetSamplingRules", "GetSamplingTargets", "PutTelemetryRecords")),
            "xray:PutTraceSegments",
        ]
    )


def test_building_the_gates_costs_a_fixed_number_of_round_trips(bare_stack: Callable[..., Stack]) -> None:
    """Issue 9: each jsii round trip is paid once per pipeline. Counted on a second build: the
    values made once per process (principals, pseudo-parameter tokens) and the bundled gate
    runtime (one asset per process) are made by then."""

    def build() -> int:
        stack = bare_stack()
        with round_trips() as count:
            new_gates(stack)
        return count[0]

    build()
    # 105 before the checker statements were added in one call, the machine ARNs read once, the
    # definitions serialized in Python and the principals made once per process; 90 before the
    # six checks shared one function and the three machines one log group (63), then +4 for the
    # hotfix function's own role (67), +1 for the execution check's old log group kept (retained).
    assert build() == 68


# ------------------------------------------------------------------------- StateMachineStep


def test_state_machine_step_invokes_the_machine_with_the_parameter_name_and_execution_id(
    bare_stack: Callable[..., Stack],
) -> None:
    # GIVEN a tiny pipeline with a source stage, and a machine
    stack = bare_stack()
    gates = DeploymentGates(
        stack,
        "Gates",
        pipeline_name=PIPELINE,
        reader_role_arns=READERS,
        override_parameter_name=OVERRIDE,
        checker_role_name="hands-off-orders-gate-checker",
        config_parameter_arns=CONFIG_PARAMETERS,
    )
    source_output = codepipeline.Artifact("Source")
    pipeline = codepipeline.Pipeline(
        stack,
        "Pipeline",
        stages=[
            codepipeline.StageProps(
                stage_name="Source",
                actions=[
                    cp_actions.S3SourceAction(
                        action_name="Source",
                        bucket=s3.Bucket(stack, "SourceBucket", versioned=True),
                        bucket_key="source.zip",
                        output=source_output,
                    )
                ],
            )
        ],
    )
    stage = pipeline.add_stage(stage_name="Gamma")
    step = StateMachineStep(
        "Gamma-Gate",
        state_machine=gates.gate,
        config_parameter_name=f"/hands-off/{PIPELINE}/gates/Gamma-Gate",
        config_sha256=DIGEST,
    )
    # WHEN the step produces its action
    result = step.produce_action(stage, action_name="Gamma-Gate", run_order=3)
    # THEN one StepFunctions action invokes the gate machine with a small literal input
    assert result.run_orders_consumed == 1
    t = Template.from_stack(stack)
    actions = Capture()
    t.has_resource_properties(
        "AWS::CodePipeline::Pipeline",
        {"Stages": Match.array_with([{"Name": "Gamma", "Actions": actions}])},
    )
    [action] = actions.as_array()
    assert action["Name"] == "Gamma-Gate"
    assert action["RunOrder"] == 3
    assert action["ActionTypeId"] == {
        "Category": "Invoke",
        "Owner": "AWS",
        "Provider": "StepFunctions",
        "Version": "1",
    }
    configuration = action["Configuration"]
    assert configuration["StateMachineArn"] == {"Ref": stack.get_logical_id(gates.gate.node.default_child)}  # type: ignore[arg-type]
    assert configuration["InputType"] == "Literal"
    assert json.loads(configuration["Input"]) == {
        "config_parameter": f"/hands-off/{PIPELINE}/gates/Gamma-Gate",
        "config_sha256": DIGEST,
        "pipeline_execution_id": "#{codepipeline.PipelineExecutionId}",
    }
    assert len(configuration["Input"]) <= 1000  # CodePipeline's limit on a configuration value


def test_config_digest_is_the_lower_case_hex_sha256_of_the_exact_value() -> None:
    """What ``States.Hash(value, 'SHA-256')`` returns in Step Functions (and moto): lower-case hex
    of the UTF-8 bytes."""
    import hashlib

    value = '{"pipeline":"orders-application","stage":"Gamma"}'
    assert config_digest(value) == hashlib.sha256(value.encode()).hexdigest()
    assert config_digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_config_digest_refuses_a_value_cdk_has_not_resolved() -> None:
    """A token is resolved at synth: the digest of its placeholder would never match."""
    with pytest.raises(ValueError, match="unresolved CDK token"):
        config_digest(json.dumps({"account": Aws.ACCOUNT_ID}))


def test_the_digest_is_optional_until_the_renderer_passes_it() -> None:
    step = StateMachineStep("Gamma-Gate", state_machine=None, config_parameter_name="/p")  # type: ignore[arg-type]
    assert step.state_input == {
        "config_parameter": "/p",
        "pipeline_execution_id": "#{codepipeline.PipelineExecutionId}",
    }


@pytest.mark.parametrize("digest", ["", "F" * 64, "0" * 63, "0" * 65, "sha256:" + "0" * 57, "g" * 64])
def test_a_malformed_digest_is_refused_at_construction(digest: str) -> None:
    with pytest.raises(ValueError, match=r"config_sha256 .* is not a SHA-256 in lower-case hex"):
        StateMachineStep(
            "Gamma-Gate",
            state_machine=None,  # type: ignore[arg-type]
            config_parameter_name="/p",
            config_sha256=digest,
        )


# ------------------------------------------------------------------------------ hotfix (issue 8)

HOTFIX_PAYLOAD = {
    "groups.$": "$.input.hotfix_groups",
    "pipeline.$": "$.input.pipeline",
    "stage.$": "$.input.stage",
    "execution_id.$": "$.execution_id",
}


def test_a_proceeding_gate_arms_the_hotfix_or_disarms_it_before_it_clears(built: Built) -> None:
    states = built.asl(built.gates.gate)["States"]
    assert states["Hotfix?"] == {
        "Type": "Choice",
        "Choices": [{"Variable": "$.decision.hotfix", "BooleanEquals": True, "Next": "ArmHotfix"}],
        "Default": "DisarmHotfix",
    }
    for name, action, extra in (
        (
            "ArmHotfix",
            "arm",
            {
                "override.$": "$.results[3]",
                "override_parameter.$": "$.input.override_parameter",
                "override_max_hours.$": "$.input.override_max_hours",
            },
        ),
        ("DisarmHotfix", "disarm", {}),
    ):
        task = states[name]
        assert task["Resource"] == built.function_arn("hotfix")
        assert task["Parameters"] == {"action": action, **HOTFIX_PAYLOAD, **extra}
        assert task["ResultPath"] == "$.hotfix"
        assert task["Next"] == "HotfixSet?"
        assert task["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "HotfixTaskFailed"}
        ]
    assert states["HotfixTaskFailed"] == {
        "Type": "Pass",
        "ResultPath": "$.hotfix",
        "Parameters": {
            "ok": False,
            "reason.$": (
                "States.Format('CodeDeploy alarm rollback could not be set ({}) — failing closed, not "
                "deploying', $.error.Error)"
            ),
        },
        "Next": "HotfixSet?",
    }
    assert states["HotfixSet?"] == {
        "Type": "Choice",
        "Choices": [{"Variable": "$.hotfix.ok", "BooleanEquals": True, "Next": "Clear"}],
        "Default": "HotfixUnset",
    }
    assert states["HotfixUnset"] == {
        "Type": "Fail",
        "Error": "HotfixAlarmsUnset",
        "CausePath": "$.hotfix.reason",
    }


@pytest.mark.parametrize(("prefix", "then"), [("Done", "Baked"), ("Failed", "BakeFailed")])
def test_a_bake_restores_the_hotfix_alarms_when_it_ends_either_way(
    built: Built, prefix: str, then: str
) -> None:
    states = built.asl(built.gates.bake)["States"]
    task = states[f"{prefix}RestoreHotfix"]
    assert task["Resource"] == built.function_arn("hotfix")
    assert task["Parameters"] == {"action": "restore", **HOTFIX_PAYLOAD}
    assert task["ResultPath"] == "$.hotfix"
    assert task["Next"] == f"{prefix}HotfixRestored?"
    assert task["Catch"] == [
        {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.error",
            "Next": f"{prefix}RestoreHotfixFailed",
        }
    ]
    assert states[f"{prefix}RestoreHotfixFailed"]["Next"] == f"{prefix}HotfixRestored?"
    assert states[f"{prefix}HotfixRestored?"] == {
        "Type": "Choice",
        "Choices": [{"Variable": "$.hotfix.ok", "BooleanEquals": True, "Next": then}],
        "Default": "HotfixNotRestored",
    }
    assert states["HotfixNotRestored"] == {
        "Type": "Fail",
        "Error": "HotfixNotRestored",
        "CausePath": (
            "States.Format('{} — and CodeDeploy alarm rollback was not turned back on: {}', "
            "$.bake.reason, $.hotfix.reason)"
        ),
    }


def test_each_bake_poll_knows_its_stage_execution_groups_and_override(built: Built) -> None:
    parameters = built.asl(built.gates.bake)["States"]["Watch"]["Parameters"]
    assert parameters["hotfix_groups.$"] == "$.input.hotfix_groups"
    assert parameters["stage.$"] == "$.input.stage"
    assert parameters["execution_id.$"] == "$.execution_id"
    assert parameters["override.$"] == "$.override"
    assert parameters["override_max_hours.$"] == "$.input.override_max_hours"


def test_the_bake_reads_the_override_at_its_start_and_before_every_poll_as_the_gate_does(
    built: Built,
) -> None:
    states = built.asl(built.gates.bake)["States"]
    gate = built.asl(built.gates.gate)
    [check_override] = [
        s
        for b in gate["States"]["CheckAll"]["Branches"]
        for n, s in b["States"].items()
        if n == "CheckOverride"
    ]
    assert states["BakeStart"]["Next"] == "BakeOverride"
    assert states["KeepBaking"]["Next"] == "BakeOverride"
    # an unreadable poll waits and reads the override again too, never Watch on a stale one
    assert states["UnreadableBudgetLeft?"]["Default"] == "KeepBaking"
    assert [n for n, st in states.items() if st.get("Next") == "Watch"] == ["BakeOverride"]
    task = states["BakeOverride"]
    assert task["Resource"] == built.function_arn("override")
    assert task["Parameters"] == check_override["Parameters"]
    assert (task["ResultPath"], task["Next"]) == ("$.override", "Watch")
    assert task["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "BakeOverrideFailed"}
    ]
    # an override that cannot be read is no override: no hotfix applies in the bake
    assert states["BakeOverrideFailed"]["ResultPath"] == "$.override"
    assert states["BakeOverrideFailed"]["Parameters"]["active"] is False
    assert states["BakeOverrideFailed"]["Next"] == "CountOverrideFailure"


def test_failed_override_reads_are_budgeted_then_fail_the_bake_with_a_paged_error(built: Built) -> None:
    # F4: each failed read costs history events beyond a poll's budget: at most
    # UNREADABLE_POLL_LIMIT of them in one bake, then alarm rollback back on and a paged failure
    from hands_off_gates.contract import UNREADABLE_POLL_LIMIT

    states = built.asl(built.gates.bake)["States"]
    assert states["BakeStart"]["Parameters"]["override_failures"] == {"count": 0}
    assert states["CountOverrideFailure"] == {
        "Type": "Pass",
        "ResultPath": "$.override_failures",
        "Parameters": {"count.$": "States.MathAdd($.override_failures.count, 1)"},
        "Next": "OverrideBudgetLeft?",
    }
    left = states["OverrideBudgetLeft?"]
    assert left["Choices"] == [
        {
            "Variable": "$.override_failures.count",
            "NumericGreaterThanEquals": UNREADABLE_POLL_LIMIT,
            "Next": "OverrideBudgetSpent",
        }
    ]
    assert left["Default"] == "Watch"
    assert states["OverrideBudgetSpent"]["ResultPath"] == "$.bake"
    assert states["OverrideBudgetSpent"]["Next"] == "OverrideFailedRestoreHotfix"
    assert states["OverrideFailedHotfixRestored?"]["Choices"][0]["Next"] == "OverrideUnreadable"
    assert states["OverrideUnreadable"] == {
        "Type": "Fail",
        "Error": OVERRIDE_UNREADABLE_ERROR,
        "CausePath": "$.bake.reason",
    }
    assert OVERRIDE_UNREADABLE_ERROR in PAGED_ERRORS


# ------------------------------------------------------------------------------ paging (issue 8)


@pytest.fixture(scope="module")
def paged(bare_stack: Callable[..., Stack]) -> tuple[Stack, DeploymentGates, Template]:
    stack = bare_stack()
    gates = DeploymentGates(
        stack,
        "Gates",
        pipeline_name=PIPELINE,
        reader_role_arns=READERS,
        override_parameter_name=OVERRIDE,
        checker_role_name="hands-off-orders-gate-checker",
        config_parameter_arns=CONFIG_PARAMETERS,
    )
    gates.page_failures(new_paging_topic(stack, name="pipeline"))
    return stack, gates, Template.from_stack(stack)


def rule_on(template: Template, construct_id: str) -> dict[str, Any]:
    """The EventBridge rule ``Gates/<construct_id>``."""
    [rule] = [
        r
        for k, r in template.find_resources("AWS::Events::Rule").items()
        if re.fullmatch(f"Gates{construct_id}[0-9A-F]{{8}}", k)
    ]
    return rule


def test_failures_on_tampered_inputs_or_hotfix_alarms_page_the_topic(
    paged: tuple[Stack, DeploymentGates, Template],
) -> None:
    stack, gates, template = paged
    rule = rule_on(template, "PageFailures")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "status": ["FAILED"],
            "stateMachineArn": [
                {"Ref": stack.get_logical_id(gates.gate.node.default_child)},  # type: ignore[arg-type]
                {"Ref": stack.get_logical_id(gates.bake.node.default_child)},  # type: ignore[arg-type]
                {"Ref": stack.get_logical_id(gates.restore.node.default_child)},  # type: ignore[arg-type]
            ],
            # the PAGED_ERRORS and whatever Step Functions raises itself (States.Runtime past the
            # history limit, States.DataLimitExceeded): all but those that page through alarms
            "error": [{"anything-but": ["DeploymentBlocked", "BakeFailed"]}],
        },
    }
    [target] = rule["Properties"]["Targets"]
    [topic_id] = template.find_resources("AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic_id}
    assert target["InputTransformer"]["InputPathsMap"] == {
        "detail-name": "$.detail.name",
        "detail-error": "$.detail.error",
        "detail-cause": "$.detail.cause",
    }
    # Issue 9: a JSON message named like the pipeline's alarms (the shared topic's subscriptions
    # filter on AlarmName), the event's values inserted as JSON values, never inside a string.
    assert target["InputTransformer"]["InputTemplate"] == (
        '{"AlarmName":"orders-application-gate-failed","NewStateValue":"ALARM",'
        '"AlarmDescription":"orders-application: a gate, bake or restore execution failed (input '
        "rewritten or unverifiable, hotfix alarm rollback not set or not restored, or a Step "
        'Functions limit)",'
        '"Execution":<detail-name>,"Error":<detail-error>,"Cause":<detail-cause>}'
    )


def transformed(template: str, paths: dict[str, str], event: dict[str, Any]) -> Any:
    """What EventBridge publishes for ``event`` through an input transformer whose placeholders
    stand alone as JSON values: each ``<name>`` replaced by the JSON of the value at its path."""
    for name, path in paths.items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        template = template.replace(f"<{name}>", json.dumps(value))
    return json.loads(template)


def test_the_page_failures_message_reaches_the_pipelines_paging_subscriptions(
    paged: tuple[Stack, DeploymentGates, Template],
) -> None:
    _, _, template = paged
    rule = rule_on(template, "PageFailures")
    transformer = rule["Properties"]["Targets"][0]["InputTransformer"]
    event = {
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": {
            "name": "Prod-1-Gate-abc",
            "status": "FAILED",
            "error": "GateInputTampered",
            "cause": 'parameter "/hands-off/orders-application/gates/Prod-1-Gate" was rewritten',
        },
    }
    message = transformed(transformer["InputTemplate"], transformer["InputPathsMap"], event)
    assert message["Cause"] == event["detail"]["cause"]  # quotes survive: the JSON stays valid
    assert (message["Execution"], message["Error"]) == ("Prod-1-Gate-abc", "GateInputTampered")
    # ... and the filter the pipeline's own subscriptions carry lets it through
    naming = ServiceNaming(service="orders", tooling_account="111111111111", tooling_region="us-east-1")
    [(field, rule)] = paging_filter_policy(naming.pipeline_alarm_prefix).items()
    assert (field, rule.filter_doc.conditions) == ("AlarmName", [{"prefix": "orders-application-"}])
    assert message["AlarmName"] == naming.gate_failure_alarm
    assert message["AlarmName"].startswith("orders-application-")
    assert not message["AlarmName"].startswith("catalog-application-")


def test_the_paged_errors_are_the_ones_the_machines_fail_with(built: Built) -> None:
    errors = {
        state["Error"]
        for machine in (built.gates.gate, built.gates.bake, built.gates.restore)
        for state in built.asl(machine)["States"].values()
        if state["Type"] == "Fail"
    }
    assert set(PAGED_ERRORS) <= errors
    assert set(PAGED_ERRORS) == {
        INPUT_TAMPERED_ERROR,
        INPUT_UNVERIFIED_ERROR,
        HOTFIX_UNSET_ERROR,
        HOTFIX_NOT_RESTORED_ERROR,
        OVERRIDE_UNREADABLE_ERROR,
    }
    # these page through the copy's alarms; every other error pages through page_failures
    assert errors - set(PAGED_ERRORS) == set(UNPAGED_ERRORS) == {"DeploymentBlocked", "BakeFailed"}


# ------------------------------------------------- a bake stopped or timed out is restored (issue 8)

RESTORE_STATES = {
    "RestoreBakeEvent?",
    "RestoreNoBakeEvent",
    "RestoreNotGatedStage",
    "RestoreReadEvent",
    "RestoreGateInput?",
    "RestoreNoGateInput",
    "RestorePointer",
    "RestoreOwnInput?",
    "RestoreNotOwnInput",
    "RestoreLoadConfig",
    "RestoreConfigUnread",
    "RestoreInputIntact?",
    "RestoreInputRewritten",
    "RestoreInputTampered",
    "RestoreStart",
    "RestoreBakeInput?",
    "RestoreNotBakeInput",
    "RestoreInputUnverified",
    "RestoreHotfix",
    "RestoreHotfixFailed",
    "RestoreHotfixRestored?",
    "Restored",
    "RestoreNotRestored",
}


def test_restore_machine_has_exactly_its_states(built: Built) -> None:
    asl = built.asl(built.gates.restore)
    assert set(asl["States"]) == RESTORE_STATES
    assert asl["StartAt"] == "RestoreBakeEvent?"


def test_the_restore_verifies_the_bakes_input_exactly_as_the_bake_does(built: Built) -> None:
    states = built.asl(built.gates.restore)["States"]
    bake = built.asl(built.gates.bake)["States"]
    # only detail.input (and the execution ARN, for the reason) of the event is used
    assert states["RestoreReadEvent"]["Parameters"] == {
        "pointer.$": "States.StringToJson($.detail.input)",
        "ended": {"execution.$": "$.detail.executionArn"},
    }
    assert states["RestorePointer"]["Next"] == "RestoreOwnInput?"
    # the same read of the parameter (its value and SHA-256, retried when throttled) ...
    load = {k: v for k, v in states["RestoreLoadConfig"].items() if k not in ("Next", "Catch")}
    assert load == {k: v for k, v in bake["BakeLoadConfig"].items() if k != "Next"}
    assert states["RestoreLoadConfig"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RestoreConfigUnread"}
    ]
    # ... compared with the digest the action gave, the only way to RestoreStart
    assert states["RestoreInputIntact?"] == {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.loaded.sha256", "StringEqualsPath": "$.config_sha256", "Next": "RestoreStart"}
        ],
        "Default": "RestoreInputRewritten",
    }
    assert [
        n
        for n, s in states.items()
        if s.get("Next") == "RestoreStart"
        or any(c.get("Next") == "RestoreStart" for c in s.get("Choices", []))
    ] == ["RestoreInputIntact?"]
    assert states["RestoreStart"]["Parameters"]["input.$"] == "States.StringToJson($.loaded.value)"
    # a digest that is missing or not a string never gets there
    gate_input = states["RestoreGateInput?"]["Choices"][0]["And"]
    for key in ("config_parameter", "config_sha256", "pipeline_execution_id"):
        assert {"Variable": f"$.pointer.{key}", "IsPresent": True} in gate_input
        assert {"Variable": f"$.pointer.{key}", "IsString": True} in gate_input


def test_the_restore_only_turns_alarm_rollback_on_and_fails_with_paged_errors(built: Built) -> None:
    states = built.asl(built.gates.restore)["States"]
    [task] = lambda_tasks(states).values()
    assert task == states["RestoreHotfix"]
    assert task["Resource"] == built.function_arn("hotfix")
    assert task["Parameters"] == {"action": "restore", **HOTFIX_PAYLOAD}
    assert states["RestoreHotfixRestored?"]["Choices"] == [
        {"Variable": "$.hotfix.ok", "BooleanEquals": True, "Next": "Restored"}
    ]
    failures = {n: s["Error"] for n, s in states.items() if s["Type"] == "Fail"}
    assert failures == {
        "RestoreInputUnverified": INPUT_UNVERIFIED_ERROR,
        "RestoreInputTampered": INPUT_TAMPERED_ERROR,
        "RestoreNotRestored": HOTFIX_NOT_RESTORED_ERROR,
    }
    assert set(failures.values()) <= set(PAGED_ERRORS)


def test_a_gate_or_bake_that_ended_early_starts_the_restore_with_its_event(built: Built) -> None:
    rule = rule_on(built.template, "RestoreEnded")
    machines = [{"Ref": built.id(built.gates.gate)}, {"Ref": built.id(built.gates.bake)}]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        # this pipeline's gate and bake machines only: never the restore itself; stopped, timed
        # out, or failed (but a gate blocked, which never armed: restore is idempotent)
        "detail": {
            "$or": [
                {"stateMachineArn": machines, "status": ["ABORTED", "TIMED_OUT"]},
                {
                    "stateMachineArn": machines,
                    "status": ["FAILED"],
                    "error": [{"anything-but": ["DeploymentBlocked"]}],
                },
            ]
        },
    }
    [target] = rule["Properties"]["Targets"]  # no page without page_failures
    assert target["Arn"] == {"Ref": built.id(built.gates.restore)}
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)  # the whole event
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    role = built.template.to_json()["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
        }
    ]
    statements = role_statements(built.template.to_json(), role_id)
    assert statements == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            "Resource": {"Ref": built.id(built.gates.restore)},
        }
    ]
    assert [p["PolicyName"] for p in role["Policies"]] == [INLINE_POLICY_NAME]


def test_a_bake_or_restore_that_ended_early_pages_like_a_failed_one(
    paged: tuple[Stack, DeploymentGates, Template],
) -> None:
    stack, gates, template = paged
    failed = rule_on(template, "PageFailures")["Properties"]["Targets"][0]
    [restore] = rule_on(template, "RestoreEnded")["Properties"]["Targets"]  # the page is its own rule
    assert "RoleArn" in restore
    rule = rule_on(template, "PageEndedEarly")
    ref = {
        m: {"Ref": stack.get_logical_id(getattr(gates, m).node.default_child)}
        for m in ("gate", "bake", "restore")
    }
    assert rule["Properties"]["EventPattern"]["detail"] == {
        "$or": [
            {"stateMachineArn": [ref["bake"], ref["restore"]], "status": ["ABORTED", "TIMED_OUT"]},
            # a stopped gate does not page (an operator's ordinary act; its Restore pages if it fails)
            {"stateMachineArn": [ref["gate"]], "status": ["TIMED_OUT"]},
        ]
    }
    [page] = rule["Properties"]["Targets"]
    assert page["Arn"] == failed["Arn"]  # the same topic
    event = {
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": {"name": "Prod-2-Bake-abc", "status": "TIMED_OUT", "error": None, "cause": None},
    }
    transformer = page["InputTransformer"]
    message = transformed(transformer["InputTemplate"], transformer["InputPathsMap"], event)
    like = transformed(
        failed["InputTransformer"]["InputTemplate"],
        failed["InputTransformer"]["InputPathsMap"],
        {**event, "detail": {**event["detail"], "error": "HotfixNotRestored", "cause": "x"}},
    )
    assert set(message) == set(like)  # the same shape
    assert (message["Execution"], message["Error"]) == ("Prod-2-Bake-abc", "TIMED_OUT")
    assert message["AlarmName"] == like["AlarmName"] == "orders-application-gate-failed"
    # ... which the filter of the pipeline's own subscriptions lets through
    naming = ServiceNaming(service="orders", tooling_account="111111111111", tooling_region="us-east-1")
    assert message["AlarmName"] == naming.gate_failure_alarm
    assert message["AlarmName"].startswith(naming.pipeline_alarm_prefix)


# ----------------------------------------------------------- the pipeline execution ended


def test_one_rule_restores_the_gated_stage_that_ended_with_its_own_pointer_only(
    bare_stack: Callable[..., Stack], flat: Callable[[Any], Any]
) -> None:
    # GIVEN six gated stages
    stack = bare_stack()
    gates = new_gates(stack)
    inputs = [(f"Prod-{i}", f"/hands-off/{PIPELINE}/gates/Prod-{i}-Gate", f"{i:064x}") for i in range(6)]
    [rule] = gates.restore_when_stage_ends(inputs)
    template = Template.from_stack(stack)
    starter = rule_on(template, "RestoreEnded")["Properties"]["Targets"][0]["RoleArn"]
    resources = template.to_json()["Resources"]
    # THEN one rule, on the unsucceeded endings of these stages (and no other) in this pipeline only
    stage_rules = {
        k: r["Properties"]
        for k, r in resources.items()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"]["EventPattern"].get("source") == ["aws.codepipeline"]
    }
    assert list(stage_rules) == [stack.get_logical_id(rule.node.default_child)]
    [properties] = stage_rules.values()
    assert properties["EventPattern"] == {
        "source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Stage Execution State Change"],
        "detail": {
            "pipeline": [PIPELINE],
            "stage": [stage for stage, _, _ in inputs],
            "state": ["FAILED", "STOPPED", "CANCELED"],
        },
    }
    # one target: Restore, with the role that may start Restore only
    [target] = properties["Targets"]
    assert target["Arn"] == {"Ref": stack.get_logical_id(gates.restore.node.default_child)}
    assert target["RoleArn"] == starter
    # with the stage that ended, the execution and its state: no pointer (the rule cannot pick one)
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {
        "detail-stage": "$.detail.stage",
        "detail-execution-id": "$.detail.execution-id",
        "detail-state": "$.detail.state",
    }
    assert transformer["InputTemplate"] == (
        '{"stage_ended":{"stage":<detail-stage>,"execution_id":<detail-execution-id>,"state":<detail-state>}}'
    )
    body = json.loads(
        transformer["InputTemplate"]
        .replace("<detail-stage>", '"Prod-3"')
        .replace("<detail-execution-id>", '"e-1"')
        .replace("<detail-state>", '"STOPPED"')
    )
    assert body == {"stage_ended": {"stage": "Prod-3", "execution_id": "e-1", "state": "STOPPED"}}
    # AND the Restore machine maps each stage, in its own definition, to what a gate's
    # status-change event gives it: that stage gate's pointer, and nothing for any other stage
    definition = resources[stack.get_logical_id(gates.restore.node.default_child)]["Properties"]
    states = json.loads(flat(definition["DefinitionString"]))["States"]
    first = states["RestoreBakeEvent?"]
    [_, stage_ended] = first["Choices"]
    assert stage_ended == {
        "And": [
            {"Variable": f"$.stage_ended.{k}", check: True}
            for k in ("stage", "execution_id", "state")
            for check in ("IsPresent", "IsString")
        ],
        "Next": "RestoreGatedStage?",
    }
    assert first["Default"] == "RestoreNoBakeEvent"
    gated = states["RestoreGatedStage?"]
    assert gated["Default"] == "RestoreNotGatedStage"
    assert [(c["Variable"], c["StringEquals"]) for c in gated["Choices"]] == [
        ("$.stage_ended.stage", stage) for stage, _, _ in inputs
    ]
    for choice, (stage, parameter, digest) in zip(gated["Choices"], inputs, strict=True):
        pointer = states[choice["Next"]]
        assert pointer == {
            "Type": "Pass",
            "Parameters": {
                "pointer": {
                    "config_parameter": parameter,
                    "config_sha256": digest,
                    "pipeline_execution_id.$": "$.stage_ended.execution_id",
                },
                "ended": {
                    "execution.$": f"States.Format('pipeline {PIPELINE} execution {{}} stage {stage} {{}}', "
                    "$.stage_ended.execution_id, $.stage_ended.state)"
                },
            },
            # then exactly the path of a gate's status-change event: checked, loaded, verified
            "Next": "RestoreGateInput?",
        }
    # a stage not gated is no gate input: fails closed, with an error that pages
    assert states["RestoreNotGatedStage"]["Next"] == "RestoreInputUnverified"
    assert states["RestoreInputUnverified"]["Error"] in PAGED_ERRORS


def test_a_second_call_adds_no_second_rule(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    gates = new_gates(stack)
    gates.restore_when_stage_ends([("Prod-1", "/p", "0" * 64)])
    with pytest.raises(ValueError, match="once"):
        gates.restore_when_stage_ends([("Prod-2", "/q", "1" * 64)])


def test_no_gated_stage_no_stage_ended_rule(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    gates = new_gates(stack)
    assert gates.restore_when_stage_ends([]) == []
    assert (
        Template.from_stack(stack).find_resources(
            "AWS::Events::Rule", {"Properties": {"EventPattern": {"source": ["aws.codepipeline"]}}}
        )
        == {}
    )
