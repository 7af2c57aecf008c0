"""Each practice the foundation claims, checked in the synthesized templates (PRACTICES.md ids)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from hands_off.assembly import TrafficShift
from hands_off.constructs.lambda_service import LambdaService
from hands_off.render.integration_tests import ZETA_ENDPOINTS, ZETA_VARIABLE
from hands_off.stacks.application_stack import ApplicationStage
from tests.iam_permissions import identity_statements

SERVICES = ("orders", "catalog")


def pipeline_resource(fleet: Any, service: str) -> dict[str, Any]:
    template = Template.from_stack(fleet.pipeline(service)).to_json()
    [pipeline] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return pipeline["Properties"]  # type: ignore[no-any-return]


def stages_by_name(fleet: Any, service: str) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in pipeline_resource(fleet, service)["Stages"]}


def app_stages(fleet: Any, service: str) -> list[ApplicationStage]:
    pipeline = fleet.pipeline(service)
    stages = [c for c in pipeline.node.children if isinstance(c, ApplicationStage)]
    # Alpha, Beta, Gamma in two regions, then the production waves: looping over none checks nothing.
    assert len(stages) >= 5, f"{service}: expected the application stages, found {len(stages)}"
    return stages


def stage_names(stages: list[ApplicationStage]) -> list[str]:
    return sorted(stage.stack.deployment.stage_name for stage in stages)


# The example fleet's copies of each service: Gamma in 2 regions, Prod-1 and Prod-2 in one each.
ONE_BOX_STAGES = ["Gamma", "Gamma", "Prod-1", "Prod-2"]


@pytest.mark.parametrize("service", SERVICES)
def test_v2_pipeline_has_the_stages_in_order(fleet: Any, service: str) -> None:
    props = pipeline_resource(fleet, service)
    names = [stage["Name"] for stage in props["Stages"]]
    assert props["PipelineType"] == "V2"
    assert names[:2] == ["Source", "Build"]
    ours = [n for n in names if n not in ("Source", "Build", "UpdatePipeline", "Assets")]
    assert ours[:4] == ["Alpha", "Beta", "Gamma", "Zeta"]
    prod = ours[4:]
    assert prod == [f"Prod-{i}" for i in range(1, len(prod) + 1)]
    assert len(prod) >= 3


@pytest.mark.parametrize("service", SERVICES)
def test_source_is_one_reviewed_branch(fleet: Any, service: str) -> None:  # P2
    [source] = pipeline_resource(fleet, service)["Stages"][0]["Actions"]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["BranchName"] == "main"


@pytest.mark.parametrize("service", SERVICES)
def test_waves_regions_gamma_two_prod1_one_never_shrinking(fleet: Any, service: str) -> None:  # P5, P8
    by_stage: dict[str, set[str]] = {}
    for stage in app_stages(fleet, service):
        dep = stage.stack.deployment
        by_stage.setdefault(dep.stage_name, set()).add(dep.target.region)
    assert len(by_stage["Gamma"]) >= 2
    assert len(by_stage["Prod-1"]) == 1
    sizes = [len(by_stage[f"Prod-{i}"]) for i in range(1, 1 + sum(k.startswith("Prod-") for k in by_stage))]
    assert sizes == sorted(sizes)
    prod_regions = [r for k, v in by_stage.items() if k.startswith("Prod-") for r in v]
    assert len(prod_regions) == len(set(prod_regions)), "a region is deployed by exactly one wave"


@pytest.mark.parametrize("service", SERVICES)
def test_every_gamma_and_prod_copy_rolls_back_on_three_alarms(
    fleet: Any, service: str
) -> None:  # P9, P11-P13
    checked = 0
    for stage in app_stages(fleet, service):
        if not stage.stack.deployment.stage_name.startswith(("Gamma", "Prod-")):
            continue
        template = Template.from_stack(stage.stack)
        template.has_resource_properties(
            "AWS::CodeDeploy::DeploymentGroup",
            {
                "AutoRollbackConfiguration": {
                    "Enabled": True,
                    "Events": Match.array_with(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]),
                },
                "AlarmConfiguration": {"Enabled": True, "Alarms": Match.any_value()},
            },
        )
        group = next(iter(template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()))
        assert len(group["Properties"]["AlarmConfiguration"]["Alarms"]) >= 3
        alarms = template.find_resources("AWS::CloudWatch::Alarm")
        anomaly = [
            a
            for a in alarms.values()
            if a["Properties"].get("ComparisonOperator") == "LessThanLowerThreshold"
            and any("ANOMALY_DETECTION_BAND" in json.dumps(m) for m in a["Properties"].get("Metrics", []))
        ]
        assert anomaly, f"{stage.stack.stack_name} lacks a traffic anomaly alarm (P12)"
        template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 1)
        # they page the account-region's shared topic (encrypted in its AccountBaseline, issue 9)
        target = stage.stack.deployment.target
        topic = f"arn:aws:sns:{target.region}:{target.account.account_id}:hands-off-paging"
        assert all(a["Properties"]["AlarmActions"] == [topic] for a in alarms.values())
        checked += 1
    assert checked >= 2 + 3


@pytest.mark.parametrize("service", SERVICES)
def test_one_box_canary_in_gamma_prod1_prod2(fleet: Any, service: str) -> None:  # P6, P9
    one_box = [s for s in app_stages(fleet, service) if s.stack.deployment.stage_name in ONE_BOX_STAGES]
    assert stage_names(one_box) == ONE_BOX_STAGES  # else the loop below checks nothing
    for stage in one_box:
        # CodeDeploy's predefined canary when the numbers match one (issue 9), else a custom config
        template = Template.from_stack(stage.stack)
        [group] = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
        name = group["Properties"]["DeploymentConfigName"]
        if isinstance(name, str):
            shift = TrafficShift.predefined(name)
        else:
            config = template.find_resources("AWS::CodeDeploy::DeploymentConfig")[name["Ref"]]
            shift = TrafficShift.from_routing(config["Properties"]["TrafficRoutingConfig"])
        assert shift is not None, stage.stack.stack_name
        assert shift.shape == "canary", stage.stack.stack_name
        assert shift.percent <= 10, stage.stack.stack_name


@pytest.mark.parametrize("service", SERVICES)
def test_code_is_signed_and_enforced(fleet: Any, service: str) -> None:  # P3
    pipeline = Template.from_stack(fleet.pipeline(service))
    pipeline.has_resource_properties("AWS::Signer::SigningProfile", {"PlatformId": "AWSLambda-SHA384-ECDSA"})
    build_specs = json.dumps(pipeline.find_resources("AWS::CodeBuild::Project"))
    for command in (
        "aws signer start-signing-job",
        "aws signer wait successful-signing-job",
        "hands-off:signedCodeDir",
        f"make package CODE_DIRECTORY={fleet.pipeline(service).code_directory} PACKAGE=build/{service}.zip",
    ):
        assert command in build_specs
    for stage in app_stages(fleet, service):
        template = Template.from_stack(stage.stack)
        template.has_resource_properties(
            "AWS::Lambda::CodeSigningConfig",
            {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}},
        )
        template.has_resource_properties("AWS::Lambda::Function", {"CodeSigningConfigArn": Match.any_value()})


@pytest.mark.parametrize("service", SERVICES)
def test_gate_runtime_is_signed_by_the_build_and_enforced_there(fleet: Any, service: str) -> None:  # X5
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline)
    build_specs = json.dumps(template.find_resources("AWS::CodeBuild::Project"))
    package = build_specs.index("make package-gates PACKAGE=build/hands-off-gates.zip")
    signing = build_specs.index(f"--key {service}/unsigned/hands-off-gates.zip")
    synth = build_specs.index("make synth")
    assert package < signing < synth  # packaged, signed, then synthesized with the signed zip
    # Every gate function runs under the pipeline's gates code-signing config.
    configs = template.find_resources("AWS::Lambda::CodeSigningConfig")
    (config_id,) = [k for k in configs if k.startswith("GatesCodeSigningConfig")]
    functions = [
        f for k, f in template.find_resources("AWS::Lambda::Function").items() if k.startswith("Gates")
    ]
    assert len(functions) == 2  # the checks function and the hotfix function
    assert all(
        f["Properties"].get("CodeSigningConfigArn") == {"Fn::GetAtt": [config_id, "CodeSigningConfigArn"]}
        for f in functions
    )
    # A local synth (the administrator's first deploy) only warns; the Build's synth enforces.
    assert configs[config_id]["Properties"]["CodeSigningPolicies"] == {
        "UntrustedArtifactOnDeployment": "Warn"
    }


@pytest.mark.parametrize("service", SERVICES)
def test_integration_tests_follow_preprod_and_zeta_calls_prod(fleet: Any, service: str) -> None:  # P4, P7
    stages = {s["Name"]: s for s in pipeline_resource(fleet, service)["Stages"]}
    for name in ("Alpha", "Beta", "Gamma"):
        actions = [a["Name"] for a in stages[name]["Actions"]]
        assert any("IntegrationTest" in a for a in actions), f"{name} has no integration test: {actions}"
    # Zeta may first deploy an access stack (its own account's roles); then its one test run.
    [zeta] = [a for a in stages["Zeta"]["Actions"] if "IntegrationTest" in a["Name"]]
    assert zeta["RunOrder"] == max(a["RunOrder"] for a in stages["Zeta"]["Actions"])
    # Every test action runs the pipeline's one project: Zeta's selects its endpoints there.
    project_ids = {
        a["Configuration"]["ProjectName"]["Ref"]
        for s in stages.values()
        for a in s["Actions"]
        if "IntegrationTest" in a["Name"]
    }
    assert project_ids == {zeta["Configuration"]["ProjectName"]["Ref"]}
    action_env = {e["name"]: e["value"] for e in json.loads(zeta["Configuration"]["EnvironmentVariables"])}
    # One action per production account (the example's are all in 333333333333), invoking as
    # that account's canary role.
    assert action_env == {
        ZETA_VARIABLE: "333333333333",
        "SKIP_NOT_DEPLOYED": "1",
        "HANDS_OFF_INVOKER_ROLE": f"arn:aws:iam::333333333333:role/hands-off-{service}-canary",
    }
    projects = Template.from_stack(fleet.pipeline(service)).find_resources("AWS::CodeBuild::Project")
    env = projects[project_ids.pop()]["Properties"]["Environment"]["EnvironmentVariables"]
    endpoints = next(v["Value"] for v in env if v["Name"] == f"{ZETA_ENDPOINTS}_333333333333").split(",")
    prod = [s for s in app_stages(fleet, service) if s.stack.deployment.production]
    assert sorted(endpoints) == sorted(s.stack.deployment.alias_arn for s in prod)
    assert all(":333333333333:" in e for e in endpoints)


def test_functions_use_least_privilege_roles_without_managed_policies(fleet: Any) -> None:  # non-negotiable
    access_stacks = fleet.pipeline("orders").access_stacks
    # One access stack per account the service deploys to (pre-production and production).
    assert len(access_stacks) >= 2, "expected an access stack per account"
    for access in access_stacks:
        template = Template.from_stack(access)
        roles = template.find_resources("AWS::IAM::Role")
        assert len(roles) == 5, (
            f"{access.stack_name}: runtime, canary, codedeploy, gate-reader and hotfix roles"
        )
        for role in roles.values():
            assert "ManagedPolicyArns" not in role["Properties"]
        statements = [statement for _, statement in identity_statements(template.to_json())]
        assert statements, f"{access.stack_name}: the roles' inline policies hold no statement"
        for statement in statements:
            if statement["Resource"] == "*":
                assert statement["Action"] == "cloudwatch:GetMetricStatistics"


@pytest.mark.parametrize("service", SERVICES)
def test_iam_roles_live_once_per_account_and_deploy_first(fleet: Any, service: str) -> None:
    """IAM roles are global to an account: one set per service per account (not per region),
    in stacks that deploy with Alpha, before any gate assumes them or any copy uses them."""
    pipeline = fleet.pipeline(service)
    accounts = {d.target.account.account_id for d in pipeline.deployments}
    access = pipeline.access_stacks
    assert sorted(a.account for a in access) == sorted(accounts)
    for stack in access:
        names = {
            r["Properties"]["RoleName"]
            for r in Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
        }
        lambda_copies = isinstance(app_stages(fleet, service)[0].stack.service, LambdaService)
        assert names == {
            f"hands-off-{service}-{p}"
            for p in ("runtime", "codedeploy", "gate-reader", "hotfix-writer", *(["canary"] * lambda_copies))
        }
    for stage in app_stages(fleet, service):
        Template.from_stack(stage.stack).resource_count_is("AWS::IAM::Role", 0)
    alpha = stages_by_name(fleet, service)["Alpha"]
    run_order = {a["Name"]: a["RunOrder"] for a in alpha["Actions"]}
    access_deploys = [
        o for n, o in run_order.items() if n.startswith(f"{service}-access") and n.endswith("Deploy")
    ]
    app_prepare = run_order[f"{service}-alpha-us-west-2.Prepare"]
    assert access_deploys
    assert max(access_deploys) < app_prepare


@pytest.mark.parametrize("service", SERVICES)
def test_canary_traffic_in_gamma_and_prod_only(fleet: Any, service: str) -> None:  # P18
    for stage in app_stages(fleet, service):
        deployment = stage.stack.deployment
        template = Template.from_stack(stage.stack)
        schedules = template.find_resources("AWS::Scheduler::Schedule")
        if deployment.production or deployment.stage_name == "Gamma":
            [schedule] = schedules.values()
            assert schedule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
            target = schedule["Properties"]["Target"]
            assert json.loads(target["Input"])  # a real request, not an empty event
            assert "Service" in json.dumps(target["Arn"])  # the live alias of this copy
            account = deployment.target.account.account_id
            assert target["RoleArn"] == f"arn:aws:iam::{account}:role/hands-off-{service}-canary"
        else:
            assert schedules == {}


def test_alpha_and_beta_do_not_roll_back_on_missing_traffic(fleet: Any) -> None:
    """Without customers or a canary, "no data" is normal: no traffic-anomaly alarm there."""
    pre_production = [
        s for s in app_stages(fleet, "orders") if s.stack.deployment.stage_name in ("Alpha", "Beta")
    ]
    assert stage_names(pre_production) == ["Alpha", "Beta"]  # else the loop below checks nothing
    for stage in pre_production:
        template = Template.from_stack(stage.stack)
        group = next(iter(template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()))
        assert len(group["Properties"]["AlarmConfiguration"]["Alarms"]) == 2
        assert "ANOMALY_DETECTION_BAND" not in json.dumps(template.to_json())
