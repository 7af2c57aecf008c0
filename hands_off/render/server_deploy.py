"""Pipeline steps for copies that are not Lambda functions: the CodeDeploy server deployment after
an EC2 fleet's stack, and the Zeta tests' endpoints read from the production stacks' outputs.

:class:`ServerDeployStep` is a CDK Pipelines ``Step`` that produces a CodePipeline
``CodeDeployServerDeployAction`` in the copy's account and region: it deploys the revision the
Build left in its revision directory to the copy's own deployment group (each wave keeps its own
groups), assuming the account's ``fleet-deploy`` role (see ``ServiceAccessStack``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import IAnyProducer, IResolveContext, Lazy, Stack, pipelines
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as cp_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from hands_off.constructs.copies import ServerDeployment
from hands_off.deployment import Deployment
from hands_off.naming import RolePurpose, ServiceNaming

__all__ = ["ServerDeployStep", "grant_revision_reads", "stack_endpoint_commands", "stack_endpoint_env"]


@jsii.implements(pipelines.ICodePipelineActionFactory)
class ServerDeployStep(pipelines.Step):
    """Deploy ``revision`` to a copy's CodeDeploy server deployment group (after its stack).

    Example::

        step = ServerDeployStep("Prod-1-Deploy", revision=synth.add_output_directory("build/revision"),
                                target=ServerDeployment.in_shared_application("inventory-prod"),
                                deployment=deployment, naming=naming)
        wave.add_stage(stage, post=[step])

    Args:
        step_id: the action's name, unique in its stage.
        revision: the Build's revision directory (``appspec.yml`` at its root).
        target: the copy's deployment group and the application it is in (the account-region
            baseline's shared ``hands-off-server``).
        deployment: the copy (its account and region).
        naming: names the target account's ``fleet-deploy`` role the action assumes.
    """

    def __init__(
        self,
        step_id: str,
        *,
        revision: pipelines.FileSet,
        target: ServerDeployment,
        deployment: Deployment,
        naming: ServiceNaming,
    ) -> None:
        super().__init__(step_id)
        self.revision = revision
        self.target = target
        self.account = deployment.target.account.account_id
        self.region = deployment.target.region
        self.role_arn = naming.role_arn(self.account, RolePurpose.FLEET_DEPLOY)
        self._add_dependency_file_set(revision)

    def produce_action(
        self, stage: codepipeline.IStage, options: pipelines.ProduceActionOptions
    ) -> pipelines.CodePipelineActionFactoryResult:
        """One ``CodeDeployServerDeployAction`` against the imported group, with the target
        account's role. The application is imported by its ARN in the copy's account and region
        (by name it would be the pipeline's): the baseline there created it."""
        scope = options.scope
        name = options.action_name
        application = codedeploy.ServerApplication.from_server_application_arn(
            scope,
            f"{name}Application",
            f"arn:aws:codedeploy:{self.region}:{self.account}:application:{self.target.application_name}",
        )
        group = codedeploy.ServerDeploymentGroup.from_server_deployment_group_attributes(
            scope,
            f"{name}Group",
            application=application,
            deployment_group_name=self.target.deployment_group_name,
        )
        # Created by the account's access stack in a pipeline stage, after the pipeline stack: the
        # artifact buckets trust its account instead of naming it (see grant_revision_reads).
        role = iam.Role.from_role_arn(scope, f"{name}Role", self.role_arn, mutable=False)
        stage.add_action(
            cp_actions.CodeDeployServerDeployAction(
                action_name=name,
                run_order=options.run_order,
                deployment_group=group,
                input=options.artifacts.to_code_pipeline(self.revision),
                role=role,
            )
        )
        return pipelines.CodePipelineActionFactoryResult(run_orders_consumed=1)


_RESOLVER = """ENDPOINTS="$(python3 - <<'PY'
import os, sys
import boto3
from botocore.exceptions import ClientError
found = []
for item in os.environ["ENDPOINT_STACKS"].split(","):
    region, account, stack = item.split(":")
    role = f"arn:aws:iam::{account}:role/{os.environ['ENDPOINT_ROLE']}"
    creds = boto3.client("sts").assume_role(RoleArn=role, RoleSessionName="zeta-endpoints")["Credentials"]
    cfn = boto3.client("cloudformation", region_name=region, aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    try:
        outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        print(f"SKIP {stack} in {region}: not deployed yet", file=sys.stderr)
        continue
    values = [o["OutputValue"] for o in outputs if o["OutputKey"] == os.environ["ENDPOINT_OUTPUT"]]
    if not values:
        sys.exit(f"{stack} in {region} has no output {os.environ['ENDPOINT_OUTPUT']}")
    found.append(values[0])
print(",".join(found))
PY
)" && export ENDPOINTS"""


def stack_endpoint_env(
    naming: ServiceNaming, deployments: Sequence[Deployment], output_key: str
) -> dict[str, str]:
    """The environment :func:`stack_endpoint_commands` reads: each production copy's stack
    (``region:account:stack``), its endpoint output's key and the role to read it with."""
    return {
        "ENDPOINT_STACKS": ",".join(
            f"{d.target.region}:{d.target.account.account_id}:{d.stack_name}" for d in deployments
        ),
        "ENDPOINT_OUTPUT": output_key,
        "ENDPOINT_ROLE": naming.role(RolePurpose.ENDPOINTS),
    }


def stack_endpoint_commands(test_commands: Sequence[str]) -> list[str]:
    """Zeta's commands for copies whose endpoint is only known once deployed: read each production
    copy's endpoint output (assuming the account's ``endpoints`` role; a stack not deployed yet is
    skipped, as Zeta skips a Lambda copy not deployed yet), then run ``test_commands`` with
    ``$ENDPOINTS`` — or skip them when no production copy exists yet (the first rollout)."""
    tests = " && ".join(test_commands) or "true"
    return [
        _RESOLVER,
        f'if [ -n "$ENDPOINTS" ]; then {tests}; else echo "SKIP: no production copy deployed yet"; fi',
    ]


@jsii.implements(IAnyProducer)
class _WithoutPrincipals:
    """A resource policy as CDK renders it, without the ``drop`` principals (a statement left with
    no principal goes): resolved at synth, once every grant is in."""

    def __init__(self, document: Any, drop: frozenset[str]) -> None:
        self._document = document
        self._drop = drop

    def produce(self, context: IResolveContext) -> Any:
        document = context.resolve(self._document)
        statements = []
        for statement in document["Statement"]:
            principal = statement.get("Principal")
            aws = principal.get("AWS") if isinstance(principal, dict) else None
            if aws is None:
                statements.append(statement)
                continue
            kept = [
                p
                for p in (aws if isinstance(aws, list) else [aws])
                if not (isinstance(p, str) and p in self._drop)
            ]
            if kept:
                statements.append(
                    {**statement, "Principal": {**principal, "AWS": kept if len(kept) > 1 else kept[0]}}
                )
        return {**document, "Statement": statements}


def grant_revision_reads(
    pipeline: pipelines.CodePipeline, fleets: Sequence[tuple[str, str]], naming: ServiceNaming
) -> None:
    """Let each ``(account, region)`` holding a server fleet read (and decrypt) the revisions in
    the pipeline's artifact bucket of that region: the CodeDeploy action's role and the hosts'
    agent download them cross-account.

    The bucket and its key trust the *account*, as AWS documents for cross-account CodeDeploy, and
    no longer name the ``fleet-deploy`` role CDK's action grants add: that role is created by the
    account's access stack in a pipeline stage, *after* the pipeline stack and its cross-region
    support stacks, and a bucket or key policy naming a role that does not exist yet fails to
    deploy. Within the account, only the access stack's ``fleet-deploy`` and ``instance`` roles
    are allowed the read (their own policies, limited to the tooling account's buckets)."""
    code_pipeline = pipeline.pipeline
    home = Stack.of(code_pipeline).region
    drop = frozenset(naming.role_arn(account, RolePurpose.FLEET_DEPLOY) for account, _ in fleets)
    buckets: dict[str, s3.IBucket] = {}
    for account, region in fleets:
        bucket = (
            code_pipeline.artifact_bucket
            if region == home
            else code_pipeline.cross_region_support[region].replication_bucket
        )
        bucket.grant_read(iam.AccountPrincipal(account))
        buckets[region] = bucket
    for bucket in buckets.values():
        policy = bucket.policy
        if policy is not None:
            cfn_policy = policy.node.default_child
            assert isinstance(cfn_policy, s3.CfnBucketPolicy)
            cfn_policy.policy_document = Lazy.uncached_any(
                _WithoutPrincipals(cfn_policy.policy_document, drop)
            )
        key = bucket.encryption_key
        cfn_key = key.node.default_child if key is not None else None
        # A replication bucket's key is known by its alias: the key is the support stack's only one.
        keys = (
            [cfn_key]
            if isinstance(cfn_key, kms.CfnKey)
            else [c for c in Stack.of(bucket).node.find_all() if isinstance(c, kms.CfnKey)]
        )
        for cfn in keys:
            cfn.key_policy = Lazy.uncached_any(_WithoutPrincipals(cfn.key_policy, drop))
