"""ServiceAccessStack alone: the three roles of one service in one account, scoped to its copies."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk.assertions import Template

from hands_off.constructs.lambda_service import CODEDEPLOY_ALIAS_ACTIONS
from hands_off.constructs.roles import INLINE_POLICY_NAME
from hands_off.deployment import Deployment
from hands_off.model import ONE_BOX_POLICY, PREPROD_POLICY, Account, AlarmPolicy, Target
from hands_off.naming import ServiceNaming
from hands_off.render.codepipeline import AccessNeeds
from hands_off.stacks.service_access import ServiceAccessStack
from tests.iam_permissions import role_statements

ACCOUNT, REGION = "123456789012", "eu-west-1"  # the bare stack's env (conftest)
TOOLING = "111111111111"
NAMING = ServiceNaming(service="orders", tooling_account=TOOLING, tooling_region="us-east-1")
PREPROD = Account(name="preprod", account_id=ACCOUNT)


def deployment(stage: str, region: str) -> Deployment:
    return Deployment(
        service_name="orders",
        stage_name=stage,
        target=Target(account=PREPROD, region=region),
        policy=ONE_BOX_POLICY if stage == "Gamma" else PREPROD_POLICY,
        alarm_policy=AlarmPolicy(),
        production=False,
    )


# Alpha and Beta in eu-west-1, Gamma in eu-west-1 and us-west-2: four copies, two regions.
DEPLOYMENTS = [
    deployment("Alpha", REGION),
    deployment("Beta", REGION),
    deployment("Gamma", REGION),
    deployment("Gamma", "us-west-2"),
]
COPIES = [
    (REGION, "orders-alpha"),
    (REGION, "orders-beta"),
    (REGION, "orders-gamma"),
    ("us-west-2", "orders-gamma"),
]


@dataclass
class Built:
    stack: ServiceAccessStack
    template: Template
    flat: Callable[[Any], Any]

    def id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def statements(self, role: Any) -> dict[str, Any]:
        """The role's policy statements by their actions (joined with spaces)."""
        result = {}
        for statement in role_statements(self.template.to_json(), self.id(role)):
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            result[" ".join(actions)] = sorted(self.flat(resources))
        return result


@pytest.fixture(scope="module")
def built(bare_app: Callable[..., App], flat: Callable[[Any], Any]) -> Built:
    stack = ServiceAccessStack(
        bare_app(),
        "Access",
        naming=NAMING,
        account=PREPROD,
        deployments=DEPLOYMENTS,
        env=Environment(account=ACCOUNT, region=REGION),
    )
    return Built(stack, Template.from_stack(stack), flat)


def test_exactly_five_roles_with_the_service_names(built: Built) -> None:
    built.template.resource_count_is("AWS::IAM::Role", 5)
    roles = built.template.find_resources("AWS::IAM::Role").values()
    assert sorted(r["Properties"]["RoleName"] for r in roles) == [
        "hands-off-orders-canary",
        "hands-off-orders-codedeploy",
        "hands-off-orders-gate-reader",
        "hands-off-orders-hotfix-writer",
        "hands-off-orders-runtime",
    ]
    built.template.resource_count_is("AWS::IAM::ManagedPolicy", 0)


@pytest.mark.parametrize("stack", ["built", "fleet"])
def test_every_role_holds_its_permissions_inline_with_no_separate_policy(
    stack: str, request: pytest.FixtureRequest
) -> None:
    # One resource per role, not two (a role and its DefaultPolicy): each role's statements are
    # its own inline policy, named unlike any DefaultPolicy (see hands_off.constructs.roles).
    access: Built = request.getfixturevalue(stack)
    access.template.resource_count_is("AWS::IAM::Policy", 0)
    for role in access.template.find_resources("AWS::IAM::Role").values():
        assert [p["PolicyName"] for p in role["Properties"]["Policies"]] == [INLINE_POLICY_NAME]
        assert role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


@pytest.mark.parametrize(
    ("role_name", "principal"),
    [
        ("hands-off-orders-runtime", {"Service": "lambda.amazonaws.com"}),
        ("hands-off-orders-codedeploy", {"Service": "codedeploy.amazonaws.com"}),
        # only orders' checks function, through its session of the tooling account and region's
        # shared gate-checker role (hands_off.stacks.GateRoles): not the role itself (every
        # pipeline's functions run as it), not the account, not any other role
        (
            "hands-off-orders-gate-reader",
            {
                "AWS": f"arn:aws:sts::{TOOLING}:assumed-role/hands-off-gates-checker-us-east-1/"
                "hands-off-orders-gates"
            },
        ),
        # only orders' hotfix function's session of the shared hotfix role: not the checker
        (
            "hands-off-orders-hotfix-writer",
            {
                "AWS": f"arn:aws:sts::{TOOLING}:assumed-role/hands-off-gates-hotfix-us-east-1/"
                "hands-off-orders-hotfix"
            },
        ),
    ],
)
def test_each_role_trusts_exactly_one_principal(
    built: Built, role_name: str, principal: dict[str, str]
) -> None:
    built.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": role_name,
            "AssumeRolePolicyDocument": {
                "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": principal}],
                "Version": "2012-10-17",
            },
        },
    )


def test_codedeploy_role_is_scoped_to_the_live_aliases_and_rollback_alarms(built: Built) -> None:
    statements = built.statements(built.stack.deploy_role)
    assert statements == {
        " ".join(sorted(CODEDEPLOY_ALIAS_ACTIONS)): sorted(
            f"arn:aws:lambda:{r}:{ACCOUNT}:function:{fn}:live" for r, fn in COPIES
        ),
        # the metric rollback alarms CodeDeploy watches: never the health composite, never a wildcard
        "cloudwatch:DescribeAlarms": sorted(
            f"arn:aws:cloudwatch:{r}:{ACCOUNT}:alarm:{fn}-{kind}"
            for r, fn in COPIES
            for kind in ("fault-rate", "latency-p99", "traffic-anomaly")
        ),
    }


def test_execution_role_writes_only_the_copies_log_groups(built: Built) -> None:
    assert built.statements(built.stack.execution_role) == {
        "logs:CreateLogStream logs:PutLogEvents": sorted(
            f"arn:aws:logs:{r}:{ACCOUNT}:log-group:/aws/lambda/{fn}:*" for r, fn in COPIES
        )
    }


def test_reader_role_reads_alarms_in_the_copies_regions(built: Built) -> None:
    assert built.statements(built.stack.reader_role) == {
        "cloudwatch:DescribeAlarms": [
            f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*",
            f"arn:aws:cloudwatch:us-west-2:{ACCOUNT}:alarm:*",
        ],
        "cloudwatch:GetMetricStatistics": ["*"],
        # the bake reads whether a hotfix turned a copy's CodeDeploy alarm rollback off: the
        # service's own deployment groups only (in the baseline's shared application, not the
        # application's other groups), read-only
        "codedeploy:GetDeploymentGroup": sorted(
            f"arn:aws:codedeploy:{r}:{ACCOUNT}:deploymentgroup:hands-off-lambda/{fn}" for r, fn in COPIES
        ),
    }


def test_the_reader_role_reads_only_no_codedeploy_or_alarm_writes(built: Built) -> None:
    actions = {a for joined in built.statements(built.stack.reader_role) for a in joined.split()}
    assert {a for a in actions if a.startswith("codedeploy:")} == {"codedeploy:GetDeploymentGroup"}
    assert "cloudwatch:SetAlarmState" not in actions


def test_only_the_hotfix_role_updates_the_copies_groups_and_it_reads_nothing_else(built: Built) -> None:
    # a hotfix turns each copy's CodeDeploy alarm rollback off and the gates turn it back on
    # (issue 8): the service's own groups only, and nothing but that (no alarms, no metrics)
    assert built.statements(built.stack.hotfix_role) == {
        "codedeploy:GetDeploymentGroup codedeploy:UpdateDeploymentGroup": sorted(
            f"arn:aws:codedeploy:{r}:{ACCOUNT}:deploymentgroup:hands-off-lambda/{fn}" for r, fn in COPIES
        ),
    }


def test_every_wildcard_is_recorded_with_a_reason(built: Built) -> None:
    # nag reads `wildcards` to suppress exactly these findings, each with its reason
    wildcards = built.stack.wildcards
    assert {(role.node.id, resource) for role, resource, _ in wildcards} == {
        *(("ExecutionRole", f"arn:aws:logs:{r}:{ACCOUNT}:log-group:/aws/lambda/{fn}:*") for r, fn in COPIES),
        ("GateReaderRole", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"),
        ("GateReaderRole", f"arn:aws:cloudwatch:us-west-2:{ACCOUNT}:alarm:*"),
        ("GateReaderRole", "*"),
    }
    assert all(why.strip() for _, _, why in wildcards)


def test_for_account_names_the_stack_and_deploys_where_the_first_copy_is(
    bare_app: Callable[..., App],
) -> None:
    # GIVEN copies whose first is in us-west-2
    app = bare_app()
    stack = ServiceAccessStack.for_account(app, NAMING, [DEPLOYMENTS[3], *DEPLOYMENTS[:3]])
    # THEN one access stack per account, named after the service, in the first copy's region
    assert stack.stack_name == "orders-access"
    assert stack.node.id == "Access-preprod"
    assert (stack.account, stack.region) == (ACCOUNT, "us-west-2")
    Template.from_stack(stack).resource_count_is("AWS::IAM::Role", 5)


def test_the_invoker_role_invokes_the_copies_aliases_only_for_the_scheduler_and_the_integ_tests(
    built: Built,
) -> None:
    # The canary's schedules (EventBridge Scheduler acting for this account) and the pipeline's
    # integration tests (the tooling account's integ-tests role): no Lambda permission per copy.
    role = built.stack.canary_role
    assert role is not None
    trust = built.template.to_json()["Resources"][built.id(role)]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert sorted(trust, key=json.dumps) == sorted(
        [
            {
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
            },
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{TOOLING}:role/hands-off-orders-integ-tests"},
            },
        ],
        key=json.dumps,
    )
    assert built.statements(role) == {
        "lambda:InvokeFunction": sorted(
            f"arn:aws:lambda:{d.target.region}:{ACCOUNT}:function:{d.function_name}:live" for d in DEPLOYMENTS
        )
    }


def test_copies_that_are_not_lambda_services_get_no_canary_role(bare_app: Callable[..., App]) -> None:
    stack = ServiceAccessStack.for_account(
        bare_app(), NAMING, DEPLOYMENTS, AccessNeeds(server_fleet=True, lambda_copies=False)
    )
    assert stack.canary_role is None
    names = [
        r["Properties"]["RoleName"]
        for r in Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
    ]
    assert "hands-off-orders-canary" not in names


# ------------------------------------------------------- server fleets and stack endpoints


@pytest.fixture(scope="module")
def fleet(bare_app: Callable[..., App], flat: Callable[[Any], Any]) -> Built:
    """An account with a pre-production and a production copy of a server fleet."""
    prod = Deployment(
        service_name="orders",
        stage_name="Prod-1",
        target=Target(account=PREPROD, region="us-west-2"),
        policy=ONE_BOX_POLICY,
        alarm_policy=AlarmPolicy(),
        production=True,
    )
    stack = ServiceAccessStack(
        bare_app(),
        "Access",
        naming=NAMING,
        account=PREPROD,
        deployments=[deployment("Gamma", REGION), prod],
        server_fleet=True,
        stack_endpoints=True,
        env=Environment(account=ACCOUNT, region=REGION),
    )
    return Built(stack, Template.from_stack(stack), flat)


def test_lambda_copies_get_no_fleet_roles(built: Built) -> None:
    assert built.stack.instance_role is None
    assert built.stack.fleet_deploy_role is None
    assert built.stack.endpoints_role is None


def test_fleet_roles_are_named_and_trust_only_their_tooling_roles(fleet: Built) -> None:
    roles = {
        r["Properties"]["RoleName"]: r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        for r in fleet.template.find_resources("AWS::IAM::Role").values()
    }
    assert roles["hands-off-orders-instance"] == {"Service": "ec2.amazonaws.com"}
    assert roles["hands-off-orders-fleet-deploy"] == {
        "AWS": f"arn:aws:iam::{TOOLING}:role/hands-off-orders-pipeline"
    }
    assert roles["hands-off-orders-endpoints"] == {
        "AWS": f"arn:aws:iam::{TOOLING}:role/hands-off-orders-integ-tests"
    }


def test_fleet_deploy_role_deploys_only_the_services_groups(fleet: Built) -> None:
    assert fleet.stack.fleet_deploy_role is not None
    statements = fleet.statements(fleet.stack.fleet_deploy_role)
    assert statements["codedeploy:CreateDeployment codedeploy:GetDeployment"] == [
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:hands-off-server/orders-gamma",
        f"arn:aws:codedeploy:us-west-2:{ACCOUNT}:deploymentgroup:hands-off-server/orders-prod",
    ]
    # the revision actions are authorized on the application: the shared one, once per region
    assert statements[
        "codedeploy:GetApplication codedeploy:GetApplicationRevision codedeploy:RegisterApplicationRevision"
    ] == [
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:hands-off-server",
        f"arn:aws:codedeploy:us-west-2:{ACCOUNT}:application:hands-off-server",
    ]
    # the gates' hotfix updates the same groups (its own role), the bake reads them (the reader)
    groups = [
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:hands-off-server/orders-gamma",
        f"arn:aws:codedeploy:us-west-2:{ACCOUNT}:deploymentgroup:hands-off-server/orders-prod",
    ]
    assert (
        fleet.statements(fleet.stack.hotfix_role)[
            "codedeploy:GetDeploymentGroup codedeploy:UpdateDeploymentGroup"
        ]
        == groups
    )
    assert fleet.statements(fleet.stack.reader_role)["codedeploy:GetDeploymentGroup"] == [
        f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:hands-off-server/orders-gamma",
        f"arn:aws:codedeploy:us-west-2:{ACCOUNT}:deploymentgroup:hands-off-server/orders-prod",
    ]
    assert statements["s3:GetObject s3:GetObjectVersion"] == ["arn:aws:s3:::*/*"]


def test_revisions_are_read_in_the_tooling_account_only(fleet: Built) -> None:
    assert fleet.stack.instance_role is not None
    statements = role_statements(fleet.template.to_json(), fleet.id(fleet.stack.instance_role))
    reads = [s for s in statements if s["Resource"] == "arn:aws:s3:::*/*"]
    assert reads[0]["Condition"] == {"StringEquals": {"s3:ResourceAccount": TOOLING}}


def test_endpoints_role_reads_only_the_production_stacks(fleet: Built) -> None:
    assert fleet.stack.endpoints_role is not None
    assert fleet.statements(fleet.stack.endpoints_role) == {
        "cloudformation:DescribeStacks": [
            f"arn:aws:cloudformation:us-west-2:{ACCOUNT}:stack/orders-prod-us-west-2/*"
        ]
    }


def test_every_fleet_wildcard_is_listed_for_nag(fleet: Built) -> None:
    listed = {(role.node.path, resource) for role, resource, _ in fleet.stack.wildcards}
    for role in (fleet.stack.instance_role, fleet.stack.fleet_deploy_role, fleet.stack.endpoints_role):
        assert role is not None
        for resources in fleet.statements(role).values():
            for resource in resources:
                if "*" in resource:
                    assert (role.node.path, resource) in listed, resource
