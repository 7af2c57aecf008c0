"""The example fleet's container service: shipping quotes on ECS (Fargate), through the same
organization class, gates, bakes and alarm factory as the Lambda services.

Only what differs from a Lambda service is written here: where the Dockerfile is, that the Build
has no Lambda zip to package or sign, and the ``application()`` hook that deploys an
:class:`~hands_off.constructs.ecs_service.EcsService` per copy.
"""

from __future__ import annotations

from typing import ClassVar

from constructs import Construct

from hands_off.constructs.ecs_service import EcsService
from hands_off.deployment import Deployment
from hands_off.example.fleet import ExampleOrgPipeline

__all__ = ["ShippingPipeline"]


class ShippingPipeline(ExampleOrgPipeline):
    """Shipping: a container image from ``containers/shipping/Dockerfile`` on Fargate behind a load
    balancer; ECS shifts each new revision (canary in Gamma, Prod-1 and Prod-2, linear later) and
    rolls it back on the copy's alarms.

    Example::

        ShippingPipeline(app)
    """

    service_name = "shipping"
    code_directory = "containers/shipping"
    signs_lambda_package: ClassVar[bool] = False
    """No Lambda zip: the image is a CDK asset the pipeline's Assets stage builds and pushes."""

    canary_path = "/quote?weight_grams=500&country=DE"
    """A real request, made every 30 s by a Route 53 health check of the Gamma and production
    copies (P18)."""

    def build_commands(self) -> list[str]:
        """Lint and unit-test the app's folder; nothing to package (the image is built from the
        Dockerfile by the asset publishing of ``cdk synth``'s output)."""
        return [f"make service-test CODE_DIRECTORY={self.code_directory}"]

    def application(self, scope: Construct, deployment: Deployment) -> EcsService:
        """An ECS copy; Gamma and production copies get the canary request (a Route 53 health
        check, every 30 s)."""
        gets_canary = deployment.production or deployment.stage_name == self.envs.gamma.name
        return EcsService.for_deployment(
            scope,
            deployment,
            naming=self.naming,
            code_directory=self.code_directory,
            canary_path=self.canary_path if gets_canary else None,
        )
