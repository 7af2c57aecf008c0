"""Issue 9: a pipeline's buckets send their server access logs to the account-region baseline's
access-log bucket, by name, each under its own prefix; the pipeline stack has no log bucket."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from hands_off.naming import access_logs_bucket_name
from hands_off.stacks import AccountBaseline

SERVICES = ("orders", "catalog", "inventory", "shipping")


def _template(stack: Any) -> dict[str, Any]:
    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("service", SERVICES)
def test_the_pipeline_logs_to_its_baselines_bucket_with_its_own_prefixes(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    resources = _template(pipeline)["Resources"]
    buckets = {k: r for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    expected = access_logs_bucket_name(str(pipeline.account), str(pipeline.region))
    logging = {k: r["Properties"].get("LoggingConfiguration") for k, r in buckets.items()}
    # the artifact bucket and the signing bucket, and no other bucket (no log bucket of its own)
    signing = pipeline.resolve(pipeline.code_signing.bucket.node.default_child.logical_id)
    artifacts = pipeline.resolve(pipeline.pipeline.pipeline.artifact_bucket.node.default_child.logical_id)
    assert logging == {
        artifacts: {"DestinationBucketName": expected, "LogFilePrefix": f"artifacts-{service}/"},
        signing: {"DestinationBucketName": expected, "LogFilePrefix": f"signing-{service}/"},
    }
    # nothing in the pipeline stack grants log delivery: the baseline's bucket policy does
    for policy in (r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement.get("Principal") != {"Service": "logging.s3.amazonaws.com"}


def test_every_pipelines_account_region_has_its_baselines_bucket(fleet: Any) -> None:
    names = set()
    for baseline in (c for c in fleet.app.node.children if isinstance(c, AccountBaseline)):
        for bucket in _template(baseline)["Resources"].values():
            if bucket["Type"] == "AWS::S3::Bucket":
                names.add(bucket["Properties"]["BucketName"])
    for pipeline in fleet.pipelines:
        assert access_logs_bucket_name(str(pipeline.account), str(pipeline.region)) in names


def test_importing_the_bucket_leaves_no_warning(fleet: Any) -> None:
    """CDK warns that it cannot grant log delivery on an imported bucket: the baseline grants it."""
    from tests.synth.test_safety_paging import warnings_in

    assert [w for w in warnings_in(fleet.outdir) if "accessLogsPolicyNotAdded" in w[1]] == []
