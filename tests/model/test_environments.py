"""Stage, Wave and Environments validation."""

from __future__ import annotations

import pytest

from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    Account,
    AlarmPolicy,
    ConfigError,
    Environments,
    Stage,
    Target,
    TrafficShape,
    Wave,
)

TOOLING = Account(name="tooling", account_id="111111111111")
PREPROD = Account(name="preprod", account_id="222222222222")
PROD = Account(name="prod", account_id="333333333333")


def targets(account: Account, *regions: str) -> tuple[Target, ...]:
    return tuple(Target(account=account, region=region) for region in regions)


def wave(name: str, *regions: str, policy: object = ONE_BOX_POLICY) -> Wave:
    return Wave(name=name, targets=targets(PROD, *regions), policy=policy)  # type: ignore[arg-type]


GOOD_WAVES = (
    wave("Prod-1", "ca-central-1"),
    wave("Prod-2", "us-east-1"),
    wave("Prod-3", "ap-south-1", "sa-east-1", policy=FAST_POLICY),
)


def environments(**changes: object) -> Environments:
    fields: dict[str, object] = {
        "toolchain": Target(account=TOOLING, region="us-east-1"),
        "alpha": Stage(name="Alpha", targets=targets(PREPROD, "us-west-2")),
        "beta": Stage(name="Beta", targets=targets(PREPROD, "us-west-2")),
        "gamma": Stage(
            name="Gamma", targets=targets(PREPROD, "us-west-2", "eu-west-1"), policy=ONE_BOX_POLICY
        ),
        "waves": GOOD_WAVES,
    }
    fields.update(changes)
    return Environments(**fields)  # type: ignore[arg-type]


def test_stage_defaults_and_regions() -> None:
    stage = Stage(name="Alpha", targets=list(targets(PREPROD, "us-west-2", "eu-west-1")))  # type: ignore[arg-type]

    assert stage.policy == PREPROD_POLICY
    assert stage.targets == targets(PREPROD, "us-west-2", "eu-west-1")
    assert stage.regions == ("us-west-2", "eu-west-1")


def test_wave_defaults_and_regions() -> None:
    two_accounts = (*targets(PROD, "us-east-1"), Target(account=PREPROD, region="us-east-1"))
    w = Wave(name="Prod-1", targets=two_accounts)

    assert w.policy == ONE_BOX_POLICY
    assert w.blast_radius is None
    assert w.regions == ("us-east-1",)


@pytest.mark.parametrize(
    ("build", "field", "fix"),
    [
        (
            lambda: Stage(name="Al pha", targets=targets(PREPROD, "us-west-2")),
            "Stage.name",
            "1 to 80 characters",
        ),
        (
            lambda: Stage(name="A" * 81, targets=targets(PREPROD, "us-west-2")),
            "Stage.name",
            "1 to 80 characters",
        ),
        (lambda: Stage(name="Alpha", targets=()), "Stage.targets", "add one"),
        (
            lambda: Stage(name="Alpha", targets=targets(PREPROD, "us-west-2", "us-west-2")),
            "Stage.targets[1]",
            "list each account and region once",
        ),
        (lambda: Stage(name="Alpha", targets=("us-west-2",)), "Stage.targets[0]", "must be a Target"),  # type: ignore[arg-type]
        (lambda: Stage(name="Alpha", targets="us-west-2"), "Stage.targets", "must be a tuple of Target"),  # type: ignore[arg-type]
        (
            lambda: Stage(name="Alpha", targets=targets(PREPROD, "us-west-2"), policy="fast"),  # type: ignore[arg-type]
            "Stage.policy",
            "must be a DeploymentPolicy",
        ),
        (lambda: Wave(name="", targets=targets(PROD, "us-east-1")), "Wave.name", "e.g. 'Prod-1'"),
        (lambda: Wave(name="Prod-1", targets=()), "Wave.targets", "add one"),
        (
            lambda: Wave(name="Prod-1", targets=targets(PROD, "us-east-1"), blast_radius=1.5),
            "Wave.blast_radius",
            "e.g. 0.05 for 5%",
        ),
    ],
)
def test_stage_and_wave_validation(build: object, field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build()  # type: ignore[operator]

    assert caught.value.field == field
    assert fix in str(caught.value)


def test_valid_environments() -> None:
    env = environments(waves=list(GOOD_WAVES))

    assert env.waves == GOOD_WAVES
    assert env.alarm_policy == AlarmPolicy()
    assert [t.name for t in env.production_targets] == [
        "prod-ca-central-1",
        "prod-us-east-1",
        "prod-ap-south-1",
        "prod-sa-east-1",
    ]
    assert [s.name for s in env.stages_in_order()] == ["Alpha", "Beta", "Gamma", "Prod-1", "Prod-2", "Prod-3"]
    # alpha 0 + beta 0 + gamma 70 + prod-1 70 + prod-2 70 + prod-3 45
    assert env.lead_time_minutes() == 255


def test_gamma_may_skip_its_bake() -> None:
    gamma = Stage(
        name="Gamma",
        targets=targets(PREPROD, "us-west-2", "eu-west-1"),
        policy=ONE_BOX_POLICY.with_(bake_minutes=0),
    )

    assert environments(gamma=gamma).gamma.policy.bake_minutes == 0


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"toolchain": "us-east-1"}, "toolchain", "must be a Target"),
        ({"alpha": None}, "alpha", "must be a Stage"),
        ({"waves": ()}, "waves", "add at least one production wave"),
        ({"waves": "Prod-1"}, "waves", "must be a tuple of Wave"),
        ({"waves": (GOOD_WAVES[0], "Prod-2")}, "waves[1]", "must be a Wave"),
        ({"alarm_policy": {}}, "alarm_policy", "must be an AlarmPolicy"),
        (
            {"beta": Stage(name="Alpha", targets=targets(PREPROD, "us-west-2"))},
            "beta.name",
            "give every stage and wave a unique name",
        ),
        (
            {"waves": (*GOOD_WAVES[:2], wave("Prod-1", "eu-west-1", "eu-west-2", policy=FAST_POLICY))},
            "waves[2].name",
            "is used twice; give every stage and wave a unique name",
        ),
        (
            {"gamma": Stage(name="Gamma", targets=targets(PREPROD, "us-west-2"), policy=ONE_BOX_POLICY)},
            "gamma.targets",
            "add a second region",
        ),
        (
            {"gamma": Stage(name="Gamma", targets=targets(PREPROD, "us-west-2", "eu-west-1"))},
            "gamma.policy.shape",
            "give it the production one-box policy",
        ),
        (
            {"waves": (*GOOD_WAVES, wave("Prod-4", "eu-west-1", "sa-east-1", policy=FAST_POLICY))},
            "waves[3].targets[1]",
            "wave 'Prod-4' lists region 'sa-east-1', already in 'Prod-3'; "
            "a region is deployed by exactly one wave",
        ),
        (
            {
                "waves": (
                    wave("Prod-1", "ca-central-1", "sa-east-1"),
                    wave("Prod-2", "us-east-1", "eu-west-1"),
                )
            },
            "waves[0].targets",
            "start with a single low-traffic region",
        ),
        (
            {"waves": (*GOOD_WAVES, wave("Prod-4", "eu-west-1", policy=FAST_POLICY))},
            "waves[3].targets",
            "waves must never shrink",
        ),
        (
            {"waves": (GOOD_WAVES[0], wave("Prod-2", "us-east-1", policy=FAST_POLICY))},
            "waves[1].policy.shape",
            "use TrafficShape.CANARY",
        ),
        (
            {"waves": (wave("Prod-1", "us-east-1", policy=ONE_BOX_POLICY.with_(step_percent=20)),)},
            "waves[0].policy.step_percent",
            "keep it at most 10%",
        ),
        (
            {
                "waves": (
                    *GOOD_WAVES[:2],
                    wave("Prod-3", "eu-west-1", policy=FAST_POLICY.with_(bake_minutes=0)),
                )
            },
            "waves[2].policy.bake_minutes",
            "give it a bake of at least 3 min",
        ),
        (
            {"waves": (*GOOD_WAVES, wave("Prod-4", "eu-west-1", "eu-west-2", policy=FAST_POLICY))},
            None,
            None,
        ),
    ],
)
def test_environments_validation(changes: dict[str, object], field: str | None, fix: str | None) -> None:
    if field is None:  # the control case: a fourth, larger wave is fine
        assert len(environments(**changes).waves) == 4
        return
    with pytest.raises(ConfigError) as caught:
        environments(**changes)

    assert caught.value.field == field
    assert fix is not None
    assert fix in str(caught.value)


def test_bake_shorter_than_the_alarm_window() -> None:
    alarms = AlarmPolicy(period_minutes=5, evaluation_periods=13, datapoints_to_alarm=3)

    with pytest.raises(ConfigError) as caught:
        environments(alarm_policy=alarms)

    assert caught.value.field == "gamma.policy.bake_minutes"
    assert "shorter than the alarms' evaluation window of 65 min" in str(caught.value)
    assert "bake at least 65 min or shorten the alarm window" in str(caught.value)


def test_one_box_of_exactly_ten_percent_is_allowed() -> None:
    policy = ONE_BOX_POLICY.with_(step_percent=10, bake_minutes=3)
    env = environments(waves=(wave("Prod-1", "ca-central-1", policy=policy),))

    assert env.waves[0].policy.shape is TrafficShape.CANARY


def test_shared_preprod_and_prod_account_is_a_warning_not_an_error() -> None:
    from dataclasses import replace

    from hands_off.model import Stage, example_environments

    envs = example_environments()
    assert envs.warnings == ()
    prod_account = envs.waves[0].targets[0].account
    gamma = Stage(
        name="Gamma",
        targets=tuple(replace(t, account=prod_account) for t in envs.gamma.targets),
        policy=envs.gamma.policy,
    )
    shared = replace(envs, gamma=gamma)
    [warning] = shared.warnings
    assert prod_account.account_id in warning
    assert "separate accounts" in warning
