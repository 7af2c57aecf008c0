"""Code signing for Lambda packages (P3): an AWS Signer profile, this service's keys of the
account-region's shared signing bucket, and the build commands that sign the packaged code before
``cdk synth`` turns it into an asset."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_signer as signer
from constructs import Construct

from hands_off.constructs import _once
from hands_off.constructs.copies import copy_stack_context
from hands_off.model import ConfigError
from hands_off.naming import ServiceNaming, signing_bucket_name
from hands_off.package import GATES_ZIP_NAME

__all__ = [
    "GATES_PACKAGE_NAME",
    "SIGNED_CODE_DIR_CONTEXT",
    "CodeSigning",
    "enforced_code_signing_config",
    "gates_code_signing",
    "signed_lambda_code",
    "signed_lambda_package",
    "signing_profile_arn_context",
    "signing_profile_version_arn",
]

GATES_PACKAGE_NAME = GATES_ZIP_NAME.removesuffix(".zip")
"""The name the gate runtime is signed under (``<service>/unsigned/<name>.zip`` in the signing
bucket, then ``<signed dir>/<name>.zip``)."""

SIGNED_CODE_DIR_CONTEXT = "hands-off:signedCodeDir"
"""Context key: a directory holding ``<service>.zip`` signed packages (set by the Build stage)."""


def signing_profile_arn_context(service_name: str) -> str:
    """Context key carrying the signing profile version ARN of ``service_name``."""
    return f"hands-off:{service_name}:signingProfileVersionArn"


def _signing_context(scope: Construct, naming: ServiceNaming) -> tuple[object, object]:
    """The signed-code directory and the profile version ARN the Build stage passed in (context),
    read in one call: the scope's whole context is what ``try_get_context`` reads from (each
    construct's own context overriding its scopes'), and a round trip per key otherwise. For a
    copy's stack, what its stage already read (:func:`~hands_off.constructs.copies.copy_stack_context`):
    no call at all."""
    known = copy_stack_context(scope) if isinstance(scope, Stack) else None
    context: Mapping[str, Any] = known if known is not None else scope.node.get_all_context()
    return context.get(SIGNED_CODE_DIR_CONTEXT), context.get(signing_profile_arn_context(naming.service))


def _profile_version_arn(naming: ServiceNaming, context_value: object) -> str:
    if context_value:
        return str(context_value)
    return (
        f"arn:aws:signer:{naming.tooling_region}:{naming.tooling_account}:"
        f"/signing-profiles/{naming.signing_profile}/local-synth-unsigned"
    )


def signing_profile_version_arn(scope: Construct, naming: ServiceNaming) -> str:
    """The Signer profile version ARN the Build stage passed in (context), or a local placeholder
    that no real profile matches (so a locally synthesized stack can never run unsigned code)."""
    return _profile_version_arn(
        naming, scope.node.try_get_context(signing_profile_arn_context(naming.service))
    )


def _enforced_config(scope: Construct, naming: ServiceNaming, profile_arn: str) -> lambda_.ICodeSigningConfig:
    config = lambda_.CfnCodeSigningConfig(
        scope,
        "CodeSigningConfig",
        allowed_publishers=lambda_.CfnCodeSigningConfig.AllowedPublishersProperty(
            signing_profile_version_arns=[profile_arn]
        ),
        code_signing_policies=lambda_.CfnCodeSigningConfig.CodeSigningPoliciesProperty(
            untrusted_artifact_on_deployment="Enforce"
        ),
        description=f"Only code signed by {naming.signing_profile} may run",
    )
    return lambda_.CodeSigningConfig.from_code_signing_config_arn(
        scope, "CodeSigningConfigRef", config.attr_code_signing_config_arn
    )


def enforced_code_signing_config(scope: Construct, naming: ServiceNaming) -> lambda_.ICodeSigningConfig:
    """A ``CodeSigningConfig`` in ``Enforce`` mode trusting only the service's Signer profile."""
    return _enforced_config(scope, naming, signing_profile_version_arn(scope, naming))


def _signed_code(
    naming: ServiceNaming, code_directory: str, signed_dir: object, signed_arn: object
) -> lambda_.Code:
    if signed_dir and signed_arn:
        signed = Path(str(signed_dir)) / f"{naming.service}.zip"
        if not signed.is_file():
            raise ConfigError(
                SIGNED_CODE_DIR_CONTEXT,
                f"{signed} is missing: the Build stage must sign {naming.package_path} before synth",
            )
        return lambda_.Code.from_asset(str(signed))
    return lambda_.Code.from_asset(code_directory, exclude=["tests", "integ_test.py", "__pycache__"])


def signed_lambda_code(scope: Construct, naming: ServiceNaming, code_directory: str) -> lambda_.Code:
    """The signed package when the Build stage produced one (context), else the source folder."""
    return _signed_code(naming, code_directory, *_signing_context(scope, naming))


def signed_lambda_package(
    scope: Construct, naming: ServiceNaming, code_directory: str
) -> tuple[lambda_.Code, lambda_.ICodeSigningConfig]:
    """:func:`signed_lambda_code` and :func:`enforced_code_signing_config`, reading the context
    once: what one copy of a Lambda service runs."""
    signed_dir, signed_arn = _signing_context(scope, naming)
    code = _signed_code(naming, code_directory, signed_dir, signed_arn)
    return code, _enforced_config(scope, naming, _profile_version_arn(naming, signed_arn))


def gates_code_signing(
    scope: Construct, naming: ServiceNaming
) -> tuple[lambda_.Code | None, lambda_.ICodeSigningConfig]:
    """The gate Lambdas' code and the ``CodeSigningConfig`` they run under (X5, issue 8).

    In the pipeline's Build (the context names the signed directory and the profile version), the
    code is the signed gate runtime (``<signed dir>/hands-off-gates.zip``) and the config is
    ``Enforce``: from the pipeline's first self-mutation on, the gates run only code this service's
    Signer profile signed. A local synth (an administrator's first ``cdk deploy`` of the pipeline,
    before any Build ran) has no signature to offer: the code is ``None`` (the caller bundles the
    installed runtime) and the config only warns, naming the placeholder profile, so that first
    deployment succeeds and the first self-mutation replaces it with signed code under Enforce.

    Returns:
        ``(code, config)``: ``code`` is ``None`` without a signed package.
    """
    signed_dir, signed_arn = _signing_context(scope, naming)
    signed = bool(signed_dir and signed_arn)
    code: lambda_.Code | None = None
    if signed:
        package = Path(str(signed_dir)) / GATES_ZIP_NAME
        if not package.is_file():
            raise ConfigError(
                SIGNED_CODE_DIR_CONTEXT,
                f"{package} is missing: the Build stage must sign the gate runtime "
                f"(python -m hands_off.package --gates) before synth",
            )
        code = lambda_.Code.from_asset(str(package))
    config = lambda_.CfnCodeSigningConfig(
        scope,
        "GatesCodeSigningConfig",
        allowed_publishers=lambda_.CfnCodeSigningConfig.AllowedPublishersProperty(
            signing_profile_version_arns=[_profile_version_arn(naming, signed_arn)]
        ),
        code_signing_policies=lambda_.CfnCodeSigningConfig.CodeSigningPoliciesProperty(
            untrusted_artifact_on_deployment="Enforce" if signed else "Warn"
        ),
        description=(
            f"The {naming.pipeline} gates run only code signed by {naming.signing_profile}"
            if signed
            else f"{naming.pipeline} gates, first deployment: unsigned code warns until the Build signs it"
        ),
    )
    return code, lambda_.CodeSigningConfig.from_code_signing_config_arn(
        scope, "GatesCodeSigningConfigRef", config.attr_code_signing_config_arn
    )


@cache
def _platform() -> signer.Platform:
    """The Signer platform of Lambda packages, read once per process (a round trip each time)."""
    return signer.Platform.AWS_LAMBDA_SHA384_ECDSA


class CodeSigning(Construct):
    """A Signer profile in the tooling account, for one service, and the service's keys of the
    account and region's shared signing bucket.

    The Build stage packages the service, uploads the zip to the signing bucket, runs a Signer job,
    downloads the signed zip, and synthesizes with ``-c hands-off:signedCodeDir=...``: the CDK
    asset *is* the signed zip, published unchanged to every target region. Each function carries a
    ``CodeSigningConfig`` in ``Enforce`` mode naming this profile, so unsigned code is rejected.

    The bucket is not this construct's: the account-region baseline
    (``hands_off.stacks.AccountBaseline``) creates one, ``hands-off-signing-<account>-<region>``
    (:func:`~hands_off.naming.signing_bucket_name`; versioned, as Signer requires, SSE-S3, TLS
    only, logged, objects expired), that every pipeline of the account and region signs in. This
    service works under ``<service>/`` only: ``<service>/unsigned/<name>.zip`` and
    ``<service>/signed/<name>/`` (``name`` the service's or :data:`GATES_PACKAGE_NAME`), and
    :meth:`policy_statements` grant the Build those keys only, so one service's Build can neither
    read nor overwrite another's packages. :attr:`bucket` is the bucket imported by name (no
    resource); :attr:`bucket_name` its name.

    Args:
        service_name: lower-case service name (also the key prefix in the bucket).
        profile_name: the Signer profile's name. Default: ``ServiceNaming.signing_profile``'s rule,
            ``HandsOff<Title>`` (the pipeline passes its naming's).
        bucket_name: the signing bucket. Default: the baseline's of the stack's account and region,
            ``signing_bucket_name(stack.account, stack.region)`` (the pipeline passes its tooling
            account and region's).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        profile_name: str | None = None,
        bucket_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Stack.of(self) is the scope when that is a stack (the pipeline's): no round trip then.
        self._stack = scope if isinstance(scope, Stack) else None
        stack = self._stack or Stack.of(self)
        self.service_name = service_name
        self.profile_name = profile_name or "HandsOff" + "".join(
            p.capitalize() for p in service_name.split("-")
        )
        self.profile = signer.SigningProfile(
            self,
            "Profile",
            platform=_platform(),
            signing_profile_name=self.profile_name,
            signature_validity=_once.days(365 * 3),
        )
        self.bucket_name = bucket_name or signing_bucket_name(stack.account, stack.region)
        """The shared signing bucket's name (what the Build's ``$SIGNING_BUCKET`` is)."""
        self.bucket_owner = stack.account
        """The account the signing bucket must belong to (this stack's, the tooling account): its
        name is predictable and bucket names are global, so the Build's grant is conditioned on
        it (``s3:ResourceAccount``) and its commands pass it (``--expected-bucket-owner``): a
        bucket of that name in another account is refused, never written to or read from."""
        # The baseline's bucket, imported by name: no resource, no cross-stack export.
        self.bucket: s3.IBucket = s3.Bucket.from_bucket_name(self, "Bucket", self.bucket_name)

    def object_keys(self) -> list[str]:
        """The keys of the signing bucket this service's Build writes and reads: for the service's
        package and the gate runtime, ``<service>/unsigned/<name>.zip`` (the upload) and
        ``<service>/signed/<name>/*`` (what Signer writes, named after its job)."""
        return [
            f"{self.service_name}/{key}"
            for name in (self.service_name, GATES_PACKAGE_NAME)
            for key in (f"unsigned/{name}.zip", f"signed/{name}/*")
        ]

    def policy_statements(self) -> list[iam.PolicyStatement]:
        """What the Build role needs to sign: put/get this service's keys of the shared bucket
        (:meth:`object_keys`, by the bucket's name-built ARN), start and read its Signer jobs."""
        stack = self._stack or Stack.of(self)
        bucket_arn = f"arn:{stack.partition}:s3:::{self.bucket_name}"  # what bucket.bucket_arn is
        return [
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
                resources=[f"{bucket_arn}/{key}" for key in self.object_keys()],
                # An S3 ARN names no account: only the bucket of that name this account owns.
                conditions={"StringEquals": {"s3:ResourceAccount": self.bucket_owner}},
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
        return {
            "SIGNING_BUCKET": self.bucket_name,
            "SIGNING_BUCKET_OWNER": self.bucket_owner,
            "SIGNING_PROFILE": self.profile_name,
        }

    def commands(
        self, package_zip: str, signed_dir: str = "build/signed", *, name: str | None = None
    ) -> list[str]:
        """Shell commands: sign ``package_zip`` into ``<signed_dir>/<name>.zip`` and export the
        profile version ARN for the synth that follows (``$SIGNING_PROFILE_VERSION_ARN``). They
        upload to ``<service>/unsigned/<name>.zip`` of ``$SIGNING_BUCKET`` and have Signer write
        under ``<service>/signed/<name>/``: the keys :meth:`policy_statements` grant, in the
        bucket ``$SIGNING_BUCKET_OWNER`` owns (refused otherwise).

        Args:
            name: what the package is: the service's (default) or :data:`GATES_PACKAGE_NAME`.
        """
        svc = name or self.service_name
        if svc not in (self.service_name, GATES_PACKAGE_NAME):
            raise ValueError(f"CodeSigning.commands: name {svc!r} is neither the service's nor the gates'")
        zip_path = shlex.quote(package_zip)
        unsigned = f"{self.service_name}/unsigned/{svc}.zip"
        signed = f"{self.service_name}/signed/{svc}/"
        return [
            f"mkdir -p {signed_dir}",
            'VERSION=$(aws s3api put-object --bucket "$SIGNING_BUCKET" --expected-bucket-owner '
            f'"$SIGNING_BUCKET_OWNER" --key {unsigned} --body {zip_path} --query VersionId --output text)',
            'JOB=$(aws signer start-signing-job --profile-name "$SIGNING_PROFILE" '
            f'--source "s3={{bucketName=$SIGNING_BUCKET,key={unsigned},version=$VERSION}}" '
            f'--destination "s3={{bucketName=$SIGNING_BUCKET,prefix={signed}}}" '
            "--query jobId --output text)",
            'aws signer wait successful-signing-job --job-id "$JOB"',
            'SIGNED_KEY=$(aws signer describe-signing-job --job-id "$JOB" '
            "--query signedObject.s3.key --output text)",
            'aws s3api get-object --bucket "$SIGNING_BUCKET" --expected-bucket-owner "$SIGNING_BUCKET_OWNER" '
            f'--key "$SIGNED_KEY" {signed_dir}/{svc}.zip > /dev/null',
            "export SIGNING_PROFILE_VERSION_ARN=$(aws signer get-signing-profile "
            '--profile-name "$SIGNING_PROFILE" --query profileVersionArn --output text)',
        ]
