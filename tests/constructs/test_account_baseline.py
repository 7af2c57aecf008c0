"""Issue 9: the account-region baseline (one paging topic and key per account and region, one
CodeDeploy application per compute platform, the custom Lambda deployment config of the fast
policy and one server-access-log bucket, shared by every service there) and who creates it
(``hands_off.run``, once per account and region)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Aws, Environment, Stack, Stage, Token
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from hands_off.constructs.alarm_factory import AlarmFactory, account_paging_topic
from hands_off.model import FAST_POLICY, TrafficShape
from hands_off.nag import apply_nag
from hands_off.naming import (
    BASELINE_LAMBDA_CONFIGS,
    CODEDEPLOY_APPLICATIONS,
    FAST_LAMBDA_CONFIG_NAME,
    LAMBDA_APPLICATION_NAME,
    SERVER_APPLICATION_NAME,
    access_logs_bucket_name,
    signing_bucket_name,
)
from hands_off.runner import run
from hands_off.stacks import AccountBaseline, add_account_baselines
from hands_off.stacks.account_baseline import _is_unresolved, paging_environments
from hands_off.testing import app_context
from tests.constructs.conftest import ROOT
from tests.round_trips import round_trips

ACCOUNT, REGION = "444455556666", "eu-west-1"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:hands-off-paging"


@dataclass
class Built:
    stack: AccountBaseline
    template: dict[str, Any]
    outdir: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    outdir = tmp_path_factory.mktemp("baseline")
    app = App(context=app_context(ROOT / "cdk.json"), outdir=str(outdir))
    stack = AccountBaseline(app, account=ACCOUNT, region=REGION)
    apply_nag(app)
    app.synth()
    return Built(stack, json.loads((outdir / f"{stack.artifact_id}.template.json").read_text()), outdir)


def resources(built: Built, kind: str) -> list[dict[str, Any]]:
    return [r for r in built.template["Resources"].values() if r["Type"] == kind]


def bucket_named(built: Built, name: str) -> tuple[str, dict[str, Any]]:
    """The logical id and resource of the baseline's bucket called ``name``."""
    [(bucket_id, bucket)] = [
        (k, r)
        for k, r in built.template["Resources"].items()
        if r["Type"] == "AWS::S3::Bucket" and r["Properties"]["BucketName"] == name
    ]
    return bucket_id, bucket


def policy_of(built: Built, bucket_id: str) -> list[dict[str, Any]]:
    [policy] = [
        r
        for r in resources(built, "AWS::S3::BucketPolicy")
        if r["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_one_rotated_key_and_one_named_topic_encrypted_with_it(built: Built) -> None:
    assert sorted(r["Type"] for r in built.template["Resources"].values()) == [
        "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::DeploymentConfig",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
    ]
    [key] = resources(built, "AWS::KMS::Key")
    [topic] = resources(built, "AWS::SNS::Topic")
    assert key["Properties"]["EnableKeyRotation"] is True
    key_id = next(k for k, r in built.template["Resources"].items() if r["Type"] == "AWS::KMS::Key")
    assert topic["Properties"]["TopicName"] == "hands-off-paging"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert built.stack.stack_name == "hands-off-baseline"
    assert built.stack.node.id == f"HandsOffBaseline-{ACCOUNT}-{REGION}"


def test_one_retained_codedeploy_application_per_platform_named_by_the_constants(built: Built) -> None:
    """Every platform a copy deploys with through CodeDeploy, whichever the app uses (the baseline
    takes no input on it: every app deploys the same template); ECS copies deploy natively."""
    applications = {
        r["Properties"]["ComputePlatform"]: r for r in resources(built, "AWS::CodeDeploy::Application")
    }
    assert CODEDEPLOY_APPLICATIONS == {"Lambda": LAMBDA_APPLICATION_NAME, "Server": SERVER_APPLICATION_NAME}
    assert (LAMBDA_APPLICATION_NAME, SERVER_APPLICATION_NAME) == ("hands-off-lambda", "hands-off-server")
    assert {p: a["Properties"]["ApplicationName"] for p, a in applications.items()} == CODEDEPLOY_APPLICATIONS
    for application in applications.values():
        # deleting an application deletes every service's deployment groups in it
        assert (application["DeletionPolicy"], application["UpdateReplacePolicy"]) == ("Retain", "Retain")


def assert_s3_encrypted_and_private(properties: dict[str, Any]) -> None:
    """SSE-S3 and every public access blocked."""
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_one_retained_access_log_bucket_named_after_the_account_and_region(built: Built) -> None:
    """Every pipeline of the account-region sends its buckets' server access logs here, by name."""
    assert access_logs_bucket_name(ACCOUNT, REGION) == f"hands-off-access-logs-{ACCOUNT}-{REGION}"
    _, bucket = bucket_named(built, access_logs_bucket_name(ACCOUNT, REGION))
    properties = bucket["Properties"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    # server access logs cannot be delivered to a KMS-encrypted bucket: S3-managed keys
    assert_s3_encrypted_and_private(properties)
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}


def test_only_s3_logging_for_this_account_may_write_the_access_logs_over_tls(built: Built) -> None:
    bucket_id, _ = bucket_named(built, access_logs_bucket_name(ACCOUNT, REGION))
    statements = policy_of(built, bucket_id)
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == {"AWS": "*"}
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    # any source bucket of this account (each chooses its own prefix), no other account's
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_one_retained_versioned_signing_bucket_named_after_the_account_and_region(built: Built) -> None:
    """Every pipeline of the account-region signs its packages here, by name, under its own
    ``<service>/`` prefix (``CodeSigning``): versioned (Signer reads a version of the source),
    encrypted, private, logged, its objects expired, retained."""
    name = signing_bucket_name(ACCOUNT, REGION)
    assert name == f"hands-off-signing-{ACCOUNT}-{REGION}"
    assert len(signing_bucket_name(ACCOUNT, "ap-southeast-4")) <= 63  # S3's limit, longest region
    _, bucket = bucket_named(built, name)
    logs_id, _ = bucket_named(built, access_logs_bucket_name(ACCOUNT, REGION))
    [logs_policy_id] = [
        k
        for k, r in built.template["Resources"].items()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": logs_id}
    ]
    properties = bucket["Properties"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert_s3_encrypted_and_private(properties)
    # to the access-log bucket beside it, once it and its policy exist (S3 checks the target)
    assert properties["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logs_id},
        "LogFilePrefix": "signing/",
    }
    assert logs_policy_id in bucket["DependsOn"]
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == 30  # unsigned and signed packages: only the Build reads them
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}


def test_the_signing_bucket_refuses_requests_without_tls_and_grants_nothing(built: Built) -> None:
    """Who may sign is the pipelines' Build roles' own policies (each its ``<service>/`` keys): the
    bucket policy only denies plain HTTP."""
    bucket_id, _ = bucket_named(built, signing_bucket_name(ACCOUNT, REGION))
    [deny] = policy_of(built, bucket_id)
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == {"AWS": "*"}


def test_one_retained_lambda_config_named_for_the_fast_policys_numbers(built: Built) -> None:
    """Every Lambda copy with the fast policy (linear 25% every 5 minutes, which CodeDeploy has no
    predefined config for) names this one instead of creating its own: a fixed catalog, the same in
    every app's baseline."""
    assert FAST_LAMBDA_CONFIG_NAME == "hands-off-lambda-linear-25-percent-every-5-minutes"
    assert BASELINE_LAMBDA_CONFIGS == {(TrafficShape.LINEAR, 25, 5): FAST_LAMBDA_CONFIG_NAME}
    assert (FAST_POLICY.shape, FAST_POLICY.step_percent, FAST_POLICY.interval_minutes) == (
        TrafficShape.LINEAR,
        25,
        5,
    )
    [config] = resources(built, "AWS::CodeDeploy::DeploymentConfig")
    assert config["Properties"] == {
        "ComputePlatform": "Lambda",
        "DeploymentConfigName": FAST_LAMBDA_CONFIG_NAME,
        "TrafficRoutingConfig": {
            "Type": "TimeBasedLinear",
            "TimeBasedLinear": {"LinearInterval": 5, "LinearPercentage": 25},
        },
    }
    # deleting it would break every deployment group that names it
    assert (config["DeletionPolicy"], config["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_cloudwatch_and_eventbridge_may_use_the_key_for_this_topic_only(built: Built) -> None:
    [key] = resources(built, "AWS::KMS::Key")
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    [use] = [s for s in statements if s.get("Sid") == "PagingPublishers"]
    assert use["Effect"] == "Allow"
    assert sorted(use["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert use["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert use["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC_ARN}}
    # nobody else but the account itself (CDK's default statement)
    others = [s for s in statements if s is not use]
    assert [s["Principal"] for s in others] == [{"AWS": f"arn:aws:iam::{ACCOUNT}:root"}]


def test_only_this_accounts_alarms_and_rules_may_publish_over_tls(built: Built) -> None:
    [policy] = resources(built, "AWS::SNS::TopicPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allows = {s["Principal"]["Service"]: s for s in statements if s["Effect"] == "Allow"}
    assert set(allows) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    for service, source in (
        ("cloudwatch.amazonaws.com", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"),
        ("events.amazonaws.com", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/*"),
    ):
        statement = allows[service]
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": source},
        }


def test_the_copies_import_the_arn_the_baseline_creates(built: Built) -> None:
    copy = Stack(
        App(context=app_context(ROOT / "cdk.json")), "Copy", env=Environment(account=ACCOUNT, region=REGION)
    )
    imported = copy.resolve(account_paging_topic(copy).topic_arn)
    assert imported == TOPIC_ARN
    # the baseline's own ARN, built from the same name
    assert (
        built.stack.resolve(built.stack.format_arn(service="sns", resource="hands-off-paging")) == TOPIC_ARN
    )


def test_nag_finds_nothing(built: Built) -> None:
    report = json.loads((built.outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p.get("conclusion") == "failure"] == []


def test_cfn_lint_reports_no_errors(built: Built) -> None:
    path = built.outdir / f"{built.stack.artifact_id}.template.json"
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- one baseline per account-region


def copy_stack(scope: App | Stage, name: str, account: str, region: str) -> Stack:
    stack = Stack(scope, name, env=Environment(account=account, region=region))
    AlarmFactory(stack, "Alarms", name_prefix=f"{name.lower()}-prod")
    return stack


def test_one_baseline_per_account_region_that_pages() -> None:
    app = App()
    copy_stack(app, "A", "111111111111", "us-east-1")
    copy_stack(app, "B", "111111111111", "us-east-1")  # same env: one baseline
    stage = Stage(app, "Prod", env=Environment(account="222222222222", region="eu-west-1"))
    copy_stack(stage, "C", "222222222222", "eu-west-1")  # inside a stage, as copies are
    Stack(app, "Quiet", env=Environment(account="333333333333", region="us-east-1"))  # pages nothing
    Stack(app, "Agnostic")  # no concrete env

    added = add_account_baselines(app)

    assert [(b.account, b.region) for b in added] == [
        ("111111111111", "us-east-1"),
        ("222222222222", "eu-west-1"),
    ]
    assert paging_environments(app) == [("111111111111", "us-east-1"), ("222222222222", "eu-west-1")]
    # a second call adds nothing
    assert add_account_baselines(app) == []


def test_a_topic_imported_without_account_paging_topic_still_needs_its_baseline() -> None:
    app = App()
    stack = Stack(app, "Own", env=Environment(account="111111111111", region="us-east-1"))
    sns.Topic.from_topic_arn(
        stack, "HandsOffPagingTopic", "arn:aws:sns:us-east-1:111111111111:hands-off-paging"
    )

    assert paging_environments(app) == [("111111111111", "us-east-1")]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("111111111111", id="account"),
        pytest.param("us-east-1", id="region"),
        pytest.param("", id="empty"),
        pytest.param(Aws.ACCOUNT_ID, id="account-token"),
        pytest.param(Aws.REGION, id="region-token"),
        pytest.param(f"prefix-{Aws.REGION}-suffix", id="token-inside"),
        pytest.param(Token.as_string(Token.as_number(Aws.ACCOUNT_ID)), id="number-token-as-string"),
        pytest.param("${Token[not a token]}", id="not-a-token-key"),
        pytest.param("Token[", id="marker-only"),
        pytest.param(f"Token[{Token.as_number(Aws.ACCOUNT_ID)}", id="stringified-number-token"),
    ],
)
def test_unresolved_is_cdks_answer_for_strings(value: str) -> None:
    assert _is_unresolved(value) == Token.is_unresolved(value)


def test_walking_the_app_costs_four_round_trips_per_paging_stack() -> None:
    # node and children (the walk), account and region; whether it pages is known without asking.
    app = App()
    for name in ("A", "B", "C"):
        copy_stack(app, name, "111111111111", "us-east-1")
    with round_trips() as count:
        assert paging_environments(app) == [("111111111111", "us-east-1")]

    assert count[0] <= 2 + 3 * 4


def test_run_adds_the_baselines_once() -> None:
    apps: list[App] = []

    def build(app: App) -> None:
        apps.append(app)
        copy_stack(app, "A", "111111111111", "us-east-1")
        copy_stack(app, "B", "111111111111", "eu-west-1")
        copy_stack(app, "C", "111111111111", "eu-west-1")

    run(build, nag=False)

    [app] = apps
    baselines = [c for c in app.node.children if isinstance(c, AccountBaseline)]
    assert sorted(b.node.id for b in baselines) == [
        "HandsOffBaseline-111111111111-eu-west-1",
        "HandsOffBaseline-111111111111-us-east-1",
    ]
    template = Template.from_stack(baselines[0])
    template.resource_count_is("AWS::KMS::Key", 1)


def test_the_baseline_is_protected_from_deletion() -> None:
    # Found by a new-user trial: every service of the account-region pages through the baseline's
    # topic and deploys into its CodeDeploy applications; one `cdk destroy` removed them all.
    app = App()
    baseline = AccountBaseline(app, account="222222222222", region="us-west-2")
    assert baseline.termination_protection is True
