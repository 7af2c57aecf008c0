"""The pipeline blueprint: every layout decision of a service pipeline, made once, as plain data.

:func:`plan_pipeline` turns the fleet (:class:`~hands_off.model.Environments`), the names
(:class:`~hands_off.naming.ServiceNaming`) and the policy hooks into a :class:`PipelinePlan`: the
stages in order, the copies each deploys, the input of each gate and bake, the stage conditions
(and the settings of the mirror alarm they watch), the Zeta endpoints, and which stage deploys each
account's IAM stack. Nothing here imports ``aws_cdk``: the plan can be asserted in
milliseconds, and :mod:`hands_off.render.codepipeline` renders it into CDK Pipelines constructs.
In the shape of aws-cdk-lib ``pipelines``' blueprint (``Wave``, ``StageDeployment``) apart from
its CodePipeline backend.

Example::

    plan = plan_pipeline(envs, naming, deployment_policy=lambda stage: stage.policy,
                         gate_policy=GatePolicy())
    [s.name for s in plan.stages]     # ['Alpha', 'Beta', 'Gamma', 'Prod-1', ..., 'Prod-4']
    plan.stage("Prod-2").gate.value   # the JSON the Prod-2 gate state machine reads
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from hands_off.deployment import Deployment
from hands_off.model import Account, ConfigError, DeploymentPolicy, Environments, GatePolicy, Stage, Wave
from hands_off.naming import ALIAS_NAME, LAMBDA_APPLICATION_NAME, RolePurpose, ServiceNaming

__all__ = [
    "MIRROR_LAG_SECONDS",
    "SSM_STANDARD_LIMIT",
    "ZETA_STAGE",
    "HealthMirror",
    "PipelinePlan",
    "PlannedAccess",
    "PlannedCopy",
    "PlannedStage",
    "StepInput",
    "TrafficMetric",
    "lambda_invocations",
    "plan_pipeline",
]

SSM_STANDARD_LIMIT = 4096
"""Characters a standard-tier SSM parameter holds (the gate and bake inputs live there)."""

ZETA_STAGE = "Zeta"
"""The stage between pre-production and the first wave: integration tests against production (P7),
and the production accounts' IAM roles (after pre-production exercised them)."""

MIRROR_LAG_SECONDS = 300
"""What the observed-health mirror adds to the gates' and bakes' publish interval: the metric's
ingestion from the Lambda logs (EMF), the alarm's evaluation and the next stage's entry check."""

_MAX_ALARM_SECONDS = 86_400  # CloudWatch evaluates at most one day of data per alarm

DeploymentPolicyHook = Callable[[Stage | Wave], DeploymentPolicy]


@dataclass(frozen=True)
class TrafficMetric:
    """The request-count metric of one copy, which a bake sums (X5).

    Args:
        namespace: e.g. ``"AWS/Lambda"``.
        metric_name: e.g. ``"Invocations"``.
        dimensions: ``(name, value)`` pairs selecting the copy.
    """

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]


def lambda_invocations(deployment: Deployment) -> TrafficMetric:
    """Invocations of a Lambda copy's ``live`` alias."""
    return TrafficMetric(
        namespace="AWS/Lambda",
        metric_name="Invocations",
        dimensions=(
            ("FunctionName", deployment.function_name),
            ("Resource", f"{deployment.function_name}:{ALIAS_NAME}"),
        ),
    )


@dataclass(frozen=True)
class StepInput:
    """The input of one gate or bake: stored in an SSM parameter, passed by name to the machine
    (a CodePipeline action configuration value holds at most 1,000 characters).

    Args:
        step_id: the pipeline action, e.g. ``"Prod-2-Gate"``.
        machine: which state machine runs it.
        parameter_name: the SSM parameter holding :attr:`value`.
        value: the JSON input.
    """

    step_id: str
    machine: Literal["gate", "bake"]
    parameter_name: str
    value: Mapping[str, Any]

    @property
    def json(self) -> str:
        """:attr:`value` as compact JSON (what the parameter holds)."""
        return json.dumps(self.value, separators=(",", ":"))


@dataclass(frozen=True)
class PlannedCopy:
    """One copy of the service a stage deploys.

    Args:
        deployment: stage, account, region and policies of the copy.
        stage_id: the CDK stage id: the stage's name when it has one copy (CDK Pipelines then
            names the CodePipeline stage after it), else ``<stage>-<region>``.
    """

    deployment: Deployment
    stage_id: str


@dataclass(frozen=True)
class PlannedStage:
    """One CodePipeline stage that deploys copies (Alpha, Beta, Gamma or a production wave).

    Args:
        name: e.g. ``"Gamma"``, ``"Prod-3"``.
        production: True for the production waves.
        copies: what it deploys, one per target.
        gate: the gate before the stage (Gamma and every wave), else ``None``.
        bake: the bake after the stage (Gamma and every wave), else ``None``.
        integration_tests: run the integration tests against each copy after its deployment.
        rollback_on_failure: X4 ``OnFailure: ROLLBACK`` (production waves).
        entry_alarm: X4 ``BeforeEntry`` alarm rule on this tooling-account alarm, or ``None``.
    """

    name: str
    production: bool
    copies: tuple[PlannedCopy, ...]
    gate: StepInput | None = None
    bake: StepInput | None = None
    integration_tests: bool = False
    rollback_on_failure: bool = False
    entry_alarm: str | None = None

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        """The deployments of :attr:`copies`."""
        return tuple(c.deployment for c in self.copies)


@dataclass(frozen=True)
class PlannedAccess:
    """The IAM stack of one service in one account (runtime, CodeDeploy and gate-reader roles).

    Args:
        account: the target account.
        deployments: every copy in that account (the roles' policies are scoped to them).
        stage: the pipeline stage that deploys it: the first stage (Alpha) where any copy in the
            account is pre-production, so every role exists before it is used; :data:`ZETA_STAGE`
            for an account of production copies only, so a change to production IAM ships after
            pre-production exercised it, and before the first wave's gate reads the account.
    """

    account: Account
    deployments: tuple[Deployment, ...]
    stage: str


@dataclass(frozen=True)
class HealthMirror:
    """Settings of the tooling-account alarm mirroring the health the gates and bakes observe
    (metric ``UnhealthyCopies``), watched by the production stages' ``BeforeEntry`` condition (X4).

    One unhealthy report must hold the alarm in ``ALARM`` until the next report can replace it and
    the next stage's entry check has seen it: ``Maximum`` over 1-minute periods, ``ALARM`` when any
    one of the last :attr:`evaluation_periods` is unhealthy (missing data is healthy).

    Args:
        period_seconds: the metric period.
        evaluation_periods: periods evaluated.
        datapoints_to_alarm: unhealthy periods (of those) that fire the alarm.
    """

    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int

    @property
    def hold_seconds(self) -> int:
        """How long one unhealthy report keeps the alarm in ``ALARM``."""
        return self.period_seconds * self.evaluation_periods

    @classmethod
    def for_policy(cls, policy: GatePolicy) -> HealthMirror:
        """Hold a report for the longest publish interval (a blocked gate re-checks every
        ``check_interval_seconds``, a bake polls every ``bake_poll_seconds``) plus
        :data:`MIRROR_LAG_SECONDS`, at most the one day CloudWatch evaluates."""
        period = 60
        hold = max(policy.check_interval_seconds, policy.bake_poll_seconds) + MIRROR_LAG_SECONDS
        periods = min(-(-hold // period), _MAX_ALARM_SECONDS // period)
        return cls(period_seconds=period, evaluation_periods=periods, datapoints_to_alarm=1)


@dataclass(frozen=True)
class PipelinePlan:
    """A service pipeline, decided: render it with :func:`hands_off.render.codepipeline.render`.

    Args:
        naming: every physical name.
        environments: the fleet it was planned from.
        gate_policy: windows, blackouts, org alarms, waits.
        stages: Alpha, Beta, Gamma, then the production waves (:data:`ZETA_STAGE` is rendered
            between Gamma and the first wave; it deploys no copy).
        zeta_endpoints: the production endpoints Zeta tests (P7).
    """

    naming: ServiceNaming
    environments: Environments
    gate_policy: GatePolicy
    stages: tuple[PlannedStage, ...]
    zeta_endpoints: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def stage(self, name: str) -> PlannedStage:
        """The planned stage called ``name``."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def preproduction(self) -> tuple[PlannedStage, ...]:
        """Alpha, Beta, Gamma."""
        return tuple(s for s in self.stages if not s.production)

    @property
    def production(self) -> tuple[PlannedStage, ...]:
        """The production waves, in order."""
        return tuple(s for s in self.stages if s.production)

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        """Every copy, in pipeline order."""
        return tuple(d for s in self.stages for d in s.deployments)

    @property
    def step_inputs(self) -> tuple[StepInput, ...]:
        """Every gate and bake input, in pipeline order."""
        return tuple(i for s in self.stages for i in (s.gate, s.bake) if i is not None)

    @property
    def access(self) -> tuple[PlannedAccess, ...]:
        """One IAM stack per account (first-use order), each with the stage that deploys it: the
        first stage while any copy in the account is pre-production, else :data:`ZETA_STAGE`
        (P8: a production change ships after pre-production exercised it)."""
        grouped: dict[str, list[Deployment]] = {}
        for deployment in self.deployments:
            grouped.setdefault(deployment.target.account.account_id, []).append(deployment)
        return tuple(
            PlannedAccess(
                account=copies[0].target.account,
                deployments=tuple(copies),
                stage=ZETA_STAGE if all(d.production for d in copies) else self.stages[0].name,
            )
            for copies in grouped.values()
        )

    @property
    def observed_health(self) -> HealthMirror:
        """The settings of the stage-entry mirror alarm, from :attr:`gate_policy`'s rhythm."""
        return HealthMirror.for_policy(self.gate_policy)

    def deployments_by_account(self) -> dict[str, list[Deployment]]:
        """Every copy grouped by account id (first-use order): one access stack each."""
        return {a.account.account_id: list(a.deployments) for a in self.access}

    @property
    def hotfix_role_arns(self) -> tuple[str, ...]:
        """The hotfix roles the gates' hotfix function assumes (sorted, one per gated account)."""
        return self._gated_account_roles(RolePurpose.HOTFIX)

    @property
    def reader_role_arns(self) -> tuple[str, ...]:
        """The gate-reader roles the gates assume (sorted, one per gated account)."""
        return self._gated_account_roles(RolePurpose.GATE_READER)

    def _gated_account_roles(self, purpose: RolePurpose) -> tuple[str, ...]:
        """The ``purpose`` role ARN of every account a gated stage deploys to, sorted."""
        gated = (d for s in self.stages if s.gate is not None for d in s.deployments)
        return tuple(sorted({self.naming.role_arn(d.target.account.account_id, purpose) for d in gated}))


def plan_pipeline(
    environments: Environments,
    naming: ServiceNaming,
    *,
    deployment_policy: DeploymentPolicyHook,
    gate_policy: GatePolicy,
    traffic: Callable[[Deployment], TrafficMetric] = lambda_invocations,
    codedeploy_application: str = LAMBDA_APPLICATION_NAME,
    owner: str = "ServicePipeline",
) -> PipelinePlan:
    """Decide the whole pipeline once.

    ``deployment_policy`` runs exactly once per stage and wave (hooks may be costly or impure).

    Args:
        environments: accounts, Alpha/Beta/Gamma and the production waves.
        naming: physical names.
        deployment_policy: the traffic shift and bake of a stage or wave (the pipeline's hook).
        gate_policy: the gate policy (the pipeline's hook, already called).
        traffic: the request-count metric of a copy, summed by the bakes. Default: Lambda
            invocations of the ``live`` alias.
        codedeploy_application: the account-region's shared CodeDeploy application the copies'
            deployment groups are in (a hotfix names it). Default: ``hands-off-lambda``
            (:data:`~hands_off.naming.LAMBDA_APPLICATION_NAME`).
        owner: names the class in errors, e.g. ``"OrdersPipeline"``.

    Raises:
        ConfigError: a gate or bake input longer than an SSM parameter holds.
    """
    envs = environments
    stages: list[PlannedStage] = []
    for stage in (envs.alpha, envs.beta, envs.gamma):
        deployments = _deployments(naming, envs, stage, deployment_policy(stage), production=False)
        gated = stage is envs.gamma  # production-like (P5, P6): gated, and it bakes before Zeta
        stages.append(
            PlannedStage(
                name=stage.name,
                production=False,
                copies=_copies(deployments),
                gate=_gate(naming, gate_policy, stage.name, deployments, codedeploy_application, owner)
                if gated
                else None,
                bake=_bake(
                    naming, gate_policy, stage.name, deployments, traffic, codedeploy_application, owner
                )
                if gated
                else None,
                integration_tests=True,
            )
        )
    for wave in envs.waves:
        deployments = _deployments(naming, envs, wave, deployment_policy(wave), production=True)
        stages.append(
            PlannedStage(
                name=wave.name,
                production=True,
                copies=_copies(deployments),
                gate=_gate(naming, gate_policy, wave.name, deployments, codedeploy_application, owner),
                bake=_bake(
                    naming, gate_policy, wave.name, deployments, traffic, codedeploy_application, owner
                ),
                rollback_on_failure=True,
                entry_alarm=naming.observed_health_alarm,
            )
        )
    production = [d for s in stages if s.production for d in s.deployments]
    return PipelinePlan(
        naming=naming,
        environments=envs,
        gate_policy=gate_policy,
        stages=tuple(stages),
        zeta_endpoints=tuple(d.alias_arn for d in production),
        warnings=tuple(envs.warnings),
    )


def _deployments(
    naming: ServiceNaming,
    envs: Environments,
    stage: Stage | Wave,
    policy: DeploymentPolicy,
    *,
    production: bool,
) -> tuple[Deployment, ...]:
    return tuple(
        Deployment(
            service_name=naming.service,
            stage_name=stage.name,
            target=target,
            policy=policy,
            alarm_policy=envs.alarm_policy,
            production=production,
        )
        for target in stage.targets
    )


def _copies(deployments: Sequence[Deployment]) -> tuple[PlannedCopy, ...]:
    single = len(deployments) == 1
    return tuple(
        PlannedCopy(deployment=d, stage_id=d.stage_name if single else f"{d.stage_name}-{d.target.region}")
        for d in deployments
    )


def _alarm_checks(
    naming: ServiceNaming,
    deployments: Sequence[Deployment],
    *,
    health: Literal["name", "prefix"] | None,
    names: Sequence[str] = (),
    prefixes: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One alarm check per copy, read through that account's gate-reader role.

    ``health="prefix"`` looks the copy's own health alarm up by name prefix: before the first
    deployment to a new region the alarm does not exist yet (its own stack creates it), and that
    must not block forever. ``health="name"`` requires it (bakes run after the deploy).
    """
    checks = []
    for d in deployments:
        own = [d.health_alarm_name]
        checks.append(
            {
                "region": d.target.region,
                "role_arn": naming.role_arn(d.target.account.account_id, RolePurpose.GATE_READER),
                "alarm_names": [*names, *(own if health == "name" else [])],
                "alarm_name_prefixes": [*prefixes, *(own if health == "prefix" else [])],
            }
        )
    return checks


def _step(
    naming: ServiceNaming, step_id: str, machine: Literal["gate", "bake"], value: dict[str, Any], owner: str
) -> StepInput:
    step = StepInput(
        step_id=step_id, machine=machine, parameter_name=naming.gate_input_parameter(step_id), value=value
    )
    size = len(step.json)
    if size > SSM_STANDARD_LIMIT:
        raise ConfigError(
            f"{owner} {step_id}",
            f"the gate configuration is {size} characters, over the 4,096 an SSM parameter "
            "holds: use fewer regions in this wave, or fewer org alarm names/prefixes",
        )
    return step


def _gate(
    naming: ServiceNaming,
    policy: GatePolicy,
    stage: str,
    deployments: Sequence[Deployment],
    application: str,
    owner: str,
) -> StepInput:
    has_org = bool(policy.org_alarm_names or policy.org_alarm_prefixes)
    org_checks = (
        _alarm_checks(
            naming, deployments, health=None, names=policy.org_alarm_names, prefixes=policy.org_alarm_prefixes
        )
        if has_org
        else []
    )
    return _step(
        naming,
        f"{stage}-Gate",
        "gate",
        {
            "pipeline": naming.pipeline,
            "stage": stage,
            "app_checks": _alarm_checks(naming, deployments, health="prefix"),
            "org_checks": org_checks,
            # Follow the sun (X6): the window is read in the local time of the wave's first region.
            "window": policy.window_config(deployments[0].target.region),
            "override_parameter": naming.override_parameter,
            "hotfix_groups": _hotfix_groups(naming, deployments, application),
            "check_interval_seconds": policy.check_interval_seconds,
            "max_wait_seconds": policy.max_wait_seconds,
            "override_max_hours": policy.override_max_hours,
        },
        owner,
    )


def _bake(
    naming: ServiceNaming,
    policy: GatePolicy,
    stage: str,
    deployments: Sequence[Deployment],
    traffic: Callable[[Deployment], TrafficMetric],
    application: str,
    owner: str,
) -> StepInput:
    metrics = [traffic(d) for d in deployments]
    bake_minutes = deployments[0].policy.bake_minutes
    bake_seconds = bake_minutes * 60
    policy.check_bake_fits(bake_seconds, what=f"{stage} bakes {bake_minutes} min:")
    return _step(
        naming,
        f"{stage}-Bake",
        "bake",
        {
            "pipeline": naming.pipeline,
            "stage": stage,
            # The copies' own health alarms and the organization-wide ones: a hotfix lifts only
            # the former, so an org-wide alarm still fails a hotfix's bake (and any other).
            "checks": _alarm_checks(
                naming,
                deployments,
                health="name",
                names=policy.org_alarm_names,
                prefixes=policy.org_alarm_prefixes,
            ),
            "traffic": {
                "namespace": metrics[0].namespace,
                "metric_name": metrics[0].metric_name,
                "targets": [
                    {
                        "region": d.target.region,
                        "role_arn": naming.role_arn(d.target.account.account_id, RolePurpose.GATE_READER),
                        "dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions],
                    }
                    for d, metric in zip(deployments, metrics, strict=True)
                ],
            },
            "bake_seconds": bake_seconds,
            "min_requests": policy.bake_min_requests,
            "poll_seconds": policy.bake_poll_seconds,
            "hotfix_groups": _hotfix_groups(naming, deployments, application),
            # The bake re-reads the override: it honours a hotfix for its stage and execution.
            "override_parameter": naming.override_parameter,
            "override_max_hours": policy.override_max_hours,
        },
        owner,
    )


def _hotfix_groups(
    naming: ServiceNaming, deployments: Sequence[Deployment], application: str
) -> list[dict[str, Any]]:
    """Each copy's CodeDeploy deployment group (named after the copy, in the account-region's
    shared ``application``, as ``LambdaService`` and ``Ec2Fleet`` make them), whose alarm
    configuration a hotfix turns off, and the own alarm the bake then lifts (see
    ``hands_off_gates.hotfix``)."""
    return [
        {
            "region": d.target.region,
            "role_arn": naming.role_arn(d.target.account.account_id, RolePurpose.GATE_READER),
            "application": application,
            "deployment_group": d.function_name,
            "own_alarms": [d.health_alarm_name],
        }
        for d in deployments
    ]
