"""DeploymentGates alone: the gate and bake state machines (ASL shape), their six Lambda functions,
the checker role's exact permissions, and the StateMachineStep that invokes a machine."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack, Stage
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as cp_actions
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Capture, Match, Template

from hands_off.constructs.deployment_gates import DeploymentGates, StateMachineStep

ACCOUNT, REGION = "123456789012", "eu-west-1"  # the bare stack's env (conftest)
PIPELINE = "orders-application"
READERS = [
    "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader",
    "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader",
]
OVERRIDE = f"/hands-off/{PIPELINE}/override"
CONFIG_PARAMETERS = [
    f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/hands-off/{PIPELINE}/gates/Gamma-Gate",
    f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/hands-off/{PIPELINE}/gates/Gamma-Bake",
]
MODULES = ("alarms", "time_window", "override", "decide", "bake", "execution")

GATE_STATES = {
    "GateLoadConfig",
    "GateStart",
    "GateCheckExecution",
    "GateRollback?",
    "GateRollbackAllowed",
    "CheckAll",
    "Decide",
    "Proceed?",
    "WaitAndRecheck",
    "Clear",
    "Blocked",
}
BAKE_STATES = {
    "BakeLoadConfig",
    "BakeStart",
    "BakeCheckExecution",
    "BakeRollback?",
    "BakeRollbackAllowed",
    "Watch",
    "Baked?",
    "KeepBaking",
    "Baked",
    "BakeFailed",
}


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
        statements = Capture()
        self.template.has_resource_properties(
            "AWS::IAM::Policy",
            {"Roles": [{"Ref": self.id(role)}], "PolicyDocument": {"Statement": statements}},
        )
        return self.flat(statements.as_array())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def built(bare_stack: Callable[..., Stack], flat: Callable[[Any], Any]) -> Built:
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
    return Built(stack, gates, Template.from_stack(stack), flat)


def actions_of(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def resources_of(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return sorted(resource) if isinstance(resource, list) else [resource]


# ----------------------------------------------------------------------------- machines


def test_two_state_machines_gate_and_bake(built: Built) -> None:
    built.template.resource_count_is("AWS::StepFunctions::StateMachine", 2)
    machines = built.template.find_resources("AWS::StepFunctions::StateMachine")
    assert set(machines) == {built.id(built.gates.gate), built.id(built.gates.bake)}
    for machine in machines.values():
        properties = machine["Properties"]
        # one role for both machines
        assert properties["RoleArn"] == {"Fn::GetAtt": [built.id(built.gates.machine_role), "Arn"]}
        assert properties["TracingConfiguration"] == {"Enabled": True}
        assert properties["LoggingConfiguration"]["Level"] == "ALL"
        assert properties["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert built.asl(built.gates.gate)["TimeoutSeconds"] == 7 * 86_400
    assert built.asl(built.gates.bake)["TimeoutSeconds"] == 2 * 86_400


def test_gate_machine_has_exactly_its_states(built: Built) -> None:
    asl = built.asl(built.gates.gate)
    assert set(asl["States"]) == GATE_STATES
    assert asl["StartAt"] == "GateLoadConfig"


def test_gate_loads_its_input_from_the_named_parameter(built: Built) -> None:
    states = built.asl(built.gates.gate)["States"]
    load = states["GateLoadConfig"]
    assert load["Resource"] == "arn:aws:states:::aws-sdk:ssm:getParameter"
    assert load["Parameters"] == {"Name.$": "$.config_parameter"}
    assert load["Next"] == "GateStart"
    assert states["GateStart"]["Parameters"]["execution_id.$"] == "$.pipeline_execution_id"
    assert states["GateStart"]["Next"] == "GateCheckExecution"


def test_gate_lets_rollbacks_through_before_checking(built: Built) -> None:
    states = built.asl(built.gates.gate)["States"]
    assert states["GateCheckExecution"]["Resource"] == built.function_arn("execution")
    choice = states["GateRollback?"]
    assert choice["Choices"] == [
        {"Variable": "$.execution.rollback", "BooleanEquals": True, "Next": "GateRollbackAllowed"}
    ]
    assert choice["Default"] == "CheckAll"
    assert states["GateRollbackAllowed"]["Type"] == "Succeed"


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
        ("$.decision.proceed", "Clear"),
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
    assert asl["StartAt"] == "BakeLoadConfig"
    assert asl["States"]["BakeRollback?"]["Default"] == "Watch"


def test_bake_watches_until_done_or_failed(built: Built) -> None:
    states = built.asl(built.gates.bake)["States"]
    assert states["Watch"]["Resource"] == built.function_arn("bake")
    assert states["Watch"]["Next"] == "Baked?"
    baked = states["Baked?"]
    assert [(c["StringEquals"], c["Next"]) for c in baked["Choices"]] == [
        ("DONE", "Baked"),
        ("FAILED", "BakeFailed"),
    ]
    assert baked["Default"] == "KeepBaking"
    assert states["KeepBaking"] == {"Type": "Wait", "SecondsPath": "$.input.poll_seconds", "Next": "Watch"}
    assert states["BakeFailed"] == {"Type": "Fail", "Error": "BakeFailed", "CausePath": "$.bake.reason"}


# ---------------------------------------------------------------------------- functions


def test_six_functions_with_package_handlers_on_python_314(built: Built) -> None:
    t = built.template
    t.resource_count_is("AWS::Lambda::Function", 6)
    functions = t.find_resources("AWS::Lambda::Function")
    assert sorted(f["Properties"]["Handler"] for f in functions.values()) == sorted(
        f"hands_off_gates.{m}.handler" for m in MODULES
    )
    checker = {"Fn::GetAtt": [built.id(built.gates.checker_role), "Arn"]}
    for function in functions.values():
        assert function["Properties"]["Runtime"] == "python3.14"
        assert function["Properties"]["Role"] == checker


def test_the_bundle_holds_every_handler_module_and_tzdata(built: Built) -> None:
    # GIVEN the one asset all six functions share
    keys = {
        f["Properties"]["Code"]["S3Key"]
        for f in built.template.find_resources("AWS::Lambda::Function").values()
    }
    [key] = keys
    outdir = Path(Stage.of(built.stack).outdir)  # type: ignore[union-attr]
    bundle = outdir / f"asset.{key.removesuffix('.zip')}"
    # THEN each handler string names a module inside it, and zoneinfo's data ships with it
    for module in MODULES:
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


def test_checker_role_is_named_and_assumed_by_lambda(built: Built) -> None:
    built.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "hands-off-orders-gate-checker",
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


def test_checker_role_may_do_exactly_this(built: Built) -> None:
    statements = built.policy_statements(built.gates.checker_role)
    by_action = {" ".join(actions_of(s)): resources_of(s) for s in statements}
    log_groups = by_action.pop("logs:CreateLogStream logs:PutLogEvents")
    assert by_action == {
        # the given reader roles and nothing else
        "sts:AssumeRole": sorted(READERS),
        # the override parameter only: gate inputs are read by the state machines
        "ssm:GetParameter": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{OVERRIDE}"],
        "codepipeline:GetPipelineExecution": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{PIPELINE}"],
    }
    assert len(log_groups) == 6  # one log group per function
    assert all(s["Effect"] == "Allow" for s in statements)


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
        "pipeline_execution_id": "#{codepipeline.PipelineExecutionId}",
    }
    assert len(configuration["Input"]) <= 1000  # CodePipeline's limit on a configuration value
