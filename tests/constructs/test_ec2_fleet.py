"""Ec2Fleet alone: zones, hosts, load balancer, alarms and the zonal CodeDeploy server group."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack, Validations
from aws_cdk.assertions import Capture, Match, Template
from cdk_nag import AwsSolutionsChecks

from hands_off.constructs.copies import (
    ServerDeployment,
    codedeploy_application_of,
    endpoint_known_at_synth,
    server_deployment_of,
)
from hands_off.constructs.ec2_fleet import (
    HOST_CPU_ALARM_SUFFIX,
    Ec2Fleet,
    availability_zones,
    server_deployment_config_for,
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
    Target,
)
from hands_off.naming import SERVER_APPLICATION_NAME, ServiceNaming
from hands_off.testing import app_context

ROOT = Path(__file__).resolve().parents[2]

ACCOUNT, REGION = "123456789012", "eu-west-1"  # the bare stack's env (conftest)
NAME = "inventory-test"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]


Built = tuple[Stack, Ec2Fleet, Template, Path]


def _synth(outdir: Path, **kwargs: Any) -> Built:
    """A one-box (canary) fleet with canary traffic, synthesized with cdk-nag as `cdk synth` runs it."""
    app = App(context=app_context(ROOT / "cdk.json"), outdir=str(outdir))
    stack = Stack(app, "Test", env=Environment(account=ACCOUNT, region=REGION))
    fleet = Ec2Fleet(
        stack,
        "Service",
        name=NAME,
        policy=ONE_BOX_POLICY,
        availability_zones=ZONES,
        canary_path="/items/A-1",
        **kwargs,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks())
    app.synth()  # fails on any unacknowledged cdk-nag finding
    return stack, fleet, Template.from_stack(stack), outdir


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The default network: public hosts, no NAT gateway."""
    return _synth(tmp_path_factory.mktemp("ec2"))


@pytest.fixture(scope="module")
def built_private(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The option for teams that must not have public addresses: private hosts, NAT per zone."""
    return _synth(tmp_path_factory.mktemp("ec2-private"), network="private-with-nat")


@pytest.fixture(scope="module", params=["public", "private-with-nat"])
def either(request: pytest.FixtureRequest) -> Built:
    """Each network option (nag and cfn-lint must pass on both)."""
    fixture = "built" if request.param == "public" else "built_private"
    result: Built = request.getfixturevalue(fixture)
    return result


def _ref(value: Any) -> str:
    """The logical id a ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}`` names."""
    if "Ref" in value:
        return str(value["Ref"])
    return str(value["Fn::GetAtt"][0])


def _host_subnet_routes(t: Template) -> dict[str, dict[str, Any]]:
    """The default (0.0.0.0/0) route of each subnet the Auto Scaling group launches hosts in, by
    logical id."""
    (asg,) = t.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    subnets = [_ref(s) for s in asg["Properties"]["VPCZoneIdentifier"]]
    tables = {
        _ref(a["Properties"]["SubnetId"]): _ref(a["Properties"]["RouteTableId"])
        for a in t.find_resources("AWS::EC2::SubnetRouteTableAssociation").values()
    }
    routes = {
        _ref(r["Properties"]["RouteTableId"]): (k, r["Properties"])
        for k, r in t.find_resources("AWS::EC2::Route").items()
        if r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"
    }
    return dict(routes[tables[subnet]] for subnet in subnets)


def _host_group_rules(t: Template, stack: Stack, fleet: Ec2Fleet, kind: str) -> list[dict[str, Any]]:
    """Every ``kind`` (``Ingress`` or ``Egress``) rule of the hosts' security group, inline or not."""
    group_id = stack.get_logical_id(fleet.host_security_group.node.default_child)  # type: ignore[arg-type]
    group = t.find_resources("AWS::EC2::SecurityGroup")[group_id]["Properties"]
    rules: list[dict[str, Any]] = list(group.get(f"SecurityGroup{kind}", []))
    for rule in t.find_resources(f"AWS::EC2::SecurityGroup{kind}").values():
        if _ref(rule["Properties"]["GroupId"]) == group_id:
            rules.append(rule["Properties"])
    return rules


def test_nag_ran_and_found_nothing_unacknowledged(either: Built) -> None:
    *_, outdir = either
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [p for p in report["pluginReports"] if p.get("conclusion") == "failure"] == []


def test_cfn_lint_reports_no_errors(either: Built) -> None:
    *_, outdir = either
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(outdir / "Test.template.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert [line for line in result.stdout.splitlines() if ":E" in line] == []
    assert result.returncode in (0, 4), result.stderr


def test_hosts_span_three_zones_with_a_fixed_size_and_flow_logs(either: Built) -> None:
    _, _, t, _ = either
    zones = {r["Properties"]["AvailabilityZone"] for r in t.find_resources("AWS::EC2::Subnet").values()}
    assert zones == set(ZONES)
    (asg,) = t.find_resources("AWS::AutoScaling::AutoScalingGroup").values()
    assert len(asg["Properties"]["VPCZoneIdentifier"]) == 3  # one subnet per zone
    t.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"MinSize": "6", "MaxSize": "6", "HealthCheckType": "EC2"},
    )
    t.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "REJECT"})
    t.has_resource(
        "AWS::AutoScaling::AutoScalingGroup",
        {"CreationPolicy": {"ResourceSignal": {"Count": 6, "Timeout": "PT15M"}}},
    )
    # hosts launch once their subnets' default routes exist (they install the agent and signal)
    routes = _host_subnet_routes(t)
    assert len(routes) == 3
    assert set(routes) <= set(asg["DependsOn"])


def test_by_default_hosts_are_public_with_no_nat_gateway(built: Built) -> None:
    # GIVEN a fleet with the default network
    _, fleet, t, _ = built
    # THEN there is no NAT gateway and no private subnet
    assert fleet.network == "public"
    t.resource_count_is("AWS::EC2::NatGateway", 0)
    t.resource_count_is("AWS::EC2::EIP", 0)
    t.resource_count_is("AWS::EC2::Subnet", 3)
    # the hosts' subnets route to the internet gateway
    routes = _host_subnet_routes(t).values()
    assert len(routes) == 3
    assert all("GatewayId" in r and "NatGatewayId" not in r for r in routes)
    # each host gets a public address from the launch template (the subnets hand out none)
    t.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "NetworkInterfaces": [
                    {"DeviceIndex": 0, "AssociatePublicIpAddress": True, "Groups": Match.any_value()}
                ]
            }
        },
    )
    for subnet in t.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_public_hosts_admit_only_the_load_balancer_on_the_app_port(built: Built) -> None:
    stack, fleet, t, _ = built
    balancer_group = stack.get_logical_id(
        fleet.load_balancer.connections.security_groups[0].node.default_child  # type: ignore[arg-type]
    )
    ingress = _host_group_rules(t, stack, fleet, "Ingress")
    assert len(ingress) >= 1
    for rule in ingress:
        assert _ref(rule["SourceSecurityGroupId"]) == balancer_group
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 8080, 8080)
        assert "CidrIp" not in rule
        assert "CidrIpv6" not in rule
    # out: HTTPS for AWS and the package repositories, HTTP 80 for the canary through the ALB
    egress = {
        (r["IpProtocol"], r["FromPort"], r["ToPort"], r["CidrIp"])
        for r in _host_group_rules(t, stack, fleet, "Egress")
    }
    assert egress == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0")}
    # the launch template attaches this group (and only it) to the hosts
    (template,) = t.find_resources("AWS::EC2::LaunchTemplate").values()
    (interface,) = template["Properties"]["LaunchTemplateData"]["NetworkInterfaces"]
    groups = [_ref(g) for g in interface["Groups"]]
    assert groups == [stack.get_logical_id(fleet.host_security_group.node.default_child)]  # type: ignore[arg-type]


def test_private_option_keeps_hosts_private_behind_a_nat_gateway_per_zone(built_private: Built) -> None:
    # GIVEN a fleet for a team that must not have public addresses
    stack, fleet, t, _ = built_private
    # THEN each zone has its own NAT gateway and the hosts route through it
    assert fleet.network == "private-with-nat"
    t.resource_count_is("AWS::EC2::NatGateway", 3)
    nat_subnets = {
        _ref(n["Properties"]["SubnetId"]) for n in t.find_resources("AWS::EC2::NatGateway").values()
    }
    subnet_zones = {
        k: r["Properties"]["AvailabilityZone"] for k, r in t.find_resources("AWS::EC2::Subnet").items()
    }
    assert {subnet_zones[s] for s in nat_subnets} == set(ZONES)
    routes = _host_subnet_routes(t).values()
    assert len(routes) == 3
    assert all("NatGatewayId" in r and "GatewayId" not in r for r in routes)
    assert len({_ref(r["NatGatewayId"]) for r in routes}) == 3  # each zone its own
    # and no host gets a public address
    (template,) = t.find_resources("AWS::EC2::LaunchTemplate").values()
    data = template["Properties"]["LaunchTemplateData"]
    assert "NetworkInterfaces" not in data
    host_group = stack.get_logical_id(fleet.host_security_group.node.default_child)  # type: ignore[arg-type]
    assert [_ref(g) for g in data["SecurityGroupIds"]] == [host_group]
    for subnet in t.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    # the same ingress: the load balancer only
    assert [
        (r["FromPort"], "SourceSecurityGroupId" in r) for r in _host_group_rules(t, stack, fleet, "Ingress")
    ] == [(8080, True)]


def test_an_unknown_network_is_a_config_error(bare_stack: Callable[..., Stack]) -> None:
    with pytest.raises(ConfigError, match="private-with-nat"):
        Ec2Fleet(
            bare_stack(),
            "Service",
            name=NAME,
            policy=ONE_BOX_POLICY,
            availability_zones=ZONES,
            network="private",  # type: ignore[arg-type]
        )


def test_hosts_require_imdsv2_encrypted_ebs_and_no_ssh_key(either: Built) -> None:
    _, _, t, _ = either
    data = Capture()
    t.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": Match.object_like({"Encrypted": True})}
                ],
                "KeyName": Match.absent(),
                "UserData": data,
            }
        },
    )
    user_data = json.dumps(data.as_object())
    assert "codedeploy-install auto" in user_data
    assert "cfn-signal" in user_data  # the stack waits for every host's agent
    assert "hands-off-canary.timer" in user_data
    assert "/items/A-1" in user_data
    roles = t.find_resources(
        "AWS::IAM::Role",
        {
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [Match.object_like({"Principal": {"Service": "ec2.amazonaws.com"}})]
                }
            }
        },
    )
    (role,) = roles.values()
    assert "AmazonSSMManagedInstanceCore" in json.dumps(role["Properties"]["ManagedPolicyArns"])


def test_load_balancer_is_public_logged_and_hosts_only_accept_it(
    built: Built,
) -> None:
    _, _, t, _ = built
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "LoadBalancerAttributes": Match.array_with([{"Key": "access_logs.s3.enabled", "Value": "true"}]),
        },
    )
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Port": 8080, "HealthCheckPath": "/health"},
    )
    t.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"FromPort": 8080, "ToPort": 8080, "SourceSecurityGroupId": Match.any_value()},
    )


def test_alarms_fault_latency_anomaly_band_and_host_cpu(
    built: Built,
) -> None:
    _, fleet, t, _ = built
    names = {r["Properties"]["AlarmName"] for r in t.find_resources("AWS::CloudWatch::Alarm").values()}
    assert names >= {  # (a concurrent change may add composites of its own)
        f"{NAME}-fault-rate",
        f"{NAME}-latency-p99",
        f"{NAME}-traffic-anomaly",
        f"{NAME}-{HOST_CPU_ALARM_SUFFIX}",
    }
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{NAME}-traffic-anomaly",
            "ComparisonOperator": "LessThanLowerThreshold",
            "ThresholdMetricId": Match.any_value(),
            "TreatMissingData": "breaching",
        },
    )
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{NAME}-host-cpu",
            "Namespace": "AWS/EC2",
            "MetricName": "CPUUtilization",
            "Threshold": 80,
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": Match.any_value()}],
        },
    )
    # the gates find the copy's composite by name, like every copy's
    t.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmName": f"{NAME}-health"})
    assert fleet.alarms.health.alarm_name  # the ServiceCopy protocol


def test_server_group_rolls_back_on_failure_and_on_every_alarm(
    built: Built,
) -> None:
    stack, fleet, t, _ = built
    alarms = Capture()
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentGroupName": NAME,
            "AutoRollbackConfiguration": {"Enabled": True, "Events": ROLLBACK_EVENTS},
            "AlarmConfiguration": {"Alarms": alarms, "Enabled": True},
            "AutoScalingGroups": [{"Ref": Match.any_value()}],
            "DeploymentStyle": {"DeploymentOption": "WITH_TRAFFIC_CONTROL"},
            "LoadBalancerInfo": {"TargetGroupInfoList": [Match.any_value()]},
        },
    )
    watched = {a["Name"]["Ref"] for a in alarms.as_array()}
    expected = {stack.get_logical_id(a.node.default_child) for a in fleet.rollback_alarms}  # type: ignore[arg-type]
    assert watched == expected
    assert len(watched) >= 3
    # in the account-region baseline's shared server application: the copy creates none
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentGroupName": NAME, "ApplicationName": SERVER_APPLICATION_NAME},
    )
    t.resource_count_is("AWS::CodeDeploy::Application", 0)
    assert SERVER_APPLICATION_NAME == "hands-off-server"
    assert codedeploy_application_of(fleet) == codedeploy_application_of(Ec2Fleet) == SERVER_APPLICATION_NAME
    assert fleet.deployment_group.node.id != "DeploymentGroup"  # a new logical id (README, Upgrading)


def test_deployment_config_is_zonal_with_a_one_host_first_batch(
    built: Built,
) -> None:
    _, _, t, _ = built
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {
            "MinimumHealthyHosts": {"Type": "HOST_COUNT", "Value": 5},  # 6 hosts: one at a time
            "ZonalConfig": {
                "FirstZoneMonitorDurationInSeconds": 600,  # the one-box bake: the canary interval
                "MonitorDurationInSeconds": 300,
                "MinimumHealthyHostsPerZone": {"Type": "HOST_COUNT", "Value": 1},
            },
        },
    )


def test_copy_declares_its_server_deployment_and_a_deploy_time_endpoint(
    built: Built,
) -> None:
    _, fleet, t, _ = built
    assert server_deployment_of(fleet) == ServerDeployment(
        application_name=SERVER_APPLICATION_NAME, deployment_group_name=NAME
    )
    assert endpoint_known_at_synth(fleet) is False
    outputs = t.find_outputs("*", {"Description": "URL of the fleet's load balancer"})
    assert len(outputs) == 1


def test_linear_policy_steps_zone_by_zone_and_preprod_is_all_at_once(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    linear = server_deployment_config_for(stack, "Linear", FAST_POLICY, hosts_per_zone=1, zones=4)
    pre = server_deployment_config_for(stack, "Pre", PREPROD_POLICY, hosts_per_zone=1, zones=3)
    assert stack.resolve(pre.deployment_config_name) == "CodeDeployDefault.AllAtOnce"
    assert linear is not None
    t = Template.from_stack(stack)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig",
        {
            "MinimumHealthyHosts": {"Type": "HOST_COUNT", "Value": 3},
            "ZonalConfig": {
                "FirstZoneMonitorDurationInSeconds": 300,
                "MonitorDurationInSeconds": 300,
                "MinimumHealthyHostsPerZone": {"Type": "HOST_COUNT", "Value": 0},
            },
        },
    )


def test_fewer_than_three_zones_is_a_config_error(bare_stack: Callable[..., Stack]) -> None:
    with pytest.raises(ConfigError, match="at least 3"):
        Ec2Fleet(bare_stack(), "Service", name=NAME, policy=ONE_BOX_POLICY, availability_zones=ZONES[:2])
    with pytest.raises(ConfigError, match="knows 2 in us-west-1"):
        availability_zones("us-west-1", 3)
    assert availability_zones("ap-northeast-1", 3) == [
        "ap-northeast-1a",
        "ap-northeast-1c",
        "ap-northeast-1d",
    ]


def test_for_deployment_names_it_like_every_copy_and_uses_the_account_instance_role(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    naming = ServiceNaming(service="inventory", tooling_account="111111111111", tooling_region="us-east-1")
    deployment = Deployment(
        service_name="inventory",
        stage_name="Prod-1",
        target=Target(account=Account(name="prod", account_id=ACCOUNT), region=REGION),
        policy=ONE_BOX_POLICY,
        alarm_policy=AlarmPolicy(),
        production=True,
    )
    fleet = Ec2Fleet.for_deployment(stack, deployment, naming=naming)
    t = Template.from_stack(stack)
    assert fleet.server_deployment.deployment_group_name == "inventory-prod"
    t.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmName": deployment.health_alarm_name})
    t.has_resource_properties("AWS::IAM::InstanceProfile", {"Roles": ["hands-off-inventory-instance"]})
    # production watches traffic
    t.has_resource_properties("AWS::CloudWatch::Alarm", {"AlarmName": "inventory-prod-traffic-anomaly"})


def test_every_role_holds_its_permissions_inline_with_no_separate_policy(either: Built) -> None:
    # The flow log and CodeDeploy roles: their statements (CDK's grant included) are their own
    # inline policy (one resource per role, not two).
    _, _, t, _ = either
    t.resource_count_is("AWS::IAM::Policy", 0)
    roles = t.find_resources("AWS::IAM::Role")
    inline = {k for k, r in roles.items() if r["Properties"].get("Policies")}
    assert len(inline) == 2
    for role_id in inline:
        assert [p["PolicyName"] for p in roles[role_id]["Properties"]["Policies"]] == [INLINE_POLICY_NAME]
