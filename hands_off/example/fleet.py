"""The example fleet ``make synth`` builds.

``ExampleOrgPipeline`` is what an organization writes once: where code comes from, which accounts
and waves every service uses. ``OrdersPipeline`` and ``CatalogPipeline`` (Lambda), and
``ShippingPipeline`` (ECS, ``hands_off/example/shipping.py``) and ``InventoryPipeline`` (EC2,
``hands_off/example/inventory.py``) are what service teams write: a name, a code folder, and only
the hooks that differ.
"""

from __future__ import annotations

from aws_cdk import App
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from hands_off.deployment import Deployment
from hands_off.model import Environments, GatePolicy, Stage, TrafficShape, Wave, example_environments
from hands_off.model.policy import DeploymentPolicy
from hands_off.stacks.service_pipeline import ServicePipeline

__all__ = ["CatalogPipeline", "ExampleOrgPipeline", "OrdersPipeline", "build_example_fleet"]


class ExampleOrgPipeline(ServicePipeline):
    """Organization defaults, set once (P17): one GitHub connection, one set of accounts and waves.

    The example is a monorepo (this repository's layout: both services' code, one ``app.py``), so
    each pipeline's Build tests and packages only its own service's folder.
    """

    connection_arn = (
        "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-4000-8000-000000000000"
    )
    repository = "example-org/hands-off-examples"
    branch = "main"

    def build_commands(self) -> list[str]:
        """Lint and unit-test this service's folder only (``make test`` would run the whole
        monorepo's suite), then package it."""
        return [f"make service-test CODE_DIRECTORY={self.code_directory}", self.package_command]

    def environments(self) -> Environments:
        """Every service of the organization ships through the same stages and planned waves."""
        return example_environments()

    def gate_policy(self) -> GatePolicy:
        """Weekday business hours in each wave's local time; any ``org-critical-*`` alarm blocks."""
        return GatePolicy(org_alarm_prefixes=("org-critical-",))

    def paging_subscriptions(self, deployment: Deployment | None) -> list[sns.ITopicSubscription]:
        """Production alarms and the pipeline's own (an override used) page the on-call through
        the incident tool's HTTPS endpoint for this service; pre-production alarms mail the
        service's team. Each service has its own endpoint: SNS keeps one subscription per topic
        and endpoint, and the services share each account and region's paging topic."""
        if deployment is None or deployment.production:
            return [
                subscriptions.UrlSubscription(
                    f"https://incidents.example.com/hooks/hands-off/{self.service_name}",
                    protocol=sns.SubscriptionProtocol.HTTPS,
                )
            ]
        return [subscriptions.EmailSubscription(f"{self.service_name}-team@example.com")]


class OrdersPipeline(ExampleOrgPipeline):
    """Orders: inherits everything; only says what it is."""

    service_name = "orders"
    code_directory = "lambda/services/orders"

    def canary_payload(self) -> dict[str, object]:
        """A small valid order, priced every minute in Gamma and production (P18)."""
        return {"items": [{"sku": "CANARY-1", "quantity": 1, "unit_price_cents": 0}]}


class CatalogPipeline(ExampleOrgPipeline):
    """Catalog: overrides its build commands (adds a type check) and slows its later waves down."""

    service_name = "catalog"
    code_directory = "lambda/services/catalog"

    def canary_payload(self) -> dict[str, object]:
        """Looks a known product up every minute in Gamma and production (P18)."""
        return {"sku": "A-1"}

    def build_commands(self) -> list[str]:
        """Catalog also type-checks its handler before packaging."""
        return [f"make service-typecheck CODE_DIRECTORY={self.code_directory}", *super().build_commands()]

    def deployment_policy(self, stage: Stage | Wave) -> DeploymentPolicy:
        """Catalog's later waves shift 20% every 10 minutes instead of the org default."""
        policy = super().deployment_policy(stage)
        if isinstance(stage, Wave) and policy.shape is TrafficShape.LINEAR:
            return policy.with_(step_percent=20, interval_minutes=10)
        return policy


def build_example_fleet(app: App) -> list[ServicePipeline]:
    """Add the example pipelines to ``app`` and return them: two Lambda services, one ECS service
    (``shipping``) and one EC2 fleet (``inventory``), all through ``ExampleOrgPipeline``."""
    from hands_off.example.inventory import InventoryPipeline  # they import this module
    from hands_off.example.shipping import ShippingPipeline

    return [OrdersPipeline(app), CatalogPipeline(app), ShippingPipeline(app), InventoryPipeline(app)]
