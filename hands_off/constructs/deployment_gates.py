"""Deployment gates (P14, P15) and bakes (P16, X5) as Step Functions state machines that a
pipeline invokes before and after each wave. The decisions live in the ``hands_off_gates`` package
(shipped in the wheel, tested on their own); these machines only loop: check → decide → wait →
check, or watch → wait → watch."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
import tzdata
from aws_cdk import BundlingOptions, DockerImage, Duration, ILocalBundling, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as cp_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

import hands_off_gates

__all__ = ["GATES_SOURCE", "DeploymentGates", "StateMachineStep"]

GATES_SOURCE = Path(hands_off_gates.__file__).parent
"""The gate runtime package, found through the installed package (never the working directory).
One asset holds it with ``tzdata``; the handlers are ``hands_off_gates.<module>.handler``."""
_GATES_PACKAGE = hands_off_gates.__name__


@jsii.implements(ILocalBundling)
class _GatesBundler:
    """Bundle the gate modules with the pinned ``tzdata`` (zoneinfo needs it; no Docker)."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        package = Path(output_dir) / _GATES_PACKAGE
        package.mkdir(parents=True, exist_ok=True)
        for module in sorted(GATES_SOURCE.glob("*.py")):
            shutil.copyfile(module, package / module.name)
        shutil.copytree(
            Path(tzdata.__file__).parent,
            Path(output_dir) / "tzdata",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        return True


class DeploymentGates(Construct):
    """The gate and bake state machines of one pipeline (shared by all its waves).

    Args:
        pipeline_name: used in names and the override parameter path.
        reader_role_arns: roles in target accounts the checks assume to read alarms/metrics.
        override_parameter_name: SSM parameter holding an override (read only).
        checker_role_name: physical name of the role the gate Lambdas run with.
        config_parameter_arns: the SSM parameters holding each gate's and bake's input (a
            CodePipeline action configuration value is limited to 1,000 characters, so the action only
            passes the parameter's name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        reader_role_arns: list[str],
        override_parameter_name: str,
        checker_role_name: str,
        config_parameter_arns: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        code = lambda_.Code.from_asset(
            str(GATES_SOURCE),
            # Bytecode an installed wheel or a test run leaves beside the source must not change
            # the asset hash (and is never shipped: the bundler copies only the .py files).
            exclude=["__pycache__", "*.pyc"],
            bundling=BundlingOptions(
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                local=_GatesBundler(),
            ),
        )
        self.checker_role = iam.Role(
            self,
            "CheckerRole",
            role_name=checker_role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{pipeline_name} gates: assume the alarm-reader roles, read the override",
        )
        self.checker_role.add_to_policy(
            iam.PolicyStatement(actions=["sts:AssumeRole"], resources=reader_role_arns)
        )
        self.override_parameter_arn = stack.format_arn(
            service="ssm", resource="parameter", resource_name=override_parameter_name.lstrip("/")
        )
        self.checker_role.add_to_policy(
            iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[self.override_parameter_arn])
        )
        self.checker_role.add_to_policy(
            iam.PolicyStatement(
                actions=["codepipeline:GetPipelineExecution"],
                resources=[stack.format_arn(service="codepipeline", resource=pipeline_name)],
            )
        )
        # One role for both state machines (they invoke the same functions; fewer IAM roles).
        self.machine_role = iam.Role(
            self,
            "MachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"{pipeline_name} gate and bake state machines",
        )
        self.config_parameter_arns = config_parameter_arns
        self.functions = {
            name: self._function(name, code)
            for name in ("alarms", "time_window", "override", "decide", "bake", "execution")
        }
        self.gate = self._machine("Gate", self._gate_definition(), Duration.days(7))
        self.bake = self._machine("Bake", self._bake_definition(), Duration.days(2))

    def _function(self, module: str, code: lambda_.Code) -> lambda_.Function:
        construct_id = "".join(p.capitalize() for p in module.split("_")) + "Function"
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(self.checker_role)
        return lambda_.Function(
            self,
            construct_id,
            code=code,
            handler=f"{_GATES_PACKAGE}.{module}.handler",
            runtime=lambda_.Runtime.PYTHON_3_14,
            role=self.checker_role,
            log_group=log_group,
            timeout=Duration.seconds(60),
            memory_size=256,
            description=f"hands-off gate: {module}",
        )

    def _invoke(
        self, state_id: str, module: str, payload: dict[str, Any], **kwargs: Any
    ) -> tasks.LambdaInvoke:
        return tasks.LambdaInvoke(
            self,
            state_id,
            lambda_function=self.functions[module],
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            **kwargs,
        )

    def _load(self, prefix: str) -> sfn.Chain:
        """Read the input this gate/bake was configured with from its SSM parameter."""
        load = tasks.CallAwsService(
            self,
            f"{prefix}LoadConfig",
            service="ssm",
            action="getParameter",
            parameters={"Name.$": "$.config_parameter"},
            iam_resources=self.config_parameter_arns,
            result_selector={"config.$": "States.StringToJson($.Parameter.Value)"},
            result_path="$.loaded",
        )
        start = sfn.Pass(
            self,
            f"{prefix}Start",
            parameters={
                "input.$": "$.loaded.config",
                "started_at.$": "$$.Execution.StartTime",
                "execution_id.$": "$.pipeline_execution_id",
            },
        )
        return load.next(start)

    def _unless_rollback(self, prefix: str, then: sfn.IChainable) -> sfn.Chain:
        """A stage rollback re-runs the gate and bake while the alarm that caused it still fires:
        let rollbacks (to the last good version) through, check everything else."""
        execution = self._invoke(
            f"{prefix}CheckExecution",
            "execution",
            {"pipeline.$": "$.input.pipeline", "execution_id.$": "$.execution_id"},
            result_path="$.execution",
        )
        return execution.next(
            sfn.Choice(self, f"{prefix}Rollback?")
            .when(
                sfn.Condition.boolean_equals("$.execution.rollback", True),
                sfn.Succeed(self, f"{prefix}RollbackAllowed", output_path="$.execution"),
            )
            .otherwise(then)
        )

    def _gate_definition(self) -> sfn.IChainable:
        start = self._load("Gate")
        checks = sfn.Parallel(self, "CheckAll", result_path="$.results")
        checks.branch(
            self._invoke(
                "AppAlarms",
                "alarms",
                {"label": "app", "checks.$": "$.input.app_checks", "pipeline.$": "$.input.pipeline"},
            )
        )
        checks.branch(self._invoke("OrgAlarms", "alarms", {"label": "org", "checks.$": "$.input.org_checks"}))
        checks.branch(self._invoke("CheckWindow", "time_window", {"window.$": "$.input.window"}))
        checks.branch(
            self._invoke(
                "CheckOverride",
                "override",
                {
                    "parameter_name.$": "$.input.override_parameter",
                    "pipeline.$": "$.input.pipeline",
                    "stage.$": "$.input.stage",
                },
            )
        )
        decide = self._invoke(
            "Decide",
            "decide",
            {
                "app.$": "$.results[0]",
                "org.$": "$.results[1]",
                "window.$": "$.results[2]",
                "override.$": "$.results[3]",
                "started_at.$": "$.started_at",
                "max_wait_seconds.$": "$.input.max_wait_seconds",
                "pipeline.$": "$.input.pipeline",
                "stage.$": "$.input.stage",
            },
            result_path="$.decision",
        )
        wait = sfn.Wait(
            self, "WaitAndRecheck", time=sfn.WaitTime.seconds_path("$.input.check_interval_seconds")
        )
        body = checks.next(decide).next(
            sfn.Choice(self, "Proceed?")
            .when(
                sfn.Condition.boolean_equals("$.decision.proceed", True),
                sfn.Succeed(self, "Clear", output_path="$.decision"),
            )
            .when(
                sfn.Condition.boolean_equals("$.decision.give_up", True),
                sfn.Fail(self, "Blocked", error="DeploymentBlocked", cause_path="$.decision.reason"),
            )
            .otherwise(wait.next(checks))
        )
        return start.next(self._unless_rollback("Gate", body))

    def _bake_definition(self) -> sfn.IChainable:
        start = self._load("Bake")
        watch = self._invoke(
            "Watch",
            "bake",
            {
                "checks.$": "$.input.checks",
                "traffic.$": "$.input.traffic",
                "started_at.$": "$.started_at",
                "bake_seconds.$": "$.input.bake_seconds",
                "min_requests.$": "$.input.min_requests",
                "pipeline.$": "$.input.pipeline",
            },
            result_path="$.bake",
        )
        wait = sfn.Wait(self, "KeepBaking", time=sfn.WaitTime.seconds_path("$.input.poll_seconds"))
        body = watch.next(
            sfn.Choice(self, "Baked?")
            .when(
                sfn.Condition.string_equals("$.bake.status", "DONE"),
                sfn.Succeed(self, "Baked", output_path="$.bake"),
            )
            .when(
                sfn.Condition.string_equals("$.bake.status", "FAILED"),
                sfn.Fail(self, "BakeFailed", error="BakeFailed", cause_path="$.bake.reason"),
            )
            .otherwise(wait.next(watch))
        )
        return start.next(self._unless_rollback("Bake", body))

    def _machine(self, construct_id: str, definition: sfn.IChainable, timeout: Duration) -> sfn.StateMachine:
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        return sfn.StateMachine(
            self,
            construct_id,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            role=self.machine_role,
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )


@jsii.implements(pipelines.ICodePipelineActionFactory)
class StateMachineStep(pipelines.Step):
    """A CDK Pipelines step that runs a state machine and waits for it.

    The action's input is small (CodePipeline limits a configuration value to 1,000 characters):
    the name of the SSM parameter holding the real input, and the pipeline execution id.
    """

    def __init__(self, step_id: str, *, state_machine: sfn.IStateMachine, config_parameter_name: str) -> None:
        super().__init__(step_id)
        self.state_machine = state_machine
        self.state_input = {
            "config_parameter": config_parameter_name,
            "pipeline_execution_id": "#{codepipeline.PipelineExecutionId}",
        }

    def produce_action(
        self, stage: codepipeline.IStage, *, action_name: str, run_order: float, **_: Any
    ) -> pipelines.CodePipelineActionFactoryResult:
        stage.add_action(
            cp_actions.StepFunctionInvokeAction(
                action_name=action_name,
                run_order=run_order,
                state_machine=self.state_machine,
                state_machine_input=cp_actions.StateMachineInput.literal(self.state_input),
            )
        )
        return pipelines.CodePipelineActionFactoryResult(run_orders_consumed=1)
