"""IAM roles whose permissions are their own inline policy.

``role.add_to_policy`` (and every L2 ``grant*``) puts a role's statements in a separate
``AWS::IAM::Policy`` resource (CDK's ``DefaultPolicy``). That resource *is* an inline policy of the
role, so the same statements in the role's own ``Policies`` give the role exactly the same
permissions, one CloudFormation resource fewer per role (IAM's limit of 10,240 characters for a
role's inline policies applies either way). The roles hands-off builds entirely itself get their
statements this way: add them to the returned document, never with ``add_to_policy``.

The inline policy is named :data:`INLINE_POLICY_NAME`, never a ``DefaultPolicy`` name: when a
deployed stack moves from the ``AWS::IAM::Policy`` to the inline policy, CloudFormation puts the
new inline policy first and deletes the old resource (``DeleteRolePolicy`` by its name) last, so
a shared name would delete the permissions just put.

A role CDK itself grants to (CDK Pipelines' pipeline role) gets its ``DefaultPolicy`` folded in
with :func:`inline_default_policy` instead, once its policy cannot name a resource that names
the role (CloudFormation would see a cycle).

Example::

    role, policy = inline_policy_role(self, "ExecutionRole", assumed_by=...)
    policy.add_statements(iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[arn]))
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

__all__ = ["INLINE_POLICY_NAME", "inline_default_policy", "inline_policy_role"]

INLINE_POLICY_NAME = "hands-off"
"""The name of the inline policy of :func:`inline_policy_role` roles (unlike any ``DefaultPolicy``'s)."""


def inline_policy_role(
    scope: Construct, construct_id: str, **props: Any
) -> tuple[iam.Role, iam.PolicyDocument]:
    """An :class:`aws_cdk.aws_iam.Role` with ``props`` and one inline policy, returned with it.

    The document is rendered when the stack synthesizes: statements added to it after the role is
    built are in it (it must hold at least one by then).
    """
    document = iam.PolicyDocument()
    role = iam.Role(scope, construct_id, inline_policies={INLINE_POLICY_NAME: document}, **props)
    return role, document


def inline_default_policy(role: iam.Role) -> None:
    """Render ``role``'s ``DefaultPolicy`` (what ``add_to_policy`` and CDK's grants made) as the
    role's own inline policy instead of a separate ``AWS::IAM::Policy``: the same document,
    resolved when the stack synthesizes (grants made later are in it), and one resource fewer.

    For a role with no inline policy of its own, whose policy names no resource that names the
    role (that would be a dependency cycle). Resources that depended on the ``DefaultPolicy``
    depend on the role (which now holds the permissions) by referencing it. No-op without a
    ``DefaultPolicy``.
    """
    policy = role.node.try_find_child("DefaultPolicy")
    if not isinstance(policy, iam.Policy):
        return
    cfn_policy = policy.node.default_child
    cfn_role = role.node.default_child
    assert isinstance(cfn_policy, iam.CfnPolicy)
    assert isinstance(cfn_role, iam.CfnRole)
    # The document as the policy resource would render it (a token CDK resolves at synth).
    cfn_role.policies = [
        iam.CfnRole.PolicyProperty(policy_name=INLINE_POLICY_NAME, policy_document=cfn_policy.policy_document)
    ]
    policy.node.try_remove_child(cfn_policy.node.id)
