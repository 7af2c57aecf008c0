"""The account-region baseline: what every service in one account and region shares, created once.

Today that is:

* the paging topic, ``hands-off-paging`` (:data:`~hands_off.naming.PAGING_TOPIC_NAME`), encrypted
  with one rotated KMS key. Every copy's alarms and every pipeline's own alarms in that account and
  region page it: they import it by an ARN built from its name (no cross-stack export, no key or
  topic per copy), and each service's ``paging_subscriptions()`` subscribe to it from the service's
  stacks, filtered to that service's alarm names (``AlarmNameFilteredSubscription``);
* one CodeDeploy application per compute platform the copies deploy with
  (:data:`~hands_off.naming.CODEDEPLOY_APPLICATIONS`): ``hands-off-lambda`` (Lambda copies) and
  ``hands-off-server`` (EC2 fleets). An application is only a namespace: each copy keeps its own
  deployment group (named after the copy, unique per account and region, checked at synth) and
  imports the application by name, instead of creating one application per copy. ECS copies use
  ECS-native deployments and need none. Every baseline creates both, whichever platforms the app
  uses: all apps (each team synthesizes its own) deploy the same ``hands-off-baseline`` template.
  They are retained if the baseline stack is deleted: deleting an application would delete every
  service's deployment groups in it;
* the server-access-log bucket ``hands-off-access-logs-<account>-<region>``
  (:func:`~hands_off.naming.access_logs_bucket_name`): every pipeline of the account and region
  sends its artifact bucket's server access logs there (under ``artifacts-<service>/``), naming it
  as the logging destination (no cross-stack export, no log bucket per pipeline), and the signing
  bucket below logs there under ``signing/``. S3 delivers server access logs only to a bucket
  of the same account and region as the logged one, hence one per account and region. Every
  baseline creates it, target accounts' included, though only the tooling account's pipelines
  log there today: every app deploys the same ``hands-off-baseline`` template, and an empty
  bucket costs nothing. It is retained if the baseline stack is deleted (the logs are an audit
  trail).
* the code-signing bucket ``hands-off-signing-<account>-<region>``
  (:func:`~hands_off.naming.signing_bucket_name`): every pipeline's Build of the account and region
  uploads its packages there, has AWS Signer sign them and downloads the signed zips
  (``hands_off.constructs.code_signing.CodeSigning``), each under its own ``<service>/`` prefix: its
  role names ``<service>/unsigned/<name>.zip`` and ``<service>/signed/<name>/*`` of this bucket
  only, so one service's Build cannot read or overwrite another's packages (the bucket policy
  grants nothing; it only refuses plain HTTP). Versioned (Signer signs a version of the source),
  SSE-S3, no public access, objects expired (current after 30 days, noncurrent after 7), logged to
  the access-log bucket. Every baseline creates it, target accounts' included, though only the
  tooling account's pipelines sign (same template; an empty bucket costs nothing). It is retained
  if the baseline stack is deleted: the pipelines of the account and region sign in it, and S3
  cannot delete a versioned bucket that still holds versions;
* the custom Lambda deployment configs of the library's standard policies that CodeDeploy has no
  predefined config for (:data:`~hands_off.naming.BASELINE_LAMBDA_CONFIGS`): today
  ``hands-off-lambda-linear-25-percent-every-5-minutes``, the fast policy's (``FAST_POLICY``,
  linear 25% every 5 minutes, the later production waves'). A Lambda copy whose policy has these
  numbers imports the config by name (``deployment_config_for``) instead of creating its own, as it
  uses CodeDeploy's predefined configs; any other policy keeps a config of its own. A fixed catalog,
  like the applications, and retained likewise: deleting a config would break every deployment
  group naming it.

Deploying: like ``cdk bootstrap``, the baselines are deployed **once per account and region, by the
organization, before the pipelines** — the pipelines never deploy them. ``hands_off.run`` adds one
``AccountBaseline`` per account and region the app's stacks page in (every copy's, plus the
pipelines' own), named ``HandsOffBaseline-<account>-<region>`` (stack name ``hands-off-baseline``);
``hands-off bootstrap`` prints, in each account's block, the ``cdk deploy`` of that account's
baselines, right after its ``cdk bootstrap``::

    cdk deploy --exclusively HandsOffBaseline-222222222222-us-west-2 HandsOffBaseline-222222222222-eu-west-1

A copy deployed to an account and region without its baseline fails to create its subscriptions
(the topic does not exist) and its deployment group (the application, or the shared config, does
not exist), so the deploy stops before the copy runs without paging or rollback. A pipeline stack
deployed without its account and region's baseline is expected to fail the same way: S3 refuses a
logging configuration whose target bucket does not exist, so its buckets cannot be created or
updated (and its Build could not upload to the signing bucket).

Upgrading from copies with their own application (one per copy, named after it): deploy the new
baselines first, then let the pipelines deploy. CloudFormation refuses to replace a named
deployment group whose ``ApplicationName`` changed, so the copies' groups have a new logical id:
each copy's next deployment creates its group (same name) in the shared application, then deletes
the old group and its per-copy application. Without the baseline, creating the group fails and
the copy's stack rolls back to the old one (README, Upgrading). Likewise from copies with a
config of their own for the fast policy: with the new baselines deployed first, each copy's next
deployment points its group at the shared config and deletes its own; without them, updating the
group fails (the named config does not exist) and the copy's stack rolls back, nothing lost.

Upgrading from pipelines with their own access-log bucket (``AccessLogs`` in each pipeline stack):
deploy the new baselines first, then let the pipelines deploy. Each pipeline's buckets then log to
the baseline's bucket; its old bucket is retained (``RETAIN``), keeps the logs it holds and
receives no more (delete it by hand once its logs are no longer needed).

Upgrading from pipelines with their own signing bucket (``CodeSigning/Bucket`` in each pipeline
stack): deploy the new baselines first, then let the pipelines deploy. The self-mutation removes
the old bucket, whose deletion policy was ``Delete``: it is expected to fail (a versioned bucket
that Signer used is not empty), CloudFormation then leaves the bucket out of the stack and
completes the update; empty it and delete it by hand (README, Upgrading). Without the baseline,
the next Build fails at its upload, before anything is signed or deployed.

Example::

    app = App()
    OrdersPipeline(app)
    add_account_baselines(app)  # what hands_off.run does after build(app)
"""

from __future__ import annotations

import re

from aws_cdk import Environment, RemovalPolicy, Stack, Stage
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from hands_off.constructs import _once
from hands_off.constructs.alarm_factory import imports_account_paging_topic
from hands_off.model import TrafficShape
from hands_off.naming import (
    BASELINE_LAMBDA_CONFIGS,
    BASELINE_STACK_NAME,
    CODEDEPLOY_APPLICATIONS,
    PAGING_TOPIC_NAME,
    access_logs_bucket_name,
    baseline_stack_id,
    signing_bucket_name,
)

__all__ = ["PAGING_PUBLISHERS", "AccountBaseline", "add_account_baselines", "paging_environments"]

PAGING_PUBLISHERS: dict[str, str] = {
    "cloudwatch.amazonaws.com": "alarm:*",
    "events.amazonaws.com": "rule/*",
}
"""The services that publish to the paging topic (CloudWatch alarm actions, the gates' EventBridge
rule), each with the resources of this account it publishes for (``aws:SourceArn``)."""

_PUBLISHER_SIDS = {"cloudwatch.amazonaws.com": "CloudWatchAlarms", "events.amazonaws.com": "EventBridgeRules"}


class AccountBaseline(Stack):
    """The shared resources of one account and region: the paging topic and its key, the
    CodeDeploy applications, the custom Lambda deployment configs, the server-access-log bucket and
    the code-signing bucket.

    * a KMS key (rotated) that only CloudWatch and EventBridge may use besides the account, and only
      for this topic (``kms:EncryptionContext:aws:sns:topicArn``);
    * the SNS topic ``hands-off-paging``, encrypted with it, TLS only, that CloudWatch alarms and
      EventBridge rules of this account only may publish to (``aws:SourceAccount``,
      ``aws:SourceArn``). It has no subscription of its own: each service subscribes from its
      stacks (see the module docstring).
    * the CodeDeploy applications ``hands-off-lambda`` (compute platform ``Lambda``) and
      ``hands-off-server`` (``Server``), retained on stack deletion (see the module docstring);
      :attr:`codedeploy_applications` holds them by platform;
    * the Lambda deployment configs of :data:`~hands_off.naming.BASELINE_LAMBDA_CONFIGS` (the fast
      policy's, ``hands-off-lambda-linear-25-percent-every-5-minutes``), retained on stack
      deletion; :attr:`lambda_deployment_configs` holds them by name;
    * the server-access-log bucket ``hands-off-access-logs-<account>-<region>`` (SSE-S3, TLS only,
      no public access, retained), that S3 server access logging of this account only may write
      to (``aws:SourceAccount``); :attr:`access_logs` (see :func:`_access_logs_bucket`);
    * the code-signing bucket ``hands-off-signing-<account>-<region>`` (versioned, SSE-S3, TLS only,
      no public access, logged under ``signing/``, objects expired, retained), each pipeline's
      Build confined to its ``<service>/`` keys by its own role; :attr:`signing` (see
      :func:`_signing_bucket`).

    Args:
        scope: the app.
        construct_id: Default: ``HandsOffBaseline-<account>-<region>``.
        account: the 12-digit account id.
        region: the region.
    """

    def __init__(
        self, scope: Construct, construct_id: str | None = None, *, account: str, region: str
    ) -> None:
        super().__init__(
            scope,
            construct_id or baseline_stack_id(account, region),
            env=Environment(account=account, region=region),
            stack_name=BASELINE_STACK_NAME,
            # Every service of the account and region pages through it and deploys into its
            # CodeDeploy applications: deleting it by mistake must take a deliberate step first.
            termination_protection=True,
            description=(
                "hands-off: account-region baseline (the paging topic, CodeDeploy applications, "
                "deployment configs, access-log and signing buckets every service here shares); "
                "deployed once, before the pipelines"
            ),
        )
        # What self.format_arn(service=..., resource=...) makes (arn:<partition>:<service>:<region>:
        # <account>:<resource>, the stack's region and account being the ones given), with the
        # partition read once instead of one format_arn round trip per ARN.
        partition = self.partition

        def arn(service: str, resource: str) -> str:
            return f"arn:{partition}:{service}:{region}:{account}:{resource}"

        topic_arn = arn("sns", PAGING_TOPIC_NAME)
        # Made (and read) once each: every jsii object made or property read is a round trip.
        publishers = {service: iam.ServicePrincipal(service) for service in PAGING_PUBLISHERS}
        self.paging_key = kms.Key(
            self,
            "PagingKey",
            description=f"Encrypts the {PAGING_TOPIC_NAME} topic of this account and region",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # CloudWatch and EventBridge publish to the encrypted topic: SNS uses the key on their
        # behalf, for this topic only (SNS passes the topic ARN as encryption context).
        self.paging_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PagingPublishers",
                principals=list(publishers.values()),
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}},
            )
        )
        self.paging_topic = sns.Topic(
            self,
            "PagingTopic",
            topic_name=PAGING_TOPIC_NAME,
            display_name=f"{PAGING_TOPIC_NAME} ({region})",
            master_key=self.paging_key,
            enforce_ssl=True,
        )
        # Only namespaces for the copies' deployment groups (one per copy, in the copy's stack). An
        # application's deletion deletes its groups, every service's: retained with the stack's.
        self.codedeploy_applications: dict[str, codedeploy.CfnApplication] = {}
        for platform, name in CODEDEPLOY_APPLICATIONS.items():
            application = codedeploy.CfnApplication(
                self, f"{platform}Application", application_name=name, compute_platform=platform
            )
            application.apply_removal_policy(RemovalPolicy.RETAIN)
            self.codedeploy_applications[platform] = application
        # The custom Lambda configs of the library's policies, named (copies import them by name,
        # as CodeDeploy's predefined ones): retained, as a group naming a deleted config breaks.
        self.lambda_deployment_configs: dict[str, codedeploy.CfnDeploymentConfig] = {}
        for (shape, percent, minutes), name in BASELINE_LAMBDA_CONFIGS.items():
            config = codedeploy.CfnDeploymentConfig(
                self,
                f"Lambda{shape.value.capitalize()}{percent}Percent{minutes}MinutesConfig",
                compute_platform="Lambda",
                deployment_config_name=name,
                traffic_routing_config=_traffic_routing(shape, percent, minutes),
            )
            config.apply_removal_policy(RemovalPolicy.RETAIN)
            self.lambda_deployment_configs[name] = config
        paging_topic_arn = self.paging_topic.topic_arn
        for service, resource in PAGING_PUBLISHERS.items():
            self.paging_topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=_PUBLISHER_SIDS[service],
                    principals=[publishers[service]],
                    actions=["sns:Publish"],
                    resources=[paging_topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": account},  # what self.account is
                        "ArnLike": {"aws:SourceArn": arn(service.split(".")[0], resource)},
                    },
                )
            )
        self.access_logs = _access_logs_bucket(self, account=account, region=region)
        self.signing = _signing_bucket(self, self.access_logs, account=account, region=region)


def _access_logs_bucket(stack: Stack, *, account: str, region: str) -> s3.Bucket:
    """The server-access-log bucket of the account and region (see the module docstring): what
    each pipeline stack created for itself before, with the same settings, named so that every
    pipeline here can name it. Its bucket policy admits S3 server access logging for any bucket of
    this account (each source bucket's logging configuration chooses its prefix) and denies every
    request not made over TLS."""
    bucket = s3.Bucket(
        stack,
        "AccessLogs",
        bucket_name=access_logs_bucket_name(account, region),
        # S3 does not deliver server access logs to a bucket encrypted with SSE-KMS.
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=_once.block_all(),
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        # The account's audit trail of its pipelines' buckets: kept if the baseline is deleted.
        removal_policy=RemovalPolicy.RETAIN,
    )
    bucket.add_to_resource_policy(
        iam.PolicyStatement(
            sid="S3ServerAccessLogs",
            principals=[_once.service_principal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects("*")],
            conditions={"StringEquals": {"aws:SourceAccount": account}},
        )
    )
    # Not logged itself (that would need another log bucket, or a loop): cdk-nag's S1 sees that
    # it is the log target of the signing bucket next to it. Reads of it are audited by CloudTrail
    # S3 data events where the organization enables them.
    return bucket


def _signing_bucket(stack: Stack, access_logs: s3.Bucket, *, account: str, region: str) -> s3.Bucket:
    """The code-signing bucket of the account and region (see the module docstring): what each
    pipeline stack created for itself before (``CodeSigning``), with the same settings, named so
    that every pipeline here can name it. Its policy grants nothing (it only refuses plain HTTP):
    each pipeline's Build role may read and write its own ``<service>/`` keys only
    (:meth:`~hands_off.constructs.code_signing.CodeSigning.policy_statements`), and AWS Signer
    acts with the credentials of the Build that starts the job."""
    bucket = s3.Bucket(
        stack,
        "Signing",
        bucket_name=signing_bucket_name(account, region),
        versioned=True,  # AWS Signer signs a version of the source object, never a key alone
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=_once.block_all(),
        lifecycle_rules=[
            # only the Build reads what it uploads and downloads, minutes later
            s3.LifecycleRule(expiration=_once.days(30), noncurrent_version_expiration=_once.days(7))
        ],
        # Shared by every pipeline here: deleting the baseline must not delete (nor fail on) a
        # bucket other stacks' Builds sign in, and a versioned bucket is rarely empty. The same as
        # the baseline's other shared resources; its objects expire by themselves.
        removal_policy=RemovalPolicy.RETAIN,
    )
    # Server access logs under signing/ of the access-log bucket, whose own policy admits S3
    # logging for every bucket of the account (set on the L1: ``server_access_logs_bucket`` would
    # add a second, narrower statement for the same delivery). The Ref orders the creation after
    # the target bucket, the dependency after its policy: S3 refuses a logging target that does
    # not exist.
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=access_logs.bucket_name, log_file_prefix="signing/"
    )
    assert access_logs.policy is not None
    cfn_bucket.node.add_dependency(access_logs.policy.node.default_child)
    return bucket


def _traffic_routing(
    shape: TrafficShape, percent: int, minutes: int
) -> codedeploy.CfnDeploymentConfig.TrafficRoutingConfigProperty:
    """The ``TrafficRoutingConfig`` of a canary or linear Lambda config (what
    ``LambdaDeploymentConfig`` renders for a ``TimeBased…TrafficRouting``)."""
    if shape is TrafficShape.CANARY:
        return codedeploy.CfnDeploymentConfig.TrafficRoutingConfigProperty(
            type="TimeBasedCanary",
            time_based_canary=codedeploy.CfnDeploymentConfig.TimeBasedCanaryProperty(
                canary_interval=minutes, canary_percentage=percent
            ),
        )
    return codedeploy.CfnDeploymentConfig.TrafficRoutingConfigProperty(
        type="TimeBasedLinear",
        time_based_linear=codedeploy.CfnDeploymentConfig.TimeBasedLinearProperty(
            linear_interval=minutes, linear_percentage=percent
        ),
    )


# CDK's string token markers (core/lib/private/encoding.ts): a string token, or a number token
# turned into a string. ``Token.is_unresolved`` of a string, without a jsii round trip per stack.
_STRING_TOKEN = re.compile(r"\$\{Token\[[a-zA-Z0-9:._-]+\]\}|-1\.[0-9]{10,16}e\+289")


def _is_unresolved(value: str) -> bool:
    """``Token.is_unresolved(value)`` for a string (what ``Stack.account`` and ``region`` are)."""
    return "Token[" in value and _STRING_TOKEN.search(value) is not None


def paging_environments(scope: Construct) -> list[tuple[str, str]]:
    """``(account, region)`` of every stack under ``scope`` (stages included) that pages its
    account and region's shared topic, in order of first appearance.

    Only stacks and stages are walked (not the resources in them): cheap on a large app. A stack
    without a concrete account and region is left out (no baseline can be planned for it).
    """
    found: dict[tuple[str, str], None] = {}

    def visit(node: Construct) -> None:
        for child in node.node.children:
            if isinstance(child, Stack):
                account, region = child.account, child.region  # each read is a jsii round trip
                concrete = not (_is_unresolved(account) or _is_unresolved(region))
                if concrete and imports_account_paging_topic(child):
                    found.setdefault((account, region), None)
                visit(child)  # a pipeline stack holds its copies' stages
            elif isinstance(child, Stage):
                visit(child)

    visit(scope)
    return list(found)


def add_account_baselines(app: Construct) -> list[AccountBaseline]:
    """Add one :class:`AccountBaseline` to ``app`` per account and region its stacks page in
    (:func:`paging_environments`), unless the app already has it, and one
    :class:`~hands_off.stacks.gate_roles.GateRoles` per tooling account and region of its
    pipelines (``add_gate_roles``). ``hands_off.run`` calls it after ``build(app)``.

    Returns:
        the baselines added, in order of first use.
    """
    from hands_off.stacks.gate_roles import add_gate_roles  # it imports the pipeline stack

    add_gate_roles(app)  # deployed once with the tooling account's baselines, likewise
    existing = {
        (child.account, child.region) for child in app.node.children if isinstance(child, AccountBaseline)
    }
    return [
        AccountBaseline(app, account=account, region=region)
        for account, region in paging_environments(app)
        if (account, region) not in existing
    ]
