"""The stack (and CDK stage) holding one copy of a service in one account and region."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Environment, Stack, Stage
from constructs import Construct

from hands_off.deployment import Deployment

if TYPE_CHECKING:
    from hands_off.constructs.lambda_service import LambdaService
    from hands_off.stacks.service_pipeline import ServicePipeline

__all__ = ["ApplicationStack", "ApplicationStage"]


class ApplicationStack(Stack):
    """One copy of a service; its content comes from the pipeline's ``application`` hook.

    :param pipeline: the service pipeline whose hooks build the content.
    :param deployment: which stage/wave, account and region this copy is for.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline: ServicePipeline,
        deployment: Deployment,
        **kwargs: object,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description=(
                f"hands-off: {deployment.service_name} in {deployment.stage_name} "
                f"({deployment.target.region})"
            ),
            **kwargs,  # type: ignore[arg-type]
        )
        self.deployment = deployment
        self.service: LambdaService = pipeline.application(self, deployment)


class ApplicationStage(Stage):
    """A CDK stage wrapping :class:`ApplicationStack` so CDK Pipelines can deploy it.

    CDK Pipelines names a CodePipeline stage after the CDK stage when a wave holds only one, so
    give a single-target wave's stage the wave's name (``"Alpha"``, ``"Prod-1"``).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, pipeline: ServicePipeline, deployment: Deployment
    ) -> None:
        target = deployment.target
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=target.account.account_id, region=target.region),
        )
        self.stack = ApplicationStack(
            self, "App", stack_name=deployment.stack_name, pipeline=pipeline, deployment=deployment
        )
