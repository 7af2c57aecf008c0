"""What the pipeline hands to a service's hooks for each copy it deploys (pure Python)."""

from __future__ import annotations

from dataclasses import dataclass

from hands_off.model import AlarmPolicy, DeploymentPolicy, Target
from hands_off.naming import ALIAS_NAME, AlarmKind, alarm_name

__all__ = ["Deployment"]


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """One copy of a service: which stage or wave, which account and region, how it shifts traffic.

    Args:
        service_name: lower-case service name, e.g. ``"orders"``.
        stage_name: the CodePipeline stage, e.g. ``"Alpha"``, ``"Gamma"``, ``"Prod-2"``.
        target: account and region.
        policy: the traffic shift and bake of this stage or wave.
        alarm_policy: alarm thresholds.
        production: True for the ``Prod-N`` waves.
    """

    service_name: str
    stage_name: str
    target: Target
    policy: DeploymentPolicy
    alarm_policy: AlarmPolicy
    production: bool

    @property
    def environment_label(self) -> str:
        """``"prod"`` for every production copy (one per region), else the stage in lower case."""
        return "prod" if self.production else self.stage_name.lower()

    @property
    def function_name(self) -> str:
        """Physical function name: unique per account and region, predictable for tests and gates."""
        return f"{self.service_name}-{self.environment_label}"

    @property
    def alias_arn(self) -> str:
        """ARN of the ``live`` alias this copy will have once deployed."""
        return (
            f"arn:aws:lambda:{self.target.region}:{self.target.account.account_id}:"
            f"function:{self.function_name}:{ALIAS_NAME}"
        )

    @property
    def health_alarm_name(self) -> str:
        """Name of the composite alarm the gates and stage conditions watch."""
        return alarm_name(self.function_name, AlarmKind.HEALTH)

    @property
    def stack_name(self) -> str:
        """CloudFormation stack name, unique per account and region (e.g. ``orders-prod-us-east-1``).

        Production copies are named without their wave, so re-planning the waves moves a region to
        another wave without a new stack (whose function and alarm names would collide)."""
        return f"{self.service_name}-{self.environment_label}-{self.target.region}"
