"""What a copy of a service is, whatever runs it: the protocol the pipeline renders against.

A copy is built by a :data:`CopyFactory` (the pipeline's ``application()`` hook) into its
application stack. The pipeline needs only its endpoint (integration tests read it from the stack
output) and its alarms (rollback, gates, bakes). :class:`~hands_off.constructs.lambda_service.
LambdaService` is the first implementation; ECS and EC2 copies plug in beside it without touching
the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aws_cdk import CfnOutput
from constructs import Construct

from hands_off.constructs.alarm_factory import ServiceAlarms
from hands_off.deployment import Deployment

__all__ = ["CopyFactory", "ServiceCopy"]


class ServiceCopy(Protocol):
    """One deployed copy of a service in one account and region.

    Attributes:
        endpoint_output: a stack output whose value is the copy's endpoint (the pipeline passes
            it to the integration tests as ``$ENDPOINTS``).
        alarms: its alarms; ``alarms.health`` is the composite alarm the gates and bakes watch.
    """

    @property
    def endpoint_output(self) -> CfnOutput: ...

    @property
    def alarms(self) -> ServiceAlarms: ...


CopyFactory = Callable[[Construct, Deployment], ServiceCopy]
"""Builds one copy into a scope (an application stack): ``(scope, deployment) -> ServiceCopy``."""
