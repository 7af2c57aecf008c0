"""Code signing for Lambda packages (P3): an AWS Signer profile, a versioned bucket to sign in,
and the build commands that sign the packaged code before ``cdk synth`` turns it into an asset."""

from __future__ import annotations

import shlex

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_signer as signer
from constructs import Construct

__all__ = ["SIGNED_CODE_DIR_CONTEXT", "CodeSigning", "signing_profile_arn_context"]

SIGNED_CODE_DIR_CONTEXT = "hands-off:signedCodeDir"
"""Context key: a directory holding ``<service>.zip`` signed packages (set by the Build stage)."""


def signing_profile_arn_context(service_name: str) -> str:
    """Context key carrying the signing profile version ARN of ``service_name``."""
    return f"hands-off:{service_name}:signingProfileVersionArn"


class CodeSigning(Construct):
    """A Signer profile and a signing bucket in the tooling account, for one service.

    The Build stage packages the service, uploads the zip here, runs a Signer job, downloads the
    signed zip, and synthesizes with ``-c hands-off:signedCodeDir=...``: the CDK asset *is* the
    signed zip, published unchanged to every target region. Each function carries a
    ``CodeSigningConfig`` in ``Enforce`` mode naming this profile, so unsigned code is rejected.

    :param service_name: lower-case service name.
    :param access_logs: bucket receiving the signing bucket's server access logs.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, service_name: str, access_logs: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        self.service_name = service_name
        self.profile_name = "HandsOff" + "".join(p.capitalize() for p in service_name.split("-"))
        self.profile = signer.SigningProfile(
            self,
            "Profile",
            platform=signer.Platform.AWS_LAMBDA_SHA384_ECDSA,
            signing_profile_name=self.profile_name,
            signature_validity=Duration.days(365 * 3),
        )
        # Signer needs a versioned source bucket.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"signing-{service_name}/",
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(30), noncurrent_version_expiration=Duration.days(7))
            ],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )

    def policy_statements(self) -> list[iam.PolicyStatement]:
        """What the Build role needs to sign: put/get in the bucket, start and read its Signer jobs."""
        stack = Stack.of(self)
        return [
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
                resources=[
                    self.bucket.arn_for_objects(f"unsigned/{self.service_name}.zip"),
                    self.bucket.arn_for_objects(f"signed/{self.service_name}/*"),
                ],
            ),
            iam.PolicyStatement(
                actions=["signer:StartSigningJob", "signer:GetSigningProfile"],
                resources=[self.profile.signing_profile_arn],
            ),
            iam.PolicyStatement(
                actions=["signer:DescribeSigningJob"],
                resources=[stack.format_arn(service="signer", resource="/signing-jobs", resource_name="*")],
            ),
        ]

    def env(self) -> dict[str, str]:
        """Environment variables the signing commands read."""
        return {"SIGNING_BUCKET": self.bucket.bucket_name, "SIGNING_PROFILE": self.profile_name}

    def commands(self, package_zip: str, signed_dir: str = "build/signed") -> list[str]:
        """Shell commands: sign ``package_zip`` into ``<signed_dir>/<service>.zip`` and export the
        profile version ARN for the synth that follows (``$SIGNING_PROFILE_VERSION_ARN``)."""
        svc = self.service_name
        zip_path = shlex.quote(package_zip)
        return [
            f"mkdir -p {signed_dir}",
            'VERSION=$(aws s3api put-object --bucket "$SIGNING_BUCKET" '
            f"--key unsigned/{svc}.zip --body {zip_path} --query VersionId --output text)",
            'JOB=$(aws signer start-signing-job --profile-name "$SIGNING_PROFILE" '
            f'--source "s3={{bucketName=$SIGNING_BUCKET,key=unsigned/{svc}.zip,version=$VERSION}}" '
            f'--destination "s3={{bucketName=$SIGNING_BUCKET,prefix=signed/{svc}/}}" '
            "--query jobId --output text)",
            'aws signer wait successful-signing-job --job-id "$JOB"',
            'SIGNED_KEY=$(aws signer describe-signing-job --job-id "$JOB" '
            "--query signedObject.s3.key --output text)",
            f'aws s3 cp "s3://$SIGNING_BUCKET/$SIGNED_KEY" {signed_dir}/{svc}.zip',
            "export SIGNING_PROFILE_VERSION_ARN=$(aws signer get-signing-profile "
            '--profile-name "$SIGNING_PROFILE" --query profileVersionArn --output text)',
        ]
