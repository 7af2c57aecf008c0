"""What a copy of a service is, whatever runs it: the protocol the pipeline renders against.

A copy is built by a :data:`CopyFactory` (the pipeline's ``application()`` hook) into its
application stack. The pipeline needs only its endpoint (integration tests read it from the stack
output) and its alarms (rollback, gates, bakes). :class:`~hands_off.constructs.lambda_service.
LambdaService` is the first implementation; ECS and EC2 copies plug in beside it without touching
the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import CfnOutput
from constructs import Construct

from hands_off.constructs.alarm_factory import ServiceAlarms
from hands_off.deployment import Deployment

__all__ = [
    "CopyFactory",
    "ServerDeployment",
    "ServiceCopy",
    "endpoint_known_at_synth",
    "server_deployment_of",
]


@dataclass(frozen=True)
class ServerDeployment:
    """A revision the pipeline deploys to a copy after its stack (a CodeDeploy server deployment:
    EC2 fleets). The pipeline adds a CodeDeploy action against this group in the copy's account
    and region, right after the copy's CloudFormation deployment, with the revision the Build made.

    Args:
        application_name: the CodeDeploy application (in the copy's account and region).
        deployment_group_name: its deployment group, one per copy.
    """

    application_name: str
    deployment_group_name: str


class ServiceCopy(Protocol):
    """One deployed copy of a service in one account and region.

    Attributes:
        endpoint_output: a stack output whose value is the copy's endpoint (the pipeline passes
            it to the integration tests as ``$ENDPOINTS``).
        alarms: its alarms; ``alarms.health`` is the composite alarm the gates and bakes watch.

    Two optional attributes (read with :func:`server_deployment_of` and
    :func:`endpoint_known_at_synth`; a Lambda copy has neither):

    - ``server_deployment``: a :class:`ServerDeployment` the pipeline runs after the stack
      deploys. Default: none.
    - ``endpoint_known_at_synth``: False when the endpoint is only known once deployed (a load
      balancer's DNS name): Zeta then reads each production copy's :attr:`endpoint_output` from
      its stack. Default: True (the planner predicts it, e.g. a Lambda alias ARN).
    """

    @property
    def endpoint_output(self) -> CfnOutput: ...

    @property
    def alarms(self) -> ServiceAlarms: ...


CopyFactory = Callable[[Construct, Deployment], ServiceCopy]
"""Builds one copy into a scope (an application stack): ``(scope, deployment) -> ServiceCopy``."""


def server_deployment_of(copy: ServiceCopy) -> ServerDeployment | None:
    """The copy's :class:`ServerDeployment`, or ``None`` (Lambda and ECS copies)."""
    value = getattr(copy, "server_deployment", None)
    return value if isinstance(value, ServerDeployment) else None


def endpoint_known_at_synth(copy: ServiceCopy) -> bool:
    """Whether the planner's endpoint of the copy (``Deployment.alias_arn``) is its endpoint."""
    return bool(getattr(copy, "endpoint_known_at_synth", True))
