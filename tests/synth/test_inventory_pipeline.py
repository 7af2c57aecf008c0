"""The EC2 example (InventoryPipeline) synthesized once, with cdk-nag, as `cdk synth` does: every
copy's revision is deployed by a CodeDeploy action after its stack, every Gamma and production
copy has a zonal server deployment group that rolls back on its alarms, the Build signs nothing and
outputs the revision, and Zeta reads the production endpoints from their stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage

from hands_off.cli import main
from hands_off.example.inventory import InventoryPipeline
from hands_off.model import ConfigError, GatePolicy
from hands_off.nag import apply_nag
from hands_off.naming import RolePurpose
from hands_off.render.integration_tests import ZETA_VARIABLE
from hands_off.testing import app_context
from tests.iam_permissions import identity_statements

TOOLING = "111111111111"


@dataclass
class Synthesized:
    pipeline: InventoryPipeline
    outdir: Path

    def template(self, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(path.read_text())
        return result

    @property
    def pipeline_template(self) -> dict[str, Any]:
        return self.template(self.outdir / "InventoryPipeline.template.json")

    def resources(self, template: dict[str, Any], kind: str) -> dict[str, Any]:
        return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}

    def stages(self) -> list[dict[str, Any]]:
        (pipeline,) = self.resources(self.pipeline_template, "AWS::CodePipeline::Pipeline").values()
        stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
        return stages

    def app_template(self, stack_name: str) -> dict[str, Any]:
        for stage in self.pipeline.rendered.stages:
            if stage.stack.stack_name == stack_name:
                return self.stack_template(stage.stack)
        raise KeyError(stack_name)

    def stack_template(self, stack: Stack) -> dict[str, Any]:
        stage = Stage.of(stack)
        assert stage is not None
        return self.template(Path(stage.outdir) / stack.template_file)


@pytest.fixture(scope="module")
def synthesized(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("inventory")
    app = App(context=app_context(repo_root / "cdk.json"), outdir=str(outdir))
    pipeline = InventoryPipeline(app)
    apply_nag(app)
    app.synth()  # fails on any unacknowledged cdk-nag finding
    return Synthesized(pipeline=pipeline, outdir=outdir)


def _stack_files(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob("*.template.json"))


def test_every_copy_gets_the_revision_by_codedeploy_after_its_stack(synthesized: Synthesized) -> None:
    pipeline = synthesized.pipeline
    by_copy = {(d.target.account.account_id, d.target.region, d.stage_name): d for d in pipeline.deployments}
    seen = []
    for stage in synthesized.stages():
        actions = stage["Actions"]
        for action in (a for a in actions if a["ActionTypeId"]["Provider"] == "CodeDeploy"):
            account = action["RoleArn"].split(":")[4]
            d = by_copy[(account, action.get("Region", pipeline.region), stage["Name"])]
            assert action["RoleArn"] == pipeline.naming.role_arn(account, RolePurpose.FLEET_DEPLOY)
            assert action["Configuration"] == {
                "ApplicationName": "hands-off-server",  # the account-region baseline's
                "DeploymentGroupName": d.function_name,
            }
            assert action["InputArtifacts"] == [{"Name": "Synth_build_revision"}]
            (deploy,) = [a for a in actions if a["Name"].endswith(f"{d.stack_name}.Deploy")]
            assert action["RunOrder"] > deploy["RunOrder"], f"{stage['Name']}: CodeDeploy before the stack"
            test_name = action["Name"].removesuffix("-Deploy") + "-IntegrationTest"
            tests = [a for a in actions if a["Name"] == test_name]
            assert len(tests) == (0 if d.production else 1)  # pre-production: tested after the revision
            assert all(t["RunOrder"] > action["RunOrder"] for t in tests)
            seen.append(d)
    assert sorted(seen, key=pipeline.deployments.index) == list(pipeline.deployments)


def test_every_gamma_and_prod_stack_has_a_zonal_group_that_rolls_back_on_alarms(
    synthesized: Synthesized,
) -> None:
    watched = [d for d in synthesized.pipeline.deployments if d.production or d.stage_name == "Gamma"]
    assert len(watched) == 2 + 9
    for d in watched:
        template = synthesized.app_template(d.stack_name)
        (group,) = synthesized.resources(template, "AWS::CodeDeploy::DeploymentGroup").values()
        props = group["Properties"]
        assert props["AutoRollbackConfiguration"] == {
            "Enabled": True,
            "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"],
        }
        alarms = synthesized.resources(template, "AWS::CloudWatch::Alarm")
        rollback = {a["Name"]["Ref"] for a in props["AlarmConfiguration"]["Alarms"]}
        assert len(rollback) >= 3
        kinds = {alarms[r]["Properties"]["AlarmName"].removeprefix(f"{d.function_name}-") for r in rollback}
        assert {"host-cpu", "traffic-anomaly", "fault-rate", "latency-p99"} <= kinds, d.stack_name
        anomaly = next(alarms[r] for r in rollback if alarms[r]["Properties"].get("ThresholdMetricId"))
        assert any("ANOMALY_DETECTION_BAND" in json.dumps(m) for m in anomaly["Properties"]["Metrics"])
        (config,) = synthesized.resources(template, "AWS::CodeDeploy::DeploymentConfig").values()
        assert props["DeploymentConfigName"] == {
            "Ref": next(iter(synthesized.resources(template, "AWS::CodeDeploy::DeploymentConfig")))
        }
        zonal = config["Properties"]["ZonalConfig"]
        assert zonal["FirstZoneMonitorDurationInSeconds"] == d.policy.interval_minutes * 60
        assert zonal["MonitorDurationInSeconds"] >= 60
        assert zonal["MinimumHealthyHostsPerZone"] == {"Type": "HOST_COUNT", "Value": 1}
        (asg,) = synthesized.resources(template, "AWS::AutoScaling::AutoScalingGroup").values()
        hosts = int(asg["Properties"]["MaxSize"])
        assert asg["Properties"]["MinSize"] == asg["Properties"]["MaxSize"]
        # every host but one stays healthy: the first batch is one host (the one-box)
        assert config["Properties"]["MinimumHealthyHosts"] == {"Type": "HOST_COUNT", "Value": hosts - 1}
        zones = {
            s["Properties"]["AvailabilityZone"]
            for s in synthesized.resources(template, "AWS::EC2::Subnet").values()
        }
        assert len(zones) >= 3


def test_every_copy_runs_public_hosts_with_no_nat_gateway(synthesized: Synthesized) -> None:
    """The example's default network: no NAT gateway in any of its copies (three per copy would
    cost about $100 a month each); hosts with public addresses that admit the load balancer only."""
    deployments = synthesized.pipeline.deployments
    assert len(deployments) == 13
    for d in deployments:
        template = synthesized.app_template(d.stack_name)
        assert synthesized.resources(template, "AWS::EC2::NatGateway") == {}, d.stack_name
        (launch,) = synthesized.resources(template, "AWS::EC2::LaunchTemplate").values()
        (interface,) = launch["Properties"]["LaunchTemplateData"]["NetworkInterfaces"]
        assert interface["AssociatePublicIpAddress"] is True
        (host_group,) = [g["Fn::GetAtt"][0] for g in interface["Groups"]]
        (balancer,) = synthesized.resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer").values()
        (balancer_group,) = [g["Fn::GetAtt"][0] for g in balancer["Properties"]["SecurityGroups"]]
        assert "SecurityGroupIngress" not in template["Resources"][host_group]["Properties"]
        ingress = [
            r["Properties"]
            for r in synthesized.resources(template, "AWS::EC2::SecurityGroupIngress").values()
            if r["Properties"]["GroupId"]["Fn::GetAtt"][0] == host_group
        ]
        assert [(r["SourceSecurityGroupId"]["Fn::GetAtt"][0], r["FromPort"]) for r in ingress] == [
            (balancer_group, 8080)
        ], d.stack_name


def test_build_signs_only_the_gate_runtime_and_outputs_the_revision(synthesized: Synthesized) -> None:
    template = synthesized.pipeline_template
    synth_project = synthesized.pipeline.pipeline.synth_project
    logical_id = synthesized.pipeline.get_logical_id(synth_project.node.default_child)  # type: ignore[arg-type]
    project = template["Resources"][logical_id]["Properties"]
    spec = json.loads(project["Source"]["BuildSpec"])
    commands = json.dumps(spec["phases"])
    # No Lambda package of the service: nothing of it is packaged or signed ...
    assert "make package CODE_DIRECTORY" not in commands
    assert "unsigned/inventory.zip" not in commands  # (neither inventory/unsigned/inventory.zip)
    # ... but the gate runtime is, always: the gate functions enforce its signature.
    assert "make package-gates PACKAGE=build/hands-off-gates.zip" in commands
    assert "--key inventory/unsigned/hands-off-gates.zip" in commands
    assert "hands-off:signedCodeDir" in commands
    assert (
        spec["artifacts"]["secondary-artifacts"]["Synth_build_revision"]["base-directory"] == "build/revision"
    )
    assert "cp -R servers/inventory/appspec.yml" in commands


def test_zeta_reads_every_production_endpoint_from_its_stack(synthesized: Synthesized) -> None:
    template = synthesized.pipeline_template
    (zeta_stage,) = [s for s in synthesized.stages() if s["Name"] == "Zeta"]
    (action,) = [a for a in zeta_stage["Actions"] if a["Name"] == "Zeta-IntegrationTest"]
    # Zeta runs the pipeline's one integration-test project, its own commands selected by its action.
    project_id = action["Configuration"]["ProjectName"]["Ref"]
    zeta = synthesized.resources(template, "AWS::CodeBuild::Project")[project_id]["Properties"]
    action_env = {e["name"]: e["value"] for e in json.loads(action["Configuration"]["EnvironmentVariables"])}
    assert action_env == {ZETA_VARIABLE: "1", "SKIP_NOT_DEPLOYED": "1"}
    env = {e["Name"]: e["Value"] for e in zeta["Environment"]["EnvironmentVariables"]}
    production = [d for d in synthesized.pipeline.deployments if d.production]
    assert env["ENDPOINT_STACKS"].split(",") == [
        f"{d.target.region}:{d.target.account.account_id}:{d.stack_name}" for d in production
    ]
    assert env["ENDPOINT_ROLE"] == "hands-off-inventory-endpoints"
    assert "ENDPOINTS" not in env  # not predicted: read at run time
    for d in production:  # the output the resolver reads exists in every production stack
        outputs = synthesized.app_template(d.stack_name)["Outputs"]
        assert outputs[env["ENDPOINT_OUTPUT"]]["Description"] == "URL of the fleet's load balancer"
    commands = json.loads(zeta["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    zeta_only = json.dumps([c for c in commands if c.startswith(f'if [ -n "${{{ZETA_VARIABLE}:-}}" ]')])
    assert "describe_stacks" in zeta_only
    assert "python servers/inventory/integ_test.py" in zeta_only
    assumed = json.dumps(synthesized.resources(template, "AWS::IAM::Policy"))
    assert '"arn:aws:iam::333333333333:role/hands-off-inventory-endpoints"' in assumed


def test_access_stacks_hold_the_fleet_roles(synthesized: Synthesized) -> None:
    access = synthesized.pipeline.access_stacks
    assert len(access) == 2
    for stack in access:
        assert stack.instance_role is not None
        assert stack.fleet_deploy_role is not None
        template = synthesized.stack_template(stack)
        roles = {
            r["Properties"]["RoleName"]: r["Properties"]
            for r in synthesized.resources(template, "AWS::IAM::Role").values()
        }
        deploy = roles["hands-off-inventory-fleet-deploy"]
        assert (
            json.dumps(deploy["AssumeRolePolicyDocument"]).count(
                f"arn:aws:iam::{TOOLING}:role/hands-off-inventory-pipeline"
            )
            == 1
        )
        assert "ec2.amazonaws.com" in json.dumps(
            roles["hands-off-inventory-instance"]["AssumeRolePolicyDocument"]
        )
    prod = next(s for s in access if s.account == "333333333333")
    assert prod.endpoints_role is not None
    template = synthesized.stack_template(prod)
    statements = json.dumps(identity_statements(template))
    assert "cloudformation:DescribeStacks" in statements
    assert "stack/inventory-prod-ca-central-1/*" in statements


def test_no_artifact_policy_names_a_role_created_after_the_pipeline(synthesized: Synthesized) -> None:
    for path in _stack_files(synthesized.outdir):
        template = synthesized.template(path)
        for kind in ("AWS::S3::BucketPolicy", "AWS::KMS::Key"):
            for resource in synthesized.resources(template, kind).values():
                text = json.dumps(resource)
                assert "fleet-deploy" not in text, f"{path.name}: {kind} names the fleet-deploy role"
                assert "role/hands-off-inventory-instance" not in text


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", *map(str, _stack_files(synthesized.outdir))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert [line for line in result.stdout.splitlines() if ":E" in line] == []
    assert result.returncode in (0, 4), result.stderr


def test_bakes_that_must_count_requests_refuse_copies_behind_a_load_balancer(repo_root: Path) -> None:
    class Counting(InventoryPipeline):
        def gate_policy(self) -> GatePolicy:
            return GatePolicy(bake_min_requests=100, bake_poll_seconds=120)

    with pytest.raises(ConfigError, match="bake_min_requests=0"):
        Counting(App(context=app_context(repo_root / "cdk.json")))


def test_hands_off_check_passes_the_ec2_pipeline(
    synthesized: Synthesized, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(synthesized.outdir)]) == 0, capsys.readouterr().out
