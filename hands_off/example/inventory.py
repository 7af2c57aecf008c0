"""The example fleet's server service: inventory lookups on an EC2 fleet behind a load balancer,
through the same organization class, gates, bakes and alarm factory as the Lambda services.

Only what differs from a Lambda service is written here: the Build leaves a CodeDeploy revision
(``servers/inventory`` without its tests) instead of a Lambda zip, nothing is signed, and the
``application()`` hook deploys an :class:`~hands_off.constructs.ec2_fleet.Ec2Fleet` per copy, to
which the pipeline deploys the revision one Availability Zone and one host at a time.
"""

from __future__ import annotations

from typing import ClassVar

from constructs import Construct

from hands_off.constructs.ec2_fleet import Ec2Fleet
from hands_off.deployment import Deployment
from hands_off.example.fleet import ExampleOrgPipeline

__all__ = ["InventoryPipeline"]


class InventoryPipeline(ExampleOrgPipeline):
    """Inventory: a small HTTP server on an Auto Scaling group in three zones of each region;
    CodeDeploy deploys each revision zone by zone (the first host and zone are the one-box in
    Gamma, Prod-1 and Prod-2) and rolls it back on the copy's alarms, host CPU included.

    Example::

        InventoryPipeline(app)
    """

    service_name = "inventory"
    code_directory = "servers/inventory"
    signs_lambda_package: ClassVar[bool] = False
    """No Lambda zip: the revision is deployed by CodeDeploy, not as a CDK asset."""

    canary_path = "/items/CANARY-1"
    """A real request each host sends through the load balancer every minute in Gamma and
    production (P18)."""

    def build_commands(self) -> list[str]:
        """Lint and unit-test the server's folder, then copy it, tests left out, into the revision
        directory the pipeline deploys (``appspec.yml`` at its root)."""
        source = self.code_directory
        return [
            f"make service-test CODE_DIRECTORY={source}",
            "rm -rf build/revision && mkdir -p build/revision",
            f"cp -R {source}/appspec.yml {source}/app.py {source}/scripts build/revision/",
        ]

    def application(self, scope: Construct, deployment: Deployment) -> Ec2Fleet:
        """An EC2 fleet copy; Gamma and production hosts send the canary request every minute."""
        gets_canary = deployment.production or deployment.stage_name == self.envs.gamma.name
        return Ec2Fleet.for_deployment(
            scope, deployment, naming=self.naming, canary_path=self.canary_path if gets_canary else None
        )
