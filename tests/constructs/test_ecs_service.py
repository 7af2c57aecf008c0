"""EcsService: a Fargate copy behind its own load balancer, shifted by ECS (canary / linear /
blue-green) and rolled back on the factory's alarms, CPU, memory and the circuit breaker.

Three copies built from ``Deployment`` objects (Gamma one-box canary, a later linear production
wave, Beta all-at-once) are synthesized once, with cdk-nag as a validation plugin (synth fails
on any unacknowledged finding); the example ``ShippingPipeline`` is synthesized once more.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Match, Template

from hands_off.constructs.ecs_service import (
    CONTAINER_NAME,
    EcsService,
    HostAlarmKind,
    ecs_deployment_for,
    host_alarm_name,
)
from hands_off.constructs.roles import INLINE_POLICY_NAME
from hands_off.deployment import Deployment
from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    Account,
    AlarmPolicy,
    ConfigError,
    DeploymentPolicy,
    Target,
    TrafficShape,
)
from hands_off.nag import apply_nag
from hands_off.naming import ServiceNaming
from hands_off.testing import app_context
from tests.iam_permissions import role_statements

ROOT = Path(__file__).resolve().parents[2]
SHIPPING = ROOT / "containers" / "shipping"
ACCOUNT, REGION = "123456789012", "eu-west-1"
NAMING = ServiceNaming(service="shipping", tooling_account="111111111111", tooling_region="us-east-1")
TARGET = Target(account=Account(name="preprod", account_id=ACCOUNT), region=REGION)
CANARY_PATH = "/quote?weight_grams=500&country=DE"


def deployment(stage: str, policy: DeploymentPolicy, *, production: bool) -> Deployment:
    return Deployment(
        service_name="shipping",
        stage_name=stage,
        target=TARGET,
        policy=policy,
        alarm_policy=AlarmPolicy(p99_latency_ms=900),
        production=production,
    )


COPIES = {
    # stack id: (deployment, canary path)
    "Gamma": (deployment("Gamma", ONE_BOX_POLICY, production=False), CANARY_PATH),
    "Prod3": (deployment("Prod-3", FAST_POLICY, production=True), CANARY_PATH),
    "Beta": (deployment("Beta", PREPROD_POLICY, production=False), None),
}


@dataclass
class Built:
    outdir: Path
    services: dict[str, EcsService]
    stacks: dict[str, Stack]

    def template(self, name: str) -> Template:
        return Template.from_json(json.loads((self.outdir / f"{name}.template.json").read_text()))

    def resources(self, name: str, kind: str) -> dict[str, Any]:
        return dict(self.template(name).find_resources(kind))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The three copies in one app (cdk.json's feature flags), cdk-nag applied, synthesized once
    into a folder of its own (synth raises on an unacknowledged finding)."""
    outdir = tmp_path_factory.mktemp("ecs-out")
    app = App(context=app_context(ROOT / "cdk.json"), outdir=str(outdir))
    services, stacks = {}, {}
    for name, (d, canary_path) in COPIES.items():
        stack = Stack(app, name, env=Environment(account=ACCOUNT, region=REGION))
        services[name] = EcsService.for_deployment(
            stack, d, naming=NAMING, code_directory=str(SHIPPING), canary_path=canary_path
        )
        stacks[name] = stack
    apply_nag(app)
    app.synth()
    return Built(outdir=outdir, services=services, stacks=stacks)


def ecs_service(built: Built, name: str) -> dict[str, Any]:
    [service] = built.resources(name, "AWS::ECS::Service").values()
    props: dict[str, Any] = service["Properties"]
    return props


def alarms_by_name(built: Built, name: str) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in built.resources(name, "AWS::CloudWatch::Alarm").values()
    }


# ----------------------------------------------------------------------------- deployments


@pytest.mark.parametrize(
    ("name", "strategy", "shift", "bake"),
    [
        pytest.param(
            "Gamma",
            "CANARY",
            {"CanaryConfiguration": {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 10}},
            60,
            id="gamma-one-box-canary",
        ),
        pytest.param(
            "Prod3",
            "LINEAR",
            {"LinearConfiguration": {"StepPercent": 25, "StepBakeTimeInMinutes": 5}},
            30,
            id="later-wave-linear",
        ),
        pytest.param("Beta", "BLUE_GREEN", {}, 0, id="preprod-blue-green"),
    ],
)
def test_strategy_and_bake_time_follow_the_policy(
    built: Built, name: str, strategy: str, shift: dict[str, Any], bake: int
) -> None:
    config = ecs_service(built, name)["DeploymentConfiguration"]
    assert config["Strategy"] == strategy
    assert config["BakeTimeInMinutes"] == bake
    for key in ("CanaryConfiguration", "LinearConfiguration"):
        assert config.get(key) == shift.get(key)


def test_the_one_box_canary_is_at_most_ten_percent(built: Built) -> None:
    config = ecs_service(built, "Gamma")["DeploymentConfiguration"]
    assert 0 < config["CanaryConfiguration"]["CanaryPercent"] <= 10  # P9
    assert config["BakeTimeInMinutes"] > 0  # P6


@pytest.mark.parametrize("name", list(COPIES))
def test_circuit_breaker_rolls_back(built: Built, name: str) -> None:
    config = ecs_service(built, name)["DeploymentConfiguration"]
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert (config["MinimumHealthyPercent"], config["MaximumPercent"]) == (100, 200)


@pytest.mark.parametrize(
    ("name", "watched"),
    [("Gamma", True), ("Prod3", True), ("Beta", False)],
)
def test_deployment_alarms_roll_back_on_every_rollback_alarm(built: Built, name: str, watched: bool) -> None:
    svc = built.services[name]
    prefix = COPIES[name][0].function_name
    alarms = ecs_service(built, name)["DeploymentConfiguration"]["Alarms"]
    assert alarms["Enable"] is True
    assert alarms["Rollback"] is True  # ROLLBACK_ON_ALARM
    expected = [
        f"{prefix}-fault-rate",
        f"{prefix}-latency-p99",
        *([f"{prefix}-traffic-anomaly"] if watched else []),
        f"{prefix}-cpu-utilization",
        f"{prefix}-memory-utilization",
    ]
    assert alarms["AlarmNames"] == expected == svc.rollback_alarm_names
    assert len(alarms["AlarmNames"]) >= 3
    # every name is an alarm of this stack (named, not referenced: no dependency cycle)
    assert set(expected) <= set(alarms_by_name(built, name))


@pytest.mark.parametrize("name", ["Gamma", "Prod3"])
def test_one_deployment_alarm_is_a_traffic_anomaly_band_that_catches_zero(built: Built, name: str) -> None:
    prefix = COPIES[name][0].function_name
    anomaly = alarms_by_name(built, name)[f"{prefix}-traffic-anomaly"]
    assert anomaly["ComparisonOperator"] == "LessThanLowerThreshold"
    assert anomaly["TreatMissingData"] == "breaching"  # no requests at all fires it (P12)
    band = next(m for m in anomaly["Metrics"] if m["Id"] == anomaly["ThresholdMetricId"])
    assert band["Expression"].startswith("ANOMALY_DETECTION_BAND(")
    [requests] = [m for m in anomaly["Metrics"] if "MetricStat" in m]
    stat = requests["MetricStat"]
    assert stat["Metric"]["MetricName"] == "RequestCount"
    assert stat["Stat"] == "Sum"


def test_gamma_copy_is_named_so_the_gates_find_its_health_alarm(built: Built) -> None:
    d = COPIES["Gamma"][0]
    t = built.template("Gamma")
    t.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmName": d.health_alarm_name})
    assert d.health_alarm_name == "shipping-gamma-health"
    t.has_resource_properties("AWS::ECS::Service", {"ServiceName": "shipping-gamma"})
    t.has_resource_properties("AWS::ECS::Cluster", {"ClusterName": "shipping-gamma"})
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "shipping-gamma-latency-p99", "Threshold": 900}
    )


def test_health_composite_is_not_a_deployment_alarm(built: Built) -> None:
    names = ecs_service(built, "Gamma")["DeploymentConfiguration"]["Alarms"]["AlarmNames"]
    assert "shipping-gamma-health" not in names


# ---------------------------------------------------------------------------------- alarms


def test_request_alarms_read_the_load_balancer_not_one_target_group(built: Built) -> None:
    """Blue/green, canary and linear move traffic between two target groups that swap roles:
    one target group's metrics would drop to zero after every other deployment."""
    for props in alarms_by_name(built, "Gamma").values():
        for metric in props.get("Metrics", []):
            stat = metric.get("MetricStat")
            if stat and stat["Metric"]["Namespace"] == "AWS/ApplicationELB":
                dimensions = [d["Name"] for d in stat["Metric"]["Dimensions"]]
                assert dimensions == ["LoadBalancer"], props["AlarmName"]


def test_fault_rate_counts_target_and_load_balancer_5xx(built: Built) -> None:
    fault = alarms_by_name(built, "Gamma")["shipping-gamma-fault-rate"]
    metrics = {m["Id"]: m for m in fault["Metrics"]}
    assert "FILL(target, 0) + FILL(elb, 0)" in next(
        m["Expression"] for m in metrics.values() if "Expression" in m
    )
    assert metrics["target"]["MetricStat"]["Metric"]["MetricName"] == "HTTPCode_Target_5XX_Count"
    assert metrics["elb"]["MetricStat"]["Metric"]["MetricName"] == "HTTPCode_ELB_5XX_Count"
    assert fault["Threshold"] == 1.0
    assert fault["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(
    ("kind", "metric"), [(HostAlarmKind.CPU, "CPUUtilization"), (HostAlarmKind.MEMORY, "MemoryUtilization")]
)
def test_cpu_and_memory_alarms_watch_the_service_by_name_and_page(
    built: Built, kind: HostAlarmKind, metric: str
) -> None:
    name = host_alarm_name("shipping-prod", kind)
    alarm = alarms_by_name(built, "Prod3")[name]
    assert alarm["Namespace"] == "AWS/ECS"
    assert alarm["MetricName"] == metric
    assert alarm["Dimensions"] == [
        {"Name": "ClusterName", "Value": "shipping-prod"},
        {"Name": "ServiceName", "Value": "shipping-prod"},
    ]
    assert alarm["Threshold"] == 80
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # the account-region's shared paging topic, imported by name (issue 9)
    assert built.resources("Prod3", "AWS::SNS::Topic") == {}
    [action] = alarm["AlarmActions"]
    assert alarm["OKActions"] == [action]
    assert f":{REGION}:{ACCOUNT}:hands-off-paging" in json.dumps(action)


# ------------------------------------------------------------------- traffic and network


def test_ecs_shifts_the_production_rule_between_blue_and_green(built: Built) -> None:
    t = built.template("Gamma")
    groups = built.resources("Gamma", "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert len(groups) == 2
    for group in groups.values():
        assert group["Properties"]["TargetType"] == "ip"
        assert group["Properties"]["HealthCheckPath"] == "/health"
    [rule_id] = built.resources("Gamma", "AWS::ElasticLoadBalancingV2::ListenerRule")
    [lb] = ecs_service(built, "Gamma")["LoadBalancers"]
    assert lb["ContainerName"] == CONTAINER_NAME
    assert lb["ContainerPort"] == 8080
    advanced = lb["AdvancedConfiguration"]
    assert advanced["ProductionListenerRule"] == {"Ref": rule_id}
    assert {lb["TargetGroupArn"]["Ref"], advanced["AlternateTargetGroupArn"]["Ref"]} == set(groups)
    # every listener action forwards (ECS refuses rules mixing forward and fixed responses)
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Port": 80, "DefaultActions": [Match.object_like({"Type": "forward"})]},
    )


def test_infrastructure_role_is_scoped_without_managed_policies(built: Built) -> None:
    [lb] = ecs_service(built, "Gamma")["LoadBalancers"]
    role_id = lb["AdvancedConfiguration"]["RoleArn"]["Fn::GetAtt"][0]
    role = built.resources("Gamma", "AWS::IAM::Role")[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    # its statements are its own inline policy (no separate AWS::IAM::Policy)
    assert [p["PolicyName"] for p in role["Policies"]] == [INLINE_POLICY_NAME]
    policy = role_statements(built.template("Gamma").to_json(), role_id)
    writes = {a: s["Resource"] for s in policy for a in _list(s["Action"]) if "Describe" not in a}
    assert set(writes) == {
        "elasticloadbalancing:RegisterTargets",
        "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyRule",
    }
    assert all(resource != "*" for resource in writes.values())


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_tasks_admit_only_the_load_balancer_and_get_public_ips_instead_of_a_nat(built: Built) -> None:
    t = built.template("Gamma")
    t.resource_count_is("AWS::EC2::NatGateway", 0)
    t.resource_count_is("AWS::EC2::VPCEndpoint", 0)
    network = ecs_service(built, "Gamma")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "ENABLED"
    [task_sg] = network["SecurityGroups"]
    ingress = [
        r["Properties"]
        for r in built.resources("Gamma", "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == task_sg
    ]
    assert len(ingress) == 1
    assert ingress[0]["FromPort"] == ingress[0]["ToPort"] == 8080
    assert "SourceSecurityGroupId" in ingress[0]
    assert "CidrIp" not in ingress[0]


def test_vpc_has_flow_logs_and_the_load_balancer_access_logs(built: Built) -> None:
    t = built.template("Gamma")
    [vpc_id] = built.resources("Gamma", "AWS::EC2::VPC")
    t.has_resource_properties(
        "AWS::EC2::FlowLog", {"ResourceId": {"Ref": vpc_id}, "ResourceType": "VPC", "TrafficType": "REJECT"}
    )
    [lb] = built.resources("Gamma", "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in lb["Properties"]["LoadBalancerAttributes"]}
    assert lb["Properties"]["Scheme"] == "internet-facing"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    [bucket_id] = built.resources("Gamma", "AWS::S3::Bucket")
    assert attributes["access_logs.s3.bucket"] == {"Ref": bucket_id}


def test_availability_zones_are_not_looked_up(built: Built) -> None:
    """No context lookup: ``cdk synth`` of a pipeline needs no credentials."""
    manifest = json.loads((built.outdir / "manifest.json").read_text())
    assert "missing" not in manifest
    zones = [
        s["Properties"]["AvailabilityZone"] for s in built.resources("Gamma", "AWS::EC2::Subnet").values()
    ]
    assert zones == [{"Fn::Select": [i, {"Fn::GetAZs": ""}]} for i in range(2)]


def test_endpoint_is_the_load_balancers_url(built: Built) -> None:
    svc = built.services["Gamma"]
    [lb_id] = built.resources("Gamma", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    built.template("Gamma").has_output(
        "*", {"Value": {"Fn::Join": ["", ["http://", {"Fn::GetAtt": [lb_id, "DNSName"]}]]}}
    )
    assert svc.endpoint_known_at_synth is False


# ---------------------------------------------------------------------------- image, canary


def test_image_is_the_dockerfile_as_an_asset(built: Built) -> None:
    assets = json.loads((built.outdir / "Gamma.assets.json").read_text())
    [image] = assets["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"
    staged = built.outdir / image["source"]["directory"]
    assert (staged / "Dockerfile").is_file()
    assert not (staged / "tests").exists()  # .dockerignore keeps tests out of the image and hash
    [task] = built.resources("Gamma", "AWS::ECS::TaskDefinition").values()
    [container] = task["Properties"]["ContainerDefinitions"]
    assert container["Name"] == CONTAINER_NAME
    assert container["ReadonlyRootFilesystem"] is True
    assert "container-assets" in json.dumps(container["Image"])


def test_base_image_is_pinned_by_digest() -> None:
    froms = [line for line in (SHIPPING / "Dockerfile").read_text().splitlines() if line.startswith("FROM ")]
    assert froms
    assert all(re.fullmatch(r"FROM \S+@sha256:[0-9a-f]{64}( AS \w+)?", line) for line in froms), froms


@pytest.mark.parametrize(("name", "checks"), [("Gamma", 1), ("Prod3", 1), ("Beta", 0)])
def test_route53_requests_the_canary_path_where_traffic_is_watched(
    built: Built, name: str, checks: int
) -> None:
    """P18 without a function to sign: Route 53 health checkers request the path every 30 s."""
    t = built.template(name)
    t.resource_count_is("AWS::Route53::HealthCheck", checks)
    t.resource_count_is("AWS::Lambda::Function", 0)
    t.resource_count_is("AWS::Events::Rule", 0)
    if checks:
        [lb_id] = built.resources(name, "AWS::ElasticLoadBalancingV2::LoadBalancer")
        t.has_resource_properties(
            "AWS::Route53::HealthCheck",
            {
                "HealthCheckConfig": {
                    "Type": "HTTP",
                    "FullyQualifiedDomainName": {"Fn::GetAtt": [lb_id, "DNSName"]},
                    "Port": 80,
                    "ResourcePath": CANARY_PATH,
                    "RequestInterval": 30,
                    "FailureThreshold": 3,
                }
            },
        )


# ---------------------------------------------------------------------------- nag, cfn-lint


def test_nag_finds_nothing_unacknowledged_and_every_acknowledgement_has_a_reason(built: Built) -> None:
    report = json.loads((built.outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p.get("conclusion") == "failure"] == []
    acknowledged: dict[str, str] = {}
    for name in COPIES:
        for entries in json.loads((built.outdir / f"{name}.metadata.json").read_text()).values():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    acknowledged.update(entry["data"])
    nag = {
        re.sub(r"^annotation::", "", k, flags=re.I): v for k, v in acknowledged.items() if "AwsSolutions" in k
    }
    assert set(nag) == {"AwsSolutions-S1", "AwsSolutions-EC23", "AwsSolutions-IAM5[Resource::*]"}
    assert all(len(reason) > 60 for reason in nag.values())


def test_cfn_lint_reports_no_errors(built: Built) -> None:
    paths = [built.outdir / f"{name}.template.json" for name in COPIES]
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert errors == [], "\n".join(errors)
    assert result.returncode in (0, 4), result.stderr  # 4 = warnings only


# ---------------------------------------------------------------------- policy → ECS mapping


@pytest.mark.parametrize(
    ("policy", "field", "message"),
    [
        (
            DeploymentPolicy(shape=TrafficShape.LINEAR, step_percent=2, interval_minutes=5),
            "step_percent",
            "3%",
        ),
        (
            DeploymentPolicy(shape=TrafficShape.CANARY, step_percent=5, interval_minutes=2000),
            "interval_minutes",
            "1440",
        ),
    ],
)
def test_policies_ecs_cannot_run_fail_naming_the_field(
    policy: DeploymentPolicy, field: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"DeploymentPolicy\.{field}.*{message}"):
        ecs_deployment_for(policy)


# ------------------------------------------------------------------- the example pipeline


ONE_BOX_STAGES = re.compile(r"^(Gamma|Prod-1|Prod-2)(-|$)")


@pytest.fixture(scope="module")
def shipping_assembly(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """``ShippingPipeline`` synthesized once, as ``cdk synth`` does (from the repository root)."""
    from hands_off.example.shipping import ShippingPipeline

    outdir = tmp_path_factory.mktemp("shipping-out")
    app = App(context=app_context(repo_root / "cdk.json"), outdir=str(outdir))
    pipeline = ShippingPipeline(app)
    app.synth()
    return pipeline, outdir


def test_every_gamma_and_production_copy_of_shipping_is_shifted_by_ecs_and_rolls_back(
    shipping_assembly: tuple[Any, Path],
) -> None:
    pipeline, outdir = shipping_assembly
    expected = {d.stack_name for d in pipeline.deployments if d.production or d.stage_name == "Gamma"}
    seen: dict[str, str] = {}
    for folder in sorted(outdir.glob("assembly-*")):
        stage = folder.name.removeprefix(f"assembly-{pipeline.stack_name}-")
        if not stage.startswith(("Gamma", "Prod-")):
            continue
        for path in folder.glob("*.template.json"):
            template = json.loads(path.read_text())
            resources = template["Resources"].values()
            services = [r["Properties"] for r in resources if r["Type"] == "AWS::ECS::Service"]
            if not services:
                continue  # an access stack
            [service] = services
            config = service["DeploymentConfiguration"]
            assert config["Strategy"] in {"CANARY", "LINEAR", "BLUE_GREEN"}, stage
            assert config["BakeTimeInMinutes"] > 0, stage
            if ONE_BOX_STAGES.match(stage):
                assert config["Strategy"] == "CANARY", stage
                assert config["CanaryConfiguration"]["CanaryPercent"] <= 10, stage
            else:
                assert config["Strategy"] == "LINEAR", stage
            assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}, stage
            alarms = config["Alarms"]
            assert alarms["Enable"] is True, stage
            assert alarms["Rollback"] is True, stage
            assert len(alarms["AlarmNames"]) >= 3, stage
            by_name = {
                r["Properties"]["AlarmName"]: r["Properties"]
                for r in resources
                if r["Type"] == "AWS::CloudWatch::Alarm"
            }
            assert set(alarms["AlarmNames"]) <= set(by_name), stage
            bands = [
                n
                for n in alarms["AlarmNames"]
                if any(
                    "ANOMALY_DETECTION_BAND" in m.get("Expression", "") for m in by_name[n].get("Metrics", [])
                )
            ]
            assert len(bands) == 1, stage
            seen[service["ServiceName"] + "@" + stage] = path.name
    assert len(seen) == len(expected) > 0
    assert {name.split("@")[0] for name in seen} == {"shipping-gamma", "shipping-prod"}


def test_shipping_build_packages_no_lambda_zip(shipping_assembly: tuple[Any, Path]) -> None:
    pipeline, _ = shipping_assembly
    assert pipeline.build_commands() == ["make service-test CODE_DIRECTORY=containers/shipping"]
    assert pipeline.signs_lambda_package is False


# ---------------------------------------------------------------------------------- roles


@pytest.mark.parametrize("name", list(COPIES))
def test_every_role_is_named_under_the_org_prefix_per_copy_and_region(built: Built, name: str) -> None:
    """The bootstrap's CloudFormation policy may create ``hands-off-*`` roles only."""
    prefix = f"hands-off-{COPIES[name][0].function_name}-{REGION}-"
    roles = built.resources(name, "AWS::IAM::Role").values()
    names = sorted(r["Properties"]["RoleName"] for r in roles)
    expected = ["ecs-lb", "flow-logs", "task", "task-exec"]
    assert names == sorted(prefix + purpose for purpose in expected)
    assert all("ManagedPolicyArns" not in r["Properties"] for r in roles)


def test_a_role_name_over_64_characters_fails_naming_the_fix(bare_stack: Callable[..., Stack]) -> None:
    from aws_cdk import aws_ecs as ecs

    with pytest.raises(ConfigError, match=r"EcsService\.role_name_prefix.*over IAM's 64.*shorter"):
        EcsService(
            bare_stack(),
            "Service",
            service_name="x",
            image=ecs.ContainerImage.from_registry("public.ecr.aws/docker/library/python:3.13-slim"),
            policy=ONE_BOX_POLICY,
            role_name_prefix="hands-off-" + "a" * 50,
        )


@pytest.mark.parametrize("name", list(COPIES))
def test_every_role_holds_its_permissions_inline_with_no_separate_policy(built: Built, name: str) -> None:
    # The task execution, load balancer (infrastructure) and flow log roles: their statements,
    # CDK's grants included, are their own inline policy (one resource per role, not two).
    assert built.resources(name, "AWS::IAM::Policy") == {}
    for role_id, role in built.resources(name, "AWS::IAM::Role").items():
        policies = role["Properties"].get("Policies", [])
        assert [p["PolicyName"] for p in policies] in ([], [INLINE_POLICY_NAME]), role_id
