"""Physical names, spelled in one place (pure Python).

Every name a pipeline, a copy, the access stacks and the gate runtime must agree on comes from
here: IAM roles (global per account, so built from names, never cross-stack references), SSM
parameters, alarm names and the ``live`` alias. The gate runtime (``hands_off_gates``) keeps its
own copy of the runtime constants in ``hands_off_gates.contract``, which this module re-exports,
so the library and the runtime cannot drift apart.

Example::

    naming = ServiceNaming(service="orders", tooling_account="111111111111", tooling_region="us-east-1")
    naming.role(RolePurpose.GATE_READER)          # "hands-off-orders-gate-reader"
    naming.gate_input_parameter("Prod-1-Gate")    # "/hands-off/orders-application/gates/Prod-1-Gate"
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hands_off.model.policy import FAST_POLICY, TrafficShape
from hands_off_gates.contract import (
    ALIAS_NAME,
    GATES_NAMESPACE,
    OVERRIDE_USED_METRIC,
    PIPELINE_DIMENSION,
    READER_ROLE_PURPOSE,
    STAGE_DIMENSION,
    UNHEALTHY_COPIES_METRIC,
    WRITER_ROLE_PURPOSE,
)

__all__ = [
    "ACCESS_LOGS_BUCKET_PREFIX",
    "ACCESS_STACK_ID_PREFIX",
    "ALIAS_NAME",
    "BASELINE_LAMBDA_CONFIGS",
    "BASELINE_STACK_NAME",
    "CODEDEPLOY_APPLICATIONS",
    "FAST_LAMBDA_CONFIG_NAME",
    "GATES_NAMESPACE",
    "GATE_FUNCTION_SUFFIXES",
    "GATE_ROLES_STACK_NAME",
    "LAMBDA_APPLICATION_NAME",
    "ORG_PREFIX",
    "OVERRIDE_USED_METRIC",
    "PAGING_TOPIC_NAME",
    "PIPELINE_DIMENSION",
    "RESTORE_MACHINE_SUFFIX",
    "ROLLBACK_ALARMS",
    "SERVER_APPLICATION_NAME",
    "SIGNING_BUCKET_PREFIX",
    "STAGE_DIMENSION",
    "UNHEALTHY_COPIES_METRIC",
    "AlarmKind",
    "RolePurpose",
    "ServiceNaming",
    "SharedGateRole",
    "access_logs_bucket_name",
    "access_stack_id",
    "alarm_name",
    "alarm_name_prefix",
    "baseline_stack_id",
    "gate_roles_stack_id",
    "lambda_deployment_config_name",
    "shared_gate_role_arn",
    "shared_gate_role_name",
    "signing_bucket_name",
]

ORG_PREFIX = "hands-off"
"""Prefix of role names and SSM parameter paths."""

PAGING_TOPIC_NAME = f"{ORG_PREFIX}-paging"
"""Physical name of the paging SNS topic of an account and region, shared by every service there
(``hands_off.stacks.AccountBaseline`` creates it; copies and pipelines build its ARN from it)."""

BASELINE_STACK_NAME = f"{ORG_PREFIX}-baseline"
"""CloudFormation name of the account-region baseline stack (one per account and region)."""

LAMBDA_APPLICATION_NAME = f"{ORG_PREFIX}-lambda"
"""The CodeDeploy application (compute platform ``Lambda``) of an account and region, shared by
every Lambda copy there: each copy's deployment group (named after the copy) lives in it.
``hands_off.stacks.AccountBaseline`` creates it; copies and roles name it (no cross-stack export)."""

SERVER_APPLICATION_NAME = f"{ORG_PREFIX}-server"
"""The CodeDeploy application (compute platform ``Server``) of an account and region, shared by
every EC2 fleet copy there (see :data:`LAMBDA_APPLICATION_NAME`)."""

CODEDEPLOY_APPLICATIONS: dict[str, str] = {
    "Lambda": LAMBDA_APPLICATION_NAME,
    "Server": SERVER_APPLICATION_NAME,
}
"""The shared CodeDeploy application of each compute platform the copies deploy with, by
CloudFormation ``ComputePlatform``. ECS copies use ECS-native deployments (no CodeDeploy), so
there is no ``ECS`` application. Every baseline creates all of them, whichever platforms an app
uses: every app deploys the same ``hands-off-baseline`` template."""

ACCESS_LOGS_BUCKET_PREFIX = f"{ORG_PREFIX}-access-logs"
"""What the name of the server-access-log bucket of an account and region starts with (see
:func:`access_logs_bucket_name`)."""


def access_logs_bucket_name(account_id: str, region: str) -> str:
    """Physical name of the S3 bucket receiving the server access logs of every pipeline's buckets
    in one account and region, e.g. ``hands-off-access-logs-111111111111-us-east-1`` (bucket names
    are global: the account and region make it unique). ``hands_off.stacks.AccountBaseline``
    creates it; the pipelines name it as their buckets' logging destination (no cross-stack
    export). At most 22 + 12 + 1 + the region's length characters: within S3's 63."""
    return f"{ACCESS_LOGS_BUCKET_PREFIX}-{account_id}-{region}"


SIGNING_BUCKET_PREFIX = f"{ORG_PREFIX}-signing"
"""What the name of the code-signing bucket of an account and region starts with (see
:func:`signing_bucket_name`)."""


def signing_bucket_name(account_id: str, region: str) -> str:
    """Physical name of the versioned S3 bucket every pipeline of one account and region signs its
    packages in, e.g. ``hands-off-signing-111111111111-us-east-1`` (bucket names are global: the
    account and region make it unique). ``hands_off.stacks.AccountBaseline`` creates it; each
    pipeline's Build uploads, has AWS Signer sign and downloads under its own ``<service>/`` prefix
    (``hands_off.constructs.code_signing.CodeSigning``), naming it by this name (no cross-stack
    export). At most 17 + 12 + 1 + the region's length characters: within S3's 63."""
    return f"{SIGNING_BUCKET_PREFIX}-{account_id}-{region}"


def lambda_deployment_config_name(shape: TrafficShape, step_percent: int, interval_minutes: int) -> str:
    """Name of the custom Lambda deployment config of an account-region baseline that shifts
    traffic as ``shape``, ``step_percent`` and ``interval_minutes`` say, e.g.
    ``hands-off-lambda-linear-25-percent-every-5-minutes`` or
    ``hands-off-lambda-canary-5-percent-15-minutes`` (CodeDeploy's own configs are
    ``CodeDeployDefault.…``: these cannot clash with them)."""
    every = "every-" if shape is TrafficShape.LINEAR else ""
    unit = "minute" if interval_minutes == 1 else "minutes"
    return f"{LAMBDA_APPLICATION_NAME}-{shape.value}-{step_percent}-percent-{every}{interval_minutes}-{unit}"


FAST_LAMBDA_CONFIG_NAME = lambda_deployment_config_name(
    FAST_POLICY.shape, FAST_POLICY.step_percent, FAST_POLICY.interval_minutes
)
"""The Lambda deployment config of :data:`~hands_off.model.FAST_POLICY` (linear 25% every 5
minutes, which CodeDeploy has no predefined config for):
``hands-off-lambda-linear-25-percent-every-5-minutes``."""

BASELINE_LAMBDA_CONFIGS: dict[tuple[TrafficShape, int, int], str] = {
    (FAST_POLICY.shape, FAST_POLICY.step_percent, FAST_POLICY.interval_minutes): FAST_LAMBDA_CONFIG_NAME,
}
"""The custom Lambda deployment configs every account-region baseline creates, by (shape, percent,
minutes), like CodeDeploy's predefined ones: a copy whose policy has these numbers names the
baseline's config (imported by name) instead of creating its own. A fixed catalog, whichever
policies an app uses: every app deploys the same ``hands-off-baseline`` template."""


GATE_ROLES_STACK_NAME = f"{ORG_PREFIX}-gate-roles"
"""CloudFormation name of the shared gate-roles stack (one per tooling account and region)."""


def gate_roles_stack_id(account_id: str, region: str) -> str:
    """Construct id (and ``cdk deploy`` selector) of the shared gate-roles stack of one tooling
    account and region, e.g. ``HandsOffGateRoles-111111111111-us-east-1``."""
    return f"HandsOffGateRoles-{account_id}-{region}"


class SharedGateRole(enum.StrEnum):
    """The roles every pipeline's gates in one tooling account and region share
    (``hands_off.stacks.GateRoles``), named ``hands-off-gates-<role>-<region>``
    (:func:`shared_gate_role_name`)."""

    CHECKER = "checker"
    """The gate checks function's role: assumes the target accounts' gate-reader roles."""
    HOTFIX = "hotfix"
    """The hotfix function's role: the only one that assumes the target accounts' hotfix-writer roles."""
    MACHINE = "machine"
    """The gate, bake and Restore state machines' role: invokes the gate functions, reads gate inputs."""
    RESTORE_STARTER = "restore-starter"
    """EventBridge's role for the rules that start a Restore machine."""


def shared_gate_role_name(role: SharedGateRole, region: str) -> str:
    """Physical name of a shared gate role of the tooling account's ``region``, e.g.
    ``hands-off-gates-checker-us-east-1`` (IAM names are per account: the region keeps two tooling
    regions of one account apart). At most 31 + the region's length characters: within IAM's 64."""
    return f"{ORG_PREFIX}-gates-{role}-{region}"


def shared_gate_role_arn(account_id: str, region: str, role: SharedGateRole) -> str:
    """ARN of :func:`shared_gate_role_name` in ``account_id`` (built from names: no export)."""
    return f"arn:aws:iam::{account_id}:role/{shared_gate_role_name(role, region)}"


GATE_FUNCTION_SUFFIXES = ("gates", "hotfix")
"""What the names of a pipeline's two gate functions end with (``hands-off-<service>-gates``, the
checks; ``hands-off-<service>-hotfix``): the shared roles' policies name them by these."""

RESTORE_MACHINE_SUFFIX = "restore"
"""What the name of a pipeline's ``Restore`` state machine ends with (``hands-off-<service>-restore``)."""


ACCESS_STACK_ID_PREFIX = "Access-"
"""What the construct id of a service's access stack in one account starts with; the account's
name follows (:func:`access_stack_id`)."""


def access_stack_id(account_name: str) -> str:
    """Construct id of a service's access stack (its IAM roles) in the account named
    ``account_name``, inside the pipeline stage that deploys it first, e.g. ``Access-prod``."""
    return f"{ACCESS_STACK_ID_PREFIX}{account_name}"


def baseline_stack_id(account_id: str, region: str) -> str:
    """Construct id (and ``cdk deploy`` selector) of the baseline stack of one account and region,
    e.g. ``HandsOffBaseline-111111111111-us-east-1``: unique in the app, unlike its stack name."""
    return f"HandsOffBaseline-{account_id}-{region}"


class RolePurpose(enum.StrEnum):
    """The IAM roles of one service, one of each per account (``hands-off-<service>-<purpose>``)."""

    RUNTIME = "runtime"
    CODEDEPLOY = "codedeploy"
    GATE_READER = READER_ROLE_PURPOSE
    GATE_CHECKER = "gate-checker"
    GATE_HOTFIX = "gate-hotfix"
    """Role of the gates' hotfix function (tooling account): may assume the :attr:`HOTFIX` roles only."""
    HOTFIX = WRITER_ROLE_PURPOSE
    """Role in a target account that reads and updates the copies' CodeDeploy deployment groups
    (a hotfix turns their alarm rollback off, the gates turn it back on); only :attr:`GATE_HOTFIX`
    may assume it. The gate runtime derives it from the account's :attr:`GATE_READER` role
    (``hands_off_gates.contract.hotfix_writer_role_arn``)."""
    PIPELINE = "pipeline"
    INTEG_TESTS = "integ-tests"
    INSTANCE = "instance"
    """Instance profile role of a server fleet's hosts (EC2 copies only)."""
    FLEET_DEPLOY = "fleet-deploy"
    """Role the pipeline's CodeDeploy action assumes in a target account (EC2 copies only)."""
    CANARY = "canary"
    """Role the copies' ``live`` aliases are invoked as: by EventBridge Scheduler (the canary, P18)
    and by the pipeline's integration tests (:attr:`INTEG_TESTS` assumes it); it may invoke those
    aliases only."""
    ENDPOINTS = "endpoints"
    """Role Zeta's tests assume to read production endpoint outputs (copies whose endpoint is
    only known once deployed, e.g. behind a load balancer)."""


class AlarmKind(enum.StrEnum):
    """The alarms of one copy, named ``<copy>-<kind>`` (e.g. ``orders-prod-fault-rate``)."""

    FAULT_RATE = "fault-rate"
    LATENCY_P99 = "latency-p99"
    TRAFFIC_ANOMALY = "traffic-anomaly"
    HEALTH = "health"


ROLLBACK_ALARMS: tuple[AlarmKind, ...] = (
    AlarmKind.FAULT_RATE,
    AlarmKind.LATENCY_P99,
    AlarmKind.TRAFFIC_ANOMALY,
)
"""The alarms CodeDeploy reads to stop and roll back a deployment (P11, P12)."""


def alarm_name_prefix(owner: str) -> str:
    """What the name of every alarm of ``owner`` (a copy's name, or a pipeline's) starts with:
    ``<owner>-``. The account's shared paging topic delivers an alarm to the subscriptions of the
    owner whose prefix its name starts with."""
    return f"{owner}-"


def alarm_name(copy: str, kind: AlarmKind) -> str:
    """The name of one alarm of a copy (``copy`` is the copy's name, e.g. its function name)."""
    return f"{alarm_name_prefix(copy)}{kind}"


@dataclass(frozen=True, kw_only=True)
class ServiceNaming:
    """Every physical name of one service's pipeline and copies.

    Args:
        service: the lower-case service name, e.g. ``"orders"``.
        tooling_account: the 12-digit account of the pipeline.
        tooling_region: the pipeline's region.
        prefix: role-name and parameter-path prefix. Default: ``"hands-off"``.
    """

    service: str
    tooling_account: str
    tooling_region: str
    prefix: str = ORG_PREFIX

    @property
    def title(self) -> str:
        """``"orders-api"`` → ``"OrdersApi"``."""
        return "".join(part.capitalize() for part in self.service.split("-"))

    @property
    def stack_id(self) -> str:
        """Default construct id (and stack name) of the pipeline stack, e.g. ``OrdersPipeline``."""
        return f"{self.title}Pipeline"

    @property
    def pipeline(self) -> str:
        """Name of the CodePipeline, e.g. ``orders-application``."""
        return f"{self.service}-application"

    def role(self, purpose: RolePurpose) -> str:
        """Physical name of one of the service's roles, e.g. ``hands-off-orders-gate-reader``."""
        return f"{self.prefix}-{self.service}-{purpose}"

    def role_arn(self, account_id: str, purpose: RolePurpose) -> str:
        """ARN of :meth:`role` in ``account_id``, built from names (no cross-stack reference)."""
        return f"arn:aws:iam::{account_id}:role/{self.role(purpose)}"

    @property
    def override_parameter(self) -> str:
        """SSM parameter a developer writes to override the gates (see README, Gates)."""
        return f"/{self.prefix}/{self.pipeline}/override"

    def gate_input_parameter(self, step_id: str) -> str:
        """SSM parameter holding the input of gate or bake ``step_id`` (e.g. ``Prod-2-Gate``)."""
        return f"/{self.prefix}/{self.pipeline}/gates/{step_id}"

    def gate_input_parameter_arn(self, step_id: str) -> str:
        """ARN of :meth:`gate_input_parameter` in the tooling account and region."""
        return (
            f"arn:aws:ssm:{self.tooling_region}:{self.tooling_account}:parameter"
            f"{self.gate_input_parameter(step_id)}"
        )

    @property
    def pipeline_alarm_prefix(self) -> str:
        """What the names of the pipeline's own paging alarms and messages start with
        (``orders-application-``): the pipeline's paging subscriptions receive only these."""
        return alarm_name_prefix(self.pipeline)

    def gate_function(self, suffix: str) -> str:
        """Physical name of one of the pipeline's gate functions, ``suffix`` one of
        :data:`GATE_FUNCTION_SUFFIXES`: e.g. ``hands-off-orders-gates`` (at most 10 + 41 + 7
        characters: within Lambda's 64)."""
        return f"{self.prefix}-{self.service}-{suffix}"

    @property
    def restore_machine(self) -> str:
        """Physical name of the pipeline's ``Restore`` state machine, e.g. ``hands-off-orders-restore``
        (the shared restore-starter role may start these only)."""
        return f"{self.prefix}-{self.service}-{RESTORE_MACHINE_SUFFIX}"

    def shared_gate_role_arn(self, role: SharedGateRole) -> str:
        """ARN of the tooling account and region's shared gate role ``role``."""
        return shared_gate_role_arn(self.tooling_account, self.tooling_region, role)

    def shared_gate_role_session_arn(self, role: SharedGateRole, function_name: str) -> str:
        """The session of the shared gate role ``role`` that Lambda opens for the function
        ``function_name`` (Lambda names an execution role's session after the function), e.g.
        ``arn:aws:sts::111111111111:assumed-role/hands-off-gates-hotfix-us-east-1/hands-off-orders-hotfix``:
        what a target account's role trusts, so only this service's function may assume it."""
        role_name = shared_gate_role_name(role, self.tooling_region)
        return f"arn:aws:sts::{self.tooling_account}:assumed-role/{role_name}/{function_name}"

    @property
    def gate_failure_alarm(self) -> str:
        """The ``AlarmName`` of the message a failed gate or bake pages with (no CloudWatch alarm
        has it: the gates' EventBridge rule writes it), e.g. ``orders-application-gate-failed``."""
        return f"{self.pipeline_alarm_prefix}gate-failed"

    @property
    def observed_health_alarm(self) -> str:
        """The tooling-account alarm mirroring the copies' health (watched by stage conditions)."""
        return f"{self.pipeline}-observed-health"

    @property
    def package_path(self) -> str:
        """Where the Build leaves the zip to sign."""
        return f"build/{self.service}.zip"

    @property
    def access_stack_name(self) -> str:
        """CloudFormation name of the per-account IAM stack."""
        return f"{self.service}-access"

    @property
    def signing_profile(self) -> str:
        """AWS Signer profile name (letters and digits only)."""
        return f"HandsOff{self.title}"
