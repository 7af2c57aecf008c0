"""plan_pipeline without synth: every layout decision of a pipeline, asserted as plain data.

The blueprint imports no ``aws_cdk``, so these tests run in milliseconds; the synth tests keep only
what needs a template (``tests/constructs`` for one construct, the ``fleet`` for end-to-end).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from hands_off.blueprint import (
    SSM_STANDARD_LIMIT,
    PipelinePlan,
    TrafficMetric,
    lambda_invocations,
    plan_pipeline,
)
from hands_off.deployment import Deployment
from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    Account,
    AlarmPolicy,
    ConfigError,
    DeploymentPolicy,
    Environments,
    GatePolicy,
    Stage,
    Target,
    TimeWindow,
    Wave,
    example_environments,
)
from hands_off.naming import ServiceNaming

TOOLING = Account(name="tooling", account_id="111111111111")
PREPROD = Account(name="preprod", account_id="222222222222")
PROD = Account(name="prod", account_id="333333333333")
# An id that sorts after the others: first-use order and sorted order differ.
DEV = Account(name="dev", account_id="999999999999")

NAMING = ServiceNaming(service="orders", tooling_account=TOOLING.account_id, tooling_region="us-east-1")
EXAMPLE_STAGES = ["Alpha", "Beta", "Gamma", "Prod-1", "Prod-2", "Prod-3", "Prod-4"]


def from_environments(stage: Stage | Wave) -> DeploymentPolicy:
    """The default hook of ServicePipeline."""
    return stage.policy


def plan(
    envs: Environments | None = None,
    gate_policy: GatePolicy | None = None,
    hook: Callable[[Stage | Wave], DeploymentPolicy] = from_environments,
    **kwargs: Any,
) -> PipelinePlan:
    return plan_pipeline(
        envs or example_environments(),
        NAMING,
        deployment_policy=hook,
        gate_policy=gate_policy or GatePolicy(),
        **kwargs,
    )


def targets(account: Account, *regions: str) -> tuple[Target, ...]:
    return tuple(Target(account=account, region=r) for r in regions)


def small_environments() -> Environments:
    """Alpha in its own dev account, Beta and Gamma in pre-production, three production waves."""
    return Environments(
        toolchain=Target(account=TOOLING, region="us-east-1"),
        alpha=Stage(name="Alpha", targets=targets(DEV, "us-east-1")),
        beta=Stage(name="Beta", targets=targets(PREPROD, "us-east-1")),
        gamma=Stage(name="Gamma", targets=targets(PREPROD, "us-east-1", "eu-west-1"), policy=ONE_BOX_POLICY),
        waves=(
            Wave(name="Prod-1", targets=targets(PROD, "eu-west-2")),
            Wave(name="Prod-2", targets=targets(PROD, "us-east-2")),
            Wave(name="Prod-3", targets=targets(PROD, "ap-northeast-1", "us-west-2"), policy=FAST_POLICY),
        ),
        alarm_policy=AlarmPolicy(p99_latency_ms=700),
    )


@pytest.fixture(scope="module")
def example() -> PipelinePlan:
    return plan()


@pytest.fixture(scope="module")
def small() -> PipelinePlan:
    return plan(small_environments())


# ----------------------------------------------------------------------------------- purity


def test_the_blueprint_loads_no_cdk() -> None:
    # A fresh interpreter: this session has imported aws_cdk for other tests.
    code = (
        "import sys, hands_off.blueprint as b, hands_off.model as m, hands_off.naming as n\n"
        "b.plan_pipeline(m.example_environments(), n.ServiceNaming(service='x', tooling_account='1'*12,"
        " tooling_region='us-east-1'), deployment_policy=lambda s: s.policy, gate_policy=m.GatePolicy())\n"
        "loaded = sorted(k for k in ('aws_cdk', 'constructs', 'jsii') if k in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)


# ---------------------------------------------------------------------------------- stages


def test_stages_in_pipeline_order(example: PipelinePlan) -> None:
    assert [s.name for s in example.stages] == EXAMPLE_STAGES
    assert [s.name for s in example.preproduction] == ["Alpha", "Beta", "Gamma"]
    assert [s.name for s in example.production] == ["Prod-1", "Prod-2", "Prod-3", "Prod-4"]


def test_stage_lookup(example: PipelinePlan) -> None:
    assert example.stage("Prod-3").name == "Prod-3"
    with pytest.raises(KeyError):
        example.stage("Zeta")  # Zeta is rendered, never planned: it deploys nothing


def test_copies_and_stage_ids(example: PipelinePlan) -> None:
    # One target: the stage's name (CDK Pipelines names the CodePipeline stage after it);
    # several: <stage>-<region>, in the stage's target order.
    assert {s.name: [c.stage_id for c in s.copies] for s in example.stages} == {
        "Alpha": ["Alpha"],
        "Beta": ["Beta"],
        "Gamma": ["Gamma-us-west-2", "Gamma-eu-west-1"],
        "Prod-1": ["Prod-1"],
        "Prod-2": ["Prod-2"],
        "Prod-3": ["Prod-3-ap-south-1", "Prod-3-sa-east-1"],
        "Prod-4": [
            "Prod-4-ap-southeast-2",
            "Prod-4-ap-northeast-1",
            "Prod-4-eu-central-1",
            "Prod-4-eu-west-1",
            "Prod-4-us-west-2",
        ],
    }


def test_each_copy_is_the_stages_target(example: PipelinePlan) -> None:
    envs = example.environments
    for planned, stage in zip(example.stages, envs.stages_in_order(), strict=True):
        assert [d.target for d in planned.deployments] == list(stage.targets)
        for d in planned.deployments:
            assert (d.service_name, d.stage_name, d.production) == ("orders", stage.name, planned.production)
            assert d.policy == stage.policy
            assert d.alarm_policy == envs.alarm_policy


def test_function_names_are_per_environment_not_per_wave(example: PipelinePlan) -> None:
    assert [d.function_name for d in example.stage("Gamma").deployments] == ["orders-gamma", "orders-gamma"]
    # Re-planning the waves moves a region without renaming its copy.
    assert {d.function_name for s in example.production for d in s.deployments} == {"orders-prod"}


def test_alarm_policy_of_the_environments_reaches_every_copy(small: PipelinePlan) -> None:
    assert {d.alarm_policy.p99_latency_ms for d in small.deployments} == {700}


def test_production_stages_roll_back_and_watch_the_observed_health(example: PipelinePlan) -> None:
    for stage in example.production:
        assert stage.production
        assert stage.rollback_on_failure
        assert stage.entry_alarm == NAMING.observed_health_alarm == "orders-application-observed-health"
        assert not stage.integration_tests  # Zeta tests production once, before the first wave
    for stage in example.preproduction:
        assert not stage.production
        assert not stage.rollback_on_failure
        assert stage.entry_alarm is None
        assert stage.integration_tests


# ------------------------------------------------------------------------- gates and bakes


def test_gamma_and_every_wave_have_a_gate_and_a_bake(example: PipelinePlan) -> None:
    gated = {s.name for s in example.stages if s.gate is not None}
    baked = {s.name for s in example.stages if s.bake is not None}
    assert gated == baked == {"Gamma", "Prod-1", "Prod-2", "Prod-3", "Prod-4"}
    for name in ("Alpha", "Beta"):
        assert example.stage(name).gate is None
        assert example.stage(name).bake is None


def test_step_ids_parameters_and_machines(example: PipelinePlan) -> None:
    for stage in (s for s in example.stages if s.gate is not None):
        assert stage.gate is not None
        assert stage.bake is not None
        assert (stage.gate.step_id, stage.gate.machine) == (f"{stage.name}-Gate", "gate")
        assert (stage.bake.step_id, stage.bake.machine) == (f"{stage.name}-Bake", "bake")
        assert stage.gate.parameter_name == f"/hands-off/orders-application/gates/{stage.name}-Gate"
        assert stage.bake.parameter_name == NAMING.gate_input_parameter(f"{stage.name}-Bake")
    assert [i.step_id for i in example.step_inputs] == [
        f"{name}-{kind}" for name in EXAMPLE_STAGES[2:] for kind in ("Gate", "Bake")
    ]


def test_step_json_is_the_compact_value(example: PipelinePlan) -> None:
    for step in example.step_inputs:
        assert json.loads(step.json) == step.value
        assert ", " not in step.json
        assert ": " not in step.json
        assert len(step.json) <= SSM_STANDARD_LIMIT


def test_gate_input(example: PipelinePlan) -> None:
    gate = example.stage("Prod-3").gate
    assert gate is not None
    value = gate.value
    assert value["pipeline"] == "orders-application"
    assert value["stage"] == "Prod-3"
    assert value["override_parameter"] == "/hands-off/orders-application/override"
    assert value["check_interval_seconds"] == GatePolicy().check_interval_seconds
    assert value["max_wait_seconds"] == GatePolicy().max_wait_seconds


def test_gate_app_checks_look_the_health_alarm_up_by_prefix(example: PipelinePlan) -> None:
    # Before the first deployment to a region its health alarm does not exist yet: by prefix, a
    # missing alarm does not block forever.
    gate = example.stage("Prod-3").gate
    assert gate is not None
    reader = "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader"
    assert gate.value["app_checks"] == [
        {
            "region": "ap-south-1",
            "role_arn": reader,
            "alarm_names": [],
            "alarm_name_prefixes": ["orders-prod-health"],
        },
        {
            "region": "sa-east-1",
            "role_arn": reader,
            "alarm_names": [],
            "alarm_name_prefixes": ["orders-prod-health"],
        },
    ]


def test_bake_checks_require_the_health_alarm_by_exact_name(example: PipelinePlan) -> None:
    bake = example.stage("Gamma").bake
    assert bake is not None
    reader = "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader"
    assert bake.value["checks"] == [
        {
            "region": "us-west-2",
            "role_arn": reader,
            "alarm_names": ["orders-gamma-health"],
            "alarm_name_prefixes": [],
        },
        {
            "region": "eu-west-1",
            "role_arn": reader,
            "alarm_names": ["orders-gamma-health"],
            "alarm_name_prefixes": [],
        },
    ]


def test_no_org_checks_unless_the_gate_policy_names_org_alarms(example: PipelinePlan) -> None:
    for step in example.step_inputs:
        if step.machine == "gate":
            assert step.value["org_checks"] == []


def test_org_alarms_appear_in_org_checks_only(small: PipelinePlan) -> None:
    # GIVEN org-wide alarms by name and by prefix
    policy = GatePolicy(org_alarm_names=("org-outage",), org_alarm_prefixes=("org-critical-", "sec-"))
    planned = plan(small_environments(), policy)
    # THEN every gate checks them in every copy's account and region, with no app alarm mixed in
    for stage in (s for s in planned.stages if s.gate is not None):
        assert stage.gate is not None
        assert stage.bake is not None
        org = stage.gate.value["org_checks"]
        assert [(c["region"], c["role_arn"]) for c in org] == [
            (c["region"], c["role_arn"]) for c in stage.gate.value["app_checks"]
        ]
        for check in org:
            assert check["alarm_names"] == ["org-outage"]
            assert check["alarm_name_prefixes"] == ["org-critical-", "sec-"]
        # ... not among the app checks ...
        assert "org-" not in json.dumps(stage.gate.value["app_checks"])
        # ... and the bake watches them beside each copy's own health alarm: a hotfix lifts only
        # the latter, so an org-wide alarm still fails a hotfix's bake (attack finding).
        for check, copy in zip(stage.bake.value["checks"], stage.gate.value["app_checks"], strict=True):
            assert check["alarm_names"] == ["org-outage", *copy["alarm_name_prefixes"]]
            assert check["alarm_name_prefixes"] == ["org-critical-", "sec-"]
        own = {a for g in stage.bake.value["hotfix_groups"] for a in g["own_alarms"]}
        assert not [a for a in own if a.startswith(("org-", "sec-"))]
    # the same plan without org alarms differs only in org_checks
    gate, plain = planned.stage("Prod-3").gate, small.stage("Prod-3").gate
    assert gate is not None
    assert plain is not None
    assert {k: v for k, v in gate.value.items() if k != "org_checks"} == {
        k: v for k, v in plain.value.items() if k != "org_checks"
    }


@pytest.mark.parametrize(
    ("policy", "names", "prefixes"),
    [
        (GatePolicy(org_alarm_names=("org-outage",)), ["org-outage"], []),
        (GatePolicy(org_alarm_prefixes=("org-critical-",)), [], ["org-critical-"]),
    ],
)
def test_either_org_alarm_kind_alone_makes_org_checks(
    policy: GatePolicy, names: list[str], prefixes: list[str]
) -> None:
    gate = plan(small_environments(), policy).stage("Gamma").gate
    assert gate is not None
    assert [(c["alarm_names"], c["alarm_name_prefixes"]) for c in gate.value["org_checks"]] == [
        (names, prefixes),
        (names, prefixes),
    ]


def test_bake_seconds_are_the_stages_bake_minutes(example: PipelinePlan) -> None:
    bakes = {s.name: s.bake.value["bake_seconds"] for s in example.stages if s.bake is not None}
    assert bakes == {"Gamma": 3600, "Prod-1": 3600, "Prod-2": 3600, "Prod-3": 1800, "Prod-4": 1800}
    for stage, source in zip(example.stages, example.environments.stages_in_order(), strict=True):
        if stage.bake is not None:
            assert stage.bake.value["bake_seconds"] == source.policy.bake_minutes * 60


def test_bake_seconds_follow_the_hook_not_the_environments() -> None:
    def longer(stage: Stage | Wave) -> DeploymentPolicy:
        return stage.policy.with_(bake_minutes=stage.policy.bake_minutes + 15)

    planned = plan(small_environments(), hook=longer)
    assert planned.stage("Prod-3").bake is not None
    assert planned.stage("Prod-3").bake.value["bake_seconds"] == (FAST_POLICY.bake_minutes + 15) * 60  # type: ignore[union-attr]
    assert {d.policy.bake_minutes for d in planned.stage("Prod-1").deployments} == {
        ONE_BOX_POLICY.bake_minutes + 15
    }


def test_bake_settings_come_from_the_gate_policy() -> None:
    bake = (
        plan(small_environments(), GatePolicy(bake_min_requests=50, bake_poll_seconds=120))
        .stage("Prod-1")
        .bake
    )
    assert bake is not None
    assert (bake.value["min_requests"], bake.value["poll_seconds"]) == (50, 120)


def test_bake_traffic_sums_each_copys_live_alias_invocations(example: PipelinePlan) -> None:
    bake = example.stage("Prod-3").bake
    assert bake is not None
    reader = "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader"
    dimensions = [
        {"Name": "FunctionName", "Value": "orders-prod"},
        {"Name": "Resource", "Value": "orders-prod:live"},
    ]
    assert bake.value["traffic"] == {
        "namespace": "AWS/Lambda",
        "metric_name": "Invocations",
        "targets": [
            {"region": "ap-south-1", "role_arn": reader, "dimensions": dimensions},
            {"region": "sa-east-1", "role_arn": reader, "dimensions": dimensions},
        ],
    }


def test_a_traffic_strategy_replaces_the_lambda_metric() -> None:
    seen: list[str] = []

    def requests(d: Deployment) -> TrafficMetric:
        seen.append(f"{d.stage_name}/{d.target.region}")
        return TrafficMetric(
            namespace="AWS/ApplicationELB",
            metric_name="RequestCount",
            dimensions=(("TargetGroup", d.function_name),),
        )

    planned = plan(small_environments(), traffic=requests)
    bake = planned.stage("Prod-3").bake
    assert bake is not None
    assert (bake.value["traffic"]["namespace"], bake.value["traffic"]["metric_name"]) == (
        "AWS/ApplicationELB",
        "RequestCount",
    )
    assert bake.value["traffic"]["targets"][0]["dimensions"] == [
        {"Name": "TargetGroup", "Value": "orders-prod"}
    ]
    # once per baked copy: Gamma (2), Prod-1, Prod-2, Prod-3 (2)
    assert len(seen) == 6
    assert lambda_invocations(planned.stage("Alpha").deployments[0]).metric_name == "Invocations"


# ------------------------------------------------------------------------------ time window


@pytest.mark.parametrize(
    ("stage", "zone"),
    [
        ("Gamma", "America/Los_Angeles"),  # us-west-2 first, eu-west-1 second
        ("Prod-1", "America/Toronto"),  # ca-central-1
        ("Prod-3", "Asia/Kolkata"),  # ap-south-1 first, sa-east-1 second
        ("Prod-4", "Australia/Sydney"),  # ap-southeast-2 first, us-west-2 last
    ],
)
def test_window_is_read_in_the_first_region_of_the_wave(example: PipelinePlan, stage: str, zone: str) -> None:
    # Follow the sun (X6).
    gate = example.stage(stage).gate
    assert gate is not None
    first_region = example.stage(stage).deployments[0].target.region
    assert gate.value["window"] == GatePolicy().window_config(first_region)
    assert [w["timezone"] for w in gate.value["window"]["windows"]] == [zone]


def test_a_fixed_window_timezone_is_kept() -> None:
    policy = GatePolicy(windows=(TimeWindow(timezone="Europe/London", start="08:00", end="12:00"),))
    gate = plan(small_environments(), policy).stage("Prod-3").gate
    assert gate is not None
    assert gate.value["window"]["windows"] == [
        {
            "days": ["MON", "TUE", "WED", "THU", "FRI"],
            "start": "08:00",
            "end": "12:00",
            "timezone": "Europe/London",
        }
    ]


# ---------------------------------------------------------------------- endpoints and roles


def test_zeta_endpoints_are_exactly_the_production_aliases(example: PipelinePlan) -> None:
    regions = [t.region for w in example.environments.waves for t in w.targets]
    assert example.zeta_endpoints == tuple(
        f"arn:aws:lambda:{r}:333333333333:function:orders-prod:live" for r in regions
    )
    assert len(example.zeta_endpoints) == 9


def test_zeta_endpoints_of_the_small_fleet(small: PipelinePlan) -> None:
    assert small.zeta_endpoints == (
        "arn:aws:lambda:eu-west-2:333333333333:function:orders-prod:live",
        "arn:aws:lambda:us-east-2:333333333333:function:orders-prod:live",
        "arn:aws:lambda:ap-northeast-1:333333333333:function:orders-prod:live",
        "arn:aws:lambda:us-west-2:333333333333:function:orders-prod:live",
    )


def test_reader_roles_one_per_gated_account(example: PipelinePlan, small: PipelinePlan) -> None:
    expected = (
        "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader",
        "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader",
    )
    assert example.reader_role_arns == expected
    # the dev account hosts only Alpha, which has no gate: the gates never read it
    assert small.reader_role_arns == expected


def test_deployments_by_account_in_first_use_order(example: PipelinePlan, small: PipelinePlan) -> None:
    grouped = example.deployments_by_account()
    assert list(grouped) == ["222222222222", "333333333333"]
    assert [d.stage_name for d in grouped["222222222222"]] == ["Alpha", "Beta", "Gamma", "Gamma"]
    assert len(grouped["333333333333"]) == 9
    # dev (999...) is first used by Alpha: first, although its id sorts last
    small_grouped = small.deployments_by_account()
    assert list(small_grouped) == ["999999999999", "222222222222", "333333333333"]
    assert [d.stage_name for d in small_grouped["222222222222"]] == ["Beta", "Gamma", "Gamma"]
    assert sum(len(v) for v in small_grouped.values()) == len(small.deployments) == 8


def test_deployments_are_in_pipeline_order(small: PipelinePlan) -> None:
    assert [(d.stage_name, d.target.region) for d in small.deployments] == [
        ("Alpha", "us-east-1"),
        ("Beta", "us-east-1"),
        ("Gamma", "us-east-1"),
        ("Gamma", "eu-west-1"),
        ("Prod-1", "eu-west-2"),
        ("Prod-2", "us-east-2"),
        ("Prod-3", "ap-northeast-1"),
        ("Prod-3", "us-west-2"),
    ]


# ------------------------------------------------------------------------------------ hooks


def test_deployment_policy_hook_runs_exactly_once_per_stage() -> None:
    calls: list[str] = []

    def counting(stage: Stage | Wave) -> DeploymentPolicy:
        calls.append(stage.name)
        return stage.policy

    planned = plan(hook=counting)
    assert calls == EXAMPLE_STAGES
    assert len(planned.stages) == len(calls)


def test_the_hooks_policy_reaches_the_copies() -> None:
    def slower(stage: Stage | Wave) -> DeploymentPolicy:
        return (
            stage.policy.with_(step_percent=20, interval_minutes=10)
            if stage.policy == FAST_POLICY
            else stage.policy
        )

    planned = plan(hook=slower)
    assert {d.policy.step_percent for d in planned.stage("Prod-4").deployments} == {20}
    assert {d.policy for d in planned.stage("Alpha").deployments} == {PREPROD_POLICY}


def test_warnings_of_the_environments_are_kept(example: PipelinePlan) -> None:
    assert example.warnings == example.environments.warnings


# ------------------------------------------------------------------------------------ limits


def test_a_gate_input_over_the_ssm_limit_names_the_step_and_the_limit() -> None:
    # GIVEN org alarm names that make the first gate's input longer than a parameter holds
    policy = GatePolicy(org_alarm_names=tuple(f"org-alarm-{i:03d}-" + "x" * 230 for i in range(12)))
    # WHEN the pipeline is planned THEN a ConfigError names the owner, the step and the limit
    with pytest.raises(ConfigError) as raised:
        plan(small_environments(), policy, owner="OrdersPipeline")
    assert raised.value.field == "OrdersPipeline Gamma-Gate"
    assert "4,096" in raised.value.message
    assert "org alarm names" in raised.value.message


def test_the_default_owner_is_service_pipeline() -> None:
    policy = GatePolicy(org_alarm_prefixes=tuple(f"org-{i:03d}-" + "y" * 240 for i in range(12)))
    with pytest.raises(
        ConfigError, match=r"^ServicePipeline Gamma-Gate: the gate configuration is \d+ characters"
    ):
        plan(small_environments(), policy)


def test_a_plain_plan_is_far_below_the_limit(small: PipelinePlan) -> None:
    # The largest input of a plain plan leaves room: the limit is about org alarms, not the fleet.
    assert max(len(s.json) for s in small.step_inputs) < SSM_STANDARD_LIMIT // 2


def test_hotfix_groups_name_each_copys_group_in_the_shared_application() -> None:
    """Issue 9: a copy's deployment group is named after it, in the account-region baseline's
    shared CodeDeploy application (``hands-off-lambda`` by default; a fleet's ``hands-off-server``)."""
    for kwargs, application in (
        ({}, "hands-off-lambda"),
        ({"codedeploy_application": "hands-off-server"}, "hands-off-server"),
    ):
        planned = plan(**kwargs)
        for stage in planned.stages:
            for step in (stage.gate, stage.bake):
                if step is None:
                    continue
                groups = step.value["hotfix_groups"]
                assert [(g["region"], g["application"], g["deployment_group"]) for g in groups] == [
                    (d.target.region, application, d.function_name) for d in stage.deployments
                ]
