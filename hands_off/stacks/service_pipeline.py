"""``ServicePipeline``: the pipeline stack every service inherits (P17).

An organization subclasses it once (source connection, accounts and waves, alarm thresholds); each
service subclasses that and overrides only what differs (name, code, build commands, tests).
This module holds the hooks and the wiring only: :func:`~hands_off.blueprint.plan_pipeline`
decides the pipeline once, :func:`~hands_off.render.codepipeline.render` renders it.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar

from aws_cdk import Annotations, Environment, Stack, pipelines
from aws_cdk import aws_sns as sns
from constructs import Construct

from hands_off import model
from hands_off.blueprint import PipelinePlan, plan_pipeline
from hands_off.build import CodeArtifactRepository, PackageIndex
from hands_off.constructs.copies import ServiceCopy, codedeploy_application_of
from hands_off.constructs.lambda_service import LambdaService
from hands_off.deployment import Deployment
from hands_off.model import ConfigError, DeploymentPolicy, Environments, GatePolicy, validate_service_identity
from hands_off.model._checks import check_json_object
from hands_off.naming import LAMBDA_APPLICATION_NAME, ServiceNaming
from hands_off.render.codepipeline import BuildInputs, render
from hands_off.stacks.application_stack import ApplicationStage
from hands_off.stacks.service_access import ServiceAccessStack

__all__ = ["ServicePipeline"]


class ServicePipeline(Stack):
    """A CodePipeline (V2, cross-account keys) that ships one service through
    ``Source → Build → Alpha → Beta → Gamma → Zeta → Prod-1 … Prod-N``.

    Built on CDK Pipelines (self-mutation, asset publishing, cross-account deploys); hands-off adds signed
    builds, integration tests after each pre-production deployment, a Zeta stage against production, and
    one deployment group per copy with alarm rollback.

    Subclass it and override hooks — class attributes for plain values (``service_name``, ``code_directory``,
    ``repository``, ``package_index`` …), methods for the rest (each documents its default). Hooks run
    once per pipeline, stage or copy, while the pipeline is planned.

    Example::

        class OrdersPipeline(AcmeServicePipeline):
            service_name = "orders"
            code_directory = "lambda/services/orders"

        OrdersPipeline(app)

    Args:
        scope: the CDK app.
        construct_id: Default: ``"<Service>Pipeline"``.
        environments: Default: :meth:`environments`.
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
    signs_lambda_package: ClassVar[bool] = True
    """Sign ``build/<service>.zip`` with AWS Signer before synth (P3). Default: True (False: no zip)."""
    codedeploy_application: ClassVar[str | None] = None
    """The account-region baseline's shared CodeDeploy application the copies' deployment groups
    are in: the gates' hotfix and the gate-reader role name it before any copy is built.
    Default: ``None``, read from the class the :meth:`application` hook says it returns
    (``-> Ec2Fleet``: ``hands-off-server``; ``-> LambdaService``: ``hands-off-lambda``), else
    ``hands-off-lambda``. Checked at synth against the copies built."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str | None = None,
        *,
        environments: Environments | None = None,
    ) -> None:
        self._check_class_attributes()
        self._check_unique_in(scope, construct_id)
        self.envs = environments if environments is not None else self.environments()
        toolchain = self.envs.toolchain
        self.naming = ServiceNaming(
            service=self.service_name,
            tooling_account=toolchain.account.account_id,
            tooling_region=toolchain.region,
        )
        super().__init__(
            scope,
            construct_id or self.naming.stack_id,
            env=Environment(account=toolchain.account.account_id, region=toolchain.region),
            description=f"hands-off: application pipeline of {self.service_name}",
        )
        for warning in self.envs.warnings:
            Annotations.of(self).add_warning_v2("hands-off:environments", warning)
        self.plan: PipelinePlan = plan_pipeline(
            self.envs,
            self.naming,
            deployment_policy=self.deployment_policy,
            gate_policy=self.gate_policy(),
            codedeploy_application=self._codedeploy_application(),
            owner=type(self).__name__,
        )
        """Every layout decision, made once (each hook above ran once per stage)."""
        self.rendered = rendered = render(  # the constructs: pipeline, gates, roles, stages...
            self,
            self.plan,
            build=BuildInputs(
                source=self.source(),
                install_commands=self.install_commands(),
                build_commands=self.build_commands(),
                synth_commands=self.synth_commands,
                integration_test_commands=self.integration_test_commands(),
                package_index=self.package_index,
                signs_lambda_package=self.signs_lambda_package,
            ),
            stage_factory=lambda s, i, d: ApplicationStage(s, i, deployment=d, build=self.application),
            access_stack_factory=lambda s, d, needs: ServiceAccessStack.for_account(
                s, self.naming, d, needs, codedeploy_application=self._codedeploy_application()
            ),
            paging=self.paging_subscriptions,
        )
        self.pipeline = rendered.pipeline
        self.gates = rendered.gates
        self.code_signing = rendered.code_signing
        self.pipeline_role = rendered.pipeline_role
        self.access_stacks = [s for s in rendered.access_stacks if isinstance(s, ServiceAccessStack)]
        self._check_codedeploy_application()

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
        """Unit tests, linters and packaging (P3), run after :meth:`install_commands`. Must leave
        ``build/<service>.zip`` (signed next, see :attr:`signs_lambda_package`), or a server fleet's
        CodeDeploy revision in ``build/revision``. Default: ``make test``, then ``make package
        CODE_DIRECTORY=<code_directory> PACKAGE=build/<service>.zip``."""
        return ["make test", self.package_command]

    def synth_commands(self, context: str) -> list[str]:
        """Synthesize the repository's CDK app into ``cdk.out/`` with ``context`` (``-c key=value``
        pairs naming the signed package and the signing profile version, to pass to ``cdk synth``).
        Default: ``make synth CDK_CONTEXT="<context>"``."""
        return [f'make synth CDK_CONTEXT="{context}"']

    def integration_test_commands(self) -> list[str]:
        """Commands that call the endpoints in ``$ENDPOINTS`` (comma-separated alias ARNs, or URLs) like
        a customer: positive and negative cases (P4). Default: ``<code_directory>/integ_test.py``."""
        return [f"python {self.code_directory}/integ_test.py"]

    def canary_payload(self) -> dict[str, Any] | None:
        """A request sent every minute to the Gamma and production copies (P18): alarms and bakes then
        have signal at any traffic level. Default: ``None`` (no canary; traffic anomaly: production only)."""
        return None

    def paging_subscriptions(self, deployment: Deployment | None) -> list[sns.ITopicSubscription]:
        """Whom the alarms of a copy (``deployment``), or for ``None`` the pipeline's own, page: e.g.
        ``EmailSubscription``, ``UrlSubscription`` (an incident tool). Default: none (synth warns).

        They subscribe to the shared paging topic of the copy's (the pipeline's) account and region
        (``AccountBaseline``) and receive only that copy's (the pipeline's) alarms: those whose
        name starts with ``<service>-<stage>-`` (``<service>-application-``). Bring no filter
        policy of your own on ``AlarmName`` or on message attributes."""
        return []

    def deployment_policy(self, stage: model.Stage | model.Wave) -> DeploymentPolicy:
        """Traffic shift and bake of one stage or wave. Default: the one in :meth:`environments`."""
        return stage.policy

    def application(self, scope: Construct, deployment: Deployment) -> ServiceCopy:
        """Build one copy of the service into ``scope`` (an :class:`ApplicationStack`).

        Default: a :class:`LambdaService` running the signed code of :attr:`code_directory`, with
        the account's shared roles, alarms and a CodeDeploy group; Gamma and production copies get
        the :meth:`canary_payload` traffic."""
        gets_canary = deployment.production or deployment.stage_name == self.envs.gamma.name
        return LambdaService.for_deployment(
            scope,
            deployment,
            naming=self.naming,
            code_directory=self.code_directory,
            handler=self.handler,
            canary_payload=check_json_object(
                self.canary_payload() if gets_canary else None,
                field=f"{type(self).__name__}.canary_payload()",
            ),
        )

    # ------------------------------------------------------------------------------ helpers

    @property
    def pipeline_name(self) -> str:
        """Name of the CodePipeline."""
        return self.naming.pipeline

    @property
    def package_command(self) -> str:
        """The default packaging command: ``make package CODE_DIRECTORY=… PACKAGE=build/<service>.zip``
        (``python -m hands_off.package``: a deterministic zip of the code folder, tests left out)."""
        return f"make package CODE_DIRECTORY={self.code_directory} PACKAGE={self.naming.package_path}"

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        """Every copy the pipeline deploys, in pipeline order."""
        return self.plan.deployments

    # ---------------------------------------------------------------------------- internals

    def _check_class_attributes(self) -> None:
        validate_service_identity(
            type(self).__name__,
            service_name=self.service_name,
            repository=self.repository,
            connection_arn=self.connection_arn,
            branch=self.branch,
            # The default source() needs the repository and connection; an overridden one may not.
            requires_source=type(self).source is ServicePipeline.source,
            code_directory=self.code_directory,
        )

    def _codedeploy_application(self) -> str:
        """:attr:`codedeploy_application`, or its default (see there)."""
        if self.codedeploy_application is not None:
            return self.codedeploy_application
        try:
            returned = typing.get_type_hints(type(self).application).get("return")
        except Exception:  # an annotation that does not resolve: the check after render decides
            returned = None
        return codedeploy_application_of(returned) or LAMBDA_APPLICATION_NAME

    def _check_codedeploy_application(self) -> None:
        """The copies' deployment groups are in the application the gates and roles name."""
        planned = self._codedeploy_application()
        for stage in self.rendered.stages:
            actual = codedeploy_application_of(stage.service)
            if actual is not None and actual != planned:
                raise ConfigError(
                    f"{type(self).__name__}.codedeploy_application",
                    f"the copies' deployment groups are in CodeDeploy application {actual!r}, but "
                    f"the gates' hotfix and the gate-reader role would name {planned!r}; set "
                    f"codedeploy_application = {actual!r} (or annotate application() with the "
                    "copy class it returns)",
                )

    def _check_unique_in(self, scope: Construct, construct_id: str | None) -> None:
        """One service name, one pipeline: its roles, parameters and pipeline are named after it."""
        for other in scope.node.children:
            if isinstance(other, ServicePipeline) and other.service_name == self.service_name:
                raise ConfigError(
                    f"{type(self).__name__}.service_name",
                    f"{self.service_name!r} (stack {construct_id or 'of this pipeline'}) is also the "
                    f"service of {type(other).__name__} (stack {other.node.id}); give each pipeline "
                    "its own service_name",
                )
