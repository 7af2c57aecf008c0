"""A Lambda service behind a ``live`` alias, shifted by CodeDeploy and rolled back on alarms."""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, ClassVar

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from hands_off.constructs._stack_imports import import_into
from hands_off.constructs.alarm_factory import AlarmFactory, ServiceAlarms, account_paging_topic
from hands_off.constructs.code_signing import signed_lambda_package
from hands_off.constructs.copies import claim_deployment_group
from hands_off.deployment import Deployment
from hands_off.model import AlarmPolicy, DeploymentPolicy, TrafficShape
from hands_off.naming import (
    ALIAS_NAME,
    BASELINE_LAMBDA_CONFIGS,
    LAMBDA_APPLICATION_NAME,
    RolePurpose,
    ServiceNaming,
)

__all__ = [
    "ALIAS_NAME",
    "CANARY_SCHEDULE",
    "CODEDEPLOY_ALIAS_ACTIONS",
    "SCHEDULER_PRINCIPAL",
    "LambdaService",
    "deployment_config_for",
    "scheduler_principal",
]


CODEDEPLOY_ALIAS_ACTIONS = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"]
"""What CodeDeploy needs on an alias: the actions of AWSCodeDeployRoleForLambdaLimited, scoped."""

CANARY_SCHEDULE = "rate(1 minute)"
"""How often the canary invokes a copy's ``live`` alias (P18: continuous traffic, every minute)."""

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
"""EventBridge Scheduler, which invokes the canary as the service's ``canary`` role."""


def scheduler_principal(account: str) -> iam.ServicePrincipal:
    """EventBridge Scheduler acting for ``account`` only (``aws:SourceAccount``): who may assume a
    canary role."""
    return iam.ServicePrincipal(
        SCHEDULER_PRINCIPAL, conditions={"StringEquals": {"aws:SourceAccount": account}}
    )


_Config = codedeploy.LambdaDeploymentConfig

_PREDEFINED: dict[tuple[TrafficShape, int, int], Callable[[], codedeploy.ILambdaDeploymentConfig]] = {
    (TrafficShape.CANARY, 10, 5): lambda: _Config.CANARY_10_PERCENT_5_MINUTES,
    (TrafficShape.CANARY, 10, 10): lambda: _Config.CANARY_10_PERCENT_10_MINUTES,
    (TrafficShape.CANARY, 10, 15): lambda: _Config.CANARY_10_PERCENT_15_MINUTES,
    (TrafficShape.CANARY, 10, 30): lambda: _Config.CANARY_10_PERCENT_30_MINUTES,
    (TrafficShape.LINEAR, 10, 1): lambda: _Config.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    (TrafficShape.LINEAR, 10, 2): lambda: _Config.LINEAR_10_PERCENT_EVERY_2_MINUTES,
    (TrafficShape.LINEAR, 10, 3): lambda: _Config.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    (TrafficShape.LINEAR, 10, 10): lambda: _Config.LINEAR_10_PERCENT_EVERY_10_MINUTES,
}
"""CodeDeploy's predefined Lambda configs (``CodeDeployDefault.Lambda...``) by (shape, percent,
minutes): a policy equal to one of them uses it instead of a custom config of its own. Each is
read on first use (:func:`_predefined`), not at import: every read is a jsii round trip."""


# Immutable CDK values made once per process instead of once per copy (each is a jsii round trip).


@cache
def _duration(unit: str, amount: int) -> Duration:
    return Duration.minutes(amount) if unit == "minutes" else Duration.seconds(amount)


@cache
def _all_at_once() -> codedeploy.ILambdaDeploymentConfig:
    return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE


@cache
def _predefined(key: tuple[TrafficShape, int, int]) -> codedeploy.ILambdaDeploymentConfig | None:
    read = _PREDEFINED.get(key)
    return None if read is None else read()


@cache
def _default_runtime() -> lambda_.Runtime:
    return lambda_.Runtime.PYTHON_3_14


def _canary_input(scope: Construct, payload: Mapping[str, Any]) -> str:
    """The canary's request as the schedule's ``Input``: ``payload`` as compact JSON (what an
    EventBridge rule's ``RuleTargetInput.from_object`` rendered), made in Python when it is plain
    JSON, else by CDK (a payload holding tokens)."""
    try:
        return json.dumps(dict(payload), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return Stack.of(scope).to_json_string(dict(payload))


def _baseline_config(stack: Stack, name: str) -> codedeploy.ILambdaDeploymentConfig:
    """The account-region baseline's Lambda config ``name``, imported by name into ``stack`` (no
    resource): once per stack, however many copies ask (each import is a jsii round trip)."""
    known = _STACK_CONFIGS.setdefault(stack, {})
    config = known.get(name)
    if config is None:
        config = import_into(
            stack, name, lambda: _Config.from_lambda_deployment_config_name(stack, name, name)
        )
        known[name] = config
    return config


# What _baseline_config imported, per stack and name. Weak: an app's constructs go with it.
_STACK_CONFIGS: weakref.WeakKeyDictionary[Stack, dict[str, codedeploy.ILambdaDeploymentConfig]] = (
    weakref.WeakKeyDictionary()
)


def deployment_config_for(
    scope: Construct, construct_id: str, policy: DeploymentPolicy
) -> codedeploy.ILambdaDeploymentConfig:
    """The CodeDeploy config that realises ``policy`` (P9 one-box canary, P10 linear rollout): the
    predefined config with the same numbers when there is one (e.g. a 10% canary for 10 minutes is
    ``CodeDeployDefault.LambdaCanary10Percent10Minutes``), else the account-region baseline's
    config with the same numbers when there is one (:data:`~hands_off.naming.
    BASELINE_LAMBDA_CONFIGS`: ``FAST_POLICY``'s is ``hands-off-lambda-linear-25-percent-every-5-
    minutes``), imported by name once per stack of ``scope``, else a custom config
    ``construct_id`` in ``scope``."""
    return _deployment_config(scope, construct_id, policy, stack=scope if isinstance(scope, Stack) else None)


def _deployment_config(
    scope: Construct, construct_id: str, policy: DeploymentPolicy, *, stack: Stack | None
) -> codedeploy.ILambdaDeploymentConfig:
    """:func:`deployment_config_for`, given ``scope``'s stack when the caller knows it (one round
    trip fewer than ``Stack.of``), or ``None``."""
    if policy.shape is TrafficShape.ALL_AT_ONCE:
        return _all_at_once()
    key = (policy.shape, policy.step_percent, policy.interval_minutes)
    predefined = _predefined(key)
    if predefined is not None:
        return predefined
    shared = BASELINE_LAMBDA_CONFIGS.get(key)
    if shared is not None:
        return _baseline_config(stack if stack is not None else Stack.of(scope), shared)
    interval = _duration("minutes", policy.interval_minutes)
    routing: codedeploy.TrafficRouting
    if policy.shape is TrafficShape.CANARY:
        routing = codedeploy.TimeBasedCanaryTrafficRouting(interval=interval, percentage=policy.step_percent)
    else:
        routing = codedeploy.TimeBasedLinearTrafficRouting(interval=interval, percentage=policy.step_percent)
    return codedeploy.LambdaDeploymentConfig(scope, construct_id, traffic_routing=routing)


class LambdaService(Construct):
    """One copy of a Lambda service in one account and region.

    Creates the function (least-privilege role, its own log group, optional code-signing config),
    a ``live`` alias, the service's alarms from :class:`AlarmFactory`, and a CodeDeploy
    ``LambdaDeploymentGroup`` that shifts traffic as ``policy`` says (with CodeDeploy's or the
    account-region baseline's config of the same numbers, by name, else a config of its own: see
    :func:`deployment_config_for`) and rolls back on deployment failure, on a stopped deployment
    and on any (metric) rollback alarm (P9-P13). The deployment
    group is named after the function and lives in the account-region's shared CodeDeploy
    application ``hands-off-lambda`` (created by ``AccountBaseline``, imported by name: a copy
    creates no application), so the gates can find it: a hotfix turns the group's alarm
    configuration off for one execution (``hands_off_gates.hotfix``). Two copies in one account
    and region with the same function name fail the synth (:func:`~hands_off.constructs.copies.
    claim_deployment_group`).

    Example::

        LambdaService(stack, "Service", function_name="orders-prod",
                      code=lambda_.Code.from_asset("lambda/services/orders"), handler="app.handler",
                      policy=ONE_BOX_POLICY)

    Args:
        function_name: physical name; makes the alias ARN predictable (Zeta tests and gates use it).
        code: the (signed) code package.
        handler: ``module.function`` inside the package.
        policy: traffic shift of this stage or wave.
        alarm_policy: thresholds. Default: ``AlarmPolicy()``.
        code_signing_config: when given, Lambda rejects code not signed by its profiles.
            Default: none (unsigned code accepted).
        invoker_role_arns: roles (e.g. the pipeline's integration-test role in the tooling
            account) allowed to invoke the alias. Default: none.
        runtime: Default: Python 3.14.
        environment: environment variables of the function. Default: none.
        canary_payload: when given, an EventBridge Scheduler schedule invokes the alias with it
            every minute, so alarms (and bakes) have signal even at low traffic (P18). Default:
            none.
        watch_traffic: create the traffic-anomaly alarm and roll back on it. Default: only when
            ``canary_payload`` is given (without continuous traffic, "no data" is normal).
        execution_role: the function's role, e.g. one shared by every copy in an account (IAM
            roles are per account; see ``ServiceAccessStack``). Default: a new role that may write
            only this function's log group.
        deploy_role: CodeDeploy's role. Default: a new role scoped to this alias and its alarms.
        canary_role_arn: the role the canary's schedule invokes the alias as, e.g. the service's
            ``canary`` role of the account (``ServiceAccessStack``). Default: a new role that may
            invoke only this alias (with ``canary_payload``).
    """

    codedeploy_application: ClassVar[str] = LAMBDA_APPLICATION_NAME
    """The shared application its deployment group is in (see :data:`~hands_off.naming.
    LAMBDA_APPLICATION_NAME`)."""

    @classmethod
    def for_deployment(
        cls,
        scope: Construct,
        deployment: Deployment,
        *,
        naming: ServiceNaming,
        code_directory: str,
        handler: str,
        canary_payload: Mapping[str, Any] | None,
    ) -> LambdaService:
        """The copy a hands-off pipeline deploys for ``deployment``: the signed code of
        ``code_directory`` (enforced), the account's shared runtime and CodeDeploy roles (see
        ``ServiceAccessStack``), watching traffic wherever it is continuous (production, or a
        canary). No resource policy: the canary and the pipeline's integration tests invoke the
        alias as the account's ``canary`` role."""
        account = deployment.target.account.account_id
        code, code_signing_config = signed_lambda_package(scope, naming, code_directory)
        return cls(
            scope,
            "Service",
            function_name=deployment.function_name,
            code=code,
            handler=handler,
            policy=deployment.policy,
            alarm_policy=deployment.alarm_policy,
            code_signing_config=code_signing_config,
            execution_role=iam.Role.from_role_arn(
                scope, "ExecutionRole", naming.role_arn(account, RolePurpose.RUNTIME), mutable=False
            ),
            deploy_role=iam.Role.from_role_arn(
                scope, "DeployRole", naming.role_arn(account, RolePurpose.CODEDEPLOY), mutable=False
            ),
            canary_payload=canary_payload,
            canary_role_arn=naming.role_arn(account, RolePurpose.CANARY),
            # Customers (production) or the canary (Gamma) give continuous traffic to watch.
            watch_traffic=deployment.production or canary_payload is not None,
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        code: lambda_.Code,
        handler: str,
        policy: DeploymentPolicy,
        alarm_policy: AlarmPolicy | None = None,
        code_signing_config: lambda_.ICodeSigningConfig | None = None,
        invoker_role_arns: Sequence[str] = (),
        runtime: lambda_.Runtime | None = None,
        environment: Mapping[str, str] | None = None,
        canary_payload: Mapping[str, Any] | None = None,
        watch_traffic: bool | None = None,
        execution_role: iam.IRole | None = None,
        deploy_role: iam.IRole | None = None,
        canary_role_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = execution_role
        if role is None:
            role = iam.Role(
                self,
                "Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"Runs {function_name}: writes its own log group, nothing else",
            )
            log_group.grant_write(role)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            code=code,
            handler=handler,
            runtime=runtime or _default_runtime(),
            role=role,
            log_group=log_group,
            memory_size=256,
            timeout=_duration("seconds", 10),
            environment=dict(environment or {}),
            code_signing_config=code_signing_config,
        )
        self.alias = lambda_.Alias(
            self, "Alias", alias_name=ALIAS_NAME, version=self.function.current_version
        )
        alias_arn = self.alias.function_arn
        for index, arn in enumerate(invoker_role_arns):
            # What alias.add_permission(id, principal=ArnPrincipal(arn)) makes, in one call.
            lambda_.CfnPermission(
                self.alias,
                f"Invoker{index}",
                action="lambda:InvokeFunction",
                principal=arn,
                function_name=alias_arn,
            )

        self.alarms: ServiceAlarms = AlarmFactory(
            self,
            "Alarms",
            name_prefix=function_name,
            policy=alarm_policy,
            # The factory's default, without asking CDK for this construct's stack when the
            # scope is the stack (as in a hands-off pipeline's copies): one round trip fewer.
            paging_topic=account_paging_topic(scope) if isinstance(scope, Stack) else None,
        ).lambda_alarms(
            self.alias, watch_traffic=canary_payload is not None if watch_traffic is None else watch_traffic
        )
        self.canary_schedule: scheduler.CfnSchedule | None = None
        """The EventBridge Scheduler schedule of the canary (P18), or ``None`` without one."""
        if canary_payload is not None:
            own_canary_role: iam.Role | None = None
            if canary_role_arn is None:
                own_canary_role = iam.Role(
                    self,
                    "CanaryRole",
                    assumed_by=scheduler_principal(Stack.of(self).account),
                    description=f"EventBridge Scheduler invokes the {function_name} alias (canary)",
                )
                own_canary_role.add_to_policy(
                    iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[alias_arn])
                )
                canary_role_arn = own_canary_role.role_arn
            # A new id, not the EventBridge rule's ("Canary") it replaces: CloudFormation cannot
            # change the type of a resource under one logical id.
            self.canary_schedule = scheduler.CfnSchedule(
                self,
                "CanarySchedule",
                description=f"Continuous canary traffic to {function_name} (P18)",
                schedule_expression=CANARY_SCHEDULE,
                flexible_time_window={"mode": "OFF"},
                target={
                    "arn": alias_arn,
                    "roleArn": canary_role_arn,
                    "input": _canary_input(self, canary_payload),
                    "retryPolicy": {"maximumRetryAttempts": 0},
                },
            )
            if own_canary_role is not None:  # its first runs find the role's policy in place
                self.canary_schedule.node.add_dependency(own_canary_role)

        if deploy_role is None:
            own_deploy_role = iam.Role(
                self,
                "DeployRole",
                assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
                description=f"CodeDeploy shifts traffic on the {function_name} alias and reads its alarms",
            )
            own_deploy_role.add_to_policy(
                iam.PolicyStatement(actions=CODEDEPLOY_ALIAS_ACTIONS, resources=[alias_arn])
            )
            own_deploy_role.add_to_policy(
                iam.PolicyStatement(
                    actions=["cloudwatch:DescribeAlarms"],
                    resources=[alarm.alarm_arn for alarm in self.alarms.rollback],
                )
            )
            deploy_role = own_deploy_role.without_policy_updates()
        claim_deployment_group(self, self.codedeploy_application, function_name)
        self.deployment_group = codedeploy.LambdaDeploymentGroup(
            self,
            # Not "DeploymentGroup", the id of the group of the per-copy application it replaces:
            # a new logical id makes CloudFormation create this group beside the old one and
            # delete the old one, where a changed ApplicationName under the same id would be a
            # replacement CloudFormation refuses for a named group (README, Upgrading).
            "Group",
            # Named after the copy (as EC2 fleets name theirs), in the account-region baseline's
            # shared application (imported by name: no resource): the gates' hotfix step and the
            # gate-reader role's codedeploy permissions find the group by these names.
            application=codedeploy.LambdaApplication.from_lambda_application_name(
                self, "Application", self.codedeploy_application
            ),
            deployment_group_name=function_name,
            alias=self.alias,
            # CodeDeploy's or the baseline's config when one has the policy's numbers (no resource).
            deployment_config=_deployment_config(
                self, "DeploymentConfig", policy, stack=scope if isinstance(scope, Stack) else None
            ),
            alarms=list(self.alarms.rollback),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            # An immutable role: the construct would otherwise attach the AWS managed
            # AWSCodeDeployRoleForLambdaLimited; our inline policy has its actions, scoped.
            role=deploy_role,
        )
        self.endpoint_output = CfnOutput(
            self, "Endpoint", value=alias_arn, description="ARN of the live alias"
        )
        self.health_alarm_output = CfnOutput(
            self, "HealthAlarm", value=self.alarms.health.alarm_name, description="Composite alarm"
        )
