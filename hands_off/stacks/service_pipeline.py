"""``ServicePipeline``: the pipeline stack every service inherits (P17).

An organization subclasses it once (source connection, accounts and waves, alarm thresholds); each
service subclasses that and overrides only what differs (name, code, build commands, tests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Literal

from aws_cdk import Annotations, Duration, Environment, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from hands_off.build import CodeArtifactRepository, PackageIndex
from hands_off.constructs.code_signing import (
    SIGNED_CODE_DIR_CONTEXT,
    CodeSigning,
    signing_profile_arn_context,
)
from hands_off.constructs.deployment_gates import DeploymentGates, StateMachineStep
from hands_off.constructs.lambda_service import LambdaService
from hands_off.deployment import Deployment
from hands_off.model import (
    Account,
    ConfigError,
    DeploymentPolicy,
    Environments,
    GatePolicy,
    Stage,
    Wave,
    validate_service_identity,
)
from hands_off.stacks.application_stack import ApplicationStage
from hands_off.stacks.service_access import ServiceAccessStack

__all__ = ["ServicePipeline"]

_BOTO3_PIN = "boto3==1.44.5"
_SSM_STANDARD_LIMIT = 4096


class ServicePipeline(Stack):
    """A CodePipeline (V2, cross-account keys) that ships one service through
    ``Source → Build → Alpha → Beta → Gamma → Zeta → Prod-1 … Prod-N``.

    Built on CDK Pipelines (self-mutation, asset publishing, cross-account deploys); hands-off adds
    signed builds, integration tests after every pre-production deployment, a Zeta stage against
    production, and one CodeDeploy deployment group per copy with alarm rollback.

    Subclass it and override hooks — class attributes for plain values, methods for the rest:

    * ``service_name``, ``code_directory``, ``handler`` — what the service is (required/optional);
    * :meth:`environments` — accounts, stages and waves (organization default);
    * :meth:`source` — where commits come from (default: a CodeConnections repository/branch);
    * :meth:`build_commands` — unit tests, linters, packaging (P3);
    * :meth:`application` — what one copy of the service is (default: :class:`LambdaService`);
    * :meth:`deployment_policy` — traffic shift and bake per stage/wave;
    * :meth:`integration_test_commands` — tests that call the deployed endpoints (P4, P7);
    * :meth:`gate_policy` — windows, blackouts, org alarms, waits, bake traffic (P14-P16);
    * :meth:`canary_payload` — the request sent every minute to Gamma and production (P18).

    Example::

        class OrdersPipeline(AcmeServicePipeline):
            service_name = "orders"
            code_directory = "lambda/services/orders"

        OrdersPipeline(app)

    :param scope: the CDK app.
    :param construct_id: Default: ``"<Service>Pipeline"``.
    :param environments: Default: :meth:`environments`.
    """

    service_name: ClassVar[str] = ""
    """Lower-case service name (letters, digits, dashes). Required."""
    code_directory: ClassVar[str] = ""
    """Folder of the Lambda source, relative to the repository root. Required."""
    handler: ClassVar[str] = "app.handler"
    """Lambda handler inside the package. Default: ``app.handler``."""
    repository: ClassVar[str] = ""
    """``owner/name`` of the source repository (for the default :meth:`source`)."""
    branch: ClassVar[str] = "main"
    """The reviewed mainline (P2): the only branch the pipeline builds. Default: ``main``."""
    connection_arn: ClassVar[str] = ""
    """CodeConnections (CodeStar) connection ARN for the default :meth:`source`."""
    package_index: ClassVar[PackageIndex | CodeArtifactRepository | None] = None
    """Where the Build installs Python packages from. Default: ``None`` (the public PyPI); set it
    once in the organization class, e.g. to a :class:`~hands_off.build.CodeArtifactRepository`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str | None = None,
        *,
        environments: Environments | None = None,
    ) -> None:
        self._check_class_attributes()
        self._check_unique_in(scope)
        self.envs = environments if environments is not None else self.environments()
        toolchain = self.envs.toolchain
        super().__init__(
            scope,
            construct_id or f"{self._title}Pipeline",
            env=Environment(account=toolchain.account.account_id, region=toolchain.region),
            description=f"hands-off: application pipeline of {self.service_name}",
        )
        for warning in self.envs.warnings:
            Annotations.of(self).add_warning_v2("hands-off:environments", warning)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.code_signing = CodeSigning(
            self, "CodeSigning", service_name=self.service_name, access_logs=self.access_logs
        )
        self.integration_test_role = iam.Role(
            self,
            "IntegrationTestRole",
            role_name=self.integration_test_role_name,
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Runs {self.service_name} integration tests against its deployed aliases",
        )
        self.deployments: list[Deployment] = []
        self.access_stacks: list[ServiceAccessStack] = []
        self.gate_policy_value = self.gate_policy()
        self.gates = DeploymentGates(
            self,
            "Gates",
            pipeline_name=self.pipeline_name,
            reader_role_arns=sorted({self.reader_role_arn(d) for d in self._gated_deployments()}),
            override_parameter_name=self.override_parameter_name,
            checker_role_name=self.account_role_name("gate-checker"),
            config_parameter_arns=self._config_parameter_arns(),
        )
        self.pipeline_role = iam.Role(
            self,
            "PipelineRole",
            role_name=self.account_role_name("pipeline"),
            assumed_by=iam.ServicePrincipal("codepipeline.amazonaws.com"),
            description=f"CodePipeline role of {self.pipeline_name}",
        )
        # X4: CodePipeline's CloudWatchAlarm rule reads alarms in the pipeline's own account, so
        # the gates and bakes mirror the health they observe in the target accounts here.
        self.observed_health = cloudwatch.Alarm(
            self,
            "ObservedHealth",
            alarm_name=f"{self.pipeline_name}-observed-health",
            alarm_description=(
                "Health alarms of this service's copies found in ALARM by the gates and bakes "
                "(mirrored from the target accounts; watched by the Prod-N entry conditions)"
            ),
            metric=cloudwatch.Metric(
                namespace="HandsOff/Gates",
                metric_name="UnhealthyCopies",
                dimensions_map={"Pipeline": self.pipeline_name},
                statistic="Maximum",
                period=Duration.minutes(1),
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.pipeline_role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms"], resources=[self.observed_health.alarm_arn]
            )
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            role=self.pipeline_role,
            # One role for the pipeline and its actions instead of a role per action (IAM quota).
            use_pipeline_role_for_actions=True,
            pipeline_type=codepipeline.PipelineType.V2,
            cross_account_keys=True,
            enable_key_rotation=True,
            synth=self._synth_step(),
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.SMALL,
                )
            ),
        )
        self._add_stages()
        self.pipeline.build_pipeline()
        self._log_artifact_access()
        self._add_stage_conditions()
        self.integration_test_role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[d.alias_arn for d in self.deployments],
            )
        )

    # ----------------------------------------------------------------------------------- hooks

    def environments(self) -> Environments:
        """Accounts, pre-production stages and production waves. Override in the org class."""
        raise ConfigError(
            f"{type(self).__name__}.environments",
            "no environments: override environments() in your organization's base class "
            "or pass environments=...",
        )

    def gate_policy(self) -> GatePolicy:
        """Time windows, blackouts, org-wide alarms, waits and bake traffic for the gates before
        Gamma and every production wave and the bake after each wave. Default: ``GatePolicy()``
        (weekdays 09:00-17:00 in each wave's local time, no org alarms)."""
        return GatePolicy()

    def source(self) -> pipelines.CodePipelineSource:
        """Where reviewed commits come from (P2): one branch of one repository."""
        return pipelines.CodePipelineSource.connection(
            self.repository, self.branch, connection_arn=self.connection_arn, trigger_on_push=True
        )

    def install_commands(self) -> list[str]:
        """Set up the Build in the repository it checked out: virtualenv, pinned dependencies, the
        CDK CLI. Runs after the :attr:`package_index` login. Default: ``make setup``."""
        return ["make setup"]

    def build_commands(self) -> list[str]:
        """Unit tests, linters and packaging (P3), run after :meth:`install_commands`.

        Must leave the package at :attr:`package_path` (``build/<service>.zip``); the base class
        signs it, then runs :meth:`synth_commands`. Default: ``make test``, then
        ``make package CODE_DIRECTORY=<code_directory> PACKAGE=build/<service>.zip``.
        """
        return ["make test", self.package_command]

    def synth_commands(self, context: str) -> list[str]:
        """Synthesize the repository's CDK app into ``cdk.out/`` with ``context`` (``-c key=value``
        pairs naming the signed package and the signing profile version, to pass to ``cdk synth``).
        Default: ``make synth CDK_CONTEXT="<context>"``."""
        return [f'make synth CDK_CONTEXT="{context}"']

    def integration_test_commands(self) -> list[str]:
        """Commands that call the endpoints in ``$ENDPOINTS`` (comma-separated alias ARNs) like a
        customer: positive and negative cases (P4). Default: ``<code_directory>/integ_test.py``."""
        return [f"python {self.code_directory}/integ_test.py"]

    def canary_payload(self) -> dict[str, Any] | None:
        """A request that exercises the service, sent every minute to the Gamma and production
        copies (P18) so alarms, anomaly detection and bakes have signal at any traffic level.
        Default: ``None`` (no canary; the traffic-anomaly alarm is then only used in production)."""
        return None

    def deployment_policy(self, stage: Stage | Wave) -> DeploymentPolicy:
        """Traffic shift and bake of one stage or wave. Default: the one in :meth:`environments`."""
        return stage.policy

    def application(self, scope: Construct, deployment: Deployment) -> LambdaService:
        """Build one copy of the service into ``scope`` (an :class:`ApplicationStack`)."""
        gets_canary = deployment.production or deployment.stage_name == self.envs.gamma.name
        canary = self.canary_payload() if gets_canary else None
        return LambdaService(
            scope,
            "Service",
            function_name=deployment.function_name,
            code=self.lambda_code(scope, deployment),
            handler=self.handler,
            policy=deployment.policy,
            alarm_policy=deployment.alarm_policy,
            code_signing_config=self.code_signing_config(scope),
            invoker_role_arns=[self.integration_test_role_arn],
            execution_role=iam.Role.from_role_arn(
                scope, "ExecutionRole", self.role_arn(deployment.target.account, "runtime"), mutable=False
            ),
            deploy_role=iam.Role.from_role_arn(
                scope, "DeployRole", self.role_arn(deployment.target.account, "codedeploy"), mutable=False
            ),
            canary_payload=canary,
            # Customers (production) or the canary (Gamma) give continuous traffic to watch.
            watch_traffic=deployment.production or canary is not None,
        )

    # ------------------------------------------------------------------------ helpers for hooks

    @property
    def pipeline_name(self) -> str:
        """Name of the CodePipeline."""
        return f"{self.service_name}-application"

    @property
    def override_parameter_name(self) -> str:
        """SSM parameter a developer writes to override the gates (see README, Gates)."""
        return f"/hands-off/{self.pipeline_name}/override"

    def account_role_name(self, purpose: str) -> str:
        """Physical name of one of this service's roles (one per account), e.g. ``gate-reader``."""
        return f"hands-off-{self.service_name}-{purpose}"

    def role_arn(self, account: Account, purpose: str) -> str:
        """ARN of :meth:`account_role_name` in ``account``, built from names (no cross-stack reference)."""
        return f"arn:aws:iam::{account.account_id}:role/{self.account_role_name(purpose)}"

    def reader_role_arn(self, deployment: Deployment) -> str:
        """Role in a target account the gates and stage conditions assume to read its alarms."""
        return self.role_arn(deployment.target.account, "gate-reader")

    @property
    def package_path(self) -> str:
        """Where :meth:`build_commands` leaves the zip to sign."""
        return f"build/{self.service_name}.zip"

    @property
    def package_command(self) -> str:
        """The default packaging command: ``make package CODE_DIRECTORY=… PACKAGE=build/<service>.zip``
        (``python -m hands_off.package``: a deterministic zip of the code folder, tests left out)."""
        return f"make package CODE_DIRECTORY={self.code_directory} PACKAGE={self.package_path}"

    @property
    def integration_test_role_name(self) -> str:
        """Physical name of the integration-test role (so target accounts can trust it)."""
        return f"hands-off-{self.service_name}-integ-tests"

    @property
    def integration_test_role_arn(self) -> str:
        """ARN of the integration-test role, built from names only (no cross-stack reference)."""
        return f"arn:aws:iam::{self.envs.toolchain.account.account_id}:role/{self.integration_test_role_name}"

    def signing_profile_version_arn(self, scope: Construct) -> str:
        """The Signer profile version ARN the Build stage passed in, or a local placeholder that
        no real profile matches (so a locally synthesized stack can never run unsigned code)."""
        value = scope.node.try_get_context(signing_profile_arn_context(self.service_name))
        if value:
            return str(value)
        toolchain = self.envs.toolchain
        return (
            f"arn:aws:signer:{toolchain.region}:{toolchain.account.account_id}:"
            f"/signing-profiles/{self.code_signing.profile_name}/local-synth-unsigned"
        )

    def code_signing_config(self, scope: Construct) -> lambda_.ICodeSigningConfig:
        """A ``CodeSigningConfig`` in ``Enforce`` mode trusting this service's profile."""
        config = lambda_.CfnCodeSigningConfig(
            scope,
            "CodeSigningConfig",
            allowed_publishers=lambda_.CfnCodeSigningConfig.AllowedPublishersProperty(
                signing_profile_version_arns=[self.signing_profile_version_arn(scope)]
            ),
            code_signing_policies=lambda_.CfnCodeSigningConfig.CodeSigningPoliciesProperty(
                untrusted_artifact_on_deployment="Enforce"
            ),
            description=f"Only code signed by {self.code_signing.profile_name} may run",
        )
        return lambda_.CodeSigningConfig.from_code_signing_config_arn(
            scope, "CodeSigningConfigRef", config.attr_code_signing_config_arn
        )

    def lambda_code(self, scope: Construct, deployment: Deployment) -> lambda_.Code:
        """The signed package when the Build stage produced one, else the source folder."""
        signed_dir = scope.node.try_get_context(SIGNED_CODE_DIR_CONTEXT)
        signed_arn = scope.node.try_get_context(signing_profile_arn_context(self.service_name))
        if signed_dir and signed_arn:
            signed = Path(str(signed_dir)) / f"{self.service_name}.zip"
            if not signed.is_file():
                raise ConfigError(
                    SIGNED_CODE_DIR_CONTEXT,
                    f"{signed} is missing: the Build stage must sign {self.package_path} before synth",
                )
            return lambda_.Code.from_asset(str(signed))
        return lambda_.Code.from_asset(self.code_directory, exclude=["tests", "integ_test.py", "__pycache__"])

    # ---------------------------------------------------------------------------- internals

    @property
    def _title(self) -> str:
        return "".join(part.capitalize() for part in self.service_name.split("-"))

    def _check_class_attributes(self) -> None:
        cls = type(self).__name__
        validate_service_identity(
            cls,
            service_name=self.service_name,
            repository=self.repository,
            connection_arn=self.connection_arn,
            branch=self.branch,
            # The default source() needs the repository and connection; an overridden one may not.
            requires_source=type(self).source is ServicePipeline.source,
        )
        if not self.code_directory:
            raise ConfigError(
                f"{cls}.code_directory", "set the folder of the Lambda source, e.g. 'lambda/services/orders'"
            )
        if not Path(self.code_directory).is_dir():
            raise ConfigError(
                f"{cls}.code_directory",
                f"{self.code_directory!r} does not exist (paths are relative to the repository root)",
            )

    def _check_unique_in(self, scope: Construct) -> None:
        """One service name, one pipeline: its roles, parameters and pipeline are named after it."""
        for other in scope.node.children:
            if isinstance(other, ServicePipeline) and other.service_name == self.service_name:
                raise ConfigError(
                    f"{type(self).__name__}.service_name",
                    f"{self.service_name!r} is also the service of {type(other).__name__} "
                    f"(stack {other.node.id}); give each pipeline its own service_name",
                )

    def _log_artifact_access(self) -> None:
        """Server access logs for the artifact bucket CDK Pipelines creates (nag S1)."""
        bucket = self.pipeline.pipeline.artifact_bucket
        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=self.access_logs.bucket_name, log_file_prefix="artifacts/"
        )
        self.access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.access_logs.arn_for_objects("artifacts/*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self.account},
                },
            )
        )

    def _synth_step(self) -> pipelines.CodeBuildStep:
        signed_dir = "build/signed"
        context = (
            f"-c {SIGNED_CODE_DIR_CONTEXT}={signed_dir} "
            f"-c {signing_profile_arn_context(self.service_name)}=$SIGNING_PROFILE_VERSION_ARN"
        )
        index = self.package_index
        statements = self.code_signing.policy_statements() + [
            iam.PolicyStatement(
                actions=list(grant.actions),
                resources=list(grant.resources),
                conditions={k: dict(v) for k, v in grant.conditions.items()} or None,
            )
            for grant in (index.grants(self.partition) if index else [])
        ]
        return pipelines.CodeBuildStep(
            "Synth",
            input=self.source(),
            install_commands=[*(index.login_commands() if index else []), *self.install_commands()],
            commands=[
                *self.build_commands(),
                *self.code_signing.commands(self.package_path, signed_dir),
                *self.synth_commands(context),
            ],
            env={**self.code_signing.env(), **(index.env() if index else {})},
            role_policy_statements=statements,
            primary_output_directory="cdk.out",
        )

    def _deployment(self, stage: Stage | Wave, production: bool) -> list[Deployment]:
        policy = self.deployment_policy(stage)
        return [
            Deployment(
                service_name=self.service_name,
                stage_name=stage.name,
                target=target,
                policy=policy,
                alarm_policy=self.envs.alarm_policy,
                production=production,
            )
            for target in stage.targets
        ]

    def _integration_test(self, step_id: str, endpoints: dict[str, object]) -> pipelines.CodeBuildStep:
        return pipelines.CodeBuildStep(
            step_id,
            install_commands=[f"pip install --quiet {_BOTO3_PIN}"],
            commands=self.integration_test_commands(),
            role=self.integration_test_role,
            **endpoints,  # type: ignore[arg-type]
        )

    def _stage(self, deployment: Deployment, wave_size: int) -> ApplicationStage:
        # A one-stage wave is rendered as a CodePipeline stage named after its CDK stage.
        stage_id = (
            deployment.stage_name if wave_size == 1 else f"{deployment.stage_name}-{deployment.target.region}"
        )
        self.deployments.append(deployment)
        return ApplicationStage(self, stage_id, pipeline=self, deployment=deployment)

    def _gated_deployments(self) -> list[Deployment]:
        envs = self.envs
        return [
            *self._deployment(envs.gamma, production=False),
            *(d for w in envs.waves for d in self._deployment(w, production=True)),
        ]

    def _alarm_checks(
        self,
        stage: Stage | Wave,
        *,
        health: Literal["name", "prefix"] | None,
        names: tuple[str, ...] = (),
        prefixes: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        """One alarm check per target of ``stage``, read through that target's gate-reader role.

        ``health="prefix"`` looks the copy's own health alarm up by name prefix: before the first
        deployment to a new region the alarm does not exist yet (its own stack creates it), and
        that must not block forever. ``health="name"`` requires it (bakes run after the deploy).
        """
        checks = []
        for d in self._deployment(stage, production=isinstance(stage, Wave)):
            own = [d.health_alarm_name]
            checks.append(
                {
                    "region": d.target.region,
                    "role_arn": self.reader_role_arn(d),
                    "alarm_names": [*names, *(own if health == "name" else [])],
                    "alarm_name_prefixes": [*prefixes, *(own if health == "prefix" else [])],
                }
            )
        return checks

    def config_parameter_name(self, step_id: str) -> str:
        """SSM parameter holding the input of gate/bake ``step_id`` (e.g. ``Prod-2-Gate``)."""
        return f"/hands-off/{self.pipeline_name}/gates/{step_id}"

    def _config_parameter_arns(self) -> list[str]:
        steps = [f"{self.envs.gamma.name}-Gate", f"{self.envs.gamma.name}-Bake"]
        steps += [f"{w.name}-{kind}" for w in self.envs.waves for kind in ("Gate", "Bake")]
        toolchain = self.envs.toolchain
        return [
            f"arn:aws:ssm:{toolchain.region}:{toolchain.account.account_id}:parameter"
            f"{self.config_parameter_name(step)}"
            for step in steps
        ]

    def _state_machine_step(
        self, step_id: str, machine: sfn.IStateMachine, config: dict[str, Any]
    ) -> StateMachineStep:
        value = json.dumps(config, separators=(",", ":"))
        if len(value) > _SSM_STANDARD_LIMIT:
            raise ConfigError(
                f"{type(self).__name__} {step_id}",
                f"the gate configuration is {len(value)} characters, over the 4,096 an SSM parameter "
                "holds: use fewer regions in this wave, or fewer org alarm names/prefixes",
            )
        ssm.StringParameter(
            self,
            f"{step_id}Config",
            parameter_name=self.config_parameter_name(step_id),
            string_value=value,
            description=f"hands-off: input of {self.pipeline_name} {step_id}",
        )
        return StateMachineStep(
            step_id, state_machine=machine, config_parameter_name=self.config_parameter_name(step_id)
        )

    def _gate(self, stage: Stage | Wave) -> StateMachineStep:
        policy = self.gate_policy_value
        has_org = bool(policy.org_alarm_names or policy.org_alarm_prefixes)
        return self._state_machine_step(
            f"{stage.name}-Gate",
            self.gates.gate,
            {
                "pipeline": self.pipeline_name,
                "stage": stage.name,
                "app_checks": self._alarm_checks(stage, health="prefix"),
                "org_checks": self._alarm_checks(
                    stage, health=None, names=policy.org_alarm_names, prefixes=policy.org_alarm_prefixes
                )
                if has_org
                else [],
                # Follow the sun (X6): the window is read in the local time of the wave's first region.
                "window": policy.window_config(stage.targets[0].region),
                "override_parameter": self.override_parameter_name,
                "check_interval_seconds": policy.check_interval_seconds,
                "max_wait_seconds": policy.max_wait_seconds,
            },
        )

    def _bake(self, wave: Stage | Wave) -> StateMachineStep:
        policy = self.gate_policy_value
        deployments = self._deployment(wave, production=isinstance(wave, Wave))
        return self._state_machine_step(
            f"{wave.name}-Bake",
            self.gates.bake,
            {
                "pipeline": self.pipeline_name,
                "stage": wave.name,
                "checks": self._alarm_checks(wave, health="name"),
                "traffic": {
                    "namespace": "AWS/Lambda",
                    "metric_name": "Invocations",
                    "targets": [
                        {
                            "region": d.target.region,
                            "role_arn": self.reader_role_arn(d),
                            "dimensions": [
                                {"Name": "FunctionName", "Value": d.function_name},
                                {"Name": "Resource", "Value": f"{d.function_name}:live"},
                            ],
                        }
                        for d in deployments
                    ],
                },
                "bake_seconds": self.deployment_policy(wave).bake_minutes * 60,
                "min_requests": policy.bake_min_requests,
                "poll_seconds": policy.bake_poll_seconds,
            },
        )

    def _add_stage_conditions(self) -> None:
        """X4: native CodePipeline V2 conditions as a second line of defence on every Prod-N stage:
        roll the stage back on failure, and refuse entry while the observed-health alarm fires."""
        cfn = self.pipeline.pipeline.node.default_child
        assert isinstance(cfn, codepipeline.CfnPipeline)
        names = [stage.stage_name for stage in self.pipeline.pipeline.stages]
        rule = {
            "Name": "ObservedHealth",
            "RuleTypeId": {"Category": "Rule", "Owner": "AWS", "Provider": "CloudWatchAlarm", "Version": "1"},
            # WaitTime is in minutes (CodePipeline rule reference).
            "Configuration": {"AlarmName": f"{self.pipeline_name}-observed-health", "WaitTime": "1"},
            "Region": self.envs.toolchain.region,
        }
        for wave in self.envs.waves:
            index = names.index(wave.name)
            cfn.add_property_override(f"Stages.{index}.OnFailure", {"Result": "ROLLBACK"})
            cfn.add_property_override(
                f"Stages.{index}.BeforeEntry", {"Conditions": [{"Result": "FAIL", "Rules": [rule]}]}
            )

    def _all_deployments(self) -> list[Deployment]:
        envs = self.envs
        return [
            *(
                d
                for stage in (envs.alpha, envs.beta, envs.gamma)
                for d in self._deployment(stage, production=False)
            ),
            *(d for wave in envs.waves for d in self._deployment(wave, production=True)),
        ]

    def _add_access_stacks(self, first: ApplicationStage) -> None:
        """Per-account roles, deployed with the first Alpha copy, before anything that uses them."""
        by_account: dict[str, list[Deployment]] = {}
        for deployment in self._all_deployments():
            by_account.setdefault(deployment.target.account.account_id, []).append(deployment)
        for deployments in by_account.values():
            account = deployments[0].target.account
            access = ServiceAccessStack(
                first,
                f"Access-{account.name}",
                stack_name=f"{self.service_name}-access",
                env=Environment(account=account.account_id, region=deployments[0].target.region),
                pipeline=self,
                account=account,
                deployments=deployments,
                description=f"hands-off: IAM roles of {self.service_name} in account {account.name}",
            )
            first.stack.add_stack_dependency(access)
            self.access_stacks.append(access)

    def _add_stages(self) -> None:
        envs = self.envs
        for stage in (envs.alpha, envs.beta, envs.gamma):
            # Gamma, production-like (P5, P6): gated, and its one-box copies bake before Zeta.
            gated = stage is envs.gamma
            wave = self.pipeline.add_wave(
                stage.name,
                pre=[self._gate(stage)] if gated else [],
                post=[self._bake(stage)] if gated else [],
            )
            for deployment in self._deployment(stage, production=False):
                app_stage = self._stage(deployment, len(stage.targets))
                if not self.access_stacks:
                    self._add_access_stacks(app_stage)
                test = self._integration_test(
                    f"{app_stage.stage_name}-IntegrationTest",
                    {"env_from_cfn_outputs": {"ENDPOINTS": app_stage.stack.service.endpoint_output}},
                )
                wave.add_stage(app_stage, post=[test])
        production = [d for wave in envs.waves for d in self._deployment(wave, production=True)]
        # Zeta (P7): the same tests, against what runs in production right now.
        self.pipeline.add_wave(
            "Zeta",
            post=[
                self._integration_test(
                    "Zeta-IntegrationTest",
                    {
                        "env": {
                            "ENDPOINTS": ",".join(d.alias_arn for d in production),
                            "SKIP_NOT_DEPLOYED": "1",
                        }
                    },
                )
            ],
        )
        for wave_model in envs.waves:
            wave = self.pipeline.add_wave(
                wave_model.name, pre=[self._gate(wave_model)], post=[self._bake(wave_model)]
            )
            for deployment in self._deployment(wave_model, production=True):
                wave.add_stage(self._stage(deployment, len(wave_model.targets)))
