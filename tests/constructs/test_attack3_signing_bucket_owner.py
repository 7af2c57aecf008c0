"""Attack review of c016220 (shared signing bucket): the bucket's name is predictable and global.

``hands-off-signing-<account>-<region>`` replaced a CloudFormation-generated bucket name bound to
the Build role by ``Fn::GetAtt``. S3 bucket names are global: anyone, in any AWS account, can
create ``hands-off-signing-<victim account>-<region>`` first (account ids are not secret). Then the
victim's baseline cannot create it (``BucketAlreadyExists``, the baseline update rolls back), and,
as the README itself describes for a pipeline that upgrades before its baseline, the pipeline
stack still updates and its Build signs in a bucket named so. The Build role's statement names the
bucket by ARN, and an S3 ARN carries no account: nothing ties it to the tooling account, and the
commands do not pass ``--expected-bucket-owner``. With a bucket policy admitting the victim
account, the squatter's bucket receives the service's and the gate runtime's unsigned packages
(exfiltrated), every signed package Signer writes, and serves the signed zip the Build downloads
and synthesizes with: any package the service's profile ever signed passes ``Enforce``
(a replayed older build, or the gate runtime in place of the service's code).

CDK closed the same hole in its bootstrap roles' predictably named staging bucket with an
``aws:ResourceAccount`` / ``s3:ResourceAccount`` condition (aws/aws-cdk#30823). These tests fail
until the Build's grant and commands pin the bucket's owner to the tooling account.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from hands_off.constructs.code_signing import GATES_PACKAGE_NAME, CodeSigning

ACCOUNT = "123456789012"  # tests/constructs/conftest.py's bare stack


def _signing_statements(bare_stack: Callable[..., Stack]) -> list[dict]:
    stack = bare_stack(stack_id="Attack3")
    signing = CodeSigning(stack, "Signing", service_name="orders")
    role = iam.Role(stack, "Build", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"))
    for statement in signing.policy_statements():
        role.add_to_policy(statement)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    found = [
        s
        for s in statements
        if any(a.startswith("s3:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
        and "hands-off-signing-" in str(s["Resource"])
    ]
    assert found, "no S3 statement on the signing bucket"
    return found


def test_build_role_grant_is_bound_to_the_tooling_account(bare_stack: Callable[..., Stack]) -> None:
    """The grant must not reach a same-named bucket of another account."""
    for statement in _signing_statements(bare_stack):
        condition = statement.get("Condition", {}).get("StringEquals", {})
        owner = condition.get("s3:ResourceAccount") or condition.get("aws:ResourceAccount")
        assert owner == ACCOUNT, (
            "the Build role may put/get "
            f"{statement['Resource']} in whichever account owns a bucket of that name: "
            f"no s3:ResourceAccount condition ({statement.get('Condition')})"
        )


def test_commands_pin_the_expected_bucket_owner(bare_stack: Callable[..., Stack]) -> None:
    """The upload and the download must refuse a bucket the tooling account does not own."""
    stack = bare_stack(stack_id="Attack3Commands")
    signing = CodeSigning(stack, "Signing", service_name="orders")
    for name in ("orders", GATES_PACKAGE_NAME):
        for command in signing.commands("build/x.zip", name=name):
            if re.search(r"aws s3api (put|get)-object|aws s3 cp", command):
                assert "--expected-bucket-owner" in command, (
                    f"{command!r} talks to whatever account owns $SIGNING_BUCKET"
                )
