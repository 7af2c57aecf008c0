"""Issue 8, decided in the plan (no synth): bakes that can finish, production IAM after validation,
and a stage-entry mirror alarm that holds an unhealthy report long enough to block.

Each test here failed on the code before the fix: the plan accepted bakes whose polls overflow a
Step Functions execution's history, deployed every account's IAM with Alpha, and mirrored health
into a one-minute alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hands_off.blueprint import ZETA_STAGE, HealthMirror, PipelinePlan, plan_pipeline
from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    Account,
    ConfigError,
    DeploymentPolicy,
    Environments,
    GatePolicy,
    Stage,
    Target,
    Wave,
    example_environments,
)
from hands_off.model.gates import (
    BAKE_EVENTS_PER_POLL,
    BAKE_TIMEOUT_SECONDS,
    HISTORY_EVENT_LIMIT,
    MAX_BAKE_POLLS,
)
from hands_off.naming import ServiceNaming

TOOLING = Account(name="tooling", account_id="111111111111")
PREPROD = Account(name="preprod", account_id="222222222222")
PROD = Account(name="prod", account_id="333333333333")
DEV = Account(name="dev", account_id="999999999999")
NAMING = ServiceNaming(service="orders", tooling_account=TOOLING.account_id, tooling_region="us-east-1")


def plan(
    envs: Environments | None = None,
    gate_policy: GatePolicy | None = None,
    hook: Callable[[Stage | Wave], DeploymentPolicy] = lambda stage: stage.policy,
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


def environments(*, gamma: Account = PREPROD, prod: Account = PROD) -> Environments:
    """Alpha in a dev account, Beta and Gamma in ``gamma``, three production waves in ``prod``."""
    return Environments(
        toolchain=Target(account=TOOLING, region="us-east-1"),
        alpha=Stage(name="Alpha", targets=targets(DEV, "us-east-1")),
        beta=Stage(name="Beta", targets=targets(gamma, "us-east-1")),
        gamma=Stage(name="Gamma", targets=targets(gamma, "us-east-1", "eu-west-1"), policy=ONE_BOX_POLICY),
        waves=(
            Wave(name="Prod-1", targets=targets(prod, "eu-west-2")),
            Wave(name="Prod-2", targets=targets(prod, "us-east-2")),
            Wave(name="Prod-3", targets=targets(prod, "ap-northeast-1", "us-west-2"), policy=FAST_POLICY),
        ),
    )


# ----------------------------------------------------------------- bakes that can finish (5)


def test_the_poll_budget_fits_the_execution_history_with_a_margin() -> None:
    assert MAX_BAKE_POLLS * BAKE_EVENTS_PER_POLL <= 0.9 * HISTORY_EVENT_LIMIT


def test_one_second_polls_over_a_sixty_minute_bake_are_rejected() -> None:
    # GIVEN 1 s polls and the default 60-minute bakes (3,601 polls: ~50,400 history events)
    # WHEN the pipeline is planned THEN the error names the field, the stage and a poll that fits
    with pytest.raises(ConfigError) as raised:
        plan(environments(), GatePolicy(bake_poll_seconds=1))
    assert raised.value.field == "GatePolicy.bake_poll_seconds"
    message = raised.value.message
    assert "Gamma" in message
    assert "3601 polls" in message
    assert "25,000" in message
    assert "bake_poll_seconds=3 or more" in message


def test_a_day_long_bake_at_thirty_second_polls_is_rejected() -> None:
    def day_long(stage: Stage | Wave) -> DeploymentPolicy:
        return stage.policy.with_(bake_minutes=1440) if stage.name == "Prod-3" else stage.policy

    with pytest.raises(ConfigError) as raised:
        plan(environments(), GatePolicy(bake_poll_seconds=30), hook=day_long)
    assert raised.value.field == "GatePolicy.bake_poll_seconds"
    assert "Prod-3 bakes 1440 min" in raised.value.message
    assert "bake_poll_seconds=55 or more" in raised.value.message
    # ... and the poll it names fits
    planned = plan(environments(), GatePolicy(bake_poll_seconds=55), hook=day_long)
    assert planned.stage("Prod-3").bake is not None


def test_a_bake_that_needs_requests_is_checked_against_its_48_hour_timeout() -> None:
    # A bake starved of requests polls until the state machine's timeout: at the default 60 s that
    # is 2,881 polls, past the history limit at ~43 h with a history error instead of a reason.
    with pytest.raises(ConfigError) as raised:
        GatePolicy(bake_min_requests=1_000)
    assert raised.value.field == "GatePolicy.bake_poll_seconds"
    assert "48 h timeout" in raised.value.message
    assert "bake_poll_seconds=109 or more" in raised.value.message
    assert BAKE_TIMEOUT_SECONDS == 172_800
    GatePolicy(bake_min_requests=1_000, bake_poll_seconds=109)


def test_defaults_and_the_example_fleet_pass() -> None:
    defaults = GatePolicy()
    assert defaults.bake_polls(60 * 60) == 61
    assert plan().stage("Gamma").bake is not None
    # the longest bake the model allows (1,440 min) fits at the default poll
    defaults.check_bake_fits(1440 * 60, what="test")


@pytest.mark.parametrize(("poll", "polls"), [(60, 61), (61, 61), (59, 63), (3600, 2)])
def test_bake_polls_count_the_first_and_the_last(poll: int, polls: int) -> None:
    assert GatePolicy(bake_poll_seconds=poll).bake_polls(3600) == polls


# ------------------------------------------------------- production IAM after validation (8)


def test_production_accounts_get_their_roles_in_zeta_pre_production_accounts_in_alpha() -> None:
    planned = plan(environments())
    assert [(a.account.name, a.stage) for a in planned.access] == [
        ("dev", "Alpha"),
        ("preprod", "Alpha"),
        ("prod", ZETA_STAGE),
    ]
    assert ZETA_STAGE == "Zeta"
    prod = planned.access[2]
    assert [d.stage_name for d in prod.deployments] == ["Prod-1", "Prod-2", "Prod-3", "Prod-3"]
    assert all(d.production for d in prod.deployments)


def test_the_example_fleet_deploys_its_production_roles_in_zeta() -> None:
    stages = {a.account.account_id: a.stage for a in plan().access}
    assert stages == {"222222222222": "Alpha", "333333333333": "Zeta"}


def test_every_gated_account_has_its_reader_role_before_its_first_gate() -> None:
    planned = plan(environments())
    order = [s.name for s in planned.stages]
    order.insert(order.index("Prod-1"), ZETA_STAGE)
    deployed_in = {a.account.account_id: order.index(a.stage) for a in planned.access}
    for stage in planned.stages:
        if stage.gate is not None:
            for d in stage.deployments:
                assert deployed_in[d.target.account.account_id] < order.index(stage.name)


def test_an_account_with_pre_production_and_production_copies_deploys_its_roles_with_alpha() -> None:
    # Roles are per account: one that Beta or Gamma needs cannot wait for Zeta.
    shared = Account(name="shared", account_id="444444444444")
    planned = plan(environments(gamma=shared, prod=shared))
    assert [(a.account.name, a.stage) for a in planned.access] == [("dev", "Alpha"), ("shared", "Alpha")]
    assert len(planned.access[1].deployments) == 7


def test_access_covers_every_copy_once() -> None:
    planned = plan(environments())
    assert sorted(id(d) for a in planned.access for d in a.deployments) == sorted(
        id(d) for d in planned.deployments
    )


# ----------------------------------------------------- a stage-entry alarm that blocks (9)


def test_the_mirror_holds_one_unhealthy_report_past_the_next_report() -> None:
    # The gates publish UnhealthyCopies every check_interval_seconds while blocked (600 s by
    # default), the bakes every bake_poll_seconds (60 s); add the lag of EMF ingestion, alarm
    # evaluation and the stage transition: one report must still hold the alarm in ALARM then.
    mirror = plan().observed_health
    assert isinstance(mirror, HealthMirror)
    assert mirror.period_seconds == 60
    assert mirror.datapoints_to_alarm == 1  # one unhealthy report is enough
    assert mirror.hold_seconds == mirror.period_seconds * mirror.evaluation_periods
    policy = GatePolicy()
    assert mirror.hold_seconds >= max(policy.check_interval_seconds, policy.bake_poll_seconds) + 300
    assert mirror.evaluation_periods == 15


@pytest.mark.parametrize(
    ("policy", "periods"),
    [
        (GatePolicy(check_interval_seconds=60, max_wait_seconds=3600, bake_poll_seconds=60), 6),
        (GatePolicy(check_interval_seconds=1800, bake_poll_seconds=60), 35),
        (GatePolicy(check_interval_seconds=300, max_wait_seconds=86_400, bake_poll_seconds=900), 20),
        (GatePolicy(check_interval_seconds=86_400, max_wait_seconds=7 * 86_400), 1440),
    ],
)
def test_the_mirror_follows_the_publish_rhythm(policy: GatePolicy, periods: int) -> None:
    mirror = plan(environments(), policy).observed_health
    assert mirror.evaluation_periods == periods
    # CloudWatch evaluates at most one day of data per alarm
    assert mirror.hold_seconds <= 86_400
