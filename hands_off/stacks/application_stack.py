"""The stack (and CDK stage) holding one copy of a service in one account and region."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnOutput, Environment, Stack, Stage
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from hands_off.constructs.copies import CopyFactory, ServiceCopy, record_copy_stack
from hands_off.constructs.zones import availability_zones_context_key, known_availability_zones
from hands_off.deployment import Deployment

__all__ = ["ApplicationStack", "ApplicationStage"]


class ApplicationStack(Stack):
    """One copy of a service; ``build`` (the pipeline's ``application`` hook) makes its content.

    Args:
        deployment: which stage/wave, account and region this copy is for.
        build: builds the copy into this stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        build: CopyFactory,
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
        known = getattr(scope, "_inherited", None) if isinstance(scope, ApplicationStage) else None
        if known is not None and "env" not in kwargs:
            account, region, root, context = known
            if "Token[" not in account and "Token[" not in region:
                # The stage's environment and context, which this stack inherits: the copy's
                # constructs need not ask CDK for them (a round trip per value and copy).
                record_copy_stack(self, account=account, region=region, root=root, context=context)
        self.service: ServiceCopy = build(self, deployment)


class ApplicationStage(Stage):
    """A CDK stage wrapping :class:`ApplicationStack` so CDK Pipelines can deploy it.

    CDK Pipelines names a CodePipeline stage after the CDK stage when a wave holds only one, so
    give a single-target wave's stage the wave's name (``"Alpha"``, ``"Prod-1"``).

    Args:
        deployment: which stage/wave, account and region this copy is for.
        build: builds the copy (the pipeline's ``application`` hook).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, deployment: Deployment, build: CopyFactory
    ) -> None:
        target = deployment.target
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=target.account.account_id, region=target.region),
        )
        # An ec2.Vpc (a server fleet's) checks its zones against the stack's, which CDK looks up
        # with AWS credentials at synth. Answer from hands-off's zone table instead (the zones the
        # fleet uses), unless the app's context (cdk.context.json) already has the real ones.
        account, region = target.account.account_id, target.region
        key = availability_zones_context_key(account, region)
        parent = _parent_of(scope)
        context = parent.context  # a new stage has no context of its own yet
        if context.get(key) is None:
            zones = known_availability_zones(region)
            self.node.set_context(key, zones)
            context = {**context, key: zones}
        # What ApplicationStack records of what it inherits before the copy is built.
        self._inherited = (account, region, parent.root, context)
        self.stack = ApplicationStack(
            self, "App", stack_name=deployment.stack_name, deployment=deployment, build=build
        )

    @property
    def service(self) -> ServiceCopy:
        """The copy the ``build`` hook made."""
        return self.stack.service

    @property
    def endpoint_output(self) -> CfnOutput:
        """The copy's endpoint output (the integration tests read it)."""
        return self.stack.service.endpoint_output

    @property
    def paging_topic(self) -> sns.ITopic:
        """Where the copy's alarms page: by default its account and region's shared topic, to
        which the pipeline subscribes the copy's ``paging_subscriptions`` (filtered to its alarms)."""
        return self.stack.service.alarms.paging_topic


@dataclass(frozen=True)
class _Parent:
    """What every :class:`ApplicationStage` of one scope (a pipeline's stack) reads from that scope:
    its whole context and its construct tree's root, read once per scope instead of once per copy.
    Both are fixed once the scope has a child (CDK refuses to set context then): read after the
    first stage is made."""

    context: dict[str, Any]
    root: IConstruct


_PARENTS: weakref.WeakKeyDictionary[Construct, _Parent] = weakref.WeakKeyDictionary()


def _parent_of(scope: Construct) -> _Parent:
    """``scope``'s :class:`_Parent`, read on the first stage made in it."""
    known = _PARENTS.get(scope)
    if known is None:
        node = scope.node
        known = _PARENTS[scope] = _Parent(dict(node.get_all_context()), node.root)
    return known
