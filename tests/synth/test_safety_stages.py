"""Issue 8, items 8, 9 and 5 (last part), on the synthesized pipelines of the example fleet:
production IAM after validation, a stage-entry alarm that blocks, bakes that can finish.

Before the fix, every account's access stack deployed with the first Alpha copy (production IAM
changed with the first, ungated stage), and the tooling-account mirror alarm kept an unhealthy
report for about one minute (period 60 s, 1 of 1, missing data OK), so it almost never blocked
a stage entry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stage
from aws_cdk.assertions import Template

from hands_off.blueprint import MIRROR_LAG_SECONDS
from hands_off.model.gates import BAKE_TIMEOUT_SECONDS

SERVICES = ("orders", "catalog")


def pipeline_stages(fleet: Any, service: str) -> dict[str, dict[str, Any]]:
    template = Template.from_stack(fleet.pipeline(service)).to_json()
    [pipeline] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return {s["Name"]: s for s in pipeline["Properties"]["Stages"]}


def deploy_accounts(stage: dict[str, Any], stack_name: str) -> set[str]:
    """Accounts whose deploy role runs a CloudFormation action on ``stack_name`` in ``stage``."""
    accounts = set()
    for action in stage["Actions"]:
        if action["Configuration"].get("StackName") == stack_name:
            role = json.dumps(action["RoleArn"])
            accounts |= {a for a in ("222222222222", "333333333333") if f":iam::{a}:" in role}
    return accounts


# ------------------------------------------------------------ production IAM after validation


@pytest.mark.parametrize("service", SERVICES)
def test_production_roles_deploy_in_zeta_pre_production_roles_in_alpha(fleet: Any, service: str) -> None:
    by_name = pipeline_stages(fleet, service)
    access = f"{service}-access"
    assert deploy_accounts(by_name["Alpha"], access) == {"222222222222"}
    assert deploy_accounts(by_name["Zeta"], access) == {"333333333333"}
    for name, stage in by_name.items():
        if name not in ("Alpha", "Zeta"):
            assert deploy_accounts(stage, access) == set(), name


@pytest.mark.parametrize("service", SERVICES)
def test_zeta_deploys_the_production_roles_before_its_tests_and_before_prod_1(
    fleet: Any, service: str
) -> None:
    by_name = pipeline_stages(fleet, service)
    order = list(by_name)
    assert order.index("Beta") < order.index("Gamma") < order.index("Zeta") < order.index("Prod-1")
    runs = {a["Name"]: a["RunOrder"] for a in by_name["Zeta"]["Actions"]}
    assert runs[f"{service}-access.Deploy"] < runs["Zeta-IntegrationTest"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_access_stack_sits_in_the_stage_its_plan_says(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    where = {a.account.account_id: a.stage for a in pipeline.plan.access}
    assert where == {"222222222222": "Alpha", "333333333333": "Zeta"}
    for stack in pipeline.access_stacks:
        assert Stage.of(stack).stage_name == where[stack.account]  # type: ignore[union-attr]


# --------------------------------------------------------------- a stage-entry alarm that blocks


@pytest.mark.parametrize("service", SERVICES)
def test_one_unhealthy_report_holds_the_mirror_past_the_next_report(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    template = Template.from_stack(pipeline)
    [mirror] = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"] == f"{service}-application-observed-health"
    ]
    assert (mirror["MetricName"], mirror["Statistic"]) == ("UnhealthyCopies", "Maximum")
    assert (mirror["Threshold"], mirror["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    # ALARM while any one of the last N minutes saw an unhealthy copy; no report is healthy
    assert mirror["DatapointsToAlarm"] == 1
    assert mirror["TreatMissingData"] == "notBreaching"
    hold = mirror["Period"] * mirror["EvaluationPeriods"]
    policy = pipeline.plan.gate_policy
    # the gates publish every check_interval_seconds while blocked, the bakes every
    # bake_poll_seconds; plus ingestion, evaluation and the stage transition
    assert hold >= policy.check_interval_seconds + MIRROR_LAG_SECONDS
    assert hold >= policy.bake_poll_seconds + MIRROR_LAG_SECONDS
    assert (mirror["Period"], mirror["EvaluationPeriods"]) == (60, 15)


# --------------------------------------------------------------------- bakes that can finish


def test_the_bake_machine_times_out_when_the_poll_budget_assumes(fleet: Any) -> None:
    # GatePolicy checks a bake that needs requests against BAKE_TIMEOUT_SECONDS: the machine's
    # own timeout must be that one.
    template = Template.from_stack(fleet.pipeline("orders"))
    [bake] = [
        m for k, m in template.find_resources("AWS::StepFunctions::StateMachine").items() if "Bake" in k
    ]
    definition = "".join(
        p for p in bake["Properties"]["DefinitionString"]["Fn::Join"][1] if isinstance(p, str)
    )
    assert f'"TimeoutSeconds":{BAKE_TIMEOUT_SECONDS}' in definition


def test_the_bake_inputs_fit_the_execution_history(fleet: Any) -> None:
    for service in SERVICES:
        pipeline = fleet.pipeline(service)
        policy = pipeline.plan.gate_policy
        for stage in pipeline.plan.stages:
            if stage.bake is not None:
                policy.check_bake_fits(stage.bake.value["bake_seconds"], what=stage.name)
