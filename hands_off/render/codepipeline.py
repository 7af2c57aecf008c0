"""Render a :class:`~hands_off.blueprint.PipelinePlan` into CDK Pipelines constructs.

Every decision is already in the plan; this module only calls CDK: the tooling resources of the
pipeline stack (access-log bucket, code signing, integration-test role, gate machines, pipeline
role, the observed-health mirror alarm), the CodePipeline with its Build step, one wave per
planned stage with its gate, bake and integration tests, Zeta, and the X4 stage conditions.
It knows nothing of ``ServicePipeline``: the hooks' results come in as values and callables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack, Stage, pipelines
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from hands_off.blueprint import PipelinePlan, PlannedStage, StepInput
from hands_off.build import CodeArtifactRepository, PackageIndex
from hands_off.constructs.code_signing import (
    SIGNED_CODE_DIR_CONTEXT,
    CodeSigning,
    signing_profile_arn_context,
)
from hands_off.constructs.deployment_gates import DeploymentGates, StateMachineStep
from hands_off.deployment import Deployment
from hands_off.naming import GATES_NAMESPACE, PIPELINE_DIMENSION, UNHEALTHY_COPIES_METRIC, RolePurpose

__all__ = ["BuildInputs", "CopyStage", "RenderedPipeline", "render"]

_BOTO3_PIN = "boto3==1.44.5"
_SIGNED_DIR = "build/signed"


class CopyStage(Protocol):
    """A CDK stage holding one copy: its application stack and the copy's endpoint output."""

    @property
    def stack(self) -> Stack: ...

    @property
    def endpoint_output(self) -> CfnOutput: ...


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
    """

    source: pipelines.IFileSetProducer
    install_commands: Sequence[str]
    build_commands: Sequence[str]
    synth_commands: Callable[[str], Sequence[str]]
    integration_test_commands: Sequence[str]
    package_index: PackageIndex | CodeArtifactRepository | None = None


@dataclass
class RenderedPipeline:
    """The constructs :func:`render` created (nag, tests and subclasses reach them here)."""

    access_logs: s3.Bucket
    code_signing: CodeSigning
    integration_test_role: iam.Role
    gates: DeploymentGates
    pipeline_role: iam.Role
    observed_health: cloudwatch.Alarm
    pipeline: pipelines.CodePipeline
    stages: list[CopyStage] = field(default_factory=list)
    access_stacks: list[Stack] = field(default_factory=list)


def render(
    stack: Stack,
    plan: PipelinePlan,
    *,
    build: BuildInputs,
    stage_factory: Callable[[Construct, str, Deployment], CopyStage],
    access_stack_factory: Callable[[Stage, Sequence[Deployment]], Stack],
) -> RenderedPipeline:
    """Render ``plan`` into ``stack`` (the pipeline stack, in the tooling account and region).

    Args:
        stack: the pipeline stack.
        plan: the decided pipeline.
        build: the Build stage and test commands.
        stage_factory: builds the CDK stage of one copy (``scope, stage_id, deployment``).
        access_stack_factory: builds the IAM stack of one account into the first copy's stage
            (``stage, the deployments in that account``); it deploys before that copy.
    """
    naming = plan.naming
    access_logs = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        removal_policy=RemovalPolicy.RETAIN,
    )
    code_signing = CodeSigning(stack, "CodeSigning", service_name=naming.service, access_logs=access_logs)
    integration_test_role = iam.Role(
        stack,
        "IntegrationTestRole",
        role_name=naming.role(RolePurpose.INTEG_TESTS),
        assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
        description=f"Runs {naming.service} integration tests against its deployed aliases",
    )
    gates = DeploymentGates(
        stack,
        "Gates",
        pipeline_name=naming.pipeline,
        reader_role_arns=list(plan.reader_role_arns),
        override_parameter_name=naming.override_parameter,
        checker_role_name=naming.role(RolePurpose.GATE_CHECKER),
        config_parameter_arns=[naming.gate_input_parameter_arn(i.step_id) for i in plan.step_inputs],
    )
    pipeline_role = iam.Role(
        stack,
        "PipelineRole",
        role_name=naming.role(RolePurpose.PIPELINE),
        assumed_by=iam.ServicePrincipal("codepipeline.amazonaws.com"),
        description=f"CodePipeline role of {naming.pipeline}",
    )
    # X4: CodePipeline's CloudWatchAlarm rule reads alarms in the pipeline's own account, so the
    # gates and bakes mirror the health they observe in the target accounts here.
    observed_health = cloudwatch.Alarm(
        stack,
        "ObservedHealth",
        alarm_name=naming.observed_health_alarm,
        alarm_description=(
            "Health alarms of this service's copies found in ALARM by the gates and bakes "
            "(mirrored from the target accounts; watched by the Prod-N entry conditions)"
        ),
        metric=cloudwatch.Metric(
            namespace=GATES_NAMESPACE,
            metric_name=UNHEALTHY_COPIES_METRIC,
            dimensions_map={PIPELINE_DIMENSION: naming.pipeline},
            statistic="Maximum",
            period=Duration.minutes(1),
        ),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    pipeline_role.add_to_policy(
        iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[observed_health.alarm_arn])
    )
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
        synth=_synth_step(stack, plan, build, code_signing),
        code_build_defaults=pipelines.CodeBuildOptions(
            build_environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
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
        pipeline=pipeline,
    )
    _add_stages(stack, plan, build, rendered, stage_factory, access_stack_factory)
    pipeline.build_pipeline()
    _log_artifact_access(stack, pipeline, access_logs)
    _add_stage_conditions(plan, pipeline)
    integration_test_role.add_to_policy(
        iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[d.alias_arn for d in plan.deployments]
        )
    )
    return rendered


def _synth_step(
    stack: Stack, plan: PipelinePlan, build: BuildInputs, code_signing: CodeSigning
) -> pipelines.CodeBuildStep:
    naming = plan.naming
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
            *code_signing.commands(naming.package_path, _SIGNED_DIR),
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
    return StateMachineStep(step.step_id, state_machine=machine, config_parameter_name=step.parameter_name)


def _integration_test(
    build: BuildInputs, role: iam.IRole, step_id: str, **endpoints: object
) -> pipelines.CodeBuildStep:
    return pipelines.CodeBuildStep(
        step_id,
        install_commands=[f"pip install --quiet {_BOTO3_PIN}"],
        commands=list(build.integration_test_commands),
        role=role,
        **endpoints,  # type: ignore[arg-type]
    )


def _add_wave(stack: Stack, rendered: RenderedPipeline, stage: PlannedStage) -> pipelines.Wave:
    gate = [_state_machine_step(stack, rendered.gates, stage.gate)] if stage.gate else []
    bake = [_state_machine_step(stack, rendered.gates, stage.bake)] if stage.bake else []
    return rendered.pipeline.add_wave(stage.name, pre=gate, post=bake)


def _add_stages(
    stack: Stack,
    plan: PipelinePlan,
    build: BuildInputs,
    rendered: RenderedPipeline,
    stage_factory: Callable[[Construct, str, Deployment], CopyStage],
    access_stack_factory: Callable[[Stage, Sequence[Deployment]], Stack],
) -> None:
    for stage in plan.preproduction:
        wave = _add_wave(stack, rendered, stage)
        for copy in stage.copies:
            copy_stage = stage_factory(stack, copy.stage_id, copy.deployment)
            rendered.stages.append(copy_stage)
            if not rendered.access_stacks:
                _add_access_stacks(plan, copy_stage, rendered, access_stack_factory)
            assert isinstance(copy_stage, Stage)
            test = _integration_test(
                build,
                rendered.integration_test_role,
                f"{copy_stage.stage_name}-IntegrationTest",
                env_from_cfn_outputs={"ENDPOINTS": copy_stage.endpoint_output},
            )
            wave.add_stage(copy_stage, post=[test] if stage.integration_tests else [])
    # Zeta (P7): the same tests, against what runs in production right now.
    rendered.pipeline.add_wave(
        "Zeta",
        post=[
            _integration_test(
                build,
                rendered.integration_test_role,
                "Zeta-IntegrationTest",
                env={"ENDPOINTS": ",".join(plan.zeta_endpoints), "SKIP_NOT_DEPLOYED": "1"},
            )
        ],
    )
    for stage in plan.production:
        wave = _add_wave(stack, rendered, stage)
        for copy in stage.copies:
            copy_stage = stage_factory(stack, copy.stage_id, copy.deployment)
            rendered.stages.append(copy_stage)
            assert isinstance(copy_stage, Stage)
            wave.add_stage(copy_stage)


def _add_access_stacks(
    plan: PipelinePlan,
    first: CopyStage,
    rendered: RenderedPipeline,
    access_stack_factory: Callable[[Stage, Sequence[Deployment]], Stack],
) -> None:
    """Per-account roles, deployed with the first Alpha copy, before anything that uses them."""
    assert isinstance(first, Stage)
    for deployments in plan.deployments_by_account().values():
        access = access_stack_factory(first, deployments)
        first.stack.add_stack_dependency(access)
        rendered.access_stacks.append(access)


def _log_artifact_access(stack: Stack, pipeline: pipelines.CodePipeline, access_logs: s3.Bucket) -> None:
    """Server access logs for the artifact bucket CDK Pipelines creates (nag S1)."""
    bucket = pipeline.pipeline.artifact_bucket
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=access_logs.bucket_name, log_file_prefix="artifacts/"
    )
    access_logs.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[access_logs.arn_for_objects("artifacts/*")],
            conditions={
                "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        )
    )


def _add_stage_conditions(plan: PipelinePlan, pipeline: pipelines.CodePipeline) -> None:
    """X4: native CodePipeline V2 conditions as a second line of defence: roll a production
    stage back on failure, and refuse entry while the observed-health alarm fires."""
    cfn = pipeline.pipeline.node.default_child
    assert isinstance(cfn, codepipeline.CfnPipeline)
    names = [stage.stage_name for stage in pipeline.pipeline.stages]
    for stage in plan.stages:
        index = names.index(stage.name)
        if stage.rollback_on_failure:
            cfn.add_property_override(f"Stages.{index}.OnFailure", {"Result": "ROLLBACK"})
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
            cfn.add_property_override(
                f"Stages.{index}.BeforeEntry", {"Conditions": [{"Result": "FAIL", "Rules": [rule]}]}
            )
