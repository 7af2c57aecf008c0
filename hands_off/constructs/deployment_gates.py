"""Deployment gates (P14, P15) and bakes (P16, X5) as Step Functions state machines that a
pipeline invokes before and after each wave, and a third, ``Restore``, for a gate or bake that ended
early.
The decisions live in the ``hands_off_gates`` package (shipped in the wheel, tested on their own);
these machines only loop: check → decide → wait → check, or read the override → watch → wait →
read the override → watch.

Both machines first let a rollback through (whatever its input says: see Hotfix below), then read their input
from its SSM parameter and fail closed (``GateInputTampered``) unless its SHA-256 is the one the
pipeline action carries. Transient Lambda failures are retried with backoff; a gate check that
still fails blocks and is checked again, a bake poll that still fails spends the bake's budget of
unreadable polls (:data:`~hands_off_gates.contract.UNREADABLE_POLL_LIMIT`).

Hotfix (issue 8): a gate that proceeds under a ``hotfix`` override for its stage and execution
turns off the alarm configuration of each copy's CodeDeploy deployment group
(``UpdateDeploymentGroup``: CodeDeploy then does not stop on the copy's own alarms); one that
proceeds without makes sure it is on before the deployment. The hotfix function reads the
override parameter itself before it arms (``override_parameter`` must be
``/hands-off/<pipeline>/override``; its author is the parameter's audited writer): invoked
directly, without an active ``hotfix`` override for the stage and execution, it changes nothing.
The bake reads the override again at
its start and before every poll (``KeepBaking`` → ``BakeOverride`` → ``Watch``: a hotfix revoked
mid-bake — deleted, rewritten, narrowed — stops lifting at the next poll; one that cannot be read
is no override and lifts nothing) and passes it, with the stage and execution, to the poll (a
hotfix for this stage and execution, on a group whose alarm configuration is off, lifts the
copy's own alarms there, not the org alarms), and turns every group's alarm configuration back
on when it ends, done or failed. A group that cannot be set fails the gate
(``HotfixAlarmsUnset``) or the bake (``HotfixNotRestored``). A rollback execution's gate and bake
turn every group back on too (``disarm``, ``restore``; a failed hotfix deployment may have left
one off), from the verified input only and never blocking the rollback: what could not be done is
in the ``hotfix`` field of the rollback's output (``ok`` false, the reason) and the hotfix
function's ``ERROR`` line.

A gate or bake that ends without turning alarm rollback back on for sure — stopped
(``StopExecution``, a stopped or abandoned pipeline execution: a gate stopped while its
``ArmHotfix`` runs ends with the groups off), past its timeout, or failed by Step Functions itself
(``States.Runtime`` past 25,000 history events, ``States.DataLimitExceeded`` for a result over
256 KiB: no ``States.ALL`` catch catches them) — never reaches the bake's ``RestoreHotfix``. An
EventBridge rule (:attr:`DeploymentGates.ended_early`) on the gate and bake machines'
``ABORTED``/``TIMED_OUT``/``FAILED`` status-change events (all but a blocked gate, which never
armed; after a bake's own failure it is a harmless second try) starts the ``Restore`` machine
with the event. ``Restore`` uses nothing of the event but the execution's input (parameter name,
digest, execution id): it reads the parameter again and uses it only if its SHA-256 is that
digest, exactly as the gate and bake do, then turns every group's alarm configuration back on
(``restore``, the safe direction: it never turns one off). An input it cannot read or verify, or a
group it cannot turn back on, fails it with a :data:`PAGED_ERRORS` error (``GateInputUnverified``,
``GateInputTampered``, ``HotfixNotRestored``); it never acts on an unverified input. A Restore
started for one execution may turn alarm rollback back on under a later execution's hotfix in the
same stage (seconds later): the safe direction, that deployment then stops on its alarms.

Paging (:meth:`DeploymentGates.page_failures`): every ending of the three machines that nothing
else pages — ``FAILED`` with any error but ``DeploymentBlocked`` and ``BakeFailed`` (those fail the
stage and page through the copies' alarms), a bake or ``Restore`` ``ABORTED``/``TIMED_OUT``, a gate
``TIMED_OUT``. A stopped gate does not page: its ``Restore`` does, if it cannot restore.

The bake's history budget: a poll costs :data:`~hands_off.model.gates.BAKE_EVENTS_PER_POLL`
events; a failed override read (the function broken: Lambda's own errors are retried) costs more,
so a bake allows :data:`~hands_off_gates.contract.UNREADABLE_POLL_LIMIT` of them, then turns alarm
rollback back on and fails with ``BakeOverrideUnreadable`` (paged). Step Functions and EventBridge
deliver these status-change events best effort. A pipeline execution stopped between a gate's
success and its bake ends no Step Functions execution: the stage's own ending (``FAILED``,
``STOPPED``, ``CANCELED``) starts ``Restore`` for that stage instead
(:meth:`DeploymentGates.restore_when_stage_ends`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import (
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
    Token,
    pipelines,
)
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as cp_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

import hands_off_gates
from hands_off.constructs import _asl as asl
from hands_off.constructs import _once
from hands_off.constructs.alarm_factory import PAGING_FILTER_FIELD
from hands_off.constructs.roles import inline_policy_role
from hands_off.naming import GATE_FUNCTION_SUFFIXES, ServiceNaming, SharedGateRole, alarm_name_prefix
from hands_off.package import bundle_gates
from hands_off_gates.contract import CHECK_FUNCTION_KEY, CHECK_MODULES, UNREADABLE_POLL_LIMIT

__all__ = [
    "BAKE_FAILED_ERROR",
    "BLOCKED_ERROR",
    "ENDED_EARLY_STATUSES",
    "FAILURE_STATUS_EVENT",
    "GATES_SOURCE",
    "HOTFIX_NOT_RESTORED_ERROR",
    "HOTFIX_UNSET_ERROR",
    "INPUT_TAMPERED_ERROR",
    "INPUT_UNVERIFIED_ERROR",
    "MACHINE_LOGGING_AND_TRACING",
    "OVERRIDE_UNREADABLE_ERROR",
    "PAGED_ERRORS",
    "RETRIED_LAMBDA_ERRORS",
    "STAGE_ENDED_STATES",
    "STAGE_STATUS_EVENT",
    "UNPAGED_ERRORS",
    "DeploymentGates",
    "SharedGateRoles",
    "StateMachineStep",
    "config_digest",
]

GATES_SOURCE = Path(hands_off_gates.__file__).parent
"""The gate runtime package, found through the installed package (never the working directory).
One asset holds it with ``tzdata``; the handlers are ``hands_off_gates.dispatch.handler`` (the six
checks, by the payload's ``gate_function``) and ``hands_off_gates.hotfix.handler``."""
_GATES_PACKAGE = hands_off_gates.__name__

RETRIED_LAMBDA_ERRORS: tuple[str, ...] = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.Unknown",  # out of memory, or a timeout, as Step Functions reports them
    "Sandbox.Timedout",  # the function's own timeout, as Lambda reports it
    "States.Timeout",  # the task's timeout
)
"""Errors of the Lambda service, not of the gate: every Lambda task retries them with backoff."""

INPUT_TAMPERED_ERROR = "GateInputTampered"
"""The error a gate or bake fails with when its parameter is not what the pipeline was deployed with."""

INPUT_UNVERIFIED_ERROR = "GateInputUnverified"
"""The error a gate or bake fails with when its action carries no digest to verify its input."""

HOTFIX_UNSET_ERROR = "HotfixAlarmsUnset"
"""The error a gate fails with when it cannot turn the copies' CodeDeploy alarm rollback off (for
a hotfix) or make sure it is on (without one)."""

HOTFIX_NOT_RESTORED_ERROR = "HotfixNotRestored"
"""The error a bake fails with when it cannot turn the copies' CodeDeploy alarm rollback back on."""

OVERRIDE_UNREADABLE_ERROR = "BakeOverrideUnreadable"
"""The error a bake fails with (after turning alarm rollback back on) when the override function
failed :data:`~hands_off_gates.contract.UNREADABLE_POLL_LIMIT` times in it: each failed read costs
history events, so they are budgeted like unreadable polls."""

BLOCKED_ERROR = "DeploymentBlocked"
"""The error a gate fails with when an alarm or a window blocked it past ``max_wait_seconds``."""

BAKE_FAILED_ERROR = "BakeFailed"
"""The error a bake fails with when what it watched failed it (alarm rollback turned back on)."""

PAGED_ERRORS: tuple[str, ...] = (
    INPUT_TAMPERED_ERROR,
    INPUT_UNVERIFIED_ERROR,
    HOTFIX_UNSET_ERROR,
    HOTFIX_NOT_RESTORED_ERROR,
    OVERRIDE_UNREADABLE_ERROR,
)
"""The errors of the machines' own Fail states that page the pipeline's topic
(:meth:`DeploymentGates.page_failures`): someone rewrote a gate input, a deployment group's
alarm rollback could not be set for or after a hotfix, or the bake's override function kept
failing. Any other error but :data:`UNPAGED_ERRORS` pages too (one Step Functions raises itself:
``States.Runtime`` past the history limit, ``States.DataLimitExceeded``, a Lambda error no catch
handles)."""

UNPAGED_ERRORS: tuple[str, ...] = (BLOCKED_ERROR, BAKE_FAILED_ERROR)
"""The errors that do not page through :meth:`DeploymentGates.page_failures`: a gate blocked by an
alarm or a window (``DeploymentBlocked``) or a failed bake (``BakeFailed``) fails its stage and
pages through the copy's own alarms instead."""

FAILURE_STATUS_EVENT = "Step Functions Execution Status Change"
"""The EventBridge detail type Step Functions sends (best effort) when an execution changes status;
its ``detail`` carries ``status``, ``stateMachineArn`` and, for a failure, ``error`` and ``cause``."""

ENDED_EARLY_STATUSES: tuple[str, ...] = ("ABORTED", "TIMED_OUT")
"""The statuses of an execution that ended without running to one of its own end states: stopped
(``StopExecution``, a stopped or abandoned pipeline execution) or past the machine's timeout.
:attr:`DeploymentGates.ended_early` restores a gate or bake that ended so (or ``FAILED``) with the
``Restore`` machine."""

STAGE_STATUS_EVENT = "CodePipeline Stage Execution State Change"
"""The EventBridge detail type CodePipeline sends when a stage of a pipeline execution changes state
(its ``detail`` carries ``pipeline``, ``execution-id``, ``stage`` and ``state``)."""

STAGE_ENDED_STATES: tuple[str, ...] = ("FAILED", "STOPPED", "CANCELED")
"""The states of a stage execution that ended without succeeding:
:meth:`DeploymentGates.restore_when_stage_ends` restores that stage then."""
_EVENT_PATTERN_BUDGET = 1900
"""Characters a stage-ended rule's event pattern may take: EventBridge's default quota is 2,048
(an account may raise it to 4,096), with room left for JSON spacing."""
_RESTORE_TIMEOUT_SECONDS = 3600  # the restore's few tasks take minutes at most, with retries
_TASK_TIMEOUT_SECONDS = 90  # past the functions' 60 s: an invocation that hangs ends
# Made once (each is a round trip to the jsii runtime), shared by every pipeline's functions.
_FUNCTION_TIMEOUT = Duration.seconds(60)
_RUNTIME = lambda_.Runtime.PYTHON_3_14
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MACHINE_LOGGING_AND_TRACING = [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
]
"""What ``sfn.StateMachine`` grants its role for ``logs`` (any level) and ``tracing_enabled``."""


def config_digest(value: str) -> str:
    """The digest :class:`StateMachineStep` carries for a gate or bake input: the lower-case hex
    SHA-256 of the exact parameter value (UTF-8), which is what ``States.Hash(value, 'SHA-256')``
    returns in Step Functions.

    Args:
        value: the exact string stored in the SSM parameter.

    Raises:
        ValueError: ``value`` holds an unresolved CDK token (its digest would be the placeholder's).

    Example::

        StateMachineStep("Prod-1-Gate", state_machine=gates.gate, config_parameter_name=name,
                         config_sha256=config_digest(value))
    """
    # Only a string holding "Token[" can be a token (CDK's own first test): no round trip else.
    if "Token[" in value and Token.is_unresolved(value):
        raise ValueError(
            "the gate input holds an unresolved CDK token, so its digest cannot be known at synth; "
            "build the input from plain values (explicit account and region)"
        )
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@cache
def _retained_log_group(scope: Construct, construct_id: str, name: str | None = None) -> logs.LogGroup:
    """A gate log group, kept a year and retained when its resource leaves the template (a
    refactor or a removed pipeline must not delete the gates' AUDIT lines)."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=RemovalPolicy.RETAIN,
    )


def _parameter_names(arns: Sequence[str]) -> tuple[str, ...]:
    """The SSM parameter names of ``arns`` (``arn:…:parameter/a/b`` → ``/a/b``).

    Raises:
        ValueError: an ARN is a CDK token or not an SSM parameter's: the machines could not tell
            this pipeline's inputs from another's.
    """
    names = []
    for arn in arns:
        head, found, name = arn.partition(":parameter/")
        if not found or "Token[" in arn or not head.startswith("arn:"):
            raise ValueError(
                f"config_parameter_arns: {arn!r} is not an SSM parameter ARN with a plain name "
                "(arn:<partition>:ssm:<region>:<account>:parameter/<name>)"
            )
        names.append(f"/{name}")
    return tuple(names)


def _hotfix_role_name(checker_role_name: str) -> str:
    """The hotfix function's role name beside the checker's: ``...-gate-checker`` → ``...-gate-hotfix``."""
    return f"{checker_role_name.removesuffix('-checker')}-hotfix"


def _event_field(path: str) -> str:
    """``events.EventField.from_path(path)``, made once per process: a token standing for the path
    wherever a rule's input names it (each one made is a round trip)."""
    return events.EventField.from_path(path)


def _failure_reason(template: str) -> str:
    """``template`` with the caught error's name in place of ``{}`` (an intrinsic function)."""
    return asl.format_(template, "$.error.Error")


def _alarms_failed(label: str) -> dict[str, Any]:
    """The blocked alarms result standing in for an alarms check that failed."""
    return {
        "clear": False,
        "label": label,
        "reasons.$": asl.array(
            _failure_reason(f"{label} alarms check failed ({{}}) — blocking, will re-check")
        ),
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    }


@dataclass(frozen=True, kw_only=True)
class SharedGateRoles:
    """Roles the gates run as that are created once per tooling account and region
    (``hands_off.stacks.GateRoles``), by ARN, and the names this pipeline's functions and
    ``Restore`` machine take so those roles' policies name them.

    Args:
        checker: the checks function's role.
        hotfix: the hotfix function's role.
        machine: the three state machines' role.
        restore_starter: EventBridge's role for the rules that start ``Restore``.
        checks_function: name of the checks function (e.g. ``hands-off-orders-gates``); its log
            group is ``/aws/lambda/<name>``.
        hotfix_function: name of the hotfix function (e.g. ``hands-off-orders-hotfix``), likewise.
        restore_machine: name of the ``Restore`` state machine (e.g. ``hands-off-orders-restore``).
    """

    checker: str
    hotfix: str
    machine: str
    restore_starter: str
    checks_function: str
    hotfix_function: str
    restore_machine: str

    @classmethod
    def of(cls, naming: ServiceNaming) -> SharedGateRoles:
        """The shared roles of ``naming``'s tooling account and region, and the names of its
        service's gate functions and ``Restore`` machine."""
        checks_suffix, hotfix_suffix = GATE_FUNCTION_SUFFIXES
        return cls(
            checker=naming.shared_gate_role_arn(SharedGateRole.CHECKER),
            hotfix=naming.shared_gate_role_arn(SharedGateRole.HOTFIX),
            machine=naming.shared_gate_role_arn(SharedGateRole.MACHINE),
            restore_starter=naming.shared_gate_role_arn(SharedGateRole.RESTORE_STARTER),
            checks_function=naming.gate_function(checks_suffix),
            hotfix_function=naming.gate_function(hotfix_suffix),
            restore_machine=naming.restore_machine,
        )


@jsii.implements(ILocalBundling)
class _GatesBundler:
    """Bundle the gate modules with the pinned ``tzdata`` (zoneinfo needs it; no Docker)."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        bundle_gates(Path(output_dir))  # what ``python -m hands_off.package --gates`` zips
        return True


class DeploymentGates(Construct):
    """The gate, bake and restore state machines of one pipeline (shared by all its waves).

    Attributes:
        gate: the gate machine (7-day timeout).
        bake: the bake machine (48 h timeout).
        restore: the ``Restore`` machine, run for a gate or bake that ended early (1 h timeout).
        ended_early: the EventBridge rule on the gate and bake machines' ``ABORTED``/``TIMED_OUT``
            status-change events (:data:`ENDED_EARLY_STATUSES`) and ``FAILED`` ones (but a blocked
            gate): starts ``restore`` with the event (its role may start that machine only);
            :meth:`page_failures` pages those nothing else pages.
        functions: the Lambda function running each gate module: one function (handler
            ``hands_off_gates.dispatch.handler``) for the six checks, whose tasks name their module
            in the payload's ``gate_function``, and one for ``hotfix``. Both run as the checker
            role and log to a log group each; the three machines log to one.

    Args:
        pipeline_name: used in names and the override parameter path.
        reader_role_arns: roles in target accounts the checks assume to read alarms/metrics.
        override_parameter_name: SSM parameter holding an override (read only; the hotfix
            function arms only under ``/hands-off/<pipeline_name>/override``).
        checker_role_name: physical name of the role the checks function runs with.
        hotfix_role_name: physical name of the role the hotfix function runs with. Default:
            ``checker_role_name`` without its ``-checker`` suffix, then ``-hotfix``.
        hotfix_role_arns: roles in target accounts the hotfix function assumes to update the
            copies' deployment groups (no other function may). Default: none.
        config_parameter_arns: the SSM parameters holding each gate's and bake's input (a
            CodePipeline action configuration value is limited to 1,000 characters, so the action only
            passes the parameter's name).
        code: the gate runtime's package (the signed zip the Build made). Default: the installed
            ``hands_off_gates`` bundled with ``tzdata``.
        code_signing_config: the functions' code-signing config (see
            :func:`~hands_off.constructs.code_signing.gates_code_signing`). Default: none.
        shared_roles: run as the tooling account and region's shared roles instead of creating
            four roles here (``checker_role_name``, ``hotfix_role_name``, ``hotfix_role_arns`` and
            ``reader_role_arns`` are then unused: the shared roles' policies hold what those
            said; ``config_parameter_arns`` may then not be empty). Default: ``None``, roles of
            this pipeline's own.

    Every machine uses only the inputs of ``config_parameter_arns`` (by name): an action naming
    any other parameter fails the gate or bake closed (``GateInputTampered``), and ``Restore``
    does nothing with it (``GateInputUnverified``). With shared roles the machines' role may read
    every pipeline's inputs, so this is what binds them to this pipeline's.
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
        hotfix_role_name: str | None = None,
        hotfix_role_arns: list[str] | None = None,
        code: lambda_.Code | None = None,
        code_signing_config: lambda_.ICodeSigningConfig | None = None,
        shared_roles: SharedGateRoles | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.shared_roles = shared_roles
        self._own_parameters = _parameter_names(config_parameter_arns)
        if shared_roles is not None and not self._own_parameters:
            # The shared machine role may read every pipeline's inputs: with none of its own to
            # tell them apart by, nothing would keep these machines off the others'.
            raise ValueError(
                "DeploymentGates: shared_roles needs config_parameter_arns (the pipeline's own gate "
                "and bake inputs): without them the machines could not tell their inputs from "
                "another pipeline's"
            )
        # Stack.of(self) is the scope when that is a stack (the pipeline's): no round trip then.
        self._stack = stack = scope if isinstance(scope, Stack) else Stack.of(self)
        self.code_signing_config = code_signing_config
        code = code or lambda_.Code.from_asset(
            str(GATES_SOURCE),
            # Bytecode an installed wheel or a test run leaves beside the source must not change
            # the asset hash (and is never shipped: the bundler copies only the .py files).
            exclude=["__pycache__", "*.pyc"],
            bundling=BundlingOptions(
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
                local=_GatesBundler(),
            ),
        )
        self.override_parameter_arn = stack.format_arn(
            service="ssm", resource="parameter", resource_name=override_parameter_name.lstrip("/")
        )
        self.pipeline_name = pipeline_name
        self.config_parameter_arns = config_parameter_arns
        checker_statements: list[iam.PolicyStatement] = []
        hotfix_statements: list[iam.PolicyStatement] = []
        policies: tuple[iam.PolicyDocument, ...] = ()
        if shared_roles is not None:
            # Created once per tooling account and region (hands_off.stacks.GateRoles): their
            # policies name every pipeline's functions, log groups, inputs and Restore by pattern.
            self.checker_role = self._shared_role("CheckerRole", shared_roles.checker)
            self.hotfix_role = self._shared_role("HotfixRole", shared_roles.hotfix)
            self.machine_role = self._shared_role("MachineRole", shared_roles.machine)
        else:
            # Each role holds its statements as its own inline policy (no DefaultPolicy
            # resource: see hands_off.constructs.roles); nothing below grants through add_to_policy.
            self.checker_role, checker_policy = inline_policy_role(
                self,
                "CheckerRole",
                role_name=checker_role_name,
                assumed_by=_once.service_principal("lambda.amazonaws.com"),
                description=f"{pipeline_name} gates: assume the alarm-reader roles, read the override",
            )
            # The history names the AWS identity that wrote the override (its audited author).
            # The hotfix function reads it too before it arms: the same statement (one round trip).
            read_override = iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:GetParameterHistory"],
                resources=[self.override_parameter_arn],
            )
            checker_statements += [
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=reader_role_arns),
                read_override,
                iam.PolicyStatement(
                    actions=["codepipeline:GetPipelineExecution"],
                    resources=[stack.format_arn(service="codepipeline", resource=pipeline_name)],
                ),
            ]
            # The hotfix function alone may change deployment groups: its own role, which may
            # only assume the target accounts' hotfix roles, read the override (and write its log
            # group).
            self.hotfix_role, hotfix_policy = inline_policy_role(
                self,
                "HotfixRole",
                role_name=hotfix_role_name or _hotfix_role_name(checker_role_name),
                assumed_by=_once.service_principal("lambda.amazonaws.com"),
                description=f"{pipeline_name} gates: the hotfix function (turns alarm rollback off and on)",
            )
            if hotfix_role_arns:
                hotfix_statements.append(
                    iam.PolicyStatement(actions=["sts:AssumeRole"], resources=list(hotfix_role_arns))
                )
            hotfix_statements.append(read_override)  # arming checks the override itself
            # One role for the three state machines (they invoke the same functions; fewer roles).
            self.machine_role, machine_policy = inline_policy_role(
                self,
                "MachineRole",
                assumed_by=_once.service_principal("states.amazonaws.com"),
                description=f"{pipeline_name} gate and bake state machines",
            )
            policies = (checker_policy, hotfix_policy, machine_policy)
        # One function serves the six checks (same role, package and settings: one function and
        # one log group instead of six); hotfix, the one that changes deployment groups, has its own.
        # Log groups keep the ids of the ones they continue (an id change would replace, and so
        # delete, a group): the checks log where decide (override AUDIT lines) logged, the three
        # machines where the gate machine logged. All are retained when their resource goes.
        checks = self._function(
            "ChecksFunction",
            "dispatch",
            code,
            self.checker_role,
            checker_statements,
            ", ".join(CHECK_MODULES),
            log_group_id="DecideFunctionLogs",
            function_name=shared_roles.checks_function if shared_roles else None,
        )
        hotfix = self._function(
            "HotfixFunction",
            "hotfix",
            code,
            self.hotfix_role,
            hotfix_statements,
            "hotfix",
            function_name=shared_roles.hotfix_function if shared_roles else None,
        )
        self.functions = {**dict.fromkeys(CHECK_MODULES, checks), "hotfix": hotfix}
        self._machine_logs = _retained_log_group(self, "GateLogs")
        # The execution check's own group of releases before the checks shared one function: its
        # rollback AUDIT lines are kept, retained, until a later release drops the resource.
        _retained_log_group(self, "ExecutionFunctionLogs")
        # The definitions are plain values (hands_off.constructs._asl), with these references in
        # them: each read once.
        checks_arn, hotfix_arn = checks.function_arn, hotfix.function_arn
        self._function_arns = {**dict.fromkeys(CHECK_MODULES, checks_arn), "hotfix": hotfix_arn}
        self._get_parameter = f"arn:{_once.partition()}:states:::aws-sdk:ssm:getParameter"
        if policies:
            checker_policy, hotfix_policy, machine_policy = policies
            # Added in one call (a round trip each otherwise), the functions' log statements last.
            checker_policy.add_statements(*checker_statements)
            hotfix_policy.add_statements(*hotfix_statements)
            # What the tasks need, as the Step Functions tasks would grant it: invoke the
            # functions (and their versions), read the inputs' parameters.
            arns = (checks_arn, hotfix_arn)
            machine_policy.add_statements(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[*arns, *(f"{arn}:*" for arn in arns)]
                ),
                iam.PolicyStatement(actions=["ssm:getParameter"], resources=config_parameter_arns),
                # What sfn.StateMachine grants its role for logging to CloudWatch Logs and X-Ray
                # tracing (neither has resource-level permissions), stated here: the machines get
                # the role without policy updates, so their grants cannot make a DefaultPolicy.
                iam.PolicyStatement(actions=MACHINE_LOGGING_AND_TRACING, resources=["*"]),
            )
            self._machine_role_fixed: iam.IRole = cast(iam.Role, self.machine_role).without_policy_updates()
        else:
            self._machine_role_fixed = self.machine_role  # imported, immutable: no grant lands
        self.gate = self._machine("Gate", self._gate_definition(), 7 * 24 * 3600)
        self.bake = self._machine("Bake", self._bake_definition(), 2 * 24 * 3600)
        self.restore = self._machine(
            "Restore",
            self._restore_definition(),
            _RESTORE_TIMEOUT_SECONDS,
            name=shared_roles.restore_machine if shared_roles else None,
        )
        # Read once, for the rules on the machines' status changes (ended_early, page_failures).
        self._machine_arns = {
            "gate": self.gate.state_machine_arn,
            "bake": self.bake.state_machine_arn,
            "restore": self.restore.state_machine_arn,
        }
        self.ended_early = self._restore_ended()
        self._stage_ended_restored = False  # restore_when_stage_ends: once

    def page_failures(self, topic: sns.ITopic, *, alarm_name: str | None = None) -> events.Rule:
        """Page ``topic`` when a gate, bake or restore execution ends in a way nothing else pages:

        * ``FAILED`` with any error but :data:`UNPAGED_ERRORS` (``PageFailures``): the
          :data:`PAGED_ERRORS` (a tampered or unverifiable input, alarm rollback that could not be
          set or restored, an override function that kept failing in a bake) and whatever Step
          Functions raises itself (``States.Runtime`` past 25,000 history events,
          ``States.DataLimitExceeded``, which no ``States.ALL`` catch catches). A blocked gate
          (``DeploymentBlocked``) or a failed bake (``BakeFailed``) pages through the copies' alarms.
        * ``ABORTED`` or ``TIMED_OUT`` (``PageEndedEarly``): a bake or a ``Restore`` execution that
          was stopped or timed out, a gate that timed out (the message's ``Error`` is the status).
          A stopped gate does not page (stopping a pipeline execution at its gate is an operator's
          ordinary act): :attr:`ended_early` restores alarm rollback after it, and a ``Restore``
          that cannot pages.

        A topic encrypted with its own KMS key lets EventBridge use the key.

        The message is JSON shaped like a CloudWatch alarm notification, so the pipeline's
        subscriptions of the shared paging topic (filtered on ``AlarmName``) receive it::

            {"AlarmName": "orders-application-gate-failed", "NewStateValue": "ALARM",
             "AlarmDescription": "...", "Execution": <name>, "Error": <error>, "Cause": <cause>}

        Example::

            gates.page_failures(paging_topic)

        Args:
            topic: where to page.
            alarm_name: the message's ``AlarmName``. Default: ``<pipeline>-gate-failed``.

        Returns:
            the ``PageFailures`` rule (``FAILED`` executions).
        """
        machines = self._machine_arns
        rule = events.Rule(
            self,
            "PageFailures",
            description=(
                f"{self.pipeline_name}: a gate, bake or restore failed other than blocked or baked "
                "badly (input rewritten or unverifiable, alarm rollback not set or restored, a "
                "Step Functions limit)"
            ),
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[FAILURE_STATUS_EVENT],
                detail={
                    "status": ["FAILED"],
                    "stateMachineArn": list(machines.values()),
                    "error": [{"anything-but": list(UNPAGED_ERRORS)}],
                },
            ),
        )
        name, error, cause = (_event_field(f"$.detail.{k}") for k in ("name", "error", "cause"))
        paging_name = alarm_name or f"{alarm_name_prefix(self.pipeline_name)}gate-failed"
        # The event's values stand alone in the JSON (never inside a string): EventBridge inserts
        # them as JSON values, so a quote in a cause cannot break the message.
        message = events.RuleTargetInput.from_object(
            {
                PAGING_FILTER_FIELD: paging_name,
                "NewStateValue": "ALARM",
                "AlarmDescription": (
                    f"{self.pipeline_name}: a gate, bake or restore execution failed (input rewritten "
                    "or unverifiable, hotfix alarm rollback not set or not restored, or a Step "
                    "Functions limit)"
                ),
                "Execution": name,
                "Error": error,
                "Cause": cause,
            }
        )
        rule.add_target(events_targets.SnsTopic(topic, message=message))
        # Ended early pages too. Its status stands in for the error: such an event may carry no
        # error or cause, and a missing value would break the JSON.
        ended = events.Rule(
            self,
            "PageEndedEarly",
            description=(
                f"{self.pipeline_name}: a bake or restore was stopped or timed out, or a gate timed out"
            ),
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[FAILURE_STATUS_EVENT],
                detail={
                    "$or": [
                        {
                            "stateMachineArn": [machines["bake"], machines["restore"]],
                            "status": list(ENDED_EARLY_STATUSES),
                        },
                        {"stateMachineArn": [machines["gate"]], "status": ["TIMED_OUT"]},
                    ]
                },
            ),
        )
        ended_early = events.RuleTargetInput.from_object(
            {
                PAGING_FILTER_FIELD: paging_name,
                "NewStateValue": "ALARM",
                "AlarmDescription": (
                    f"{self.pipeline_name}: a bake or restore execution was stopped or timed out, "
                    "or a gate execution timed out"
                ),
                "Execution": name,
                "Error": _event_field("$.detail.status"),
                "Cause": (
                    "a gate or bake that ended so never turned CodeDeploy alarm rollback back on: "
                    "the Restore state machine does, from its verified input, and pages again if it "
                    "cannot; the stage did not finish. A Restore execution that ended so may have "
                    "left alarm rollback off: turn it back on by hand on the stage's deployment groups"
                ),
            }
        )
        ended.add_target(events_targets.SnsTopic(topic, message=ended_early))
        key = getattr(topic, "master_key", None)
        if isinstance(key, kms.Key):
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal("events.amazonaws.com")],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                )
            )
        return rule

    def _shared_role(self, construct_id: str, arn: str) -> iam.IRole:
        """A shared gate role, imported by ARN and immutable (nothing here adds to its policy)."""
        return iam.Role.from_role_arn(self, construct_id, arn, mutable=False)

    def _function(
        self,
        construct_id: str,
        module: str,
        code: lambda_.Code,
        role: iam.IRole,
        statements: list[iam.PolicyStatement],
        runs: str,
        *,
        log_group_id: str | None = None,
        function_name: str | None = None,
    ) -> lambda_.Function:
        """A gate function running ``hands_off_gates.<module>.handler`` (the checks it ``runs``,
        for its description) as ``role``; what it may write (its log group, ``log_group_id``,
        default ``<construct_id>Logs``) goes to ``statements``, for that role's policy. A
        ``function_name`` names the function and its log group (``/aws/lambda/<name>``), as the
        shared roles' policies expect."""
        log_group = _retained_log_group(
            self,
            log_group_id or f"{construct_id}Logs",
            f"/aws/lambda/{function_name}" if function_name else None,
        )
        # What log_group.grant_write(role) grants, in the role's inline policy.
        statements.append(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        return lambda_.Function(
            self,
            construct_id,
            function_name=function_name,
            code=code,
            handler=f"{_GATES_PACKAGE}.{module}.handler",
            runtime=_RUNTIME,
            role=role,
            log_group=log_group,
            timeout=_FUNCTION_TIMEOUT,
            memory_size=256,
            description=f"hands-off gate: {runs}",
            code_signing_config=self.code_signing_config,
        )

    def _invoke(
        self,
        state_id: str,
        module: str,
        payload: dict[str, Any],
        *,
        result_path: str | None = None,
    ) -> asl.Task:
        """A task invoking the gate function ``module`` with ``payload`` (its result is the
        function's response). Lambda's own transient failures (service errors, throttling,
        timeouts) are retried with backoff: none of them says anything about the service being
        deployed."""
        if module in CHECK_MODULES:  # the checks function runs the module its payload names
            payload = {**payload, CHECK_FUNCTION_KEY: module}
        task = asl.Task(
            state_id,
            resource=self._function_arns[module],
            parameters=payload,
            timeout_seconds=_TASK_TIMEOUT_SECONDS,
            result_path=result_path,
        )
        task.add_retry(
            errors=list(RETRIED_LAMBDA_ERRORS),
            interval_seconds=2,
            max_attempts=6,
            backoff_rate=2,
            max_delay_seconds=30,
            jitter_strategy="FULL",
        )
        return task

    def _check(self, state_id: str, module: str, payload: dict[str, Any], failed: dict[str, Any]) -> asl.Task:
        """A gate check whose failure (after its retries) is a blocked result, not a failed gate:
        Decide still decides, the gate waits and checks again, and the failure counts toward
        ``max_wait_seconds`` like any other blocker."""
        fallback = asl.Pass(f"{state_id}Failed", parameters=failed)
        task = self._invoke(state_id, module, payload)
        task.add_catch(fallback, errors=["States.ALL"], result_path="$.error")
        return task

    def _load_config(self, state_id: str) -> asl.Task:
        """Read the gate input's parameter: its value and the value's SHA-256, at ``$.loaded``."""
        load = asl.Task(
            state_id,
            resource=self._get_parameter,
            parameters={"Name.$": "$.config_parameter"},
            result_path="$.loaded",
            result_selector={
                "value.$": "$.Parameter.Value",
                "sha256.$": asl.hash_("$.Parameter.Value", "SHA-256"),
            },
        )
        # A throttled or failed read is tried again shortly; a missing parameter then fails closed.
        load.add_retry(
            errors=["States.ALL"], interval_seconds=1, max_attempts=2, backoff_rate=2, jitter_strategy="FULL"
        )
        return load

    def _own_input(self, state_id: str, then: asl.State, other: asl.State) -> asl.State:
        """A ``Choice`` going on to ``then`` when ``$.config_parameter`` names one of this
        pipeline's inputs (``config_parameter_arns``), else to ``other``: with the shared roles
        a machine may read every pipeline's inputs, and this is what binds it to its own. Without
        any input of its own (and so without shared roles, see ``__init__``), the machines' own
        role may read no input at all: ``then``."""
        if not self._own_parameters:
            return then
        path = "$.config_parameter"
        return (
            asl.Choice(state_id)
            .when(asl.not_(asl.is_present(path)), other)
            .when(asl.not_(asl.is_string(path)), other)
            .when(asl.or_(*(asl.string_equals(path, name) for name in self._own_parameters)), then)
            .otherwise(other)
        )

    def _verified_start(self, prefix: str, execution: asl.Task, start: asl.Pass, hotfix_action: str) -> None:
        """Ask first whether this execution is a rollback (let through whatever the gate input
        says, so a deleted or rewritten parameter cannot block it: see :meth:`_rollback_hotfix`),
        then read the input and check it is byte for byte what the pipeline was deployed with,
        before anything uses it."""
        load = self._load_config(f"{prefix}LoadConfig")
        tampered = asl.Fail(
            f"{prefix}InputTampered",
            error=INPUT_TAMPERED_ERROR,
            cause_path=asl.format_(
                "gate input {} was changed outside the pipeline: its SHA-256 is {}, the pipeline was "
                "deployed with {}; failing closed (redeploy the pipeline to restore it)",
                "$.config_parameter",
                "$.loaded.sha256",
                "$.config_sha256",
            ),
        )
        unverified = asl.Fail(
            f"{prefix}InputUnverified",
            error=INPUT_UNVERIFIED_ERROR,
            cause_path=asl.format_(
                "the pipeline action gives no config_sha256 for gate input {}: it cannot be "
                "verified; failing closed (redeploy the pipeline)",
                "$.config_parameter",
            ),
        )
        intact = (
            asl.Choice(f"{prefix}InputIntact?")
            .when(asl.not_(asl.is_present("$.config_sha256")), unverified)
            .when(asl.not_(asl.is_string("$.config_sha256")), tampered)
            .when(asl.string_equals_path("$.loaded.sha256", "$.config_sha256"), start)
            .otherwise(tampered)
        )
        foreign = asl.Fail(
            f"{prefix}InputNotOwn",
            error=INPUT_TAMPERED_ERROR,
            cause_path=asl.format_(
                "execution {}: the pipeline action names a gate input that is not one of the "
                f"inputs of pipeline {self.pipeline_name} (or none): failing closed (redeploy the pipeline)",
                "$$.Execution.Name",
            ),
        )
        owned = self._own_input(f"{prefix}OwnInput?", load, foreign)
        # Cannot tell whether it is a rollback (the check itself failed): the normal checks apply.
        execution.add_catch(owned, errors=["States.ALL"], result_path="$.execution_error")
        load.next(intact)
        allowed = asl.Succeed(f"{prefix}RollbackAllowed", output_path="$.execution")
        execution.next(
            asl.Choice(f"{prefix}Rollback?")
            .when(
                asl.boolean_equals("$.execution.rollback", True),
                self._rollback_hotfix(prefix, hotfix_action, allowed),
            )
            .otherwise(owned)
        )

    def _rollback_note(self, state_id: str, reason: str) -> asl.Pass:
        """The ``hotfix`` field of a rollback's output when alarm rollback was not (or could not
        be) made sure to be on: ``ok`` false and why (an intrinsic function)."""
        return asl.Pass(
            state_id, result_path="$.execution.hotfix", parameters={"ok": False, "reason.$": reason}
        )

    def _rollback_hotfix(self, prefix: str, action: str, allowed: asl.Succeed) -> asl.State:
        """A rollback (the stage's ``OnFailure``) deploys with CodeDeploy alarm rollback on: a
        failed hotfix deployment (or an aborted bake, a half-armed gate) may have left a group's
        alarm configuration off. The gate turns every group of the stage back on (``disarm``)
        before the rollback deploys, the bake (``restore``) after it, then lets it through. Only
        from the verified input, and never blocking the rollback: an input that cannot be read
        or verified, or a hotfix call that fails, still lets it through, and the rollback's
        output says so in its ``hotfix`` field (``ok`` false, the reason); the hotfix function
        logs its ``AUDIT`` line when it turned a group back on, ``ERROR`` when it could not.
        Returns the first state (reading the input)."""
        note = "letting the rollback through"
        unread = self._rollback_note(
            f"{prefix}RollbackConfigUnread",
            _failure_reason(
                "gate input could not be read ({}): CodeDeploy alarm rollback of the stage"
                f" deployment groups was not made sure to be on — {note}"
            ),
        )
        unverified = self._rollback_note(
            f"{prefix}RollbackInputUnverified",
            asl.format_(
                "gate input {} is not what the pipeline was deployed with (or the action gives no "
                "digest), so it is not used: CodeDeploy alarm rollback of the stage deployment "
                f"groups was not made sure to be on — {note}",
                "$.config_parameter",
            ),
        )
        failed = self._rollback_note(
            f"{prefix}RollbackHotfixFailed",
            _failure_reason(f"CodeDeploy alarm rollback could not be made sure to be on ({{}}) — {note}"),
        )
        for skipped in (unread, unverified, failed):
            skipped.next(allowed)
        task = self._hotfix_task(
            f"{prefix}Rollback{action.capitalize()}Hotfix", action, result_path="$.execution.hotfix"
        )
        task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        task.next(allowed)
        # A missing field would fail the task's parameters with States.Runtime, which no Catch
        # catches: only an input that has them is used.
        has_fields = asl.and_(
            *(asl.is_present(f"$.input.{k}") for k in ("hotfix_groups", "pipeline", "stage"))
        )
        start = asl.Pass(
            f"{prefix}RollbackStart",
            parameters={
                "input.$": asl.string_to_json("$.loaded.value"),
                "execution_id.$": "$.pipeline_execution_id",
                "execution.$": "$.execution",
                "config_parameter.$": "$.config_parameter",
            },
        )
        start.next(asl.Choice(f"{prefix}RollbackHotfixInput?").when(has_fields, task).otherwise(unverified))
        load = self._load_config(f"{prefix}RollbackLoadConfig")
        load.add_catch(unread, errors=["States.ALL"], result_path="$.error")
        intact = (
            asl.Choice(f"{prefix}RollbackInputIntact?")
            .when(asl.not_(asl.is_present("$.config_sha256")), unverified)
            .when(asl.not_(asl.is_string("$.config_sha256")), unverified)
            .when(asl.string_equals_path("$.loaded.sha256", "$.config_sha256"), start)
            .otherwise(unverified)
        )
        load.next(intact)
        return self._own_input(f"{prefix}RollbackOwnInput?", load, unverified)

    def _begin(self, prefix: str, start: asl.Pass, hotfix_action: str) -> asl.Task:
        """The first states of a machine, up to ``start`` (a rollback ends before it, once it
        made sure CodeDeploy alarm rollback is on with ``hotfix_action``). Returns the first."""
        execution = self._invoke(
            f"{prefix}CheckExecution",
            "execution",
            {"pipeline": self.pipeline_name, "execution_id.$": "$.pipeline_execution_id"},
            result_path="$.execution",
        )
        self._verified_start(prefix, execution, start, hotfix_action)
        return execution

    def _start(self, prefix: str, **extra: Any) -> asl.Pass:
        """The verified input, parsed, with when the machine started and the execution id."""
        return asl.Pass(
            f"{prefix}Start",
            parameters={
                "input.$": asl.string_to_json("$.loaded.value"),
                "started_at.$": "$$.Execution.StartTime",
                "execution_id.$": "$.pipeline_execution_id",
                **extra,
            },
        )

    def _gate_definition(self) -> asl.State:
        start = self._start("Gate")
        checks = asl.Parallel("CheckAll", result_path="$.results")
        checks.branch(
            self._check(
                "AppAlarms",
                "alarms",
                {"label": "app", "checks.$": "$.input.app_checks", "pipeline.$": "$.input.pipeline"},
                _alarms_failed("app"),
            )
        )
        checks.branch(
            self._check(
                "OrgAlarms",
                "alarms",
                {"label": "org", "checks.$": "$.input.org_checks"},
                _alarms_failed("org"),
            )
        )
        checks.branch(
            self._check(
                "CheckWindow",
                "time_window",
                {"window.$": "$.input.window"},
                {
                    "open": False,
                    "reason.$": _failure_reason("time-window check failed ({}) — blocking, will re-check"),
                },
            )
        )
        checks.branch(
            self._check(
                "CheckOverride",
                "override",
                {
                    "parameter_name.$": "$.input.override_parameter",
                    "pipeline.$": "$.input.pipeline",
                    "stage.$": "$.input.stage",
                    "execution_id.$": "$.execution_id",
                    "override_max_hours.$": "$.input.override_max_hours",
                },
                {
                    "active": False,
                    "reason.$": _failure_reason("override check failed ({}) — no override applies"),
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
                "execution_id.$": "$.execution_id",
                "override_max_hours.$": "$.input.override_max_hours",
            },
            result_path="$.decision",
        )
        wait = asl.Wait("WaitAndRecheck", seconds_path="$.input.check_interval_seconds")
        wait.next(checks)
        start.next(checks).next(decide).next(
            asl.Choice("Proceed?")
            .when(asl.boolean_equals("$.decision.proceed", True), self._gate_hotfix())
            .when(
                asl.boolean_equals("$.decision.give_up", True),
                asl.Fail("Blocked", error=BLOCKED_ERROR, cause_path="$.decision.reason"),
            )
            .otherwise(wait)
        )
        return self._begin("Gate", start, "disarm")

    def _hotfix_task(
        self, state_id: str, action: str, result_path: str = "$.hotfix", **extra: Any
    ) -> asl.Task:
        return self._invoke(
            state_id,
            "hotfix",
            {
                "action": action,
                "groups.$": "$.input.hotfix_groups",
                "pipeline.$": "$.input.pipeline",
                "stage.$": "$.input.stage",
                "execution_id.$": "$.execution_id",
                **extra,
            },
            result_path=result_path,
        )

    def _hotfix_failed(self, state_id: str, template: str) -> asl.Pass:
        """The failed hotfix result standing in for a hotfix task that could not run."""
        return asl.Pass(
            state_id, result_path="$.hotfix", parameters={"ok": False, "reason.$": _failure_reason(template)}
        )

    def _gate_hotfix(self) -> asl.State:
        """Before the deployment: turn the copies' CodeDeploy alarm rollback off for a hotfix,
        else make sure it is on."""
        unset = asl.Fail("HotfixUnset", error=HOTFIX_UNSET_ERROR, cause_path="$.hotfix.reason")
        done = (
            asl.Choice("HotfixSet?")
            .when(asl.boolean_equals("$.hotfix.ok", True), asl.Succeed("Clear", output_path="$.decision"))
            .otherwise(unset)
        )
        failed = self._hotfix_failed(
            "HotfixTaskFailed",
            "CodeDeploy alarm rollback could not be set ({}) — failing closed, not deploying",
        )
        failed.next(done)
        # The hotfix function reads the override parameter itself (its author is the parameter's
        # audited writer): arming turns alarm rollback off, so it trusts no caller's override.
        arm = self._hotfix_task(
            "ArmHotfix",
            "arm",
            **{
                "override.$": "$.results[3]",
                "override_parameter.$": "$.input.override_parameter",
                "override_max_hours.$": "$.input.override_max_hours",
            },
        )
        disarm = self._hotfix_task("DisarmHotfix", "disarm")
        for task in (arm, disarm):
            task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
            task.next(done)
        return (
            asl.Choice("Hotfix?").when(asl.boolean_equals("$.decision.hotfix", True), arm).otherwise(disarm)
        )

    def _restore_hotfix(self, prefix: str, then: asl.State, not_restored: asl.Fail) -> asl.State:
        """At the end of a bake (done or failed): every copy's CodeDeploy alarm rollback back on,
        then ``then``. Returns the first state."""
        task = self._hotfix_task(f"{prefix}RestoreHotfix", "restore")
        failed = self._hotfix_failed(
            f"{prefix}RestoreHotfixFailed",
            "CodeDeploy alarm rollback could not be turned back on ({}) — failing closed",
        )
        done = (
            asl.Choice(f"{prefix}HotfixRestored?")
            .when(asl.boolean_equals("$.hotfix.ok", True), then)
            .otherwise(not_restored)
        )
        task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        failed.next(done)
        task.next(done)
        return task

    def _bake_definition(self) -> asl.State:
        start = self._start("Bake", bake={"unreadable_polls": 0}, override_failures={"count": 0})
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
                "unreadable_polls.$": "$.bake.unreadable_polls",
                "hotfix_groups.$": "$.input.hotfix_groups",
                "stage.$": "$.input.stage",
                "execution_id.$": "$.execution_id",
                "override.$": "$.override",
                "override_max_hours.$": "$.input.override_max_hours",
            },
            result_path="$.bake",
        )
        # The override, read again before every poll (as the gate reads it): the poll re-checks
        # that it is a hotfix for this stage and execution before lifting a copy's own alarms, so
        # an override revoked (deleted, rewritten, narrowed) mid-bake stops lifting at the next
        # poll. One that cannot be read is no override: it lifts nothing.
        read_override = self._invoke(
            "BakeOverride",
            "override",
            {
                "parameter_name.$": "$.input.override_parameter",
                "pipeline.$": "$.input.pipeline",
                "stage.$": "$.input.stage",
                "execution_id.$": "$.execution_id",
                "override_max_hours.$": "$.input.override_max_hours",
            },
            result_path="$.override",
        )
        no_override = asl.Pass(
            "BakeOverrideFailed",
            result_path="$.override",
            parameters={
                "active": False,
                "reason.$": _failure_reason("override check failed ({}) — no hotfix applies in the bake"),
            },
        )
        read_override.add_catch(no_override, errors=["States.ALL"], result_path="$.error")
        not_restored = asl.Fail(
            "HotfixNotRestored",
            error=HOTFIX_NOT_RESTORED_ERROR,
            cause_path=asl.format_(
                "{} — and CodeDeploy alarm rollback was not turned back on: {}",
                "$.bake.reason",
                "$.hotfix.reason",
            ),
        )
        failed = self._restore_hotfix(
            "Failed",
            asl.Fail("BakeFailed", error=BAKE_FAILED_ERROR, cause_path="$.bake.reason"),
            not_restored,
        )
        # Each failed override read (a broken function: the service's own errors were retried)
        # costs history events beyond a poll's budget: the bake allows UNREADABLE_POLL_LIMIT of
        # them, then turns alarm rollback back on and fails with an error that pages.
        count_override = asl.Pass(
            "CountOverrideFailure",
            result_path="$.override_failures",
            parameters={"count.$": "States.MathAdd($.override_failures.count, 1)"},
        )
        spent = asl.Pass(
            "OverrideBudgetSpent",
            result_path="$.bake",
            parameters={
                "status": "FAILED",
                "reason.$": (
                    "States.Format('the override could not be read ({}) {} times in this bake: the "
                    f"override function is failing; the bake fails at {UNREADABLE_POLL_LIMIT}', "
                    "$.error.Error, $.override_failures.count)"
                ),
            },
        )
        spent.next(
            self._restore_hotfix(
                "OverrideFailed",
                asl.Fail("OverrideUnreadable", error=OVERRIDE_UNREADABLE_ERROR, cause_path="$.bake.reason"),
                not_restored,
            )
        )
        no_override.next(count_override).next(
            asl.Choice("OverrideBudgetLeft?")
            .when(asl.number_greater_than_equals("$.override_failures.count", UNREADABLE_POLL_LIMIT), spent)
            .otherwise(watch)
        )
        wait = asl.Wait("KeepBaking", seconds_path="$.input.poll_seconds")
        wait.next(read_override)
        # A poll whose Lambda failed (after its retries) saw nothing: like a poll that could not
        # read the alarms, it keeps baking within the budget of unreadable polls in a row.
        count = asl.Pass(
            "CountUnreadablePoll",
            result_path="$.bake",
            parameters={
                "status": "UNREADABLE",
                "unreadable_polls.$": "States.MathAdd($.bake.unreadable_polls, 1)",
                "reason.$": (
                    "States.Format('bake check could not run ({}): unreadable poll {} in a row; the bake "
                    f"fails at {UNREADABLE_POLL_LIMIT}', $.watch_error.Error, "
                    "States.MathAdd($.bake.unreadable_polls, 1))"
                ),
            },
        )
        watch.add_catch(count, errors=["States.ALL"], result_path="$.watch_error")
        count.next(
            asl.Choice("UnreadableBudgetLeft?")
            .when(asl.number_greater_than_equals("$.bake.unreadable_polls", UNREADABLE_POLL_LIMIT), failed)
            .otherwise(wait)
        )
        start.next(read_override).next(watch).next(
            asl.Choice("Baked?")
            .when(
                asl.string_equals("$.bake.status", "DONE"),
                self._restore_hotfix("Done", asl.Succeed("Baked", output_path="$.bake"), not_restored),
            )
            .when(asl.string_equals("$.bake.status", "FAILED"), failed)
            .otherwise(wait)
        )
        return self._begin("Bake", start, "restore")

    def _restore_definition(self, gate_inputs: Sequence[tuple[str, str, str]] = ()) -> asl.State:
        """The ``Restore`` machine: started (by :attr:`ended_early`) with the status-change event
        of a gate or bake that was stopped, timed out or failed, it turns the stage's CodeDeploy
        alarm rollback back on (``restore``), as the bake would have at its end.

        The event's ``detail.input`` is the gate's or bake's input (parameter name, digest,
        execution id: both inputs name the stage's deployment groups);
        nothing else of it is used. The parameter is read again and used only if its SHA-256 is
        the digest, exactly as the bake verifies it. Whatever cannot be read, verified or
        restored fails the execution with a :data:`PAGED_ERRORS` error (``GateInputUnverified``,
        ``GateInputTampered``, ``HotfixNotRestored``), never acts on it: the page says to turn
        the groups' alarm configuration back on by hand. It only ever turns alarm rollback on.

        Started instead (by :meth:`restore_when_stage_ends`) with a stage's ending
        (``stage_ended``: the stage, the pipeline execution's id, the stage's state), it picks
        that stage gate's pointer from ``gate_inputs``, fixed here in the definition: one
        ``Choice`` branch per gated stage (``RestoreStageEnded<n>``, the n-th), a ``Pass`` making
        what a gate's status-change event gives (parameter name, digest, execution id; the
        ending, for the reasons), then the same path: checked, read, verified, restored. A stage
        not in ``gate_inputs`` has no pointer: ``GateInputUnverified`` (paged), nothing touched.
        Returns the first state."""
        by_hand = "CodeDeploy alarm rollback NOT restored: turn it back on by hand"
        unverified = asl.Fail("RestoreInputUnverified", error=INPUT_UNVERIFIED_ERROR, cause_path="$.reason")
        tampered = asl.Fail("RestoreInputTampered", error=INPUT_TAMPERED_ERROR, cause_path="$.reason")
        no_event = asl.Pass(
            "RestoreNoBakeEvent",
            parameters={
                "reason": "started without the status-change event of a gate or bake execution "
                "(detail.input, detail.executionArn) or a gated stage's ending (stage_ended.stage, "
                f"stage_ended.execution_id, stage_ended.state): nothing to verify — {by_hand}"
            },
        )
        not_gated = asl.Pass(
            "RestoreNotGatedStage",
            parameters={
                "reason.$": asl.format_(
                    f"stage {{}} of pipeline {self.pipeline_name} execution {{}} is not a gated stage: "
                    f"no gate input to verify — {by_hand}",
                    "$.stage_ended.stage",
                    "$.stage_ended.execution_id",
                )
            },
        )
        no_pointer = asl.Pass(
            "RestoreNoGateInput",
            parameters={
                "reason.$": asl.format_(
                    "execution {} gives no gate input parameter, digest and pipeline execution id: "
                    f"its input cannot be verified — {by_hand}",
                    "$.ended.execution",
                )
            },
        )
        not_bake_input = asl.Pass(
            "RestoreNotBakeInput",
            parameters={
                "reason.$": asl.format_(
                    "gate input {} of execution {} names no deployment groups, pipeline or stage "
                    f"— {by_hand}",
                    "$.config_parameter",
                    "$.ended.execution",
                )
            },
        )
        rewritten = asl.Pass(
            "RestoreInputRewritten",
            parameters={
                "reason.$": asl.format_(
                    "gate input {} was changed outside the pipeline: its SHA-256 is {}, execution "
                    f"{{}} ran with {{}}; not used — {by_hand}",
                    "$.config_parameter",
                    "$.loaded.sha256",
                    "$.ended.execution",
                    "$.config_sha256",
                )
            },
        )
        for reason, fail in (
            (no_event, unverified),
            (not_gated, unverified),
            (no_pointer, unverified),
            (rewritten, tampered),
        ):
            reason.next(fail)
        read_event = asl.Pass(
            "RestoreReadEvent",
            parameters={
                "pointer.$": asl.string_to_json("$.detail.input"),
                "ended": {"execution.$": "$.detail.executionArn"},
            },
        )
        # A stage's ending: its gate's pointer, from this definition (never from the input).
        stage_pointers = [
            asl.Pass(
                f"RestoreStageEnded{n}",
                parameters={
                    "pointer": {
                        "config_parameter": parameter,
                        "config_sha256": digest,
                        "pipeline_execution_id.$": "$.stage_ended.execution_id",
                    },
                    "ended": {
                        "execution.$": asl.format_(
                            f"pipeline {self.pipeline_name} execution {{}} stage {stage} {{}}",
                            "$.stage_ended.execution_id",
                            "$.stage_ended.state",
                        )
                    },
                },
            )
            for n, (stage, parameter, digest) in enumerate(gate_inputs, start=1)
        ]
        stage_ended: asl.State = not_gated
        if stage_pointers:
            gated = asl.Choice("RestoreGatedStage?")
            for (stage, _, _), stage_pointer in zip(gate_inputs, stage_pointers, strict=True):
                gated.when(asl.string_equals("$.stage_ended.stage", stage), stage_pointer)
            stage_ended = gated.otherwise(not_gated)
        first = (
            asl.Choice("RestoreBakeEvent?")
            .when(
                asl.and_(
                    *(
                        c(f"$.detail.{k}")
                        for k in ("input", "executionArn")
                        for c in (asl.is_present, asl.is_string)
                    )
                ),
                read_event,
            )
            .when(
                asl.and_(
                    *(
                        c(f"$.stage_ended.{k}")
                        for k in ("stage", "execution_id", "state")
                        for c in (asl.is_present, asl.is_string)
                    )
                ),
                stage_ended,
            )
            .otherwise(no_event)
        )
        keys = ("config_parameter", "config_sha256", "pipeline_execution_id")
        pointer = asl.Pass(
            "RestorePointer",
            parameters={**{f"{k}.$": f"$.pointer.{k}" for k in keys}, "ended.$": "$.ended"},
        )
        gate_input = (
            asl.Choice("RestoreGateInput?")
            .when(
                asl.and_(*(c(f"$.pointer.{k}") for k in keys for c in (asl.is_present, asl.is_string))),
                pointer,
            )
            .otherwise(no_pointer)
        )
        read_event.next(gate_input)
        for stage_pointer in stage_pointers:
            stage_pointer.next(gate_input)
        load = self._load_config("RestoreLoadConfig")
        not_own = asl.Pass(
            "RestoreNotOwnInput",
            parameters={
                "reason.$": asl.format_(
                    f"gate input {{}} of execution {{}} is not one of the inputs of pipeline "
                    f"{self.pipeline_name}: not used — {by_hand}",
                    "$.config_parameter",
                    "$.ended.execution",
                )
            },
        )
        not_own.next(unverified)
        pointer.next(self._own_input("RestoreOwnInput?", load, not_own))
        start = asl.Pass(
            "RestoreStart",
            parameters={
                "input.$": asl.string_to_json("$.loaded.value"),
                "execution_id.$": "$.pipeline_execution_id",
                "config_parameter.$": "$.config_parameter",
                "ended.$": "$.ended",
            },
        )
        load.next(
            asl.Choice("RestoreInputIntact?")
            .when(asl.string_equals_path("$.loaded.sha256", "$.config_sha256"), start)
            .otherwise(rewritten)
        )
        not_restored = asl.Fail(
            "RestoreNotRestored", error=HOTFIX_NOT_RESTORED_ERROR, cause_path="$.hotfix.reason"
        )
        done = (
            asl.Choice("RestoreHotfixRestored?")
            .when(asl.boolean_equals("$.hotfix.ok", True), asl.Succeed("Restored", output_path="$.hotfix"))
            .otherwise(not_restored)
        )
        unread = self._hotfix_failed(
            "RestoreConfigUnread",
            f"the gate input of the execution could not be read ({{}}), so it cannot be verified — {by_hand}",
        )
        load.add_catch(unread, errors=["States.ALL"], result_path="$.error")
        unread.next(done)
        task = self._hotfix_task("RestoreHotfix", "restore")
        failed = self._hotfix_failed(
            "RestoreHotfixFailed", f"the hotfix function could not run ({{}}) — {by_hand}"
        )
        task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        failed.next(done)
        task.next(done)
        has_fields = asl.and_(
            *(asl.is_present(f"$.input.{k}") for k in ("hotfix_groups", "pipeline", "stage"))
        )
        start.next(asl.Choice("RestoreBakeInput?").when(has_fields, task).otherwise(not_bake_input))
        not_bake_input.next(unverified)
        return first

    def _restore_ended(self) -> events.Rule:
        """The EventBridge rule that starts the ``Restore`` machine with the status-change event
        of each gate or bake execution of this pipeline that ended without turning alarm rollback
        back on for sure: ``ABORTED``/``TIMED_OUT`` (:data:`ENDED_EARLY_STATUSES`: a gate stopped
        while its ``ArmHotfix`` ran, a bake that never reached its ``RestoreHotfix``) or
        ``FAILED`` with any error but ``DeploymentBlocked`` (which never armed): a Step Functions
        limit fails an execution past every catch, and restoring after a bake's own failure is
        a harmless second try. Its role may start that machine only, for EventBridge in this
        account."""
        if self.shared_roles is not None:
            self._restore_starter = self._shared_role("RestoreStarterRole", self.shared_roles.restore_starter)
        else:
            role, policy = inline_policy_role(
                self,
                "RestoreStarterRole",
                assumed_by=iam.ServicePrincipal(
                    "events.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": _once.account_id()}},
                ),
                description=f"{self.pipeline_name}: start the Restore machine for a gate or bake ended early",
            )
            policy.add_statements(
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[self._machine_arns["restore"]]
                )
            )
            self._restore_starter = role.without_policy_updates()
        machines = [self._machine_arns["gate"], self._machine_arns["bake"]]
        rule = events.Rule(
            self,
            "RestoreEnded",
            description=(
                f"{self.pipeline_name}: a gate or bake ended (stopped, timed out, failed) without "
                "surely turning CodeDeploy alarm rollback back on"
            ),
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[FAILURE_STATUS_EVENT],
                detail={
                    "$or": [
                        {"stateMachineArn": machines, "status": list(ENDED_EARLY_STATUSES)},
                        {
                            "stateMachineArn": machines,
                            "status": ["FAILED"],
                            "error": [{"anything-but": [BLOCKED_ERROR]}],
                        },
                    ]
                },
            ),
        )
        # The whole event is the input; the grant is the role's inline statement above (or the
        # shared role's).
        rule.add_target(events_targets.SfnStateMachine(self.restore, role=self._restore_starter))
        return rule

    def restore_when_stage_ends(self, gate_inputs: Sequence[tuple[str, str, str]]) -> list[events.Rule]:
        """Start the ``Restore`` machine for a gated stage when a pipeline execution's run of that
        stage ends without succeeding (``FAILED``, ``STOPPED``, ``CANCELED``:
        :data:`STAGE_ENDED_STATES`).

        A gate that armed a hotfix and SUCCEEDED leaves the stage's deployment groups with alarm
        rollback off until its bake turns it back on; a stage stopped (or failed, or cancelled)
        before that bake runs starts no bake and ends no Step Functions execution, so
        :attr:`ended_early` never fires. Here the stage's own ending does. One rule
        (``RestoreStageEnded``) matches every gated stage of this pipeline and no other; it gives
        ``Restore`` the stage that ended (the event's own ``detail.stage``), the execution's id
        and the stage's state, never a pointer. ``Restore`` picks that stage gate's input pointer
        (parameter name, the SHA-256 its action carries) from its own definition, rendered here
        again with ``gate_inputs`` (one branch per gated stage), and verifies and uses it exactly
        as a gate's status-change event's (it only ever turns alarm rollback on; a stage that
        armed nothing has nothing to turn on); a stage it has no branch for fails it closed
        (``GateInputUnverified``, paged). So an execution ending in one stage never turns alarm
        rollback back on under another execution's hotfix in another stage (an execution waiting
        between stages, e.g. superseded, has none armed: each stage's bake restores before the
        stage ends). Its role is the one that may start ``Restore`` only.

        An event pattern holds at most :data:`_EVENT_PATTERN_BUDGET` characters here (EventBridge's
        default quota is 2,048): the stages whose names do not fit the first rule's pattern go to
        a second (``RestoreStageEnded2``, ...), each listing its own; every rule starts the same
        ``Restore`` with the same input.

        Args:
            gate_inputs: ``(CodePipeline stage name, parameter name, config_digest of its value)``
                of each gated stage, each stage once.

        Returns:
            The rules (one unless the stage names fill more than one pattern; none when no stage
            is gated).

        Raises:
            ValueError: called a second time (the stages would replace the first call's), or a
                stage given twice (only one of its inputs could be restored).
        """
        if self._stage_ended_restored:
            raise ValueError(
                "restore_when_stage_ends may be called once per pipeline, with every gated stage"
            )
        stages = [stage for stage, _, _ in gate_inputs]
        twice = sorted({stage for stage in stages if stages.count(stage) > 1})
        if twice:
            raise ValueError(
                f"restore_when_stage_ends: stage(s) {', '.join(twice)} given more than once; give each "
                "gated stage once, with the input of its one gate"
            )
        self._stage_ended_restored = True
        if not gate_inputs:
            return []
        # The Restore machine was made (in __init__) before the stages were known: its definition
        # now holds their pointers. Nothing but this construct sets it.
        cfn = cast(sfn.CfnStateMachine, self.restore.node.default_child)
        cfn.definition_string = self._definition(
            self._restore_definition(gate_inputs), _RESTORE_TIMEOUT_SECONDS
        )
        stage_ended = events.RuleTargetInput.from_object(
            {
                "stage_ended": {
                    "stage": events.EventField.from_path("$.detail.stage"),
                    "execution_id": events.EventField.from_path("$.detail.execution-id"),
                    "state": events.EventField.from_path("$.detail.state"),
                }
            }
        )
        rules = []
        for index, group in enumerate(self._pattern_groups(stages)):
            rule = events.Rule(
                self,
                "RestoreStageEnded" if index == 0 else f"RestoreStageEnded{index + 1}",
                description=(
                    f"{self.pipeline_name}: a gated stage ended unsucceeded, maybe between a gate that "
                    "armed a hotfix and its bake: turn its CodeDeploy alarm rollback back on"
                ),
                event_pattern=events.EventPattern(
                    source=["aws.codepipeline"],
                    detail_type=[STAGE_STATUS_EVENT],
                    detail=self._stage_ended_detail(group),
                ),
            )
            rule.add_target(
                events_targets.SfnStateMachine(self.restore, role=self._restore_starter, input=stage_ended)
            )
            rules.append(rule)
        return rules

    def _stage_ended_detail(self, stages: Sequence[str]) -> dict[str, Any]:
        """The ``detail`` of a stage-ended rule's pattern for ``stages``."""
        return {"pipeline": [self.pipeline_name], "stage": list(stages), "state": list(STAGE_ENDED_STATES)}

    def _pattern_groups(self, stages: Sequence[str]) -> list[list[str]]:
        """``stages`` in order, in as few groups as keep each rule's event pattern (as
        CloudFormation gets it) within :data:`_EVENT_PATTERN_BUDGET` characters."""
        groups: list[list[str]] = [[]]
        for stage in stages:
            candidate = [*groups[-1], stage]
            pattern = {
                "source": ["aws.codepipeline"],
                "detail-type": [STAGE_STATUS_EVENT],
                "detail": self._stage_ended_detail(candidate),
            }
            if groups[-1] and len(json.dumps(pattern)) > _EVENT_PATTERN_BUDGET:
                groups.append([stage])
            else:
                groups[-1] = candidate
        return groups

    @staticmethod
    def _definition(start: asl.State, timeout_seconds: int) -> str:
        """The definition from ``start``, serialized (see :meth:`_machine`)."""
        return json.dumps(
            asl.render(start, timeout_seconds=timeout_seconds), ensure_ascii=False, separators=(",", ":")
        )

    def _machine(
        self, construct_id: str, start: asl.State, timeout_seconds: int, *, name: str | None = None
    ) -> sfn.StateMachine:
        """A state machine from ``start``: its definition is rendered in Python
        (:func:`~hands_off.constructs._asl.render`) and serialized there too, as ``JSON.stringify``
        would (what ``Stack.to_json_string`` did, a round trip per machine). The only tokens in it
        are the function ARNs and the partition, whose values need no JSON escaping: CDK resolves
        the string into the same ``Fn::Join``, the ARNs staying references."""
        return sfn.StateMachine(
            self,
            construct_id,
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(self._definition(start, timeout_seconds)),
            role=self._machine_role_fixed,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self._machine_logs, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )


@jsii.implements(pipelines.ICodePipelineActionFactory)
class StateMachineStep(pipelines.Step):
    """A CDK Pipelines step that runs a state machine and waits for it.

    The action's input is small (CodePipeline limits a configuration value to 1,000 characters):
    the name of the SSM parameter holding the real input, the SHA-256 of that input (the machine
    fails closed when the parameter no longer matches it) and the pipeline execution id.

    Args:
        step_id: the step's id, e.g. ``"Prod-1-Gate"``.
        state_machine: the gate or bake machine of :class:`DeploymentGates`.
        config_parameter_name: the SSM parameter holding the input.
        config_sha256: :func:`config_digest` of the parameter's exact value. Default: None, no
            digest; the machine then fails every non-rollback execution with
            ``GateInputUnverified``.

    Raises:
        ValueError: ``config_sha256`` is not 64 lower-case hex digits.
    """

    def __init__(
        self,
        step_id: str,
        *,
        state_machine: sfn.IStateMachine,
        config_parameter_name: str,
        config_sha256: str | None = None,
    ) -> None:
        super().__init__(step_id)
        if config_sha256 is not None and not _SHA256_HEX.match(config_sha256):
            raise ValueError(
                f"StateMachineStep {step_id!r}: config_sha256 {config_sha256!r} is not a SHA-256 in "
                "lower-case hex (64 characters 0-9a-f); pass config_digest(<the parameter's value>)"
            )
        self.state_machine = state_machine
        self.state_input = {
            "config_parameter": config_parameter_name,
            **({"config_sha256": config_sha256} if config_sha256 is not None else {}),
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
