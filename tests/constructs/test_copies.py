"""What a copy's stage records of its stack (issue 9): the environment, root and context the copy's
constructs would otherwise ask CDK for, a round trip per value and copy."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from constructs import Construct

from hands_off.constructs.copies import claim_deployment_group, copy_stack_context
from hands_off.deployment import Deployment
from hands_off.example import InventoryPipeline
from hands_off.model import ConfigError
from hands_off.stacks.application_stack import ApplicationStage
from tests.round_trips import round_trips


class _Claiming:
    """A copy that only claims its deployment group, counting the round trips that takes."""

    endpoint_output: Any = None
    alarms: Any = None

    def __init__(self, scope: Construct, group: str) -> None:
        self.scope = scope
        with round_trips() as count:
            claim_deployment_group(scope, "hands-off-lambda", group)
        self.trips = count[0]


def _deployments() -> list[Deployment]:
    return InventoryPipeline(App()).deployments


def test_a_copy_stack_knows_its_stages_context_and_environment() -> None:
    deployment = _deployments()[0]
    app = App(context={"some:key": "value"})
    parent = Stack(app, "Parent")
    stage = ApplicationStage(parent, "Copy", deployment=deployment, build=lambda s, d: _Claiming(s, "g"))
    stack = stage.stack
    assert copy_stack_context(stack) == stack.node.get_all_context()
    assert copy_stack_context(stack)["some:key"] == "value"  # type: ignore[index]
    assert stack.service.trips <= 3  # type: ignore[attr-defined]  # Stack.of, node, path


def test_a_stack_made_elsewhere_is_not_known() -> None:
    assert copy_stack_context(Stack(App(), "Plain")) is None


def test_two_copies_claiming_one_group_in_one_account_and_region_still_fail() -> None:
    deployment = _deployments()[0]
    parent = Stack(App(), "Parent")
    ApplicationStage(parent, "First", deployment=deployment, build=lambda s, d: _Claiming(s, "same"))
    with pytest.raises(ConfigError, match="is the deployment group of both"):
        ApplicationStage(parent, "Second", deployment=deployment, build=lambda s, d: _Claiming(s, "same"))


def test_copies_of_two_apps_do_not_share_claims() -> None:
    deployment = _deployments()[0]
    for _ in range(2):
        parent = Stack(App(), "Parent")
        ApplicationStage(parent, "Copy", deployment=deployment, build=lambda s, d: _Claiming(s, "same"))
