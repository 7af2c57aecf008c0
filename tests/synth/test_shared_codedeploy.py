"""Issue 9: the copies' CodeDeploy applications live in the account-region baseline, one per compute
platform, shared by every service there; a copy keeps only its deployment group, named after it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aws_cdk.assertions import Template

from hands_off.constructs.copies import codedeploy_application_of
from hands_off.naming import CODEDEPLOY_APPLICATIONS, LAMBDA_APPLICATION_NAME
from hands_off.stacks import AccountBaseline


def _resources(stack: Any, kind: str) -> list[dict[str, Any]]:
    return [r for r in Template.from_stack(stack).to_json()["Resources"].values() if r["Type"] == kind]


def test_no_copy_creates_an_application_and_every_group_is_in_its_platforms_shared_one(fleet: Any) -> None:
    groups: Counter[str] = Counter()
    aliases = 0
    for pipeline in fleet.pipelines:
        for stage in pipeline.rendered.stages:
            assert not _resources(stage.stack, "AWS::CodeDeploy::Application"), stage.stack.stack_name
            expected = codedeploy_application_of(stage.service)
            for group in _resources(stage.stack, "AWS::CodeDeploy::DeploymentGroup"):
                assert group["Properties"]["ApplicationName"] == expected
                assert group["Properties"]["DeploymentGroupName"] == stage.stack.deployment.function_name
                groups[expected] += 1
            for alias in _resources(stage.stack, "AWS::Lambda::Alias"):
                update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
                assert update["ApplicationName"] == LAMBDA_APPLICATION_NAME
                aliases += 1
    # orders and catalog on Lambda (13 copies each), inventory's fleets on servers, shipping on ECS
    assert groups["hands-off-lambda"] == aliases == 26
    assert groups["hands-off-server"] == len(fleet.pipeline("inventory").rendered.stages)
    assert set(groups) == set(CODEDEPLOY_APPLICATIONS.values())
    assert not any(codedeploy_application_of(s.service) for s in fleet.pipeline("shipping").rendered.stages)


def test_every_baseline_of_the_app_holds_every_platforms_application(fleet: Any) -> None:
    baselines = [c for c in fleet.app.node.children if isinstance(c, AccountBaseline)]
    assert baselines
    for baseline in baselines:
        applications = _resources(baseline, "AWS::CodeDeploy::Application")
        assert {
            a["Properties"]["ComputePlatform"]: a["Properties"]["ApplicationName"] for a in applications
        } == CODEDEPLOY_APPLICATIONS
    # where a copy deploys, its baseline is in the app
    where = {(str(b.account), str(b.region)) for b in baselines}
    for pipeline in fleet.pipelines:
        for stage in pipeline.rendered.stages:
            target = stage.stack.deployment.target
            assert (target.account.account_id, target.region) in where
