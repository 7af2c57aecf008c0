"""What a copy of a service is, whatever runs it: the protocol the pipeline renders against.

A copy is built by a :data:`CopyFactory` (the pipeline's ``application()`` hook) into its
application stack. The pipeline needs only its endpoint (integration tests read it from the stack
output) and its alarms (rollback, gates, bakes). :class:`~hands_off.constructs.lambda_service.
LambdaService` is the first implementation; ECS and EC2 copies plug in beside it without touching
the pipeline.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_cdk import CfnOutput, Stack
from constructs import Construct, IConstruct

from hands_off.constructs.alarm_factory import ServiceAlarms
from hands_off.deployment import Deployment
from hands_off.model import ConfigError
from hands_off.naming import SERVER_APPLICATION_NAME

__all__ = [
    "CopyFactory",
    "ServerDeployment",
    "ServiceCopy",
    "claim_deployment_group",
    "codedeploy_application_of",
    "copy_stack_context",
    "endpoint_known_at_synth",
    "record_copy_stack",
    "server_deployment_of",
]


@dataclass(frozen=True)
class ServerDeployment:
    """A revision the pipeline deploys to a copy after its stack (a CodeDeploy server deployment:
    EC2 fleets). The pipeline adds a CodeDeploy action against this group in the copy's account
    and region, right after the copy's CloudFormation deployment, with the revision the Build made.

    Args:
        application_name: the CodeDeploy application (in the copy's account and region): the
            account-region baseline's shared ``hands-off-server``
            (:data:`~hands_off.naming.SERVER_APPLICATION_NAME`).
        deployment_group_name: its deployment group, one per copy.
    """

    application_name: str
    deployment_group_name: str

    @classmethod
    def in_shared_application(cls, deployment_group_name: str) -> ServerDeployment:
        """The group ``deployment_group_name`` of the baseline's shared server application."""
        return cls(application_name=SERVER_APPLICATION_NAME, deployment_group_name=deployment_group_name)


class ServiceCopy(Protocol):
    """One deployed copy of a service in one account and region.

    Attributes:
        endpoint_output: a stack output whose value is the copy's endpoint (the pipeline passes
            it to the integration tests as ``$ENDPOINTS``).
        alarms: its alarms; ``alarms.health`` is the composite alarm the gates and bakes watch.

    Three optional attributes (read with :func:`server_deployment_of`,
    :func:`endpoint_known_at_synth` and :func:`codedeploy_application_of`):

    - ``server_deployment``: a :class:`ServerDeployment` the pipeline runs after the stack
      deploys. Default: none.
    - ``endpoint_known_at_synth``: False when the endpoint is only known once deployed (a load
      balancer's DNS name): Zeta then reads each production copy's :attr:`endpoint_output` from
      its stack. Default: True (the planner predicts it, e.g. a Lambda alias ARN).
    - ``codedeploy_application``: the account-region's shared CodeDeploy application its
      deployment group is in (``hands-off-lambda``, ``hands-off-server``). Default: none (no
      CodeDeploy group, e.g. an ECS copy).
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


def codedeploy_application_of(copy: object) -> str | None:
    """The shared CodeDeploy application the deployment group of ``copy`` (a copy, or its class)
    is in, or ``None`` (no CodeDeploy group: ECS copies)."""
    value = getattr(copy, "codedeploy_application", None)
    return value if isinstance(value, str) else None


# Deployment groups claimed so far, per construct tree (its root, the app): (account, region,
# application, group) -> the path of the copy that claimed it.
_CLAIMED: weakref.WeakKeyDictionary[IConstruct, dict[tuple[str, str, str, str], str]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class _KnownStack:
    """What the stage that made a copy's stack knew of it without asking CDK: its concrete account
    and region, its construct tree's root and its whole context."""

    account: str
    region: str
    root: IConstruct
    context: Mapping[str, Any]


# Copy stacks whose environment and root their stage recorded (record_copy_stack); weak: an
# app's constructs go with it.
_KNOWN_STACKS: weakref.WeakKeyDictionary[Stack, _KnownStack] = weakref.WeakKeyDictionary()


def record_copy_stack(
    stack: Stack, *, account: str, region: str, root: IConstruct, context: Mapping[str, Any]
) -> None:
    """Record that ``stack`` is in the concrete ``account`` and ``region`` (its stage's
    environment, which it inherits), in the construct tree of ``root``, and that ``context`` is
    its whole context (``stack.node.get_all_context()``): what :func:`claim_deployment_group` and
    the copy's code signing would otherwise ask CDK for, a round trip per value and copy.
    """
    _KNOWN_STACKS[stack] = _KnownStack(account, region, root, context)


def copy_stack_context(stack: Stack) -> Mapping[str, Any] | None:
    """The whole context :func:`record_copy_stack` recorded for ``stack``, or ``None``."""
    known = _KNOWN_STACKS.get(stack)
    return None if known is None else known.context


def claim_deployment_group(scope: Construct, application_name: str, deployment_group_name: str) -> None:
    """Record that the copy at ``scope`` makes the group ``deployment_group_name`` of the shared
    application ``application_name`` in its stack's account and region.

    Every copy of every service in one account and region puts its group in the same shared
    application, where group names must be unique: two copies of the app claiming one name fail
    the synth here, instead of the second deploy failing in CloudFormation. A stack without a
    concrete account and region (an environment-agnostic test stack) is not checked.

    Raises:
        ConfigError: another copy in the same account and region already claimed the name.
    """
    stack = Stack.of(scope)
    node = scope.node  # each jsii property read is a round trip: read once
    known = _KNOWN_STACKS.get(stack)
    if known is not None:
        account, region, root = known.account, known.region, known.root
    else:
        account, region = stack.account, stack.region
        if "Token[" in account or "Token[" in region:
            return
        root = node.root
    claimed = _CLAIMED.setdefault(root, {})
    key = (account, region, application_name, deployment_group_name)
    path = node.path
    other = claimed.setdefault(key, path)
    if other != path:
        raise ConfigError(
            "deployment_group_name",
            f"{deployment_group_name!r} in CodeDeploy application {application_name!r} of "
            f"{account}/{region} is the deployment group of both {other} and {path}; give each copy "
            "in one account and region its own name (service_name and stage names make it)",
        )
