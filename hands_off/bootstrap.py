"""The ``cdk bootstrap`` commands a fleet needs, worked out from its ``Environments`` or its app's
synthesized cloud assembly.

Pure Python (no ``aws_cdk`` import). What needs bootstrapping, and why:

- the **tooling account** (``environments.toolchain``), in the pipelines' region and in every
  region a stage or wave deploys to: CDK Pipelines with cross-region actions deploys a support
  stack (artifact replication bucket and key) in the tooling account in each of those regions. It
  trusts nobody and keeps CDK's default execution policy (``AdministratorAccess``), because
  ``cdk deploy`` of the pipeline stacks runs with it and they create far more services than the
  application stacks (CodePipeline, CodeBuild, S3, Step Functions, Signer, SSM, ...);
- **every other account**, in each region it is deployed to, trusting the tooling account
  (``--trust``) and with a narrow execution policy, ``hands-off-cfn-exec``, that CloudFormation
  uses for the application and access stacks (``--cloudformation-execution-policies``). An
  account that is both tooling and a target is bootstrapped once, as tooling;
- then, in each account, the **account-region baselines** (``hands_off.stacks.AccountBaseline``,
  stack ``hands-off-baseline``: the paging topic and its KMS key, the CodeDeploy applications
  ``hands-off-lambda`` and ``hands-off-server``, the Lambda deployment config
  ``hands-off-lambda-linear-25-percent-every-5-minutes``, the server-access-log bucket and the
  code-signing bucket, that every service of an account and region shares) with ``cdk deploy``,
  in every region a stage or wave deploys to and in the pipelines' region of the tooling account.
  Like the bootstrap, they are deployed once, before the pipelines, which never deploy them
  (``hands_off.run`` adds them to the app);
- with the tooling account's baselines, the **shared gate roles** of the pipelines' region
  (``hands_off.stacks.GateRoles``, stack ``hands-off-gate-roles``): the roles every pipeline's
  gate functions and state machines there run as. Deployed the same way, in the same command.

The plan comes from a fleet's ``Environments`` (:func:`bootstrap_plan`), or from what the app
really synthesizes (:func:`assembly_bootstrap_plan`, over ``cdk.out``): a pipeline that changes its
environments in code (its ``environments()``) deploys where no fleet file says, and only the
assembly knows. :meth:`BootstrapPlan.missing` names what one plan lacks of another.

Example::

    plan = bootstrap_plan(example_environments())
    print(render_bootstrap(plan, source="the built-in example fleet"))
    bootstrap_commands(example_environments())  # the same commands, one string each
    plan.missing(assembly_bootstrap_plan(Assembly.read("cdk.out")))  # () when the fleet suffices

Sources: the CDK CLI reference for ``cdk bootstrap`` (``--trust``,
``--cloudformation-execution-policies``, ``--custom-permissions-boundary``), and the handler
permissions of each resource type in the CloudFormation registry schemas (``tests/test_bootstrap.py``
checks the policy against them for every resource type the application stacks synthesize).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hands_off.assembly import Assembly, AssemblyError
from hands_off.model.account import Account
from hands_off.model.environments import Environments
from hands_off.model.target import Target
from hands_off.naming import (
    ACCESS_STACK_ID_PREFIX,
    BASELINE_LAMBDA_CONFIGS,
    CODEDEPLOY_APPLICATIONS,
    ORG_PREFIX,
    baseline_stack_id,
    gate_roles_stack_id,
)

__all__ = [
    "CDK_QUALIFIER",
    "EXECUTION_POLICY_NAME",
    "ROLE_NAME_PREFIX",
    "AccountBootstrap",
    "BootstrapPlan",
    "assembly_bootstrap_plan",
    "bootstrap_commands",
    "bootstrap_plan",
    "execution_policy_document",
    "render_bootstrap",
]

EXECUTION_POLICY_NAME = f"{ORG_PREFIX}-cfn-exec"
"""Name of the customer managed policy CloudFormation uses in each target account."""

ROLE_NAME_PREFIX = f"{ORG_PREFIX}-"
"""Prefix of every IAM role the application stacks create (``ServiceNaming.role``);
the execution policy may create, change and pass only roles named so."""

CDK_QUALIFIER = "hnb659fds"
"""CDK's default bootstrap qualifier (names the assets bucket the policy may read)."""

CDK = "cdk"
"""How the commands call the CDK CLI: the pinned one ``make setup`` links into ``.venv/bin`` (the
script puts ``.venv/bin`` first on ``PATH``, so it runs on the Node.js from PyPI)."""

_PARTITION = "aws"
_VERSION_PARAMETER = f"/cdk-bootstrap/{CDK_QUALIFIER}/version"
_CLI_REFERENCE = "https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd-bootstrap.html"
_BOUNDARY_GUIDE = "https://docs.aws.amazon.com/cdk/v2/guide/customize-permissions-boundaries.html"
_WIDTH = 100
# Account.name's pattern: an access stack's id names its account only when it fits.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")

# Services whose resources the application stacks create, all actions: LambdaService (function,
# version, alias, permissions, code-signing config), AlarmFactory (alarms, composite alarm,
# anomaly detection), CodeDeploy (deployment group and config; the baseline's shared
# applications), the canary schedule (scheduler), the function's log group, the paging topic.
# Scoped per action below for IAM and KMS only, where a service-wide grant would let
# CloudFormation escalate (iam:*) or read data (kms:Decrypt).
# EcsService and Ec2Fleet add the cluster, service and task definition (ecs), the load balancer
# (elasticloadbalancing), the Auto Scaling group (autoscaling) and the VPC, security groups,
# launch template and flow logs (ec2).
_APPLICATION_SERVICES = (
    "lambda",
    "codedeploy",
    "cloudwatch",
    "sns",
    # The canary rules (and their permissions) of copies deployed before the canary schedules:
    # CloudFormation deletes them on the copies' next deployment.
    "events",
    "scheduler",
    "logs",
    "ecs",
    "elasticloadbalancing",
    "autoscaling",
    "ec2",
)

# The load balancers' access-log buckets (AWS::S3::Bucket, AWS::S3::BucketPolicy handlers): manage
# buckets and their settings, never read or write objects (nor replicate them anywhere).
_BUCKET_ACTIONS = (
    "s3:CreateBucket",
    "s3:ListBucket",
    "s3:DeleteBucket*",
    "s3:GetBucket*",
    "s3:PutBucketAcl",
    "s3:PutBucketLogging",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:ListTagsForResource",
    "s3:TagResource",
    "s3:UntagResource",
)

# The canary health checks of EcsService (AWS::Route53::HealthCheck): never hosted zones or records.
_HEALTH_CHECK_ACTIONS = (
    "route53:CreateHealthCheck",
    "route53:GetHealthCheck",
    "route53:UpdateHealthCheck",
    "route53:DeleteHealthCheck",
    "route53:ChangeTagsForResource",
    "route53:ListTagsForResource",
)

# Ec2Fleet's instance profile (AWS::IAM::InstanceProfile handlers).
_INSTANCE_PROFILE_ACTIONS = (
    "iam:CreateInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
)

# ECS, Elastic Load Balancing and Auto Scaling create their service-linked role on first use.
_SERVICE_LINKED = ("ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "autoscaling.amazonaws.com")

# ServiceAccessStack's roles and their inline policies (AWS::IAM::Role, AWS::IAM::Policy handlers).
# Not iam:AttachRolePolicy (the roles have inline policies only, so no managed policy such as
# AdministratorAccess can be attached) nor iam:DeleteRolePermissionsBoundary (a boundary stays).
_ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:PutRolePolicy",
    "iam:GetRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
)

# The function runs as the runtime role; the deployment group acts as the CodeDeploy role; the
# canary's schedule invokes the alias as the canary role.
_PASSED_TO = (
    "lambda.amazonaws.com",
    "codedeploy.amazonaws.com",
    "scheduler.amazonaws.com",
    # ECS tasks and their execution role, ECS's load-balancer role, EC2 hosts, VPC flow logs.
    "ecs-tasks.amazonaws.com",
    "ecs.amazonaws.com",
    "ec2.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
)

# The paging-topic key of AccountBaseline (and of new_paging_topic) (AWS::KMS::Key handlers): manage
# keys, never use them.
_KEY_ACTIONS = (
    "kms:CreateKey",
    "kms:DescribeKey",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListKeys",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
)


def _execution_policy_arn(account_id: str) -> str:
    """ARN of ``hands-off-cfn-exec`` in ``account_id``."""
    return f"arn:{_PARTITION}:iam::{account_id}:policy/{EXECUTION_POLICY_NAME}"


def execution_policy_document(account_id: str) -> dict[str, Any]:
    """The IAM policy CloudFormation acts with in a target account: only the services the
    application and access stacks create, IAM limited to ``hands-off-*`` roles and their inline
    policies, KMS limited to managing keys, and reads of the Lambda code in CDK's assets bucket.

    Example::

        json.dumps(execution_policy_document("333333333333"))
    """
    roles = f"arn:{_PARTITION}:iam::{account_id}:role/{ROLE_NAME_PREFIX}*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ApplicationServices",
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in _APPLICATION_SERVICES],
                "Resource": "*",
            },
            {"Sid": "ServiceRoles", "Effect": "Allow", "Action": list(_ROLE_ACTIONS), "Resource": roles},
            {
                "Sid": "PassServiceRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": roles,
                "Condition": {"StringEquals": {"iam:PassedToService": list(_PASSED_TO)}},
            },
            {"Sid": "PagingKeys", "Effect": "Allow", "Action": list(_KEY_ACTIONS), "Resource": "*"},
            {"Sid": "LogBuckets", "Effect": "Allow", "Action": list(_BUCKET_ACTIONS), "Resource": "*"},
            {
                "Sid": "CanaryHealthChecks",
                "Effect": "Allow",
                "Action": list(_HEALTH_CHECK_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "InstanceProfiles",
                "Effect": "Allow",
                "Action": list(_INSTANCE_PROFILE_ACTIONS),
                "Resource": f"arn:{_PARTITION}:iam::{account_id}:instance-profile/*",
            },
            {
                "Sid": "ServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"arn:{_PARTITION}:iam::{account_id}:role/aws-service-role/*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": list(_SERVICE_LINKED)}},
            },
            {
                # Ec2Fleet's hosts run the latest Amazon Linux 2023 from AWS's public parameter.
                "Sid": "ReadPublicAmiParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": f"arn:{_PARTITION}:ssm:*::parameter/aws/service/*",
            },
            {
                # Lambda fetches the code of CreateFunction/UpdateFunctionCode with the caller's rights.
                "Sid": "ReadLambdaCode",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:{_PARTITION}:s3:::cdk-{CDK_QUALIFIER}-assets-{account_id}-*/*",
            },
            {
                # Every synthesized template reads the bootstrap version parameter.
                "Sid": "ReadBootstrapVersion",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": f"arn:{_PARTITION}:ssm:*:{account_id}:parameter{_VERSION_PARAMETER}",
            },
        ],
    }


def _quote(text: str) -> str:
    """``text`` in single quotes for a POSIX shell (the policy JSON has no single quote)."""
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass(frozen=True, kw_only=True)
class AccountBootstrap:
    """What one account needs: one ``cdk bootstrap`` over all its regions.

    Attributes:
        account: the account (named after its first use).
        regions: the regions to bootstrap, in order of first use (the tooling account: the
            pipelines' region first).
        stages: the stages and waves that deploy into the account, in order (empty for a tooling
            account that is no target).
        tooling: whether it is the tooling account. Then it trusts nobody and keeps CDK's default
            execution policy.
        trust: the account id it trusts to deploy into it (the tooling account), or ``None``.
            Default: ``None``.
        baseline_regions: the regions to deploy its account-region baseline to, after the
            bootstrap: every region a stage deploys to in it, and for the tooling account the
            pipelines' region. Default: none.
        gate_roles_regions: the regions to deploy the shared gate roles to with the baselines:
            the tooling account's pipelines' region. Default: none.
    """

    account: Account
    regions: tuple[str, ...]
    stages: tuple[str, ...]
    tooling: bool
    trust: str | None = None
    baseline_regions: tuple[str, ...] = ()
    gate_roles_regions: tuple[str, ...] = ()

    @property
    def environments(self) -> tuple[str, ...]:
        """``aws://<account>/<region>`` for each region."""
        return tuple(f"aws://{self.account.account_id}/{region}" for region in self.regions)

    @property
    def execution_policy_arn(self) -> str | None:
        """The policy CloudFormation uses here, or ``None`` for CDK's default (the tooling account)."""
        return None if self.tooling else _execution_policy_arn(self.account.account_id)

    def create_policy_command(self) -> str | None:
        """``aws iam create-policy`` for the execution policy, or ``None`` for the tooling account."""
        if self.tooling:
            return None
        document = json.dumps(execution_policy_document(self.account.account_id), separators=(",", ":"))
        return " ".join(
            [
                "aws iam create-policy",
                f"--policy-name {EXECUTION_POLICY_NAME}",
                f"--policy-document {_quote(document)}",
            ]
        )

    def bootstrap_arguments(self, *, cdk: str = CDK) -> list[str]:
        """The ``cdk bootstrap`` command as words: the command, each environment, each option."""
        words = [f"{cdk} bootstrap", *self.environments]
        if self.trust is not None:
            words.append(f"--trust {self.trust}")
        if self.execution_policy_arn is not None:
            words.append(f"--cloudformation-execution-policies {self.execution_policy_arn}")
        return words

    def bootstrap_command(self, *, cdk: str = CDK) -> str:
        """The ``cdk bootstrap`` command on one line."""
        return " ".join(self.bootstrap_arguments(cdk=cdk))

    @property
    def baseline_stacks(self) -> tuple[str, ...]:
        """The ids of its baseline stacks in the app (``HandsOffBaseline-<account>-<region>``),
        then of its shared gate roles (``HandsOffGateRoles-<account>-<region>``)."""
        account = self.account.account_id
        return (
            *(baseline_stack_id(account, region) for region in self.baseline_regions),
            *(gate_roles_stack_id(account, region) for region in self.gate_roles_regions),
        )

    def baseline_deploy_arguments(self, *, cdk: str = CDK) -> list[str] | None:
        """``cdk deploy --exclusively`` of its baseline stacks as words, or ``None`` without any."""
        if not self.baseline_stacks:
            return None
        return [f"{cdk} deploy", "--exclusively", *self.baseline_stacks]

    def baseline_deploy_command(self, *, cdk: str = CDK) -> str | None:
        """The ``cdk deploy`` of its baseline stacks on one line, or ``None`` without any."""
        words = self.baseline_deploy_arguments(cdk=cdk)
        return None if words is None else " ".join(words)


@dataclass(frozen=True, kw_only=True)
class BootstrapPlan:
    """The bootstrap of a whole fleet: the tooling account first, then every other account in
    order of first use (Alpha, Beta, Gamma, then the waves). Build it with :func:`bootstrap_plan`
    or :func:`assembly_bootstrap_plan`.

    Attributes:
        toolchain: where the pipelines live.
        accounts: one entry per account, tooling first.
    """

    toolchain: Target
    accounts: tuple[AccountBootstrap, ...]

    def commands(self, *, cdk: str = CDK) -> list[str]:
        """Every command in order, one string each: per account, its ``aws iam create-policy``
        (target accounts only), its ``cdk bootstrap``, then the ``cdk deploy`` of its baselines."""
        commands: list[str] = []
        for entry in self.accounts:
            create = entry.create_policy_command()
            if create is not None:
                commands.append(create)
            commands.append(entry.bootstrap_command(cdk=cdk))
            deploy = entry.baseline_deploy_command(cdk=cdk)
            if deploy is not None:
                commands.append(deploy)
        return commands

    def missing(self, needed: BootstrapPlan) -> tuple[str, ...]:
        """What ``needed`` (e.g. :func:`assembly_bootstrap_plan` of the app) has that this plan
        lacks, one phrase each, empty if nothing: another tooling account or pipelines' region
        (every target account would trust the wrong one), then each environment to bootstrap, then
        each baseline or gate-roles stack to deploy. What this plan has beyond ``needed`` is fine.

        Example::

            bootstrap_plan(load_environments("fleet.toml")).missing(assembly_plan)
            # ('cdk bootstrap aws://333333333333/eu-north-1',
            #  'cdk deploy HandsOffBaseline-333333333333-eu-north-1')
        """
        found: list[str] = []
        ours, theirs = self.toolchain, needed.toolchain
        if (ours.account.account_id, ours.region) != (theirs.account.account_id, theirs.region):
            found.append(
                f"the pipelines' aws://{theirs.account.account_id}/{theirs.region} "
                f"(it has aws://{ours.account.account_id}/{ours.region})"
            )
        kinds: tuple[tuple[str, Callable[[AccountBootstrap], tuple[str, ...]]], ...] = (
            ("cdk bootstrap", lambda entry: entry.environments),
            ("cdk deploy", lambda entry: entry.baseline_stacks),
        )
        for command, items in kinds:
            planned = {item for entry in self.accounts for item in items(entry)}
            found += [
                f"{command} {item}"
                for entry in needed.accounts
                for item in items(entry)
                if item not in planned
            ]
        return tuple(found)


def bootstrap_plan(environments: Environments) -> BootstrapPlan:
    """Which account to bootstrap in which regions, trusting whom, for ``environments``.

    Example::

        plan = bootstrap_plan(load_environments("fleet.toml"))
        [entry.environments for entry in plan.accounts]
    """
    toolchain = environments.toolchain
    tooling_id = toolchain.account.account_id
    accounts: dict[str, Account] = {tooling_id: toolchain.account}
    regions: dict[str, dict[str, None]] = {tooling_id: {toolchain.region: None}}
    stages: dict[str, dict[str, None]] = {tooling_id: {}}
    # Account-region baselines: where a copy or a pipeline pages (see AccountBaseline).
    baselines: dict[str, dict[str, None]] = {tooling_id: {toolchain.region: None}}
    for stage in environments.stages_in_order():
        for target in stage.targets:
            account_id = target.account.account_id
            accounts.setdefault(account_id, target.account)
            regions.setdefault(account_id, {})[target.region] = None
            stages.setdefault(account_id, {})[stage.name] = None
            baselines.setdefault(account_id, {})[target.region] = None
            # The tooling account hosts a support stack in every region a stage deploys to.
            regions[tooling_id][target.region] = None
    return BootstrapPlan(
        toolchain=toolchain,
        accounts=tuple(
            AccountBootstrap(
                account=account,
                regions=tuple(regions[account_id]),
                stages=tuple(stages[account_id]),
                tooling=account_id == tooling_id,
                trust=None if account_id == tooling_id else tooling_id,
                baseline_regions=tuple(baselines[account_id]),
                gate_roles_regions=(toolchain.region,) if account_id == tooling_id else (),
            )
            for account_id, account in accounts.items()
        ),
    )


def _account_names(assembly: Assembly) -> dict[str, str]:
    """Account id → name, from the hands-off access stacks (``Access-<name>``, one per service and
    account, in a pipeline stage); an account without one is not named here."""
    names: dict[str, str] = {}
    for stack in assembly.stacks:
        _, _, last = stack.display_name.rpartition("/")
        name = last.removeprefix(ACCESS_STACK_ID_PREFIX)
        if stack.account is not None and last.startswith(ACCESS_STACK_ID_PREFIX) and _NAME.fullmatch(name):
            names.setdefault(stack.account, name)
    return names


def _toolchain(assembly: Assembly) -> tuple[str, str]:
    """``(account, region)`` of the assembly's pipelines.

    Raises:
        AssemblyError: no pipeline, a pipeline without a concrete account and region, or pipelines
            in more than one account or region.
    """
    homes = dict.fromkeys((pipeline.account, pipeline.region) for pipeline in assembly.pipelines)
    if not homes:
        raise AssemblyError(
            f"{assembly.directory}: has no pipeline, so no tooling account to bootstrap; synthesize "
            "the app with its pipelines (`make synth`)"
        )
    if len(homes) > 1:
        listed = ", ".join(f"aws://{account}/{region}" for account, region in homes)
        raise AssemblyError(
            f"{assembly.directory}: has pipelines in {listed}, and one script bootstraps one tooling "
            "account and region; synthesize each fleet's pipelines in an app of their own"
        )
    [(account, region)] = homes
    if account is None or region is None:
        raise AssemblyError(
            f"{assembly.directory}: a pipeline stack has no account and region (environment-agnostic), "
            "so its tooling account is unknown; give its stack an explicit env"
        )
    return account, region


def assembly_bootstrap_plan(assembly: Assembly) -> BootstrapPlan:
    """The bootstrap of what the app really synthesized: the same plan as :func:`bootstrap_plan`,
    read from the assembly instead of from a fleet's ``Environments``.

    - the tooling account and region: those of the pipeline stacks;
    - the accounts and regions to bootstrap: every account and region a stack of the assembly is
      in (the stage assemblies' stacks included), tooling first, then in order of first use by
      the pipelines' stages (their names are the ``stages``), then any other stack's; the tooling
      account also in every region a stage deploys to (CDK Pipelines' support stacks);
    - the baselines and gate roles to deploy: the ``HandsOffBaseline-<account>-<region>`` and
      ``HandsOffGateRoles-<account>-<region>`` stacks the app has, and only those.

    Account names come from the hands-off access stacks (``Access-<name>``); the tooling account
    without one is ``tooling``, another ``target``. A stack without a concrete account and region
    (environment-agnostic) is left out: no ``cdk bootstrap`` can name its environment.

    Example::

        plan = assembly_bootstrap_plan(Assembly.read("cdk.out"))
        print(render_bootstrap(plan, source="the app synthesized in cdk.out"))

    Raises:
        AssemblyError: the assembly has no pipeline, or pipelines in more than one tooling account
            or region, or one without a concrete account and region.
    """
    tooling_id, tooling_region = _toolchain(assembly)
    regions: dict[str, dict[str, None]] = {tooling_id: {tooling_region: None}}
    stages: dict[str, dict[str, None]] = {tooling_id: {}}
    for pipeline in assembly.pipelines:
        for stage in pipeline.stages:
            for stack in assembly.stage_stacks(stage):
                if stack.account is None or stack.region is None:
                    continue
                regions.setdefault(stack.account, {})[stack.region] = None
                stages.setdefault(stack.account, {})[stage.name] = None
                # The tooling account hosts a support stack in every region a stage deploys to.
                regions[tooling_id][stack.region] = None
    for stack in assembly.stacks:  # the pipelines, their support stacks, the baselines, any other
        if stack.account is not None and stack.region is not None:
            regions.setdefault(stack.account, {})[stack.region] = None
            stages.setdefault(stack.account, {})
    ids = {stack.display_name for stack in assembly.stacks}  # what `cdk deploy` selects them by
    names = _account_names(assembly)
    return BootstrapPlan(
        toolchain=Target(
            account=Account(name=names.get(tooling_id, "tooling"), account_id=tooling_id),
            region=tooling_region,
        ),
        accounts=tuple(
            AccountBootstrap(
                account=Account(
                    name=names.get(account_id, "tooling" if account_id == tooling_id else "target"),
                    account_id=account_id,
                ),
                regions=tuple(in_account),
                stages=tuple(stages[account_id]),
                tooling=account_id == tooling_id,
                trust=None if account_id == tooling_id else tooling_id,
                baseline_regions=tuple(r for r in in_account if baseline_stack_id(account_id, r) in ids),
                gate_roles_regions=tuple(r for r in in_account if gate_roles_stack_id(account_id, r) in ids),
            )
            for account_id, in_account in regions.items()
        ),
    )


def bootstrap_commands(environments: Environments) -> list[str]:
    """The commands that bootstrap ``environments``, one string each, in the order to run them.

    Example::

        for command in bootstrap_commands(example_environments()):
            print(command)
    """
    return bootstrap_plan(environments).commands()


def _wrap(words: list[str]) -> list[str]:
    """``words`` as one shell command over lines of at most ``_WIDTH`` characters (``\\`` joins)."""
    lines: list[str] = []
    current = words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) + 2 > _WIDTH:
            lines.append(current + " \\")
            current = "    " + word
        else:
            current += " " + word
    return [*lines, current]


def _comment(text: str, *, first: str = "", rest: str = "") -> list[str]:
    """``text`` as ``#`` comment lines of at most ``_WIDTH`` characters, the first line starting
    with ``first`` and the others with ``rest`` (e.g. a bullet and its hanging indent)."""
    lines: list[str] = []
    current = first
    for word in text.split():
        if current.strip() and len(current) + 3 + len(word) > _WIDTH:
            lines.append(f"# {current}")
            current = rest + word
        elif not current or current.endswith(" "):
            current += word
        else:
            current += " " + word
    return [*lines, f"# {current}"]


def _bullet(text: str) -> list[str]:
    return _comment(text, first="  - ", rest="    ")


def _baseline_block(entry: AccountBootstrap, *, cdk: str) -> list[str]:
    """The ``cdk deploy`` of the account's baselines, with its comment (nothing without any)."""
    words = entry.baseline_deploy_arguments(cdk=cdk)
    if words is None:
        return []
    baselines = (
        f"its account-region baselines ({', '.join(entry.baseline_regions)}): the paging topic "
        f"and key, the CodeDeploy applications {' and '.join(CODEDEPLOY_APPLICATIONS.values())} and "
        f"the Lambda deployment configs {', '.join(BASELINE_LAMBDA_CONFIGS.values())}, "
        "the server-access-log and code-signing buckets, that every service here shares "
        "(hands_off.stacks.AccountBaseline, stack hands-off-baseline)"
    )
    gate_roles = (
        f"the gate roles every pipeline in {', '.join(entry.gate_roles_regions)} runs its "
        "gates as (hands_off.stacks.GateRoles, stack hands-off-gate-roles)"
    )
    parts = [baselines] if entry.baseline_regions else []
    parts += [gate_roles] if entry.gate_roles_regions else []
    text = f"Then {', and '.join(parts)}. Before any pipeline deploys here; the pipelines never deploy them."
    return [*_comment(text, rest=""), *_wrap(words)]


def _account_block(number: int, entry: AccountBootstrap, toolchain: Target, *, cdk: str) -> list[str]:
    account = entry.account
    label = f"{number}. "
    if entry.tooling:
        also = f" {', '.join(entry.stages)} also deploy here." if entry.stages else ""
        heading = (
            f"Tooling account {account.account_id} ({account.name}): the pipelines in "
            f"{toolchain.region}, and CDK Pipelines' cross-region support stacks (replication "
            f"buckets) in every region a stage or wave deploys to.{also} No --trust: no other "
            "account deploys into it. It keeps CDK's default execution policy, AdministratorAccess: "
            "`cdk deploy` of the pipeline stacks runs with it."
        )
        return [
            *_comment(label + heading, rest=" " * len(label)),
            *_wrap(entry.bootstrap_arguments(cdk=cdk)),
            *_baseline_block(entry, cdk=cdk),
        ]
    deployed_by = ", ".join(entry.stages) or "stacks no pipeline stage deploys"
    heading = (
        f"Account {account.account_id} ({account.name}): {deployed_by}, in "
        f"{', '.join(entry.regions)}. Trusts the tooling account to deploy; CloudFormation acts "
        f"with {EXECUTION_POLICY_NAME} only."
    )
    create = entry.create_policy_command()
    assert create is not None  # every account but the tooling one has a policy
    return [
        *_comment(label + heading, rest=" " * len(label)),
        create,
        *_wrap(entry.bootstrap_arguments(cdk=cdk)),
        *_baseline_block(entry, cdk=cdk),
    ]


def render_bootstrap(plan: BootstrapPlan, *, source: str, cdk: str = CDK) -> str:
    """``plan`` as a copy-pasteable shell script: comments (``#``) and commands, one block per
    account, each to run with administrator credentials for that account.

    Args:
        plan: from :func:`bootstrap_plan`.
        source: what the plan is of, for the first comment, e.g. ``"fleet.toml"``.
        cdk: how to call the CDK CLI. Default: ``"cdk"`` (from ``.venv/bin``).
    """
    lines = [
        "#!/usr/bin/env bash",
        f"# CDK bootstrap for {source}, generated by `hands-off bootstrap`.",
        "# Run each block with credentials for the account it names (e.g. AWS_PROFILE=<profile>).",
        "# From the repository root after `make setup`: the pinned CDK CLI, on the Node.js from PyPI.",
        'export PATH="$PWD/.venv/bin:$PATH"',
        f"# Options: {_CLI_REFERENCE}",
        "#",
        "# What these commands do not narrow:",
        *_bullet(
            "`cdk bootstrap` itself needs administrator-like credentials in each account: it "
            "creates the CDKToolkit stack, its S3 bucket and its IAM roles."
        ),
        *_bullet(
            f"{EXECUTION_POLICY_NAME} still lets CloudFormation create {ROLE_NAME_PREFIX}* roles "
            "and write their inline policies, so a template that reaches the pipeline can give "
            "such a role more than this policy lists. If your organization has a permissions "
            "boundary, add `--custom-permissions-boundary <policy name>` to each target account's "
            "command: CDK attaches it to the CloudFormation execution role, capping what "
            "CloudFormation may do (not what the roles it creates may do: make the boundary deny "
            "iam:CreateRole and iam:PutRolePolicy without that same boundary, as CDK's "
            f"--example-permissions-boundary does). {_BOUNDARY_GUIDE}"
        ),
        *_bullet("The tooling account keeps AdministratorAccess as its execution policy (see its block)."),
        *_bullet(
            f"Re-running: create-policy fails once {EXECUTION_POLICY_NAME} exists; change it with "
            "`aws iam create-policy-version --set-as-default`. Bootstrap parameters are kept "
            "between runs; pass --no-previous-parameters (and every option again) to drop one."
        ),
        *_bullet(
            f"The policy reads Lambda code from cdk-{CDK_QUALIFIER}-assets-<account>-<region>, "
            "encrypted with the AWS managed key by default; with --bootstrap-customer-key, also "
            "allow kms:Decrypt on that key."
        ),
    ]
    for number, entry in enumerate(plan.accounts, start=1):
        lines += ["", *_account_block(number, entry, plan.toolchain, cdk=cdk)]
    return "\n".join(lines)
