"""Issue 9: a pipeline's artifact bucket sends its server access logs to the account-region
baseline's access-log bucket, by name, under its own prefix; the pipeline stack has no log bucket.
Its Build signs in the baseline's signing bucket, by name, under its own prefix; the pipeline stack
has no signing bucket either."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from hands_off.naming import access_logs_bucket_name, signing_bucket_name
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
    # the artifact bucket, and no other bucket (no log bucket, no signing bucket of its own)
    artifacts = pipeline.resolve(pipeline.pipeline.pipeline.artifact_bucket.node.default_child.logical_id)
    assert logging == {
        artifacts: {"DestinationBucketName": expected, "LogFilePrefix": f"artifacts-{service}/"},
    }
    # nothing in the pipeline stack grants log delivery: the baseline's bucket policy does
    for policy in (r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement.get("Principal") != {"Service": "logging.s3.amazonaws.com"}


def _baseline_bucket_names(fleet: Any) -> set[str]:
    names = set()
    for baseline in (c for c in fleet.app.node.children if isinstance(c, AccountBaseline)):
        for bucket in _template(baseline)["Resources"].values():
            if bucket["Type"] == "AWS::S3::Bucket":
                names.add(bucket["Properties"]["BucketName"])
    return names


def test_every_pipelines_account_region_has_its_baselines_bucket(fleet: Any) -> None:
    names = _baseline_bucket_names(fleet)
    for pipeline in fleet.pipelines:
        assert access_logs_bucket_name(str(pipeline.account), str(pipeline.region)) in names


def test_every_pipelines_account_region_has_its_baselines_signing_bucket(fleet: Any) -> None:
    names = _baseline_bucket_names(fleet)
    for pipeline in fleet.pipelines:
        assert signing_bucket_name(str(pipeline.account), str(pipeline.region)) in names


@pytest.mark.parametrize("service", SERVICES)
def test_the_build_signs_in_its_baselines_bucket_under_its_own_prefix(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    resources = _template(pipeline)["Resources"]
    name = signing_bucket_name(str(pipeline.account), str(pipeline.region))
    # the Synth project's SIGNING_BUCKET is the shared bucket's name
    [synth] = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::CodeBuild::Project"
        and {"Name": "SIGNING_BUCKET", "Type": "PLAINTEXT", "Value": name}
        in r["Properties"]["Environment"].get("EnvironmentVariables", [])
    ]
    assert synth["Properties"]["Environment"]["EnvironmentVariables"]
    # every S3 object the pipeline's roles may touch in it lies under this service's prefix
    prefix = f"arn:aws:s3:::{name}/"
    granted = [
        resource
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        for resource in (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if isinstance(resource, str) and resource.startswith(prefix)
    ]
    assert sorted(granted) == sorted(f"{prefix}{key}" for key in pipeline.code_signing.object_keys())
    assert all(g.startswith(f"{prefix}{service}/") for g in granted)


def test_importing_the_bucket_leaves_no_warning(fleet: Any) -> None:
    """CDK warns that it cannot grant log delivery on an imported bucket: the baseline grants it."""
    from tests.synth.test_safety_paging import warnings_in

    assert [w for w in warnings_in(fleet.outdir) if "accessLogsPolicyNotAdded" in w[1]] == []
