"""The IAM roles one service needs in one target account, deployed once per account.

IAM roles are global to an account, so instead of roles per copy (per region) a service has one of
each per account: the function execution role, the canary role (EventBridge Scheduler invokes the
aliases as it), the CodeDeploy role, the role the deployment gates assume to read alarms and the
role only the hotfix may assume. The stack of an account holding any pre-production copy deploys in
the first pipeline stage (Alpha), before its first copy; the stack of an account holding only
production copies deploys in Zeta, after pre-production exercised the same roles and before the
first wave's gate reads that account (see :class:`~hands_off.blueprint.PlannedAccess`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from hands_off.constructs.lambda_service import CODEDEPLOY_ALIAS_ACTIONS, scheduler_principal
from hands_off.constructs.roles import inline_policy_role
from hands_off.deployment import Deployment
from hands_off.model import Account
from hands_off.naming import (
    ALIAS_NAME,
    GATE_FUNCTION_SUFFIXES,
    LAMBDA_APPLICATION_NAME,
    ROLLBACK_ALARMS,
    SERVER_APPLICATION_NAME,
    RolePurpose,
    ServiceNaming,
    SharedGateRole,
    access_stack_id,
    alarm_name,
)
from hands_off.render.codepipeline import AccessNeeds
from hands_off.stacks.fleet_access import endpoints_role, server_fleet_roles

__all__ = ["ServiceAccessStack"]


class ServiceAccessStack(Stack):
    """Execution, canary, CodeDeploy, gate-reader and hotfix-writer roles of one service in one
    account.

    Args:
        naming: names the roles and the principal the reader role trusts.
        account: the target account.
        deployments: every copy of the service in that account (scopes the policies).
        server_fleet: also the hosts' ``instance`` role and the ``fleet-deploy`` role the
            pipeline's CodeDeploy action assumes (server fleets). Default: False.
        stack_endpoints: also the ``endpoints`` role Zeta's tests assume to read the account's
            production endpoints from their stacks (when it holds any). Default: False.
        lambda_copies: also the ``canary`` role the Lambda copies' canary schedules invoke their
            ``live`` aliases as. Default: True.
        codedeploy_application: the account-region baseline's shared CodeDeploy application the
            copies' deployment groups are in (the gate-reader role may read and update those
            groups only). Default: ``hands-off-server`` with ``server_fleet``, else
            ``hands-off-lambda``.
    """

    @classmethod
    def for_account(
        cls,
        scope: Construct,
        naming: ServiceNaming,
        deployments: Sequence[Deployment],
        needs: AccessNeeds | None = None,
        codedeploy_application: str | None = None,
    ) -> ServiceAccessStack:
        """The access stack of the account of ``deployments`` (all in one account), in the region
        of the first, named ``<service>-access``, with the roles ``needs`` asks for beyond the
        Lambda ones (default: none); the copies' groups are in ``codedeploy_application``."""
        needs = needs or AccessNeeds()
        first = deployments[0].target
        return cls(
            scope,
            access_stack_id(first.account.name),
            stack_name=naming.access_stack_name,
            env=Environment(account=first.account.account_id, region=first.region),
            naming=naming,
            account=first.account,
            deployments=deployments,
            server_fleet=needs.server_fleet,
            stack_endpoints=needs.stack_endpoints,
            lambda_copies=needs.lambda_copies,
            codedeploy_application=codedeploy_application,
            description=f"hands-off: IAM roles of {naming.service} in account {first.account.name}",
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: ServiceNaming,
        account: Account,
        deployments: Sequence[Deployment],
        server_fleet: bool = False,
        stack_endpoints: bool = False,
        lambda_copies: bool = True,
        codedeploy_application: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        acct = account.account_id
        self.wildcards: list[tuple[iam.Role, str, str]] = []
        """(role, resource, why) for each wildcard resource these policies need (read by nag)."""
        copies = sorted({(d.target.region, d.function_name) for d in deployments})
        regions = sorted({region for region, _ in copies})

        self.execution_role, execution_policy = inline_policy_role(
            self,
            "ExecutionRole",
            role_name=naming.role(RolePurpose.RUNTIME),
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {naming.service}: writes its functions' log groups, nothing else",
        )
        log_groups = [f"arn:aws:logs:{r}:{acct}:log-group:/aws/lambda/{fn}:*" for r, fn in copies]
        execution_policy.add_statements(
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=log_groups)
        )
        self.wildcards += [
            (self.execution_role, arn, "Log streams of the function's own log group (names made by Lambda).")
            for arn in log_groups
        ]

        self.canary_role: iam.Role | None = None
        if lambda_copies:
            self.canary_role = self._canary_role(naming, acct, copies)

        self.deploy_role, deploy_policy = inline_policy_role(
            self,
            "DeployRole",
            role_name=naming.role(RolePurpose.CODEDEPLOY),
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
            description=f"CodeDeploy shifts traffic on {naming.service} aliases, reads their alarms",
        )
        deploy_policy.add_statements(
            iam.PolicyStatement(
                actions=CODEDEPLOY_ALIAS_ACTIONS,
                resources=[f"arn:aws:lambda:{r}:{acct}:function:{fn}:{ALIAS_NAME}" for r, fn in copies],
            )
        )
        deploy_policy.add_statements(
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms"],
                resources=[
                    f"arn:aws:cloudwatch:{r}:{acct}:alarm:{alarm_name(fn, kind)}"
                    for r, fn in copies
                    for kind in ROLLBACK_ALARMS
                ],
            )
        )

        self.reader_role, reader_policy = self._for_gate_role(
            "GateReaderRole",
            naming,
            RolePurpose.GATE_READER,
            SharedGateRole.CHECKER,
            naming.gate_function(GATE_FUNCTION_SUFFIXES[0]),
            "hands-off gates read this account's alarms and request counts",
        )
        alarm_arns = [f"arn:aws:cloudwatch:{r}:{acct}:alarm:*" for r in regions]
        reader_policy.add_statements(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=alarm_arns)
        )
        reader_policy.add_statements(
            iam.PolicyStatement(actions=["cloudwatch:GetMetricStatistics"], resources=["*"])
        )
        # A hotfix turns a copy's CodeDeploy alarm rollback off for one execution, and the gates
        # and bakes turn it back on: those deployment groups only (each named after its copy, in
        # the account-region's shared application, see LambdaService), not the application's
        # other groups (other services'). The bake reads whether it is off (the reader role); only
        # the hotfix function's role may assume the role that updates them, which reads nothing else.
        app = codedeploy_application or (SERVER_APPLICATION_NAME if server_fleet else LAMBDA_APPLICATION_NAME)
        groups = [f"arn:aws:codedeploy:{r}:{acct}:deploymentgroup:{app}/{fn}" for r, fn in copies]
        reader_policy.add_statements(
            iam.PolicyStatement(actions=["codedeploy:GetDeploymentGroup"], resources=groups)
        )
        self.hotfix_role, hotfix_policy = self._for_gate_role(
            "HotfixRole",
            naming,
            RolePurpose.HOTFIX,
            SharedGateRole.HOTFIX,
            naming.gate_function(GATE_FUNCTION_SUFFIXES[1]),
            "hands-off hotfix: turn the copies' CodeDeploy alarm rollback off and back on",
        )
        hotfix_policy.add_statements(
            iam.PolicyStatement(
                actions=["codedeploy:GetDeploymentGroup", "codedeploy:UpdateDeploymentGroup"],
                resources=groups,
            )
        )
        self.wildcards += [
            (self.reader_role, arn, "The gates look alarms up by name prefix (org-wide alarms), read-only.")
            for arn in alarm_arns
        ]
        self.wildcards.append(
            (
                self.reader_role,
                "*",
                "cloudwatch:GetMetricStatistics has no resource-level permission; the bake reads "
                "request counts with it (read-only).",
            )
        )
        self.instance_role: iam.Role | None = None
        self.fleet_deploy_role: iam.Role | None = None
        self.endpoints_role: iam.Role | None = None
        if server_fleet:
            self.instance_role, self.fleet_deploy_role, more = server_fleet_roles(self, naming, deployments)
            self.wildcards += more
        production = [d for d in deployments if d.production]
        if stack_endpoints and production:
            self.endpoints_role, more = endpoints_role(self, naming, production)
            self.wildcards += more

    def _canary_role(self, naming: ServiceNaming, acct: str, copies: Sequence[tuple[str, str]]) -> iam.Role:
        """The role the copies' aliases are invoked as from outside the account: by the canary's
        schedules (``LambdaService``, Gamma and production copies) and by the pipeline's
        integration tests (pre-production copies, Zeta), so no copy needs a Lambda permission.
        Only EventBridge Scheduler acting for this account and the tooling account's
        ``integ-tests`` role may assume it, and it may invoke those aliases only."""
        role, policy = inline_policy_role(
            self,
            "CanaryRole",
            role_name=naming.role(RolePurpose.CANARY),
            assumed_by=iam.CompositePrincipal(
                scheduler_principal(acct),
                iam.ArnPrincipal(naming.role_arn(naming.tooling_account, RolePurpose.INTEG_TESTS)),
            ),
            description=f"Invokes {naming.service} aliases: canary traffic, integration tests",
        )
        policy.add_statements(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[f"arn:aws:lambda:{r}:{acct}:function:{fn}:{ALIAS_NAME}" for r, fn in copies],
            )
        )
        return role

    def _for_gate_role(
        self,
        construct_id: str,
        naming: ServiceNaming,
        purpose: RolePurpose,
        trusted: SharedGateRole,
        function_name: str,
        description: str,
    ) -> tuple[iam.Role, iam.PolicyDocument]:
        """The service's ``purpose`` role in this account, which only this service's gate function
        ``function_name`` may assume: the session Lambda opens for it (named after the function)
        of the tooling account and region's shared ``trusted`` role (``hands_off.stacks.GateRoles``).
        Every pipeline's functions run as that role, so trusting the role alone would let any
        service's gate function assume this service's role. Its statements inline."""
        session = naming.shared_gate_role_session_arn(trusted, function_name)
        return inline_policy_role(
            self,
            construct_id,
            role_name=naming.role(purpose),
            assumed_by=iam.ArnPrincipal(session),
            description=description,
        )
