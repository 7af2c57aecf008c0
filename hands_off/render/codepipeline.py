"""Render a :class:`~hands_off.blueprint.PipelinePlan` into CDK Pipelines constructs.

Every decision is already in the plan; this module only calls CDK: the tooling resources of the
pipeline stack (code signing in the account-region baseline's signing bucket, the artifact bucket's
server access logs to the baseline's access-log bucket, integration-test role, gate machines,
pipeline role, the observed-health mirror alarm, the ``OverrideUsed`` alarm paging the account's
shared paging topic, the override writer policy), the CodePipeline with its Build step, one wave
per planned stage with its gate, bake and integration tests, Zeta, and the X4 stage conditions.
It knows nothing of ``ServicePipeline``: the hooks' results come in as values and callables.

The supply chain is pinned here: the CDK CLI self-mutation installs (:data:`CDK_CLI_VERSION`), the
``cdk-assets`` asset publishing installs (:data:`CDK_ASSETS_VERSION`), the CodeBuild image of every
project (:data:`BUILD_IMAGE`); and the two grants CDK Pipelines makes on ``*`` are narrowed after
the pipeline is built (:func:`_narrow_wildcard_grants`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

import jsii
from aws_cdk import (
    CfnOutput,
    IAnyProducer,
    IResolveContext,
    Lazy,
    Stack,
    Stage,
    pipelines,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from hands_off.blueprint import ZETA_STAGE, PipelinePlan, PlannedStage, StepInput
from hands_off.build import CodeArtifactRepository, PackageIndex
from hands_off.constructs import _once
from hands_off.constructs.alarm_factory import PagingSubscriptions, account_paging_topic, subscribe_paging
from hands_off.constructs.code_signing import (
    GATES_PACKAGE_NAME,
    SIGNED_CODE_DIR_CONTEXT,
    CodeSigning,
    gates_code_signing,
    signing_profile_arn_context,
)
from hands_off.constructs.copies import ServiceCopy, endpoint_known_at_synth, server_deployment_of
from hands_off.constructs.deployment_gates import (
    DeploymentGates,
    SharedGateRoles,
    StateMachineStep,
    config_digest,
)
from hands_off.constructs.lambda_service import LambdaService
from hands_off.constructs.roles import inline_default_policy
from hands_off.deployment import Deployment
from hands_off.model import ConfigError
from hands_off.naming import (
    GATES_NAMESPACE,
    OVERRIDE_USED_METRIC,
    PIPELINE_DIMENSION,
    STAGE_DIMENSION,
    UNHEALTHY_COPIES_METRIC,
    RolePurpose,
    access_logs_bucket_name,
    alarm_name_prefix,
    signing_bucket_name,
)
from hands_off.render.integration_tests import (
    ZETA_ENDPOINTS,
    ZETA_VARIABLE,
    IntegrationTests,
    zeta_endpoints_variable,
)
from hands_off.render.server_deploy import (
    ServerDeployStep,
    grant_revision_reads,
    stack_endpoint_commands,
    stack_endpoint_env,
)

__all__ = [
    "BUILD_IMAGE",
    "CDK_ASSETS_VERSION",
    "CDK_CLI_VERSION",
    "GATES_PACKAGE_COMMAND",
    "AccessNeeds",
    "AccessStackFactory",
    "BuildInputs",
    "CopyStage",
    "PagingHook",
    "RenderedPipeline",
    "render",
]

CDK_CLI_VERSION = "2.1148.1"
"""The AWS CDK CLI self-mutation installs (``npm install -g aws-cdk@<version>``) instead of the
newest ``aws-cdk@2``: the CLI this library is tested with, the one its ``package.json`` and the
scaffold's pin (a test keeps the three equal). The library never reads the user's repository."""

CDK_ASSETS_VERSION = "4.7.3"
"""The ``cdk-assets`` asset publishing installs instead of ``cdk-assets@latest``."""

BUILD_IMAGE = "aws/codebuild/standard:7.0-26.07.29"
"""The CodeBuild image of every project of the pipeline, pinned to one dated version of the
Ubuntu standard 7.0 image (``aws codebuild list-curated-environment-images`` lists the versions
CodeBuild offers) instead of ``aws/codebuild/standard:7.0``, which CodeBuild updates in place.
A pinned version is not cached on CodeBuild's hosts (slower provisioning) and CodeBuild retires
old versions: bump it deliberately, with the CLI versions above."""

GATES_PACKAGE_COMMAND = "make package-gates PACKAGE=build/hands-off-gates.zip"
"""What the Build runs to package the gate runtime before signing it (the repository's Makefile has
a ``package-gates`` target: ``python -m hands_off.package --gates $(PACKAGE)``)."""
_SIGNED_DIR = "build/signed"

_OVERRIDE_ALARM_METRICS = 10  # metrics one CloudWatch metric-math alarm may use

PagingHook = Callable[[Deployment | None], Sequence[sns.ITopicSubscription]]
"""Who the alarms of a copy (``deployment``) or of the pipeline (``None``) page: subscriptions of
the account's shared paging topic, each receiving only that copy's (or pipeline's) alarms."""


def _subscriptions(paging: PagingHook, deployment: Deployment | None) -> list[sns.ITopicSubscription]:
    """What ``paging`` returns for ``deployment``, checked: a list of SNS subscriptions (a single
    subscription, or an address as a string, would be a jsii traceback further on)."""
    returned = paging(deployment)
    if isinstance(returned, (list, tuple)) and all(hasattr(s, "bind") for s in returned):
        return list(returned)
    wrong = (
        returned
        if not isinstance(returned, (list, tuple))
        else next(s for s in returned if not hasattr(s, "bind"))
    )
    raise ConfigError(
        "ServicePipeline.paging_subscriptions()",
        f"returned {type(wrong).__name__} {wrong!r} for "
        f"{'the pipeline' if deployment is None else deployment.function_name}; return a list of SNS "
        'subscriptions, e.g. [EmailSubscription("team@example.com")] (aws_cdk.aws_sns_subscriptions)',
    )


class CopyStage(Protocol):
    """A CDK stage holding one copy: its application stack, the copy itself, the copy's endpoint
    output and the topic its alarms page."""

    @property
    def stack(self) -> Stack: ...

    @property
    def service(self) -> ServiceCopy: ...

    @property
    def endpoint_output(self) -> CfnOutput: ...

    @property
    def paging_topic(self) -> sns.ITopic: ...


@dataclass(frozen=True)
class BuildInputs:
    """What the pipeline's hooks say about the Build stage and the tests.

    Args:
        source: where commits come from (P2).
        install_commands: set up the Build in the watched repository.
        build_commands: tests, linters, packaging to ``package_path`` (P3).
        synth_commands: synthesize with the given ``-c`` context into ``cdk.out/``.
        integration_test_commands: run against ``$ENDPOINTS`` (P4, P7).
        package_index: where the Build installs Python packages from. Default: public PyPI.
        signs_lambda_package: sign ``package_path`` with AWS Signer and pass the signed package
            and profile to the synth (``-c`` context). Default: True.
        revision_directory: where ``build_commands`` leave the CodeDeploy revision
            (``appspec.yml`` at its root) of copies that declare a server deployment; a Build
            output only when some copy does. Default: ``build/revision``.
    """

    source: pipelines.IFileSetProducer
    install_commands: Sequence[str]
    build_commands: Sequence[str]
    synth_commands: Callable[[str], Sequence[str]]
    integration_test_commands: Sequence[str]
    package_index: PackageIndex | CodeArtifactRepository | None = None
    signs_lambda_package: bool = True
    revision_directory: str = "build/revision"


@dataclass(frozen=True)
class AccessNeeds:
    """What the copies need from each account's IAM stack besides the Lambda roles (read from the
    copies built before it: the first copy for Alpha's, every pre-production copy for Zeta's).

    Args:
        server_fleet: the copies declare a server deployment: the hosts' instance role and the
            role the pipeline's CodeDeploy action assumes.
        stack_endpoints: the copies' endpoints are only known once deployed: the role Zeta's
            tests assume to read the production stacks' endpoint outputs.
        lambda_copies: the copies are Lambda services (:class:`~hands_off.constructs.
            lambda_service.LambdaService`, or any copy whose endpoint is known at synth): the role
            their canary schedules and integration tests invoke them as.
    """

    server_fleet: bool = False
    stack_endpoints: bool = False
    lambda_copies: bool = True


AccessStackFactory = Callable[[Stage, Sequence[Deployment], AccessNeeds], Stack]
"""Builds the IAM stack of one account: ``(stage, the deployments in that account, needs)``."""


@dataclass
class RenderedPipeline:
    """The constructs :func:`render` created (nag, tests and subclasses reach them here)."""

    access_logs: s3.IBucket
    """The account-region baseline's server-access-log bucket, imported by name."""
    code_signing: CodeSigning
    integration_test_role: iam.Role
    gates: DeploymentGates
    pipeline_role: iam.Role
    observed_health: cloudwatch.Alarm
    paging_topic: sns.ITopic
    override_used: list[cloudwatch.Alarm]
    override_writer: iam.ManagedPolicy
    pipeline: pipelines.CodePipeline
    stages: list[CopyStage] = field(default_factory=list)
    access_stacks: list[Stack] = field(default_factory=list)


def render(
    stack: Stack,
    plan: PipelinePlan,
    *,
    build: BuildInputs,
    stage_factory: Callable[[Construct, str, Deployment], CopyStage],
    access_stack_factory: AccessStackFactory,
    paging: PagingHook = lambda _: (),
) -> RenderedPipeline:
    """Render ``plan`` into ``stack`` (the pipeline stack, in the tooling account and region).

    Args:
        stack: the pipeline stack.
        plan: the decided pipeline.
        build: the Build stage and test commands.
        stage_factory: builds the CDK stage of one copy (``scope, stage_id, deployment``).
        access_stack_factory: builds the IAM stack of one account (``stage, the deployments in
            that account, what the copies need``) into the stage the plan says: the first copy's
            (it deploys before that copy) or Zeta's.
        paging: whom each copy's alarms and (for ``None``) the pipeline's own page, subscribed to
            the shared paging topic of the copy's (the pipeline's) account and region, filtered
            to that copy's (pipeline's) alarm names. Default: none (synth then warns once per
            copy and for the pipeline).
    """
    naming = plan.naming
    # The account-region baseline's bucket (AccountBaseline), shared with every other pipeline
    # there: its policy admits S3 logging for every bucket of the account, each under its prefix.
    access_logs = s3.Bucket.from_bucket_name(
        stack,
        "AccessLogs",
        access_logs_bucket_name(naming.tooling_account, naming.tooling_region),
    )
    # Signs in the account-region baseline's signing bucket, under this service's prefix only.
    code_signing = CodeSigning(
        stack,
        "CodeSigning",
        service_name=naming.service,
        profile_name=naming.signing_profile,  # the name the copies' CodeSigningConfigs trust
        bucket_name=signing_bucket_name(naming.tooling_account, naming.tooling_region),
    )
    integration_test_role = iam.Role(
        stack,
        "IntegrationTestRole",
        role_name=naming.role(RolePurpose.INTEG_TESTS),
        assumed_by=_once.service_principal("codebuild.amazonaws.com"),
        description=f"Runs {naming.service} integration tests against its deployed aliases",
    )
    gates_code, gates_signing = gates_code_signing(stack, naming)  # signed by the Build, Enforce
    gates = DeploymentGates(
        stack,
        "Gates",
        code=gates_code,
        code_signing_config=gates_signing,
        pipeline_name=naming.pipeline,
        reader_role_arns=list(plan.reader_role_arns),
        override_parameter_name=naming.override_parameter,
        checker_role_name=naming.role(RolePurpose.GATE_CHECKER),
        config_parameter_arns=[naming.gate_input_parameter_arn(i.step_id) for i in plan.step_inputs],
        hotfix_role_name=naming.role(RolePurpose.GATE_HOTFIX),
        hotfix_role_arns=list(plan.hotfix_role_arns),
        # The tooling account and region's (hands_off.stacks.GateRoles): no gate role per pipeline
        # (a pipeline without a gated stage runs no machine: it keeps roles of its own, which
        # may read no input).
        shared_roles=SharedGateRoles.of(naming) if plan.step_inputs else None,
    )
    pipeline_role = iam.Role(
        stack,
        "PipelineRole",
        role_name=naming.role(RolePurpose.PIPELINE),
        assumed_by=_once.service_principal("codepipeline.amazonaws.com"),
        description=f"CodePipeline role of {naming.pipeline}",
    )
    # X4: CodePipeline's CloudWatchAlarm rule reads alarms in the pipeline's own account, so the
    # gates and bakes mirror the health they observe in the target accounts here. One unhealthy
    # report holds it in ALARM until the next report and the next stage's entry check (plan).
    mirror = plan.observed_health
    observed_health = cloudwatch.Alarm(
        stack,
        "ObservedHealth",
        alarm_name=naming.observed_health_alarm,
        alarm_description=(
            "Health alarms of this service's copies found in ALARM by the gates and bakes "
            "(mirrored from the target accounts; watched by the Prod-N entry conditions); one "
            f"unhealthy report holds it in ALARM for {mirror.hold_seconds // 60} minutes"
        ),
        metric=cloudwatch.Metric(
            namespace=GATES_NAMESPACE,
            metric_name=UNHEALTHY_COPIES_METRIC,
            dimensions_map={PIPELINE_DIMENSION: naming.pipeline},
            statistic="Maximum",
            period=_once.seconds(mirror.period_seconds),
        ),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=mirror.evaluation_periods,
        datapoints_to_alarm=mirror.datapoints_to_alarm,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    # The account-region topic (AccountBaseline), shared with every other service there.
    paging_topic = account_paging_topic(stack)
    # One subscription per topic and endpoint (PagingSubscriptions): the pipeline's own first,
    # then its copies', in the order they deploy.
    paging_registry = PagingSubscriptions.of(stack)
    subscribe_paging(
        paging_topic,
        _subscriptions(paging, None),
        alarm_prefix=naming.pipeline_alarm_prefix,
        owner=f"the {naming.pipeline} pipeline",
        pipeline=naming.pipeline,
        registry=paging_registry,
    )
    pipeline_role.add_to_policy(
        iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[observed_health.alarm_arn])
    )
    synth = _synth_step(stack, plan, build, code_signing)
    pipeline = pipelines.CodePipeline(
        stack,
        "Pipeline",
        pipeline_name=naming.pipeline,
        role=pipeline_role,
        # One role for the pipeline and its actions instead of a role per action (IAM quota).
        use_pipeline_role_for_actions=True,
        pipeline_type=codepipeline.PipelineType.V2,
        cross_account_keys=True,
        enable_key_rotation=True,
        synth=synth,
        cli_version=CDK_CLI_VERSION,
        cdk_assets_cli_version=CDK_ASSETS_VERSION,
        code_build_defaults=pipelines.CodeBuildOptions(
            build_environment=codebuild.BuildEnvironment(
                build_image=_build_image(),
                compute_type=codebuild.ComputeType.SMALL,
            )
        ),
    )
    rendered = RenderedPipeline(
        access_logs=access_logs,
        code_signing=code_signing,
        integration_test_role=integration_test_role,
        gates=gates,
        pipeline_role=pipeline_role,
        observed_health=observed_health,
        paging_topic=paging_topic,
        override_used=_override_used_alarms(stack, plan, paging_topic),
        override_writer=_override_writer(stack, plan),
        pipeline=pipeline,
    )
    _add_stages(
        stack, plan, build, synth, rendered, stage_factory, access_stack_factory, paging, paging_registry
    )
    paging_registry.close(naming.pipeline)  # its stages are synthesized: no subscription may follow
    # A stage that ends unsucceeded between its gate (which may have armed a hotfix) and its bake.
    gates.restore_when_stage_ends(
        [
            (s.name, s.gate.parameter_name, config_digest(s.gate.json))
            for s in plan.stages
            if s.gate is not None
        ]
    )
    _check_bake_traffic(plan, rendered)
    pipeline.build_pipeline()
    built = pipeline.pipeline  # read once: every jsii property read is a round trip
    _log_artifact_access(built, access_logs, naming.service)
    _add_stage_conditions(plan, built)
    _narrow_wildcard_grants(stack, pipeline, built, pipeline_role)
    _grant_revision_reads(pipeline, plan, rendered)
    if all(endpoint_known_at_synth(s.service) for s in rendered.stages):
        # The tests invoke the predicted alias ARNs as each account's canary role (it trusts this
        # role and may invoke the service's live aliases only): no Lambda permission per copy.
        accounts = sorted({d.target.account.account_id for d in plan.deployments})
        integration_test_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[naming.role_arn(account, RolePurpose.CANARY) for account in accounts],
            )
        )
    else:
        # Zeta reads the production copies' endpoints from their stacks (see _add_stages).
        accounts = sorted({d.target.account.account_id for s in plan.production for d in s.deployments})
        integration_test_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[naming.role_arn(account, RolePurpose.ENDPOINTS) for account in accounts],
            )
        )
    # Its statements (CDK's grants, narrowed above) as its own inline policy: nothing its
    # policy names (projects, buckets, keys, machines, the alarm) names the pipeline role.
    inline_default_policy(pipeline_role)
    return rendered


@cache
def _build_image() -> codebuild.IBuildImage:
    """:data:`BUILD_IMAGE` as a CodeBuild image, made once per process (an immutable value; each
    one made is a jsii round trip)."""
    return codebuild.LinuxBuildImage.from_code_build_image_id(BUILD_IMAGE)


def _synth_step(
    stack: Stack, plan: PipelinePlan, build: BuildInputs, code_signing: CodeSigning
) -> pipelines.CodeBuildStep:
    naming = plan.naming
    # The gate runtime is always signed (the gate functions enforce it); the service's Lambda
    # package only when the pipeline has one.
    signs = build.signs_lambda_package
    context = (
        f"-c {SIGNED_CODE_DIR_CONTEXT}={_SIGNED_DIR} "
        f"-c {signing_profile_arn_context(naming.service)}=$SIGNING_PROFILE_VERSION_ARN"
    )
    index = build.package_index
    statements = code_signing.policy_statements() + [
        iam.PolicyStatement(
            actions=list(grant.actions),
            resources=list(grant.resources),
            conditions={k: dict(v) for k, v in grant.conditions.items()} or None,
        )
        for grant in (index.grants(stack.partition) if index else [])
    ]
    return pipelines.CodeBuildStep(
        "Synth",
        input=build.source,
        install_commands=[*(index.login_commands() if index else []), *build.install_commands],
        commands=[
            *build.build_commands,
            *(code_signing.commands(naming.package_path, _SIGNED_DIR) if signs else []),
            GATES_PACKAGE_COMMAND,
            *code_signing.commands(f"build/{GATES_PACKAGE_NAME}.zip", _SIGNED_DIR, name=GATES_PACKAGE_NAME),
            *build.synth_commands(context),
        ],
        env={**code_signing.env(), **(index.env() if index else {})},
        role_policy_statements=statements,
        primary_output_directory="cdk.out",
    )


def _state_machine_step(stack: Stack, gates: DeploymentGates, step: StepInput) -> StateMachineStep:
    ssm.StringParameter(
        stack,
        f"{step.step_id}Config",
        parameter_name=step.parameter_name,
        string_value=step.json,
        description=f"hands-off: input of {step.value['pipeline']} {step.step_id}",
    )
    machine = gates.gate if step.machine == "gate" else gates.bake
    return StateMachineStep(
        step.step_id,
        state_machine=machine,
        config_parameter_name=step.parameter_name,
        config_sha256=config_digest(step.json),  # the machine refuses a rewritten parameter
    )


def _add_wave(stack: Stack, rendered: RenderedPipeline, stage: PlannedStage) -> pipelines.Wave:
    gate = [_state_machine_step(stack, rendered.gates, stage.gate)] if stage.gate else []
    bake = [_state_machine_step(stack, rendered.gates, stage.bake)] if stage.bake else []
    return rendered.pipeline.add_wave(stage.name, pre=gate, post=bake)


def _add_stages(
    stack: Stack,
    plan: PipelinePlan,
    build: BuildInputs,
    synth: pipelines.CodeBuildStep,
    rendered: RenderedPipeline,
    stage_factory: Callable[[Construct, str, Deployment], CopyStage],
    access_stack_factory: AccessStackFactory,
    paging: PagingHook,
    paging_registry: PagingSubscriptions,
) -> None:
    revision: list[pipelines.FileSet] = []  # the Build's revision output, made once if needed

    def add_copy(deployment: Deployment, stage_id: str) -> CopyStage:
        copy_stage = stage_factory(stack, stage_id, deployment)
        subscribe_paging(
            copy_stage.paging_topic,
            _subscriptions(paging, deployment),
            alarm_prefix=alarm_name_prefix(deployment.function_name),  # the copy's alarm names
            owner=f"{deployment.function_name} ({deployment.target.region})",
            pipeline=plan.naming.pipeline,
            registry=paging_registry,
        )
        rendered.stages.append(copy_stage)
        return copy_stage

    def server_deploy(copy_stage: CopyStage, deployment: Deployment, stage_id: str) -> list[pipelines.Step]:
        """The CodeDeploy action after the copy's stack, for a copy that declares one."""
        target = server_deployment_of(copy_stage.service)
        if target is None:
            return []
        if not revision:
            revision.append(synth.add_output_directory(build.revision_directory))
        step_id = f"{stage_id}-Deploy"
        return [
            ServerDeployStep(
                step_id, revision=revision[0], target=target, deployment=deployment, naming=plan.naming
            )
        ]

    # Every copy first, in deployment order, then the waves: CDK Pipelines synthesizes a stage when
    # it is added to a wave, and the first copy of an account-region holds the paging subscription
    # of every copy there (its filter lists them all).
    built = {
        copy.stage_id: add_copy(copy.deployment, copy.stage_id) for s in plan.stages for copy in s.copies
    }
    tests = _integration_tests(plan, build, rendered)
    for stage in plan.preproduction:
        wave = _add_wave(stack, rendered, stage)
        for copy in stage.copies:
            copy_stage = built[copy.stage_id]
            assert isinstance(copy_stage, Stage)
            if stage is plan.stages[0] and copy is stage.copies[0]:
                access = _add_access_stacks(plan, stage.name, copy_stage, access_stack_factory, rendered)
                for access_stack in access:
                    copy_stage.stack.add_stack_dependency(access_stack)  # roles before the copy
                rendered.access_stacks += access
            deploy = server_deploy(copy_stage, copy.deployment, copy.stage_id)
            endpoints = (
                copy.deployment.alias_arn
                if endpoint_known_at_synth(copy_stage.service)
                else copy_stage.endpoint_output
            )
            invoker = (
                plan.naming.role_arn(copy.deployment.target.account.account_id, RolePurpose.CANARY)
                if isinstance(endpoints, str)
                else None
            )
            test = tests.step(
                f"{copy_stage.stage_name}-IntegrationTest", endpoints=endpoints, invoker_role=invoker
            )
            for step in deploy:
                test.add_step_dependency(step)  # test the revision, not the empty hosts
            wave.add_stage(copy_stage, post=[*deploy, test] if stage.integration_tests else deploy)
    # Zeta (P7): the same tests, against what runs in production right now; before them, the
    # roles of the accounts holding only production copies (P8: after pre-production ran them).
    zeta = rendered.pipeline.add_wave(ZETA_STAGE, post=_zeta_steps(plan, tests, rendered))
    if any(a.stage == ZETA_STAGE for a in plan.access):
        # One CDK stage alone in a wave names the CodePipeline stage: call it Zeta.
        zeta_stage = Stage(stack, ZETA_STAGE)
        rendered.access_stacks += _add_access_stacks(
            plan, ZETA_STAGE, zeta_stage, access_stack_factory, rendered
        )
        zeta.add_stage(zeta_stage)
    for stage in plan.production:
        wave = _add_wave(stack, rendered, stage)
        for copy in stage.copies:
            copy_stage = built[copy.stage_id]
            assert isinstance(copy_stage, Stage)
            wave.add_stage(copy_stage, post=server_deploy(copy_stage, copy.deployment, copy.stage_id))


def _zeta_accounts(plan: PipelinePlan, rendered: RenderedPipeline) -> dict[str, list[str]]:
    """The production endpoints Zeta invokes, by account, when every copy's is known at synth
    (Lambda copies); none otherwise (Zeta reads them from the copies' stacks)."""
    if not all(endpoint_known_at_synth(s.service) for s in rendered.stages):
        return {}
    accounts: dict[str, list[str]] = {}
    for stage in plan.production:
        for deployment in stage.deployments:
            accounts.setdefault(deployment.target.account.account_id, []).append(deployment.alias_arn)
    return accounts


def _zeta_steps(
    plan: PipelinePlan, tests: IntegrationTests, rendered: RenderedPipeline
) -> list[pipelines.Step]:
    """Zeta's test actions: one per production account for Lambda copies (each invokes as that
    account's ``canary`` role), else one reading every copy's endpoint from its stack."""
    accounts = _zeta_accounts(plan, rendered)
    if not accounts:
        return [tests.zeta_step("Zeta-IntegrationTest")]
    return [
        tests.zeta_step(
            "Zeta-IntegrationTest" if len(accounts) == 1 else f"Zeta-IntegrationTest-{account}",
            account=account,
            invoker_role=plan.naming.role_arn(account, RolePurpose.CANARY),
        )
        for account in sorted(accounts)
    ]


def _integration_tests(
    plan: PipelinePlan, build: BuildInputs, rendered: RenderedPipeline
) -> IntegrationTests:
    """The pipeline's one integration-test project (see :mod:`~hands_off.render.integration_tests`).

    Zeta tests every production copy. The planner predicts Lambda endpoints (alias ARNs); a copy
    whose endpoint is only known once deployed (a load balancer) has its endpoint read from its
    stack's output, through the account's ``endpoints`` role. Called once every copy is built."""
    tests = build.integration_test_commands
    copies = [s for s in rendered.stages if not endpoint_known_at_synth(s.service)]
    if not copies:
        # The action's account (ZETA_VARIABLE) picks its endpoints' variable.
        zeta_commands = [f'eval "export ENDPOINTS=\\"\\${ZETA_ENDPOINTS}_${ZETA_VARIABLE}\\""', *tests]
        zeta_env = {
            zeta_endpoints_variable(account): ",".join(arns)
            for account, arns in _zeta_accounts(plan, rendered).items()
        }
    else:
        output = copies[0].endpoint_output  # every copy of the service has the same construct tree
        production = [d for s in plan.production for d in s.deployments]
        zeta_commands = stack_endpoint_commands(tests)
        zeta_env = stack_endpoint_env(plan.naming, production, Stack.of(output).get_logical_id(output))
    return IntegrationTests(
        rendered.pipeline,
        "IntegrationTests",
        role=rendered.integration_test_role,
        build_image=_build_image(),
        commands=tests,
        zeta_commands=zeta_commands,
        zeta_env=zeta_env,
    )


def _add_access_stacks(
    plan: PipelinePlan,
    stage_name: str,
    scope: Stage,
    access_stack_factory: AccessStackFactory,
    rendered: RenderedPipeline,
) -> list[Stack]:
    """The per-account roles the plan deploys in ``stage_name``, built into ``scope``: the first
    copy's CDK stage for Alpha, a stage of their own for Zeta. What the copies need beyond the
    Lambda roles is read from the copies built so far (one service has one kind of copy)."""
    needs = AccessNeeds(
        server_fleet=any(server_deployment_of(s.service) is not None for s in rendered.stages),
        stack_endpoints=not all(endpoint_known_at_synth(s.service) for s in rendered.stages),
        # A copy whose endpoint is known at synth is invoked as the canary role by its tests
        # (_add_stages), whether or not it is a LambdaService: the role must exist for it too.
        lambda_copies=any(
            isinstance(s.service, LambdaService) or endpoint_known_at_synth(s.service)
            for s in rendered.stages
        ),
    )
    return [access_stack_factory(scope, a.deployments, needs) for a in plan.access if a.stage == stage_name]


def _check_bake_traffic(plan: PipelinePlan, rendered: RenderedPipeline) -> None:
    """A bake counts the requests of its copies through the plan's traffic metric (Lambda
    invocations of the ``live`` alias). A copy behind a load balancer has no such metric (its
    ``RequestCount`` dimensions hold ids only known once deployed), so a minimum request count
    could never be met and every bake would run into its 48-hour timeout: refuse it at synth."""
    minimum = plan.gate_policy.bake_min_requests
    behind = [s.stack.stack_name for s in rendered.stages if not endpoint_known_at_synth(s.service)]
    if minimum and behind:
        raise ConfigError(
            "GatePolicy.bake_min_requests",
            f"{minimum} requests, but the bakes cannot count the requests of copies behind a load "
            f"balancer yet (e.g. {behind[0]}); set bake_min_requests=0 for this pipeline (its bakes "
            "then watch the alarms for bake_minutes)",
        )


def _grant_revision_reads(
    pipeline: pipelines.CodePipeline, plan: PipelinePlan, rendered: RenderedPipeline
) -> None:
    """The accounts and regions of the server fleets may read their revisions (see
    :func:`~hands_off.render.server_deploy.grant_revision_reads`)."""
    fleets = sorted(
        {
            (str(s.stack.account), str(s.stack.region))
            for s in rendered.stages
            if server_deployment_of(s.service) is not None
        }
    )
    if fleets:
        grant_revision_reads(pipeline, fleets, plan.naming)


def _log_artifact_access(pipeline: codepipeline.Pipeline, access_logs: s3.IBucket, service: str) -> None:
    """Server access logs for the artifact bucket CDK Pipelines creates (nag S1), under
    ``artifacts-<service>/`` of the baseline's bucket (whose policy admits them)."""
    cfn_bucket = pipeline.artifact_bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=access_logs.bucket_name, log_file_prefix=f"artifacts-{service}/"
    )


def _stage_name(stage: codepipeline.IStage) -> str:
    """``stage.stage_name`` in one round trip. A pipeline's stages come back as interface proxies,
    on which a property read is two (jsii asks ``hasattr``, then reads it again)."""
    return str(jsii.get(stage, "stageName"))


def _stage_indexes(plan: PipelinePlan, pipeline: codepipeline.Pipeline) -> dict[str, int]:
    """Where each wave's CodePipeline stage is: the waves (one CodePipeline stage each) come last,
    in the order :func:`_add_stages` added them. Reads two stage names to check it instead of all."""
    waves = [*(s.name for s in plan.preproduction), ZETA_STAGE, *(s.name for s in plan.production)]
    stages = pipeline.stages
    first = len(stages) - len(waves)
    if first >= 0 and _stage_name(stages[first]) == waves[0] and _stage_name(stages[-1]) == waves[-1]:
        return {name: first + i for i, name in enumerate(waves)}
    names = [_stage_name(stage) for stage in stages]
    return {name: names.index(name) for name in waves if name in names}


def _add_stage_conditions(plan: PipelinePlan, pipeline: codepipeline.Pipeline) -> None:
    """X4: native CodePipeline V2 conditions as a second line of defence: roll a production
    stage back on failure, and refuse entry while the observed-health alarm fires."""
    cfn = pipeline.node.default_child
    assert isinstance(cfn, codepipeline.CfnPipeline)
    indexes = _stage_indexes(plan, pipeline)
    # One override for every stage (a round trip per key otherwise): CDK merges
    # ``{"Stages": {"<index>": {...}}}`` into the rendered stages key by key, as it merges the same
    # keys given one path each. It would replace an earlier override under ``Stages``: there is
    # none (CDK Pipelines makes none, and render() makes only these).
    stages: dict[str, dict[str, Any]] = {}
    for stage in plan.stages:
        index = str(indexes[stage.name])
        if stage.rollback_on_failure:
            stages.setdefault(index, {})["OnFailure"] = {"Result": "ROLLBACK"}
        if stage.entry_alarm is not None:
            rule = {
                "Name": "ObservedHealth",
                "RuleTypeId": {
                    "Category": "Rule",
                    "Owner": "AWS",
                    "Provider": "CloudWatchAlarm",
                    "Version": "1",
                },
                # WaitTime is in minutes (CodePipeline rule reference).
                "Configuration": {"AlarmName": stage.entry_alarm, "WaitTime": "1"},
                "Region": plan.naming.tooling_region,
            }
            conditions = [{"Result": "FAIL", "Rules": [rule]}]
            stages.setdefault(index, {})["BeforeEntry"] = {"Conditions": conditions}
    if stages:
        cfn.add_property_override("Stages", stages)


def _override_used_alarms(stack: Stack, plan: PipelinePlan, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
    """Page the tooling topic whenever a gate lets a deployment through only thanks to an
    override (``OverrideUsed``, per stage): one alarm over every gated stage (a metric-math
    alarm reads at most 10 metrics, so one more per further 10 stages)."""
    naming = plan.naming
    gated = [s.name for s in plan.stages if s.gate is not None]
    groups = [gated[i : i + _OVERRIDE_ALARM_METRICS] for i in range(0, len(gated), _OVERRIDE_ALARM_METRICS)]
    alarms = []
    for number, stages in enumerate(groups, start=1):
        suffix = "" if number == 1 else str(number)
        metrics: Mapping[str, cloudwatch.IMetric] = {
            f"s{i}": cloudwatch.Metric(
                namespace=GATES_NAMESPACE,
                metric_name=OVERRIDE_USED_METRIC,
                dimensions_map={PIPELINE_DIMENSION: naming.pipeline, STAGE_DIMENSION: name},
                statistic="Sum",
                period=_once.minutes(1),
            )
            for i, name in enumerate(stages)
        }
        alarm = cloudwatch.Alarm(
            stack,
            f"OverrideUsed{suffix}",
            alarm_name=f"{naming.pipeline}-override-used{'-' + suffix if suffix else ''}",
            alarm_description=(
                f"A gate of {naming.pipeline} ({', '.join(stages)}) let a deployment through only "
                "thanks to an override: see the gate's AUDIT log line for who and why"
            ),
            metric=cloudwatch.MathExpression(
                expression=f"SUM([{','.join(metrics)}])",
                using_metrics=metrics,
                label="Overrides used",
                period=_once.minutes(1),
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        alarms.append(alarm)
    _page_gate_failures(stack, topic, alarm_name=naming.gate_failure_alarm)
    return alarms


def _page_gate_failures(stack: Stack, topic: sns.ITopic, *, alarm_name: str) -> None:
    """Page the tooling topic when a gate or bake fails because its input was rewritten
    (``GateInputTampered``, ``GateInputUnverified``) or a hotfix could not switch or restore the
    deployment groups: nothing else would (see :meth:`DeploymentGates.page_failures`). The gates
    are the stack's ``Gates`` (:func:`render` makes them first); a stack without them has nothing
    to page about."""
    gates = stack.node.try_find_child("Gates")
    if isinstance(gates, DeploymentGates):
        # Named like the pipeline's alarms: its paging subscriptions receive it.
        gates.page_failures(topic, alarm_name=alarm_name)


def _override_writer(stack: Stack, plan: PipelinePlan) -> iam.ManagedPolicy:
    """The permission to override this pipeline's gates and nothing else: attach it to the people
    (roles, groups) who may. Account administrators can write the parameter anyway."""
    naming = plan.naming
    parameter_arn = stack.format_arn(
        service="ssm", resource="parameter", resource_name=naming.override_parameter.lstrip("/")
    )
    return iam.ManagedPolicy(
        stack,
        "OverrideWriter",
        managed_policy_name=f"{naming.prefix}-{naming.service}-override-writer",
        description=f"Write the gate override of {naming.pipeline} ({naming.override_parameter}) only",
        # Write it, or delete it: deleting revokes an override (e.g. a hotfix mid-bake).
        statements=[
            iam.PolicyStatement(
                actions=["ssm:DeleteParameter", "ssm:PutParameter"], resources=[parameter_arn]
            )
        ],
    )


@jsii.implements(IAnyProducer)
class _NarrowedDocument:
    """A role's policy document as CDK renders it, with its statements on ``*`` replaced by
    ``narrow``: resolved at synth, once every grant is in."""

    def __init__(
        self,
        policy: iam.Policy,
        narrow: Callable[[dict[str, Any], IResolveContext], list[dict[str, Any]] | None],
    ) -> None:
        self._document = policy.document
        self._narrow = narrow

    def produce(self, context: IResolveContext) -> Any:
        document = context.resolve(self._document)
        statements: list[dict[str, Any]] = []
        for statement in document["Statement"]:
            resources = statement.get("Resource")
            if "*" in (resources if isinstance(resources, list) else [resources]):
                statements += self._narrow(statement, context) or [statement]
            else:
                statements.append(statement)
        return {**document, "Statement": statements}


def _jsii_id(construct: Any) -> str:
    """jsii's id of the JavaScript object behind ``construct`` (the same for every Python proxy of
    it, where ``is`` tells two proxies of one object apart), read without a round trip."""
    return str(construct.__jsii_ref__.ref)


def _narrow(role: iam.IRole, narrow: Callable[[dict[str, Any], IResolveContext], Any]) -> None:
    policy = role.node.try_find_child("DefaultPolicy")
    if isinstance(policy, iam.Policy):
        cfn = policy.node.default_child
        assert isinstance(cfn, iam.CfnPolicy)
        cfn.policy_document = Lazy.uncached_any(_NarrowedDocument(policy, narrow))


def _actions(statement: Mapping[str, Any]) -> list[str]:
    actions = statement["Action"]
    return list(actions) if isinstance(actions, list) else [actions]


def _without_star(statement: dict[str, Any]) -> list[dict[str, Any]]:
    resources = statement["Resource"]
    rest = [r for r in resources if r != "*"] if isinstance(resources, list) else []
    return [{**statement, "Resource": rest if len(rest) > 1 else rest[0]}] if rest else []


def _narrow_wildcard_grants(
    stack: Stack, pipeline: pipelines.CodePipeline, built: codepipeline.Pipeline, pipeline_role: iam.Role
) -> None:
    """Narrow the two grants CDK Pipelines makes on ``*`` (issue 8, supply chain):

    - the asset roles (``Assets/FileRole``) may start, watch and stop any CodeBuild project: only
      their own asset projects now, so a compromised publisher cannot run the synth project;
    - the pipeline role may use any KMS key (CDK cannot name a cross-region key by ARN): only the
      keys of this pipeline's cross-region replication buckets now, in the tooling account, by
      their aliases (``kms:ResourceAliases``, as CDK's own imported-alias grants do).
    """
    # CDK Pipelines makes the asset roles and their projects side by side, in ``Assets``.
    assets = pipeline.node.try_find_child("Assets")
    children = assets.node.children if assets is not None else []
    roles = [child for child in children if isinstance(child, iam.Role)]
    # Each project's role (by jsii's id: a new proxy on every read) and ARN, read once here. The
    # ARN stays CDK's token: CDK resolves what produce() returns, on every pass.
    project_roles: list[tuple[str | None, str]] = []
    for project in (child for child in children if isinstance(child, codebuild.Project)):
        project_role = project.role
        role_id = _jsii_id(project_role) if project_role is not None else None
        project_roles.append((role_id, project.project_arn))
    for role in roles:
        own = [arn for role_id, arn in project_roles if role_id == _jsii_id(role)]

        def own_projects(
            statement: dict[str, Any], context: IResolveContext, own: list[str] = own
        ) -> list[dict[str, Any]] | None:
            if not all(a.startswith("codebuild:") for a in _actions(statement)):
                return None
            return [{**statement, "Resource": own[0] if len(own) == 1 else list(own)}] if own else []

        _narrow(role, own_projects)

    support = built.cross_region_support

    named: list[tuple[list[Any], list[str]] | None] = []  # the keys, worked out on first resolve

    def replication_key_names(context: IResolveContext) -> tuple[list[Any], list[str]] | None:
        """The other regions' replication keys (ARN pattern, alias), or None if one has no alias.
        Resolved once: the support stacks are all known when the pipeline stack synthesizes."""
        if named:
            return named[0]
        own_region = stack.region
        regions = sorted(r for r in support if r != own_region)  # the own region's key: by ARN
        key_ids: list[str] = []
        for region in regions:
            key = support[region].replication_bucket.encryption_key
            if key is None:
                break
            key_ids.append(key.key_id)
        # Every alias in one resolve (a round trip each otherwise).
        aliases = context.resolve(key_ids) if len(key_ids) == len(regions) and regions else []
        # A key we cannot name (no key, or no alias): keep CDK's grant (and nag reports it).
        result: tuple[list[Any], list[str]] | None = None
        named_all = len(aliases) == len(regions)
        if named_all and all(isinstance(a, str) and a.startswith("alias/") for a in aliases):
            # Kept as CDK's string (a token while the partition is one, without the
            # @aws-cdk/core:enablePartitionLiterals flag): CDK resolves what produce() returns on
            # every pass, where a value resolved once here would be re-read as a string.
            # What stack.format_arn(service="kms", region=region, resource="key", resource_name="*")
            # makes, without a round trip per region.
            partition, account = (stack.partition, stack.account) if regions else ("", "")
            keys = [f"arn:{partition}:kms:{region}:{account}:key/*" for region in regions]
            result = (keys, list(aliases))
        named.append(result)
        return result

    def replication_keys(statement: dict[str, Any], context: IResolveContext) -> list[dict[str, Any]] | None:
        if not all(a.startswith("kms:") for a in _actions(statement)):
            return None
        names = replication_key_names(context)
        if names is None:
            return None
        keys, aliases = names
        scoped = {
            **statement,
            "Resource": keys,
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases}},
        }
        return _without_star(statement) + ([scoped] if keys else [])

    _narrow(pipeline_role, replication_keys)
