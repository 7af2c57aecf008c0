"""P14-P16, X4: gates before Gamma and every Prod-N, a bake after every Prod-N, native stage
conditions (OnFailure ROLLBACK + BeforeEntry alarm) on every Prod-N."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

SERVICES = ("orders", "catalog")


def stages(fleet: Any, service: str) -> dict[str, dict[str, Any]]:
    template = Template.from_stack(fleet.pipeline(service)).to_json()
    [pipeline] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return {s["Name"]: s for s in pipeline["Properties"]["Stages"]}


def configured_input(fleet: Any, service: str, action: dict[str, Any]) -> dict[str, Any]:
    """The gate/bake input: the action names an SSM parameter of the pipeline stack holding it."""
    pointer = json.loads(action["Configuration"]["Input"])
    assert pointer["pipeline_execution_id"] == "#{codepipeline.PipelineExecutionId}"
    template = Template.from_stack(fleet.pipeline(service))
    [value] = [
        p["Properties"]["Value"]
        for p in template.find_resources("AWS::SSM::Parameter").values()
        if p["Properties"]["Name"] == pointer["config_parameter"]
    ]
    return json.loads(value)  # type: ignore[no-any-return]


def test_every_action_configuration_value_fits_codepipeline_limit(fleet: Any) -> None:
    """CodePipeline rejects an action configuration value over 1,000 characters."""
    for service in SERVICES:
        for stage in stages(fleet, service).values():
            for action in stage["Actions"]:
                for key, value in action.get("Configuration", {}).items():
                    if isinstance(value, str):
                        assert len(value) <= 1000, f"{stage['Name']}/{action['Name']}.{key}: {len(value)}"


def ordered(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(actions, key=lambda a: a.get("RunOrder", 1))


@pytest.mark.parametrize("service", SERVICES)
def test_gamma_and_every_prod_wave_start_with_the_gate(fleet: Any, service: str) -> None:
    by_name = stages(fleet, service)
    gated = ["Gamma"] + [n for n in by_name if n.startswith("Prod-")]
    for name in gated:
        first = ordered(by_name[name]["Actions"])[0]
        assert first["ActionTypeId"]["Provider"] == "StepFunctions", name
        assert first["Name"] == f"{name}-Gate"
        state_input = configured_input(fleet, service, first)
        assert state_input["stage"] == name
        assert state_input["app_checks"], "the gate must check this service's alarms"
        # the copy's own health alarm, by prefix: a first deployment to a new region has none yet
        assert all(c["alarm_name_prefixes"][0].endswith("-health") for c in state_input["app_checks"])
        assert state_input["window"]["windows"][0]["timezone"]  # local time of the wave (X6)
        assert state_input["max_wait_seconds"] >= state_input["check_interval_seconds"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_prod_wave_ends_with_a_bake_of_its_bake_time(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    for wave in (pipeline.envs.gamma, *pipeline.envs.waves):  # Gamma bakes too (P6)
        last = ordered(stages(fleet, service)[wave.name]["Actions"])[-1]
        assert last["Name"] == f"{wave.name}-Bake"
        assert last["ActionTypeId"]["Provider"] == "StepFunctions"
        state_input = configured_input(fleet, service, last)
        assert state_input["bake_seconds"] == pipeline.deployment_policy(wave).bake_minutes * 60 > 0
        assert {t["region"] for t in state_input["traffic"]["targets"]} == set(wave.regions)


@pytest.mark.parametrize("service", SERVICES)
def test_prod_stages_roll_back_on_failure_and_check_alarms_before_entry(fleet: Any, service: str) -> None:
    template = Template.from_stack(fleet.pipeline(service))
    [mirror] = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"].endswith("-observed-health")
    ]
    assert mirror["Namespace"] == "HandsOff/Gates"
    assert mirror["MetricName"] == "UnhealthyCopies"
    for name, stage in stages(fleet, service).items():
        if not name.startswith("Prod-"):
            assert "OnFailure" not in stage
            continue
        assert stage["OnFailure"] == {"Result": "ROLLBACK"}
        [condition] = stage["BeforeEntry"]["Conditions"]
        [rule] = condition["Rules"]
        assert rule["RuleTypeId"]["Provider"] == "CloudWatchAlarm"
        # the rule reads an alarm of the pipeline's own account, which exists before any stage runs
        assert rule["Configuration"]["AlarmName"] == mirror["AlarmName"]
        assert "RoleArn" not in rule


def test_gate_state_machine_loops_until_clear_or_gives_up(fleet: Any) -> None:
    template = Template.from_stack(fleet.pipeline("orders"))
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 3  # gate, bake, and the restore of a bake that ended early
    gate = next(m for k, m in machines.items() if "Gate" in k)
    definition = json.dumps(gate["Properties"]["DefinitionString"])
    for state in ("CheckAll", "Decide", "WaitAndRecheck", "Clear", "Blocked"):
        assert state in definition
    # the window check runs in the checks function, which runs the module each task names
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": "hands_off_gates.dispatch.handler", "Runtime": "python3.14"}
    )
    assert '"gate_function":"time_window"' in definition.replace("\\", "")


def test_gate_asset_bundles_tzdata(fleet: Any) -> None:
    bundles = [p for p in fleet.outdir.glob("asset.*") if (p / "hands_off_gates" / "time_window.py").exists()]
    assert bundles, "the gate asset was not bundled"
    assert (bundles[0] / "tzdata" / "zoneinfo" / "Europe" / "London").is_file()
