"""``hands_off.bootstrap``: the ``cdk bootstrap`` commands a fleet needs (pure model, no synth),
plus two checks against the synthesized example (its environments, its resource types)."""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hands_off.assembly import Assembly
from hands_off.bootstrap import (
    EXECUTION_POLICY_NAME,
    AccountBootstrap,
    BootstrapPlan,
    assembly_bootstrap_plan,
    bootstrap_commands,
    bootstrap_plan,
    execution_policy_document,
    render_bootstrap,
)
from hands_off.model import (
    EXAMPLE_ACCOUNTS,
    PREPROD_POLICY,
    Account,
    Environments,
    Stage,
    Target,
    Wave,
    example_environments,
)

TOOLING, PREPROD, PROD = "111111111111", "222222222222", "333333333333"
EXAMPLE_PROD_REGIONS = (
    "ca-central-1",
    "us-east-1",
    "ap-south-1",
    "sa-east-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "eu-central-1",
    "eu-west-1",
    "us-west-2",
)
# The pipeline region first, then every region a stage or wave deploys to, in order of first use.
EXAMPLE_TOOLING_REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ca-central-1",
    "ap-south-1",
    "sa-east-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "eu-central-1",
)


def _envs(account: str, regions: tuple[str, ...]) -> str:
    return " ".join(f"aws://{account}/{region}" for region in regions)


def test_example_plan_lists_tooling_first_then_accounts_in_order_of_first_use() -> None:
    plan = bootstrap_plan(example_environments())

    assert isinstance(plan, BootstrapPlan)
    assert [entry.account.account_id for entry in plan.accounts] == [TOOLING, PREPROD, PROD]
    tooling, preprod, prod = plan.accounts
    assert tooling.regions == EXAMPLE_TOOLING_REGIONS
    assert tooling.tooling
    assert tooling.trust is None
    assert tooling.execution_policy_arn is None  # CDK's default: the pipeline stacks need more
    assert preprod.regions == ("us-west-2", "eu-west-1")
    assert preprod.stages == ("Alpha", "Beta", "Gamma")
    assert preprod.trust == TOOLING
    assert preprod.execution_policy_arn == f"arn:aws:iam::{PREPROD}:policy/{EXECUTION_POLICY_NAME}"
    assert prod.regions == EXAMPLE_PROD_REGIONS
    assert prod.stages == ("Prod-1", "Prod-2", "Prod-3", "Prod-4")
    assert prod.trust == TOOLING


def test_example_commands_are_exact() -> None:
    commands = bootstrap_commands(example_environments())

    policy = "--cloudformation-execution-policies arn:aws:iam::{}:policy/hands-off-cfn-exec"
    assert [c for c in commands if c.startswith("cdk bootstrap")] == [
        f"cdk bootstrap {_envs(TOOLING, EXAMPLE_TOOLING_REGIONS)}",
        f"cdk bootstrap {_envs(PREPROD, ('us-west-2', 'eu-west-1'))} --trust {TOOLING} "
        + policy.format(PREPROD),
        f"cdk bootstrap {_envs(PROD, EXAMPLE_PROD_REGIONS)} --trust {TOOLING} " + policy.format(PROD),
    ]
    creates = [c for c in commands if c.startswith("aws iam create-policy")]
    assert len(creates) == 2
    assert len(commands) == 8  # + one `cdk deploy` of the baselines per account
    # The policy of an account is created just before the bootstrap that references it.
    assert commands.index(creates[0]) == 2  # after the tooling account's bootstrap and baseline
    assert commands.index(creates[1]) == 5
    for account, create in zip((PREPROD, PROD), creates, strict=True):
        argv = shlex.split(create)
        assert argv[:5] == ["aws", "iam", "create-policy", "--policy-name", EXECUTION_POLICY_NAME]
        assert argv[5] == "--policy-document"
        assert json.loads(argv[6]) == execution_policy_document(account)


def test_tooling_account_that_is_also_a_target_needs_no_trust() -> None:
    tooling = Account(name="tooling", account_id=TOOLING)
    prod = Account(name="prod", account_id=PROD)
    envs = Environments(
        toolchain=Target(account=tooling, region="eu-west-1"),
        alpha=Stage(
            name="Alpha", targets=(Target(account=tooling, region="eu-west-1"),), policy=PREPROD_POLICY
        ),
        beta=Stage(
            name="Beta", targets=(Target(account=tooling, region="eu-west-1"),), policy=PREPROD_POLICY
        ),
        gamma=Stage(
            name="Gamma",
            targets=(
                Target(account=tooling, region="eu-west-1"),
                Target(account=tooling, region="us-west-2"),
            ),
            policy=example_environments().gamma.policy,
        ),
        waves=(
            Wave(name="Prod-1", targets=(Target(account=prod, region="us-west-2"),)),
            Wave(name="Prod-2", targets=(Target(account=prod, region="eu-west-1"),)),
        ),
    )

    plan = bootstrap_plan(envs)

    assert [entry.account.account_id for entry in plan.accounts] == [TOOLING, PROD]
    tooling_entry, prod_entry = plan.accounts
    assert tooling_entry.regions == ("eu-west-1", "us-west-2")
    assert tooling_entry.stages == ("Alpha", "Beta", "Gamma")
    assert tooling_entry.trust is None
    assert prod_entry.regions == ("us-west-2", "eu-west-1")
    assert bootstrap_commands(envs)[0] == f"cdk bootstrap {_envs(TOOLING, ('eu-west-1', 'us-west-2'))}"
    assert sum("create-policy" in c for c in bootstrap_commands(envs)) == 1


def test_account_bootstrap_environments() -> None:
    entry = AccountBootstrap(
        account=EXAMPLE_ACCOUNTS["prod"],
        regions=("eu-west-1", "us-east-1"),
        stages=("Prod-1",),
        tooling=False,
        trust=TOOLING,
    )

    assert entry.environments == (f"aws://{PROD}/eu-west-1", f"aws://{PROD}/us-east-1")


def _allowed_actions(document: dict[str, Any]) -> list[str]:
    actions: list[str] = []
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        actions += [value] if isinstance(value, str) else value
    return actions


def test_execution_policy_allows_only_the_application_services() -> None:
    document = execution_policy_document(PROD)

    actions = _allowed_actions(document)
    services = {action.split(":")[0] for action in actions}
    assert services == {
        "lambda",
        "iam",
        "codedeploy",
        "cloudwatch",
        "sns",
        "kms",
        "events",  # deletes the canary rules of copies made before the canary schedules
        "scheduler",
        "logs",
        "s3",
        "ssm",
        "ecs",
        "elasticloadbalancing",
        "autoscaling",
        "ec2",
        "route53",
    }
    assert "*" not in actions
    assert "iam:*" not in actions
    assert "kms:*" not in actions
    # No data-plane use of other keys, no attaching managed policies such as AdministratorAccess.
    for forbidden in (
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:CreateGrant",
        "iam:AttachRolePolicy",
        "iam:CreateUser",
    ):
        assert forbidden not in actions
    iam_resources = {
        s["Resource"]
        for s in document["Statement"]
        if any(a.startswith("iam:") for a in _as_list(s["Action"]))
    }
    assert iam_resources == {
        f"arn:aws:iam::{PROD}:role/hands-off-*",
        f"arn:aws:iam::{PROD}:instance-profile/*",
        f"arn:aws:iam::{PROD}:role/aws-service-role/*",
    }
    linked = next(s for s in document["Statement"] if s["Action"] == "iam:CreateServiceLinkedRole")
    assert linked["Condition"] == {
        "StringEquals": {
            "iam:AWSServiceName": [
                "ecs.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "autoscaling.amazonaws.com",
            ]
        }
    }
    pass_role = next(s for s in document["Statement"] if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {
        "StringEquals": {
            "iam:PassedToService": [
                "lambda.amazonaws.com",
                "codedeploy.amazonaws.com",
                "scheduler.amazonaws.com",
                "ecs-tasks.amazonaws.com",
                "ecs.amazonaws.com",
                "ec2.amazonaws.com",
                "vpc-flow-logs.amazonaws.com",
            ]
        }
    }
    # Bucket management only: no object reads beyond the Lambda code, no replication elsewhere.
    assert not [a for a in actions if a.startswith("s3:") and "Replication" in a]
    assert {a for a in actions if a.startswith("s3:") and "Object" in a} == {
        "s3:GetObject",
        "s3:GetObjectVersion",
    }
    s3 = next(s for s in document["Statement"] if "s3:GetObject" in _as_list(s["Action"]))
    assert s3["Resource"] == f"arn:aws:s3:::cdk-hnb659fds-assets-{PROD}-*/*"


def test_execution_policy_fits_iam_limits_and_shell_quotes() -> None:
    text = json.dumps(execution_policy_document(PROD), separators=(",", ":"))

    assert len("".join(text.split())) <= 6144  # managed policy size, whitespace not counted
    assert "'" not in text


def test_each_account_deploys_its_baselines_right_after_its_bootstrap() -> None:
    """Issue 9: the account-region baselines (the shared paging topic and CodeDeploy applications)
    are deployed once, by the organization, before the pipelines: in every region a copy runs in,
    and the pipelines' region."""
    commands = bootstrap_commands(example_environments())
    deploys = [c for c in commands if c.startswith("cdk deploy")]
    baselines = "HandsOffBaseline-{}-{}"
    assert deploys == [
        f"cdk deploy --exclusively {baselines.format(TOOLING, 'us-east-1')} "
        f"HandsOffGateRoles-{TOOLING}-us-east-1",
        "cdk deploy --exclusively "
        + " ".join(baselines.format(PREPROD, r) for r in ("us-west-2", "eu-west-1")),
        "cdk deploy --exclusively " + " ".join(baselines.format(PROD, r) for r in EXAMPLE_PROD_REGIONS),
    ]
    for deploy in deploys:  # each right after its account's bootstrap
        assert commands[commands.index(deploy) - 1].startswith("cdk bootstrap")
    script = render_bootstrap(bootstrap_plan(example_environments()), source="x")
    assert "AccountBaseline" in script
    assert "the pipelines never deploy them" in script
    assert "GateRoles, stack hands-off-gate-roles" in " ".join(
        line.lstrip("# ") for line in script.splitlines()
    )
    # what the baseline holds, as the copies need it before their first deploy
    assert "CodeDeploy applications hands-off-lambda and hands-off-server" in " ".join(
        line.lstrip("# ") for line in script.splitlines()
    )


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_rendered_script_is_valid_shell_with_comments() -> None:
    script = render_bootstrap(bootstrap_plan(example_environments()), source="the built-in example fleet")

    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "the built-in example fleet" in lines[1]
    body = [line for line in lines if line.strip() and not line.startswith("#")]
    # Every command line is a command or the continuation of one.
    starts = ("export PATH=", "cdk bootstrap ", "aws iam create-policy ", "cdk deploy ", "    ")
    assert all(line.startswith(starts) for line in body), body
    # What CDK does not let us narrow, said plainly, with the options it offers.
    assert "# What these commands do not narrow:" in script
    assert "--custom-permissions-boundary" in script
    assert "AdministratorAccess" in script
    assert "docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-bootstrap.html" in script
    # The commands in the script are exactly bootstrap_commands(), split over lines.
    joined = script.replace(" \\\n    ", " ").splitlines()
    commands = [line for line in joined if line and not line.startswith("#")]
    # First the pinned CLI of `make setup` on PATH, then exactly bootstrap_commands().
    assert commands[0] == 'export PATH="$PWD/.venv/bin:$PATH"'
    assert commands[1:] == bootstrap_commands(example_environments())


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_rendered_script_parses_with_bash(tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.sh"
    path.write_text(render_bootstrap(bootstrap_plan(example_environments()), source="x"), encoding="utf-8")

    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr


# --- against the synthesized example -------------------------------------------------------------


@pytest.mark.synth
def test_plan_bootstraps_every_environment_the_assembly_deploys_to(fleet: Any) -> None:
    """Every stack of the synthesized example is in an environment the plan bootstraps, and the
    plan bootstraps nothing the example does not use."""
    assembly = Assembly.read(fleet.outdir)
    plan = bootstrap_plan(example_environments())

    used = {(stack.account, stack.region) for stack in assembly.stacks}
    planned = {(entry.account.account_id, region) for entry in plan.accounts for region in entry.regions}
    assert used == planned


@pytest.mark.synth
def test_the_script_deploys_exactly_the_baselines_the_app_has(fleet: Any) -> None:
    """The baselines ``hands_off.run`` adds (one per account-region the copies and pipelines page
    in) are the stacks the script deploys, by the ids the CDK CLI selects them with."""
    from hands_off.stacks import AccountBaseline, GateRoles

    in_app = {c.node.id for c in fleet.app.node.children if isinstance(c, AccountBaseline | GateRoles)}
    plan = bootstrap_plan(example_environments())
    deployed = {stack for entry in plan.accounts for stack in entry.baseline_stacks}
    assert in_app == deployed
    # tooling us-east-1, 2 preprod regions, 9 production regions; the tooling region's gate roles
    assert len(deployed) == 13


@pytest.mark.synth
def test_the_assembly_plan_of_the_example_has_the_fleet_plans_commands(fleet: Any) -> None:
    """``hands-off bootstrap --assembly``: the same commands, in the same order, as the plan of the
    example fleet it was synthesized from; the same accounts, named after their access stacks."""
    plan = assembly_bootstrap_plan(Assembly.read(fleet.outdir))
    expected = bootstrap_plan(example_environments())

    assert plan.commands() == expected.commands()
    assert plan.toolchain == expected.toolchain
    assert [entry.account for entry in plan.accounts] == [entry.account for entry in expected.accounts]
    # the pipelines' stage names; Zeta deploys the production access stacks before Prod-1
    assert [entry.stages for entry in plan.accounts] == [
        (),
        ("Alpha", "Beta", "Gamma"),
        ("Zeta", "Prod-1", "Prod-2", "Prod-3", "Prod-4"),
    ]
    assert plan.missing(expected) == expected.missing(plan) == ()


# CloudFormation registry handler permissions of the application stacks' resource types that the
# execution policy leaves out on purpose, and why.
_NOT_NEEDED = {
    "ec2:Describe*": "functions are not attached to a VPC",
    "elasticfilesystem:DescribeMountTargets": "no EFS file systems",
    "s3files:ListMountTargets": "no S3 file system mounts",
    "firehose:TagDeliveryStream": "log groups deliver to no Firehose stream",
    "s3:REST.PUT.OBJECT": "not an IAM action",
    "kms:CreateGrant": "functions keep environment variables under the AWS managed key (no KmsKeyArn)",
    "kms:Decrypt": "as kms:CreateGrant",
    "kms:Encrypt": "as kms:CreateGrant",
    "kms:GenerateDataKey": "as kms:CreateGrant",
    "iam:AttachRolePolicy": "roles get inline policies only, never managed ones",
    "iam:DeleteRolePermissionsBoundary": "a boundary, once set on a role, stays",
    "iam:*User*": "policies attach to roles only",
    "iam:*Group*": "policies attach to roles only",
    "cognito-idp:*": "listeners authenticate with no Cognito user pool",
    "managed-fleets:*": "the Auto Scaling groups are not managed fleets",
    "route53-recovery-control-config:*": "canary health checks use no routing control",
    "vpc-lattice:*": "target groups are the load balancers', not VPC Lattice's",
    "s3tables:*": "no S3 table buckets",
    "s3:*Metadata*": "the log buckets set none of these bucket features",
    "s3:*Analytics*": "as s3:*Metadata*",
    "s3:*Accelerate*": "as s3:*Metadata*",
    "s3:*IntelligentTiering*": "as s3:*Metadata*",
    "s3:*Inventory*": "as s3:*Metadata*",
    "s3:*Metrics*": "as s3:*Metadata*",
    "s3:*Replication*": "as s3:*Metadata*",
    "s3:*Website": "as s3:*Metadata*",
    "s3:*ObjectLock*": "as s3:*Metadata*",
    "s3:PutBucketCORS": "as s3:*Metadata*",
    "s3:PutBucketNotification": "as s3:*Metadata*",
    "s3:PutBucketAbac": "as s3:*Metadata*",
    "s3:DeleteObject": "CloudFormation never empties a bucket",
    "s3:PutObjectAcl": "no object ACLs",
    "ssm:Get*": "only AWS's public AMI parameters are read (ReadPublicAmiParameters)",
}


def _handler_permissions(resource_type: str) -> set[str]:
    """Create/read/update/delete handler permissions from cfn-lint's copy of the registry schema."""
    schemas = Path(pytest.importorskip("cfnlint.data.schemas").__file__).parent
    index = json.loads((schemas / "providers" / "us-east-1.json").read_text(encoding="utf-8"))
    if resource_type not in index:
        return set()
    schema = json.loads((schemas / "resources" / f"{index[resource_type]}.json").read_text(encoding="utf-8"))
    handlers = schema.get("handlers", {})
    return {
        permission
        for name in ("create", "read", "update", "delete")
        for permission in handlers.get(name, {}).get("permissions", [])
    }


@pytest.mark.synth
def test_execution_policy_covers_what_cloudformation_needs_for_the_application_stacks(fleet: Any) -> None:
    assembly = Assembly.read(fleet.outdir)
    target_accounts = {PREPROD, PROD}
    types = {
        resource["Type"]
        for stack in assembly.stacks
        if stack.account in target_accounts
        for resource in stack.template.get("Resources", {}).values()
    }
    assert "AWS::Lambda::Function" in types
    allowed = _allowed_actions(execution_policy_document(PROD))

    missing = {
        (resource_type, permission)
        for resource_type in types
        for permission in _handler_permissions(resource_type)
        if not any(fnmatch.fnmatchcase(permission, pattern) for pattern in allowed)
        and not any(fnmatch.fnmatchcase(permission, pattern) for pattern in _NOT_NEEDED)
    }

    assert missing == set()


@pytest.mark.synth
def test_every_role_the_application_stacks_create_is_named_for_the_policy(fleet: Any) -> None:
    assembly = Assembly.read(fleet.outdir)

    names = [
        resource["Properties"].get("RoleName")
        for stack in assembly.stacks
        if stack.account in {PREPROD, PROD}
        for resource in stack.template.get("Resources", {}).values()
        if resource["Type"] == "AWS::IAM::Role"
    ]

    assert names
    assert all(isinstance(name, str) and name.startswith("hands-off-") for name in names), names


@pytest.mark.synth
def test_no_role_the_application_stacks_create_has_a_managed_policy(fleet: Any) -> None:
    # The execution policy has no iam:AttachRolePolicy: a managed policy would fail the deployment.
    assembly = Assembly.read(fleet.outdir)
    roles = [
        (stack.stack_name if hasattr(stack, "stack_name") else "", logical_id)
        for stack in assembly.stacks
        if stack.account in {PREPROD, PROD}
        for logical_id, resource in stack.template.get("Resources", {}).items()
        if resource["Type"] == "AWS::IAM::Role" and resource["Properties"].get("ManagedPolicyArns")
    ]
    kinds = {
        resource["Type"]
        for stack in assembly.stacks
        for resource in stack.template.get("Resources", {}).values()
    }
    assert {"AWS::ECS::Service", "AWS::AutoScaling::AutoScalingGroup"} <= kinds  # ECS and EC2 copies checked
    assert roles == []
