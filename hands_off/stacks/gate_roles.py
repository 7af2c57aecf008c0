"""``GateRoles``: the IAM roles every pipeline's gates in one tooling account and region share.

Each pipeline keeps its own gate machinery (``hands_off.constructs.DeploymentGates``: the signed
gate functions, the gate, bake and ``Restore`` state machines, their log groups and rules); what
it no longer creates are the four roles those run as. They are the same for every pipeline but for
the names in their policies, so they are created once per tooling account and region, named
``hands-off-gates-<role>-<region>`` (:func:`~hands_off.naming.shared_gate_role_name`), and each
pipeline names them (no cross-stack export):

* ``checker``: the gate checks function's role. Assumes the target accounts' ``gate-reader``
  roles (``hands-off-<service>-gate-reader``, which trust this role), reads the override
  parameters (``/hands-off/<pipeline>/override``) and their history, reads the pipelines'
  executions (is this a rollback?), writes the checks functions' log groups.
* ``hotfix``: the hotfix function's role, the only one that assumes the target accounts'
  ``hotfix-writer`` roles (they trust this role only). Reads the override parameters and their
  history (arming checks the override itself). Writes the hotfix functions' log groups.
* ``machine``: the gate, bake and ``Restore`` state machines' role. Invokes the gate functions
  (``hands-off-<service>-gates``, ``hands-off-<service>-hotfix``), reads the gate inputs
  (``/hands-off/<pipeline>/gates/*``), logs and traces.
* ``restore-starter``: EventBridge's role (for this account's rules only) for the rules that start
  a pipeline's ``Restore`` machine (``hands-off-<service>-restore``); it may start those only.

Their resources name every pipeline's by pattern, not each one's: a pipeline added to the tooling
account and region needs no change here. That is no weaker than per-pipeline roles were. Every
pipeline self-mutates with the tooling account's CloudFormation execution policy
(``AdministratorAccess``, as ``cdk bootstrap`` leaves it), so any service's pipeline could already
change another's gate machinery. What keeps one service's gates away from another's: each target
account's gate-reader and hotfix-writer role trusts only its own service's function's session of
the shared role (``assumed-role/<role>/hands-off-<service>-gates`` or ``-hotfix``: Lambda names
the session after the function), and is limited to its service's alarms and deployment groups;
the hotfix function refuses groups reached through another service's gate-reader; and each gate,
bake and ``Restore`` uses only its own pipeline's inputs, by name (``GateInputTampered``,
``GateInputUnverified``; ``hands_off.constructs.deployment_gates``). The stack has termination
protection on: deleting it would leave every pipeline's gates here without their roles.

Deploying: like the account-region baselines, **once per tooling account and region, by the
organization, before the pipelines** (the pipelines never deploy it). ``hands_off.run`` adds one
``GateRoles`` per account and region a ``ServicePipeline`` of the app lives in, named
``HandsOffGateRoles-<account>-<region>`` (stack name ``hands-off-gate-roles``);
``hands-off bootstrap`` prints its ``cdk deploy`` with the tooling account's baselines. A pipeline
deployed without it fails to create its gate functions and state machines (their roles do not
exist), before any stage runs.

Example::

    app = App()
    OrdersPipeline(app)
    add_account_baselines(app)  # adds the gate roles too, as hands_off.run does
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Environment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from hands_off.constructs.deployment_gates import MACHINE_LOGGING_AND_TRACING
from hands_off.constructs.roles import inline_policy_role
from hands_off.naming import (
    GATE_FUNCTION_SUFFIXES,
    GATE_ROLES_STACK_NAME,
    ORG_PREFIX,
    RESTORE_MACHINE_SUFFIX,
    ServiceNaming,
    SharedGateRole,
    gate_roles_stack_id,
    shared_gate_role_name,
)
from hands_off_gates.contract import READER_ROLE_PURPOSE, WRITER_ROLE_PURPOSE

__all__ = ["GateRoles", "add_gate_roles", "tooling_environments"]


class GateRoles(Stack):
    """The shared gate roles of one tooling account and region (see the module's docstring).

    Attributes:
        roles: each :class:`~hands_off.naming.SharedGateRole`'s role.

    Args:
        scope: the CDK app.
        account: the tooling account.
        region: the tooling region.
    """

    def __init__(self, scope: Construct, *, account: str, region: str) -> None:
        super().__init__(
            scope,
            gate_roles_stack_id(account, region),
            stack_name=GATE_ROLES_STACK_NAME,
            env=Environment(account=account, region=region),
            # Deleting it would leave every pipeline's gates here without their roles.
            termination_protection=True,
            description=(
                "hands-off: the roles every pipeline's gates in this account and region run as "
                "(deploy once, before the pipelines)"
            ),
        )
        partition = self.partition
        here = f"{region}:{account}"
        lambda_ = iam.ServicePrincipal("lambda.amazonaws.com")
        functions = {
            suffix: f"arn:{partition}:lambda:{here}:function:{ORG_PREFIX}-*-{suffix}"
            for suffix in GATE_FUNCTION_SUFFIXES
        }
        checks_suffix, hotfix_suffix = GATE_FUNCTION_SUFFIXES
        log_groups = {
            suffix: f"arn:{partition}:logs:{here}:log-group:/aws/lambda/{ORG_PREFIX}-*-{suffix}:*"
            for suffix in GATE_FUNCTION_SUFFIXES
        }
        readers = f"arn:{partition}:iam::*:role/{ORG_PREFIX}-*-{READER_ROLE_PURPOSE}"
        writers = f"arn:{partition}:iam::*:role/{ORG_PREFIX}-*-{WRITER_ROLE_PURPOSE}"
        overrides = f"arn:{partition}:ssm:{here}:parameter/{ORG_PREFIX}/*/override"
        inputs = f"arn:{partition}:ssm:{here}:parameter/{ORG_PREFIX}/*/gates/*"
        pipelines = f"arn:{partition}:codepipeline:{here}:*"
        restores = f"arn:{partition}:states:{here}:stateMachine:{ORG_PREFIX}-*-{RESTORE_MACHINE_SUFFIX}"

        def from_function(suffix: str) -> dict[str, Any]:
            """Only from a gate function of this account and region (``lambda:SourceFunctionArn``
            is on every request made with a function's execution-role credentials). IAM roles
            are global and function names unique per region only: without it, a function of
            another region named like a service's, running as this role, would open the very
            session ARN that service's target roles trust."""
            return {"ArnLike": {"lambda:SourceFunctionArn": functions[suffix]}}

        # The history names the AWS identity that wrote an override (its audited author).
        read_overrides = iam.PolicyStatement(
            actions=["ssm:GetParameter", "ssm:GetParameterHistory"], resources=[overrides]
        )
        self.roles: dict[SharedGateRole, iam.Role] = {}
        wildcards: dict[SharedGateRole, list[tuple[str, str]]] = {}

        def role(
            kind: SharedGateRole,
            principal: iam.IPrincipal,
            description: str,
            statements: list[iam.PolicyStatement],
            reasons: list[tuple[str, str]],
        ) -> None:
            made, policy = inline_policy_role(
                self,
                f"{kind.title().replace('-', '')}Role",
                role_name=shared_gate_role_name(kind, region),
                assumed_by=principal,
                description=description,
            )
            policy.add_statements(*statements)
            self.roles[kind] = made
            wildcards[kind] = reasons

        role(
            SharedGateRole.CHECKER,
            lambda_,
            ("hands-off gates (every pipeline here): assume the gate-reader roles, read the overrides"),
            [
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=[readers],
                    conditions=from_function(checks_suffix),
                ),
                read_overrides,
                iam.PolicyStatement(actions=["codepipeline:GetPipelineExecution"], resources=[pipelines]),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_groups[checks_suffix]],
                ),
            ],
            [
                (
                    readers,
                    (
                        "Every service's gate-reader role in any target account; each trusts this role only, "
                        "and reads alarms and metrics only."
                    ),
                ),
                (
                    overrides,
                    (
                        "Every pipeline's override parameter here (read only): the checks read the one the "
                        "verified gate input names."
                    ),
                ),
                (
                    pipelines,
                    "Every pipeline here (GetPipelineExecution, read only): is the execution a rollback?",
                ),
                (
                    log_groups[checks_suffix],
                    (
                        "The log groups of every pipeline's gate checks function here (names by "
                        "pattern; streams unknown)."
                    ),
                ),
            ],
        )
        role(
            SharedGateRole.HOTFIX,
            lambda_,
            ("hands-off gates (every pipeline here): the hotfix function, turns alarm rollback off and on"),
            [
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=[writers],
                    conditions=from_function(hotfix_suffix),
                ),
                read_overrides,  # arming reads the override itself, as the checks do
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_groups[hotfix_suffix]],
                ),
            ],
            [
                (
                    writers,
                    (
                        "Every service's hotfix-writer role in any target account; each trusts this role "
                        "only and may update its service's deployment groups only."
                    ),
                ),
                (
                    overrides,
                    (
                        "Every pipeline's override parameter here (read only): arming reads only the one "
                        "of the pipeline its function serves (hands-off-<service>-hotfix: "
                        "<service>-application)."
                    ),
                ),
                (
                    log_groups[hotfix_suffix],
                    (
                        "The log groups of every pipeline's hotfix function here (names by "
                        "pattern; streams unknown)."
                    ),
                ),
            ],
        )
        role(
            SharedGateRole.MACHINE,
            iam.ServicePrincipal("states.amazonaws.com"),
            "hands-off gates (every pipeline here): the gate, bake and Restore state machines",
            [
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=[*functions.values(), *(f"{arn}:*" for arn in functions.values())],
                ),
                iam.PolicyStatement(actions=["ssm:getParameter"], resources=[inputs]),
                iam.PolicyStatement(actions=MACHINE_LOGGING_AND_TRACING, resources=["*"]),
            ],
            [
                *(
                    (arn, "Every pipeline's gate functions here (names by pattern).")
                    for arn in functions.values()
                ),
                *(
                    (f"{arn}:*", "Every pipeline's gate functions' versions here.")
                    for arn in functions.values()
                ),
                (
                    inputs,
                    (
                        "Every pipeline's gate and bake inputs here (read only); each machine uses one "
                        "only if its SHA-256 is the one its pipeline's action carries."
                    ),
                ),
                (
                    "*",
                    (
                        "Step Functions execution logging (logs:*LogDelivery, DescribeLogGroups) and X-Ray "
                        "tracing do not support resource-level permissions."
                    ),
                ),
            ],
        )
        role(
            SharedGateRole.RESTORE_STARTER,
            iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": account}}
            ),
            (
                "hands-off gates (every pipeline here): start a Restore machine (a gate, bake or stage "
                "ended early)"
            ),
            [iam.PolicyStatement(actions=["states:StartExecution"], resources=[restores])],
            [
                (
                    restores,
                    "Every pipeline's Restore machine here (it only ever turns alarm rollback back on).",
                )
            ],
        )
        for kind, reasons in wildcards.items():
            Validations.of(self.roles[kind]).acknowledge(
                *(
                    Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{rule}]", reason=reason)
                    for resource, reason in reasons
                    # As cdk-nag spells the partition: unknown, or pinned by context.
                    for rule in dict.fromkeys(
                        resource.replace(f"arn:{partition}:", f"arn:{spelled}:")
                        for spelled in ("<AWS::Partition>", "aws")
                    )
                )
            )


def tooling_environments(scope: Construct) -> list[tuple[str, str]]:
    """``(account, region)`` of every pipeline stack directly under ``scope``, in order: every
    stack with a :class:`~hands_off.naming.ServiceNaming` ``naming`` (a ``ServicePipeline``; this
    module stays below the pipeline stack, which composes the others)."""
    found: dict[tuple[str, str], None] = {}
    for child in scope.node.children:
        naming = getattr(child, "naming", None) if isinstance(child, Stack) else None
        if isinstance(naming, ServiceNaming):
            found.setdefault((naming.tooling_account, naming.tooling_region), None)
    return list(found)


def add_gate_roles(app: Construct) -> list[GateRoles]:
    """Add one :class:`GateRoles` to ``app`` per tooling account and region its pipelines live in,
    unless the app already has it (``add_account_baselines`` calls it).

    Returns:
        the stacks added.
    """
    existing = {(child.account, child.region) for child in app.node.children if isinstance(child, GateRoles)}
    return [
        GateRoles(app, account=account, region=region)
        for account, region in tooling_environments(app)
        if (account, region) not in existing
    ]
