"""hands_off.constructs.roles: a role's statements as its own inline policy, never a separate
AWS::IAM::Policy, with the same statements (and the resources that need them still after it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from hands_off.constructs.roles import INLINE_POLICY_NAME, inline_default_policy, inline_policy_role
from tests.iam_permissions import role_permissions

READ = iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::bucket/*"])
LIST = iam.PolicyStatement(actions=["s3:ListBucket"], resources=["arn:aws:s3:::bucket"])


def _role(stack: Stack) -> iam.Role:
    return iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


def test_inline_policy_role_holds_statements_added_after_it_was_built(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    role, policy = inline_policy_role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    policy.add_statements(READ)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Policy", 0)
    [resource] = template.find_resources("AWS::IAM::Role").values()
    assert [p["PolicyName"] for p in resource["Properties"]["Policies"]] == [INLINE_POLICY_NAME]
    assert role_permissions(template.to_json()) == {
        stack.get_logical_id(role.node.default_child): ["Allow s3:GetObject arn:aws:s3:::bucket/* null"]
    }


def test_default_policy_folded_inline_gives_the_same_permissions(bare_stack: Callable[..., Stack]) -> None:
    # GIVEN the same role twice, granted the same way, one folded
    permissions: list[dict[str, Any]] = []
    for fold in (False, True):
        stack = bare_stack()
        role = _role(stack)
        role.add_to_policy(READ)
        sqs.Queue(stack, "Queue").grant_send_messages(role)  # an L2 grant naming a resource
        if fold:
            inline_default_policy(role)
        role.add_to_policy(LIST)  # a grant made after the fold is still in it
        template = Template.from_stack(stack)
        permissions.append(role_permissions(template.to_json()))
        # THEN the folded role has no separate policy and an inline one named unlike CDK's
        template.resource_count_is("AWS::IAM::Policy", 0 if fold else 1)
        if fold:
            [resource] = template.find_resources("AWS::IAM::Role").values()
            assert [p["PolicyName"] for p in resource["Properties"]["Policies"]] == [INLINE_POLICY_NAME]
    assert permissions[0] == permissions[1]
    assert len(next(iter(permissions[1].values()))) == 2 + 3  # GetObject, ListBucket, 3 sqs actions


def test_a_role_without_default_policy_is_left_alone(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    inline_default_policy(_role(stack))
    [resource] = Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
    assert "Policies" not in resource["Properties"]
