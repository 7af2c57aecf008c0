"""The wave planner (X1) and the example fleet."""

from __future__ import annotations

import pytest

from hands_off.model import (
    EXAMPLE_ACCOUNTS,
    EXAMPLE_INVENTORY,
    FAST_POLICY,
    ONE_BOX_POLICY,
    Account,
    ConfigError,
    PlannedWave,
    RegionTraffic,
    WavePlan,
    example_environments,
    example_plan,
    plan_from_environments,
    plan_waves,
)

PROD = Account(name="prod", account_id="333333333333")


def inventory(*pairs: tuple[str, float]) -> tuple[RegionTraffic, ...]:
    return tuple(RegionTraffic(region=region, traffic_share=share) for region, share in pairs)


def regions(plan: WavePlan) -> list[tuple[str, ...]]:
    return [planned.wave.regions for planned in plan.waves]


def test_example_plan_waves() -> None:
    plan = plan_waves(EXAMPLE_INVENTORY, account=PROD)

    assert regions(plan) == [
        ("ca-central-1",),
        ("us-east-1",),
        ("ap-south-1", "sa-east-1"),
        ("ap-southeast-2", "ap-northeast-1", "eu-central-1", "eu-west-1", "us-west-2"),
    ]
    assert [p.wave.name for p in plan.waves] == ["Prod-1", "Prod-2", "Prod-3", "Prod-4"]
    assert [p.wave.policy for p in plan.waves] == [ONE_BOX_POLICY, ONE_BOX_POLICY, FAST_POLICY, FAST_POLICY]
    assert [round(p.blast_radius, 6) for p in plan.waves] == [0.03, 0.35, 0.08, 0.54]
    assert [round(p.cumulative_blast_radius, 6) for p in plan.waves] == [0.03, 0.38, 0.46, 1.0]
    assert [p.cumulative_lead_time_minutes for p in plan.waves] == [70, 140, 185, 230]
    assert plan.total_lead_time_minutes == 230
    assert all(p.wave.blast_radius == p.blast_radius for p in plan.waves)


def test_factor_one_keeps_groups_of_two() -> None:
    plan = plan_waves(EXAMPLE_INVENTORY, account=PROD, factor=1.0)

    assert [len(r) for r in regions(plan)] == [1, 1, 2, 2, 3]


def test_large_factor_puts_everything_left_in_one_wave() -> None:
    plan = plan_waves(EXAMPLE_INVENTORY, account=PROD, factor=1e308)

    assert [len(r) for r in regions(plan)] == [1, 1, 2, 5]


def test_single_region_is_one_wave() -> None:
    plan = plan_waves(inventory(("eu-west-1", 1.0)), account=PROD)

    assert regions(plan) == [("eu-west-1",)]
    assert plan.waves[0].blast_radius == 1.0


def test_two_regions_are_two_waves_low_then_high() -> None:
    plan = plan_waves(inventory(("us-east-1", 0.7), ("eu-west-1", 0.3)), account=PROD)

    assert regions(plan) == [("eu-west-1",), ("us-east-1",)]


def test_three_regions_give_a_third_single_region_wave() -> None:
    plan = plan_waves(inventory(("us-east-1", 0.5), ("eu-west-1", 0.3), ("sa-east-1", 0.2)), account=PROD)

    assert regions(plan) == [("sa-east-1",), ("us-east-1",), ("eu-west-1",)]


def test_small_last_group_joins_the_one_before() -> None:
    shares = [
        ("ap-south-1", 0.1),
        ("eu-west-1", 0.1),
        ("eu-west-2", 0.1),
        ("eu-west-3", 0.1),
        ("sa-east-1", 0.1),
    ]
    plan = plan_waves(inventory(("ca-central-1", 0.05), ("us-east-1", 0.45), *shares), account=PROD)

    # 5 remaining regions: groups 2, then 3 (< 4, but >= 2, so it stays its own wave).
    assert [len(r) for r in regions(plan)] == [1, 1, 2, 3]


def test_az_count_and_account_reach_the_targets() -> None:
    plan = plan_waves(
        (RegionTraffic(region="us-east-1", traffic_share=0.6, az_count=6), *inventory(("eu-west-1", 0.4))),
        account=PROD,
        name_prefix="Wave",
    )

    target = plan.waves[1].wave.targets[0]
    assert (target.account, target.az_count, plan.waves[1].wave.name) == (PROD, 6, "Wave2")


def test_ties_are_broken_by_region_name() -> None:
    plan = plan_waves(inventory(("us-west-2", 0.25), ("eu-west-1", 0.25), ("us-east-1", 0.5)), account=PROD)

    assert regions(plan)[0] == ("eu-west-1",)


@pytest.mark.parametrize(
    ("entries", "kwargs", "field", "fix"),
    [
        ((), {}, "inventory", "list at least one region with its traffic_share"),
        (
            inventory(("us-east-1", 0.5), ("us-east-1", 0.5)),
            {},
            "inventory[1].region",
            "list each region once",
        ),
        (
            inventory(("us-east-1", 0.5), ("eu-west-1", 0.4)),
            {},
            "inventory",
            "traffic shares sum to 0.9000, not 1; make the traffic_share values add up to 1",
        ),
        (inventory(("us-east-1", 1.0)), {"factor": 0.5}, "factor", "at least 1.0"),
        (inventory(("us-east-1", 1.0)), {"factor": float("inf")}, "factor", "at least 1.0"),
        (inventory(("us-east-1", 1.0)), {"name_prefix": "Prod "}, "name_prefix", "1 to 80 characters"),
        (inventory(("us-east-1", 1.0)), {"account": "prod"}, "account", "must be an Account"),
        (("us-east-1",), {}, "inventory[0]", "must be a RegionTraffic"),
        ("us-east-1", {}, "inventory", "must be a sequence of RegionTraffic"),
    ],
)
def test_plan_waves_validation(entries: object, kwargs: dict[str, object], field: str, fix: str) -> None:
    arguments: dict[str, object] = {"account": PROD, **kwargs}
    with pytest.raises(ConfigError) as caught:
        plan_waves(entries, **arguments)  # type: ignore[arg-type]

    assert caught.value.field == field
    assert fix in str(caught.value)


def test_shares_within_tolerance_are_accepted_and_normalized() -> None:
    plan = plan_waves(inventory(("us-east-1", 0.5), ("eu-west-1", 0.505)), account=PROD)

    assert sum(p.blast_radius for p in plan.waves) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field", "fix"),
    [
        ({"region": "us-est-1", "traffic_share": 0.1}, "RegionTraffic.region", "did you mean 'us-east-1'?"),
        ({"region": "us-east-1", "traffic_share": 0}, "RegionTraffic.traffic_share", "e.g. 0.05 for 5%"),
        ({"region": "us-east-1", "traffic_share": 1.2}, "RegionTraffic.traffic_share", "e.g. 0.05 for 5%"),
        (
            {"region": "us-east-1", "traffic_share": 0.1, "az_count": 0},
            "RegionTraffic.az_count",
            "from 1 to 6",
        ),
    ],
)
def test_region_traffic_validation(kwargs: dict[str, object], field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RegionTraffic(**kwargs)  # type: ignore[arg-type]

    assert caught.value.field == field
    assert fix in str(caught.value)


def test_wave_plan_needs_waves() -> None:
    with pytest.raises(ConfigError, match=r"WavePlan\.waves: is empty"):
        WavePlan(waves=())


def test_planned_wave_validation() -> None:
    wave = plan_waves(EXAMPLE_INVENTORY, account=PROD).waves[0].wave
    with pytest.raises(ConfigError, match=r"PlannedWave\.blast_radius"):
        PlannedWave(wave=wave, blast_radius=2.0, cumulative_blast_radius=1.0, cumulative_lead_time_minutes=1)


def test_table_lists_every_wave_and_region() -> None:
    plan = plan_waves(EXAMPLE_INVENTORY, account=PROD)

    table = plan.table()

    lines = table.splitlines()
    assert lines[0].split(" | ")[0].strip() == "wave"
    assert "blast radius" in lines[0]
    assert "lead time (h:mm)" in lines[0]
    assert len(lines) == 2 + len(plan.waves)
    for entry in EXAMPLE_INVENTORY:
        assert entry.region in table
    assert "Prod-1 | ca-central-1" in lines[2]
    assert "3.0%" in lines[2]
    assert "canary 10% for 10m" in lines[2]
    assert lines[-1].endswith("3:50")


def test_example_environments_and_plan() -> None:
    env = example_environments()
    plan = example_plan()

    assert env.toolchain.account == EXAMPLE_ACCOUNTS["tooling"]
    assert env.gamma.regions == ("us-west-2", "eu-west-1")
    assert {t.account for t in env.production_targets} == {EXAMPLE_ACCOUNTS["prod"]}
    assert len(env.waves) >= 3
    assert sum(entry.traffic_share for entry in EXAMPLE_INVENTORY) == pytest.approx(1.0)
    assert regions(plan) == regions(plan_waves(EXAMPLE_INVENTORY, account=EXAMPLE_ACCOUNTS["prod"]))
    assert [round(p.blast_radius, 6) for p in plan.waves] == [0.03, 0.35, 0.08, 0.54]


def test_plan_from_environments_without_shares_uses_planned_blast_radius() -> None:
    env = example_environments()

    plan = plan_from_environments(env)

    assert [p.blast_radius for p in plan.waves] == [w.blast_radius for w in env.waves]


def test_plan_from_environments_falls_back_to_target_count() -> None:
    env = example_environments()
    waves = tuple(w.__class__(name=w.name, targets=w.targets, policy=w.policy) for w in env.waves)
    hand = env.__class__(
        toolchain=env.toolchain, alpha=env.alpha, beta=env.beta, gamma=env.gamma, waves=waves
    )

    plan = plan_from_environments(hand)

    assert [p.blast_radius for p in plan.waves] == [1 / 9, 1 / 9, 2 / 9, 5 / 9]


@pytest.mark.parametrize(
    ("shares", "field", "fix"),
    [
        ({"ca-central-1": 1.0}, "shares", "give every region a share"),
        (
            {**{e.region: e.traffic_share for e in EXAMPLE_INVENTORY}, "eu-west-3": 0.1},
            "shares['eu-west-3']",
            "remove it or add it to a wave",
        ),
        (
            {**{e.region: e.traffic_share for e in EXAMPLE_INVENTORY}, "us-east-1": -1},
            "shares['us-east-1']",
            "must be a number in (0.0, 1.0]",
        ),
    ],
)
def test_plan_from_environments_share_validation(shares: dict[str, float], field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan_from_environments(example_environments(), shares)

    assert caught.value.field == field
    assert fix in str(caught.value)
