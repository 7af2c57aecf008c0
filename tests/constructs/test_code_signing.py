"""CodeSigning alone: the Signer profile, the account-region's shared signing bucket (by name), the
Build's permissions scoped to this service's keys of it, and the helpers that wire signed code and
an enforced CodeSigningConfig into a copy."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Capture, Template

from hands_off.constructs.code_signing import (
    GATES_PACKAGE_NAME,
    SIGNED_CODE_DIR_CONTEXT,
    CodeSigning,
    enforced_code_signing_config,
    gates_code_signing,
    signed_lambda_code,
    signing_profile_arn_context,
    signing_profile_version_arn,
)
from hands_off.model import ConfigError
from hands_off.naming import ServiceNaming, signing_bucket_name

SERVICE = "orders-api"
NAMING = ServiceNaming(service=SERVICE, tooling_account="111111111111", tooling_region="us-east-1")
SIGNED_ARN = "arn:aws:signer:us-east-1:111111111111:/signing-profiles/HandsOffOrdersApi/AbCdEf1234"
PLACEHOLDER = "arn:aws:signer:us-east-1:111111111111:/signing-profiles/HandsOffOrdersApi/local-synth-unsigned"


class Signing:
    def __init__(self, bare_stack: Callable[..., Stack]) -> None:
        self.stack = bare_stack()
        self.signing = CodeSigning(self.stack, "Signing", service_name=SERVICE)
        # The statements as the Build role would carry them.
        self.build_role = iam.Role(
            self.stack, "Build", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com")
        )
        for statement in self.signing.policy_statements():
            self.build_role.add_to_policy(statement)
        self.template = Template.from_stack(self.stack)

    def id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)


@pytest.fixture(scope="module")
def built(bare_stack: Callable[..., Stack]) -> Signing:
    return Signing(bare_stack)


# ---------------------------------------------------------------------------- CodeSigning


def test_one_signer_profile_for_lambda(built: Signing) -> None:
    built.template.resource_count_is("AWS::Signer::SigningProfile", 1)
    built.template.has_resource_properties(
        "AWS::Signer::SigningProfile",
        {
            "PlatformId": "AWSLambda-SHA384-ECDSA",
            "ProfileName": "HandsOffOrdersApi",
            "SignatureValidityPeriod": {"Type": "DAYS", "Value": 3 * 365},
        },
    )


def test_profile_name_is_the_one_naming_spells(built: Signing) -> None:
    # The CodeSigningConfig of every copy names the profile through ServiceNaming: they must agree.
    assert built.signing.profile_name == NAMING.signing_profile


def test_the_signing_bucket_is_the_account_regions_shared_one_by_name(built: Signing) -> None:
    """The baseline creates it (versioned, logged, ...): the pipeline stack has no bucket of its own."""
    stack_name = signing_bucket_name("123456789012", "eu-west-1")  # bare_stack's account and region
    assert stack_name == "hands-off-signing-123456789012-eu-west-1"
    assert built.signing.bucket_name == stack_name
    assert built.stack.resolve(built.signing.bucket.bucket_name) == stack_name
    built.template.resource_count_is("AWS::S3::Bucket", 0)
    built.template.resource_count_is("AWS::S3::BucketPolicy", 0)


def test_the_bucket_name_can_be_given(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    signing = CodeSigning(stack, "Signing", service_name=SERVICE, bucket_name="my-signing-bucket")
    assert signing.bucket_name == "my-signing-bucket"
    assert stack.resolve(signing.env()["SIGNING_BUCKET"]) == "my-signing-bucket"


def test_build_statements_are_scoped_to_this_service(built: Signing, flat: Callable[[Any], Any]) -> None:
    statements = Capture()
    built.template.has_resource_properties(
        "AWS::IAM::Policy",
        {"Roles": [{"Ref": built.id(built.build_role)}], "PolicyDocument": {"Statement": statements}},
    )
    by_action = {
        " ".join(s["Action"] if isinstance(s["Action"], list) else [s["Action"]]): (
            sorted(flat(s["Resource"])) if isinstance(s["Resource"], list) else flat(s["Resource"])
        )
        for s in statements.as_array()
    }
    bucket = "arn:aws:s3:::hands-off-signing-123456789012-eu-west-1"  # the region names the partition
    profile = "${" + built.id(built.signing.profile) + ".Arn}"
    assert by_action == {
        # this service's keys of the shared bucket only: another pipeline's Build signs beside it
        "s3:GetObject s3:GetObjectVersion s3:PutObject": sorted(
            f"{bucket}/{SERVICE}/{key}"
            for name in (SERVICE, GATES_PACKAGE_NAME)
            for key in (f"unsigned/{name}.zip", f"signed/{name}/*")
        ),
        "signer:GetSigningProfile signer:StartSigningJob": profile,
        "signer:DescribeSigningJob": "arn:aws:signer:eu-west-1:123456789012:/signing-jobs/*",
    }
    assert all(s["Effect"] == "Allow" for s in statements.as_array())


def test_env_names_the_bucket_and_profile(built: Signing) -> None:
    env = built.stack.resolve(built.signing.env())
    assert env == {
        "SIGNING_BUCKET": "hands-off-signing-123456789012-eu-west-1",
        "SIGNING_BUCKET_OWNER": "123456789012",
        "SIGNING_PROFILE": "HandsOffOrdersApi",
    }


def test_commands_sign_into_the_signed_dir_and_export_the_profile_version(built: Signing) -> None:
    commands = built.signing.commands("build/my package.zip", signed_dir="out/signed")
    assert commands[0] == "mkdir -p out/signed"
    assert f"--body {shlex.quote('build/my package.zip')} " in commands[1]
    assert any(f"--key {SERVICE}/unsigned/{SERVICE}.zip" in c for c in commands)
    assert any(f"key={SERVICE}/unsigned/{SERVICE}.zip," in c for c in commands)
    assert any(f"prefix={SERVICE}/signed/{SERVICE}/}}" in c for c in commands)
    assert commands[-2].endswith(f"out/signed/{SERVICE}.zip > /dev/null")
    assert commands[-1].startswith("export SIGNING_PROFILE_VERSION_ARN=")


# ----------------------------------------------------------------- profile version ARN


def test_signing_profile_version_arn_without_context_is_a_placeholder(
    bare_stack: Callable[..., Stack],
) -> None:
    # A locally synthesized stack names a profile version no real signature matches.
    assert signing_profile_version_arn(bare_stack(), NAMING) == PLACEHOLDER


def test_signing_profile_version_arn_from_context(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack({signing_profile_arn_context(SERVICE): SIGNED_ARN})
    assert signing_profile_arn_context(SERVICE) == "hands-off:orders-api:signingProfileVersionArn"
    assert signing_profile_version_arn(stack, NAMING) == SIGNED_ARN


def test_another_services_context_is_not_read(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack({signing_profile_arn_context("catalog"): SIGNED_ARN})
    assert signing_profile_version_arn(stack, NAMING) == PLACEHOLDER


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param({}, PLACEHOLDER, id="local-synth"),
        pytest.param({signing_profile_arn_context(SERVICE): SIGNED_ARN}, SIGNED_ARN, id="build-stage"),
    ],
)
def test_enforced_code_signing_config_is_enforce_and_trusts_only_the_profile(
    bare_stack: Callable[..., Stack], context: dict[str, str], expected: str
) -> None:
    stack = bare_stack(context)
    config = enforced_code_signing_config(stack, NAMING)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::Lambda::CodeSigningConfig", 1)
    t.has_resource_properties(
        "AWS::Lambda::CodeSigningConfig",
        {
            "AllowedPublishers": {"SigningProfileVersionArns": [expected]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
        },
    )
    [config_id] = t.find_resources("AWS::Lambda::CodeSigningConfig")
    assert stack.resolve(config.code_signing_config_arn) == {
        "Fn::GetAtt": [config_id, "CodeSigningConfigArn"]
    }


# ------------------------------------------------------------------------- signed code


def test_signed_lambda_code_without_context_is_the_source_folder(
    bare_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    code = signed_lambda_code(bare_stack(), NAMING, str(tmp_path))
    assert isinstance(code, lambda_.AssetCode)
    assert code.path == str(tmp_path)


def test_signed_lambda_code_needs_both_context_values(
    bare_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    # GIVEN a signed directory but no profile version WHEN code is read THEN the source folder is used
    stack = bare_stack({SIGNED_CODE_DIR_CONTEXT: str(tmp_path / "signed")})
    code = signed_lambda_code(stack, NAMING, str(tmp_path))
    assert isinstance(code, lambda_.AssetCode)
    assert code.path == str(tmp_path)


def test_signed_lambda_code_is_the_signed_zip(bare_stack: Callable[..., Stack], tmp_path: Path) -> None:
    signed = tmp_path / f"{SERVICE}.zip"
    signed.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    stack = bare_stack(
        {SIGNED_CODE_DIR_CONTEXT: str(tmp_path), signing_profile_arn_context(SERVICE): SIGNED_ARN}
    )
    code = signed_lambda_code(stack, NAMING, "does/not/matter")
    assert isinstance(code, lambda_.AssetCode)
    assert code.path == str(signed)


def test_signed_lambda_code_raises_when_the_signed_zip_is_missing(
    bare_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    # GIVEN the Build stage said it signed, but the zip is not there
    stack = bare_stack(
        {SIGNED_CODE_DIR_CONTEXT: str(tmp_path), signing_profile_arn_context(SERVICE): SIGNED_ARN}
    )
    # WHEN the code is read THEN a ConfigError names the context key, the missing file and the fix
    with pytest.raises(ConfigError) as raised:
        signed_lambda_code(stack, NAMING, "does/not/matter")
    assert raised.value.field == SIGNED_CODE_DIR_CONTEXT
    assert str(tmp_path / f"{SERVICE}.zip") in raised.value.message
    assert NAMING.package_path in raised.value.message


# ------------------------------------------------------------------------ the gate runtime


def _gates_config(template: Template) -> dict[str, Any]:
    [(_, config)] = template.find_resources("AWS::Lambda::CodeSigningConfig").items()
    return dict(config["Properties"])


def test_gates_signed_by_the_build_run_only_signed_code(
    bare_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    # GIVEN the Build signed the gate runtime
    signed = tmp_path / "hands-off-gates.zip"
    signed.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    stack = bare_stack(
        {SIGNED_CODE_DIR_CONTEXT: str(tmp_path), signing_profile_arn_context(SERVICE): SIGNED_ARN}
    )
    # WHEN the gates' code and config are made
    code, config = gates_code_signing(stack, NAMING)
    # THEN the code is the signed zip and the config enforces the service's profile version
    assert isinstance(code, lambda_.AssetCode)
    assert code.path == str(signed)
    props = _gates_config(Template.from_stack(stack))
    assert props["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Enforce"}
    assert props["AllowedPublishers"] == {"SigningProfileVersionArns": [SIGNED_ARN]}
    [config_id] = Template.from_stack(stack).find_resources("AWS::Lambda::CodeSigningConfig")
    assert stack.resolve(config.code_signing_config_arn) == {
        "Fn::GetAtt": [config_id, "CodeSigningConfigArn"]
    }


def test_gates_of_a_local_synth_warn_and_bundle_the_installed_runtime(
    bare_stack: Callable[..., Stack],
) -> None:
    # GIVEN no Build context (an administrator's first cdk deploy)
    stack = bare_stack()
    code, _ = gates_code_signing(stack, NAMING)
    # THEN no signed code is offered and the config only warns (else the first deploy would fail)
    assert code is None
    props = _gates_config(Template.from_stack(stack))
    assert props["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert props["AllowedPublishers"] == {"SigningProfileVersionArns": [PLACEHOLDER]}


def test_gates_signed_dir_without_the_gates_zip_is_a_config_error(
    bare_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    stack = bare_stack(
        {SIGNED_CODE_DIR_CONTEXT: str(tmp_path), signing_profile_arn_context(SERVICE): SIGNED_ARN}
    )
    with pytest.raises(ConfigError) as raised:
        gates_code_signing(stack, NAMING)
    assert raised.value.field == SIGNED_CODE_DIR_CONTEXT
    assert str(tmp_path / "hands-off-gates.zip") in raised.value.message
    assert "python -m hands_off.package --gates" in raised.value.message


def test_commands_sign_the_gate_runtime_under_its_own_name(built: Signing) -> None:
    commands = built.signing.commands("build/hands-off-gates.zip", name=GATES_PACKAGE_NAME)
    assert any(f"--key {SERVICE}/unsigned/hands-off-gates.zip" in c for c in commands)
    assert any(f"prefix={SERVICE}/signed/hands-off-gates/}}" in c for c in commands)
    assert commands[-2].endswith("build/signed/hands-off-gates.zip > /dev/null")
    with pytest.raises(ValueError, match="neither the service's nor the gates'"):
        built.signing.commands("x.zip", name="another-service")


# ------------------------------------------------------------------ one bucket, many services


def test_two_services_share_the_bucket_name_but_not_a_key(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    orders = CodeSigning(stack, "Orders", service_name="orders")
    catalog = CodeSigning(stack, "Catalog", service_name="catalog")
    assert orders.bucket_name == catalog.bucket_name

    def keys(signing: CodeSigning) -> set[str]:
        [s3_statement] = [s for s in signing.policy_statements() if "s3:PutObject" in s.actions]
        arns = [str(stack.resolve(r)) for r in s3_statement.resources]
        return {a.split(f":s3:::{signing.bucket_name}/", 1)[1] for a in arns}

    assert keys(orders) == {
        "orders/unsigned/orders.zip",
        "orders/signed/orders/*",
        f"orders/unsigned/{GATES_PACKAGE_NAME}.zip",
        f"orders/signed/{GATES_PACKAGE_NAME}/*",
    }
    assert all(k.startswith("catalog/") for k in keys(catalog))


def test_the_commands_run_against_the_prefixed_keys(built: Signing, tmp_path: Path) -> None:
    """The shell as the Build runs it, ``aws`` replaced by a recorder answering as AWS would."""
    import os
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "aws"
    fake.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {shlex.quote(str(calls))}\n'
        'case "$1 $2" in\n'
        '  "s3api put-object") echo v1 ;;\n'
        '  "signer start-signing-job") echo job1 ;;\n'
        f'  "signer describe-signing-job") echo {SERVICE}/signed/{SERVICE}/job1.zip ;;\n'
        '  "signer get-signing-profile") echo arn:profile/v1 ;;\n'
        '  "s3api get-object") touch "${@: -1}" ;;\n'
        "esac\n"
    )
    fake.chmod(0o755)
    package = tmp_path / "pkg.zip"
    package.write_bytes(b"zip")
    script = "\n".join(built.signing.commands(str(package), signed_dir=str(tmp_path / "signed")))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SIGNING_BUCKET": "hands-off-signing-123456789012-eu-west-1",
        "SIGNING_BUCKET_OWNER": "123456789012",
        "SIGNING_PROFILE": "HandsOffOrdersApi",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + '\necho "$SIGNING_PROFILE_VERSION_ARN"'],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "arn:profile/v1"
    bucket = "hands-off-signing-123456789012-eu-west-1"
    lines = calls.read_text().splitlines()
    assert lines[0] == (
        f"s3api put-object --bucket {bucket} --expected-bucket-owner 123456789012 "
        f"--key {SERVICE}/unsigned/{SERVICE}.zip --body {package} --query VersionId --output text"
    )
    assert (
        f"--source s3={{bucketName={bucket},key={SERVICE}/unsigned/{SERVICE}.zip,version=v1}} "
        f"--destination s3={{bucketName={bucket},prefix={SERVICE}/signed/{SERVICE}/}}"
    ) in lines[1]
    assert (
        f"s3api get-object --bucket {bucket} --expected-bucket-owner 123456789012 "
        f"--key {SERVICE}/signed/{SERVICE}/job1.zip {tmp_path}/signed/{SERVICE}.zip"
    ) in lines
    assert (tmp_path / "signed" / f"{SERVICE}.zip").is_file()
