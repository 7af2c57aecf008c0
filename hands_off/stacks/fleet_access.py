"""The per-account roles of copies that are not Lambda functions, added to a service's
:class:`~hands_off.stacks.service_access.ServiceAccessStack` only when its copies need them (so a
Lambda service's access stacks do not change):

- ``hands-off-<service>-instance``: the hosts of a server fleet (Session Manager instead of SSH;
  the CodeDeploy agent downloads revisions from the pipeline's artifact buckets);
- ``hands-off-<service>-fleet-deploy``: assumed by the pipeline's CodeDeploy action to deploy a
  revision to the account's deployment groups of the service;
- ``hands-off-<service>-endpoints``: assumed by Zeta's tests to read the production copies' endpoint
  outputs, for copies whose endpoint is only known once deployed (a load balancer's DNS name).

Every wildcard resource is returned with its reason (cdk-nag acknowledges exactly those).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from hands_off.constructs.roles import inline_policy_role
from hands_off.deployment import Deployment
from hands_off.naming import SERVER_APPLICATION_NAME, RolePurpose, ServiceNaming

__all__ = ["Wildcard", "endpoints_role", "server_fleet_roles"]

Wildcard = tuple[iam.Role, str, str]
"""(role, wildcard resource, why): what nag acknowledges, with the reason."""

_SESSION_MANAGER = [
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
]
_ANY_OBJECT = "arn:aws:s3:::*/*"
_WHY_ARTIFACTS = (
    "Revisions live in the pipeline's artifact buckets (names generated in the tooling account): any "
    "object, only in the tooling account (s3:ResourceAccount condition), read-only."
)


def _read_revisions(role: iam.Role, policy: iam.PolicyDocument, naming: ServiceNaming) -> list[Wildcard]:
    """Read (and decrypt) revisions in the tooling account's artifact buckets, nowhere else (in
    ``policy``, the inline policy of ``role``)."""
    tooling = naming.tooling_account
    policy.add_statements(
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[_ANY_OBJECT],
            conditions={"StringEquals": {"s3:ResourceAccount": tooling}},
        )
    )
    keys = f"arn:aws:kms:*:{tooling}:key/*"
    policy.add_statements(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[keys],
            conditions={"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
        )
    )
    return [
        (role, _ANY_OBJECT, _WHY_ARTIFACTS),
        (
            role,
            keys,
            "The artifact buckets' KMS keys (ids generated in the tooling account), decrypt only, "
            "only through S3 (kms:ViaService).",
        ),
    ]


def server_fleet_roles(
    stack: Stack, naming: ServiceNaming, deployments: Sequence[Deployment]
) -> tuple[iam.Role, iam.Role, list[Wildcard]]:
    """The ``instance`` and ``fleet-deploy`` roles of the account of ``deployments``."""
    acct = Stack.of(stack).account
    copies = sorted({(d.target.region, d.function_name) for d in deployments})
    regions = sorted({region for region, _ in copies})
    wildcards: list[Wildcard] = []

    instance, instance_policy = inline_policy_role(
        stack,
        "InstanceRole",
        role_name=naming.role(RolePurpose.INSTANCE),
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description=f"Hosts of {naming.service}: Session Manager (no SSH), CodeDeploy revisions",
    )
    instance_policy.add_statements(iam.PolicyStatement(actions=_SESSION_MANAGER, resources=["*"]))
    wildcards.append(
        (
            instance,
            "*",
            "Session Manager's agent channels (ssm:UpdateInstanceInformation, ssmmessages, ec2messages) "
            "have no resource-level permissions; the same actions as AmazonSSMManagedInstanceCore's "
            "agent part, without its parameter and document reads.",
        )
    )
    agent_buckets = [f"arn:aws:s3:::aws-codedeploy-{r}/*" for r in regions]
    instance_policy.add_statements(iam.PolicyStatement(actions=["s3:GetObject"], resources=agent_buckets))
    wildcards += [
        (instance, arn, "The CodeDeploy agent's own installer and updates (AWS's bucket of the region).")
        for arn in agent_buckets
    ]
    wildcards += _read_revisions(instance, instance_policy, naming)

    deploy, deploy_policy = inline_policy_role(
        stack,
        "FleetDeployRole",
        role_name=naming.role(RolePurpose.FLEET_DEPLOY),
        assumed_by=iam.ArnPrincipal(naming.role_arn(naming.tooling_account, RolePurpose.PIPELINE)),
        description=f"The {naming.service} pipeline deploys revisions to its CodeDeploy groups here",
    )
    # The copies' groups only, in the account-region baseline's shared server application; the
    # revision actions name the application (CodeDeploy authorizes them on it, not on a group).
    app = SERVER_APPLICATION_NAME
    deploy_policy.add_statements(
        iam.PolicyStatement(
            actions=["codedeploy:CreateDeployment", "codedeploy:GetDeployment"],
            resources=[f"arn:aws:codedeploy:{r}:{acct}:deploymentgroup:{app}/{fn}" for r, fn in copies],
        )
    )
    deploy_policy.add_statements(
        iam.PolicyStatement(
            actions=[
                "codedeploy:GetApplication",
                "codedeploy:GetApplicationRevision",
                "codedeploy:RegisterApplicationRevision",
            ],
            resources=[f"arn:aws:codedeploy:{r}:{acct}:application:{app}" for r in regions],
        )
    )
    configs = [f"arn:aws:codedeploy:{r}:{acct}:deploymentconfig:*" for r in regions]
    deploy_policy.add_statements(
        iam.PolicyStatement(actions=["codedeploy:GetDeploymentConfig"], resources=configs)
    )
    wildcards += [
        (deploy, arn, "Deployment configs are named by CloudFormation; reading one is harmless.")
        for arn in configs
    ]
    wildcards += _read_revisions(deploy, deploy_policy, naming)
    return instance, deploy, wildcards


def endpoints_role(
    stack: Stack, naming: ServiceNaming, deployments: Sequence[Deployment]
) -> tuple[iam.Role, list[Wildcard]]:
    """The ``endpoints`` role: Zeta's tests read the account's production copies' stack outputs."""
    acct = Stack.of(stack).account
    role, policy = inline_policy_role(
        stack,
        "EndpointsRole",
        role_name=naming.role(RolePurpose.ENDPOINTS),
        assumed_by=iam.ArnPrincipal(naming.role_arn(naming.tooling_account, RolePurpose.INTEG_TESTS)),
        description=f"Zeta's tests of {naming.service} read its production endpoints (stack outputs)",
    )
    stacks = sorted(
        {f"arn:aws:cloudformation:{d.target.region}:{acct}:stack/{d.stack_name}/*" for d in deployments}
    )
    if stacks:
        policy.add_statements(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=stacks)
        )
    reason = "A stack's ARN ends with an id CloudFormation generates; DescribeStacks is read-only."
    return role, [(role, arn, reason) for arn in stacks]
