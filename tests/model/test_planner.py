"""The wave planner (X1) and the example fleet."""

from __future__ import annotations

import pytest

from hands_off.model import (
    EXAMPLE_ACCOUNTS,
    EXAMPLE_INVENTORY,
    FAST_POLICY,
    KNOWN_REGIONS,
    ONE_BOX_POLICY,
    Account,
    ConfigError,
    DeploymentPolicy,
    Environments,
    PlannedWave,
    RegionTraffic,
    TrafficShape,
    Wave,
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


def even(count: int) -> tuple[RegionTraffic, ...]:
    """``count`` known regions with equal shares (ties in traffic: ordered by region name)."""
    return tuple(
        RegionTraffic(region=region, traffic_share=1 / count) for region in sorted(KNOWN_REGIONS)[:count]
    )


def sizes(plan: WavePlan) -> list[int]:
    return [len(planned.wave.targets) for planned in plan.waves]


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


@pytest.mark.parametrize(
    ("count", "factor", "expected"),
    [
        # A last group as big as the one before stays its own wave (it is not smaller):
        # 4 left after waves 1 and 2 are 2 + 2, not one wave of 4 (`left <= sizes[-1]` merged them).
        (6, 2.0, [1, 1, 2, 2]),
        (12, 2.0, [1, 1, 2, 4, 4]),
        (24, 2.0, [1, 1, 2, 4, 8, 8]),
        # A last group smaller than the one *before it* joins it, whatever the first group was:
        # 9 left are 2 + 4 + 3, and 3 < 4 joins the 4 (comparing with the first group, 2, made
        # the waves shrink: 1, 1, 2, 4, 3).
        (10, 2.0, [1, 1, 2, 6]),
        (11, 2.0, [1, 1, 2, 7]),
        (19, 2.0, [1, 1, 2, 4, 11]),
        (3, 2.0, [1, 1, 1]),
        (5, 2.0, [1, 1, 3]),
        (8, 2.0, [1, 1, 2, 4]),
        # The default factor is 2 (2, 4, 8); factor 3 gives 2, 6, 6.
        (16, None, [1, 1, 2, 4, 8]),
        (16, 3.0, [1, 1, 2, 6, 6]),
        (16, 1.0, [1, 1, 2, 2, 2, 2, 2, 2, 2]),
        (7, 1.0, [1, 1, 2, 3]),
    ],
)
def test_group_sizes(count: int, factor: float | None, expected: list[int]) -> None:
    if factor is None:
        plan = plan_waves(even(count), account=PROD)
    else:
        plan = plan_waves(even(count), account=PROD, factor=factor)

    assert sizes(plan) == expected
    assert sizes(plan) == sorted(sizes(plan))


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
    ("entries", "kwargs", "field", "message"),
    [
        ((), {}, "inventory", "is empty; list at least one region with its traffic_share"),
        (
            inventory(("us-east-1", 0.5), ("us-east-1", 0.5)),
            {},
            "inventory[1].region",
            "region 'us-east-1' is listed twice; list each region once",
        ),
        (
            inventory(("us-east-1", 0.5), ("eu-west-1", 0.4)),
            {},
            "inventory",
            "traffic shares sum to 0.9000, not 1; make the traffic_share values add up to 1 (within 0.01)",
        ),
        *(
            (
                inventory(("us-east-1", 1.0)),
                {"factor": factor},
                "factor",
                f"must be a number of at least 1.0 (waves never shrink), got {factor!r}",
            )
            for factor in (0.5, float("inf"), float("nan"), True, "2", None)
        ),
        (
            inventory(("us-east-1", 1.0)),
            {"name_prefix": "Prod "},
            "name_prefix",
            "'Prod 1' is not a valid stage name; use 1 to 80 characters from A-Z a-z 0-9 . @ - _ "
            "(e.g. 'Prod-1')",
        ),
        (inventory(("us-east-1", 1.0)), {"account": "prod"}, "account", "must be an Account, got str"),
        (("us-east-1",), {}, "inventory[0]", "must be a RegionTraffic, got str"),
        ("us-east-1", {}, "inventory", "must be a sequence of RegionTraffic"),
        ({"us-east-1": 1.0}, {}, "inventory", "must be a sequence of RegionTraffic"),
    ],
)
def test_plan_waves_validation(entries: object, kwargs: dict[str, object], field: str, message: str) -> None:
    arguments: dict[str, object] = {"account": PROD, **kwargs}
    with pytest.raises(ConfigError) as caught:
        plan_waves(entries, **arguments)  # type: ignore[arg-type]

    assert (caught.value.field, caught.value.message) == (field, message)
    assert str(caught.value) == f"{field}: {message}"


def test_shares_within_tolerance_are_accepted_and_normalized() -> None:
    plan = plan_waves(inventory(("us-east-1", 0.5), ("eu-west-1", 0.505)), account=PROD)

    assert sum(p.blast_radius for p in plan.waves) == pytest.approx(1.0, abs=1e-12)
    assert [p.blast_radius for p in plan.waves] == [0.5 / 1.005, 0.505 / 1.005]


@pytest.mark.parametrize("total", [0.991, 1.0, 1.009])
def test_shares_summing_to_one_within_the_tolerance_are_accepted(total: float) -> None:
    plan = plan_waves(inventory(("us-east-1", total - 0.3), ("eu-west-1", 0.3)), account=PROD)

    assert regions(plan) == [("eu-west-1",), ("us-east-1",)]


@pytest.mark.parametrize("total", [0.989, 1.011])
def test_shares_summing_to_one_beyond_the_tolerance_are_rejected(total: float) -> None:
    with pytest.raises(ConfigError, match=r"^inventory: traffic shares sum to "):
        plan_waves(inventory(("us-east-1", total - 0.3), ("eu-west-1", 0.3)), account=PROD)


def test_cumulative_blast_radius_is_capped_at_one_despite_rounding() -> None:
    # Five shares of 35ths whose radii, added in wave order, make 1.0000000000000002 in floats.
    weights = {
        "us-east-1": 1,
        "ap-southeast-6": 5,
        "eu-central-1": 9,
        "ap-northeast-2": 10,
        "ap-southeast-1": 10,
    }
    entries = tuple(RegionTraffic(region=r, traffic_share=w / 35) for r, w in weights.items())

    plan = plan_waves(entries, account=PROD)

    added = 0.0
    for planned in plan.waves:
        added += planned.blast_radius
    assert added > 1.0  # the rounding this test is about
    assert plan.waves[-1].cumulative_blast_radius == 1.0


SHARE_FIX = "give a share of global traffic, e.g. 0.05 for 5%"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"region": "us-est-1", "traffic_share": 0.1},
            "RegionTraffic.region",
            "'us-est-1' is not a known AWS region (did you mean 'us-east-1'?)",
        ),
        (
            {"region": "us-east-1", "traffic_share": 0},
            "RegionTraffic.traffic_share",
            f"must be a number in (0.0, 1.0], got 0; {SHARE_FIX}",
        ),
        (
            {"region": "us-east-1", "traffic_share": 1.2},
            "RegionTraffic.traffic_share",
            f"must be a number in (0.0, 1.0], got 1.2; {SHARE_FIX}",
        ),
        (
            {"region": "us-east-1", "traffic_share": 0.1, "az_count": 0},
            "RegionTraffic.az_count",
            "must be a whole number from 1 to 6, got 0",
        ),
        (
            {"region": "us-east-1", "traffic_share": 0.1, "az_count": 7},
            "RegionTraffic.az_count",
            "must be a whole number from 1 to 6, got 7",
        ),
    ],
)
def test_region_traffic_validation(kwargs: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RegionTraffic(**kwargs)  # type: ignore[arg-type]

    assert str(caught.value) == f"{field}: {message}"


@pytest.mark.parametrize(("share", "az_count"), [(1.0, 1), (1e-9, 6)])
def test_region_traffic_bounds_are_accepted(share: float, az_count: int) -> None:
    entry = RegionTraffic(region="us-east-1", traffic_share=share, az_count=az_count)

    assert (entry.traffic_share, entry.az_count) == (share, az_count)


def test_wave_plan_needs_waves() -> None:
    with pytest.raises(ConfigError) as caught:
        WavePlan(waves=())

    assert str(caught.value) == "WavePlan.waves: is empty; a plan needs at least one wave"


def test_wave_plan_keeps_its_waves_as_a_tuple() -> None:
    planned = list(plan_waves(EXAMPLE_INVENTORY, account=PROD).waves)

    plan = WavePlan(waves=planned)  # type: ignore[arg-type]

    assert plan.waves == tuple(planned)
    assert plan.production_waves == tuple(p.wave for p in planned)


PLANNED = {"blast_radius": 0.5, "cumulative_blast_radius": 0.5, "cumulative_lead_time_minutes": 1}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"blast_radius": 2.0}, "PlannedWave.blast_radius", "must be a number in [0.0, 1.0], got 2.0"),
        ({"blast_radius": -0.1}, "PlannedWave.blast_radius", "must be a number in [0.0, 1.0], got -0.1"),
        (
            {"cumulative_blast_radius": 1.5},
            "PlannedWave.cumulative_blast_radius",
            "must be a number in [0.0, 1.0], got 1.5",
        ),
        (
            {"cumulative_lead_time_minutes": -1},
            "PlannedWave.cumulative_lead_time_minutes",
            "must be a whole number from 0 to 1000000000, got -1",
        ),
        (
            {"cumulative_lead_time_minutes": 10**9 + 1},
            "PlannedWave.cumulative_lead_time_minutes",
            "must be a whole number from 0 to 1000000000, got 1000000001",
        ),
    ],
)
def test_planned_wave_validation(changes: dict[str, float], field: str, message: str) -> None:
    wave = plan_waves(EXAMPLE_INVENTORY, account=PROD).waves[0].wave
    with pytest.raises(ConfigError) as caught:
        PlannedWave(wave=wave, **{**PLANNED, **changes})  # type: ignore[arg-type]

    assert str(caught.value) == f"{field}: {message}"


@pytest.mark.parametrize(
    "changes",
    [
        {"blast_radius": 0.0, "cumulative_blast_radius": 0.0, "cumulative_lead_time_minutes": 0},
        {"blast_radius": 1.0, "cumulative_blast_radius": 1.0, "cumulative_lead_time_minutes": 10**9},
    ],
)
def test_planned_wave_bounds_are_accepted(changes: dict[str, float]) -> None:
    wave = plan_waves(EXAMPLE_INVENTORY, account=PROD).waves[0].wave

    planned = PlannedWave(wave=wave, **changes)  # type: ignore[arg-type]

    assert planned.cumulative_lead_time_minutes == changes["cumulative_lead_time_minutes"]


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


def test_table_is_aligned_text() -> None:
    plan = plan_waves(EXAMPLE_INVENTORY, account=PROD)

    # Text columns are left-aligned, numbers right-aligned; no line ends in a space.
    assert plan.table() == "\n".join(
        [
            "wave   | regions                                                            | blast radius "
            "| policy             | bake | lead time (h:mm)",
            "-------+--------------------------------------------------------------------+--------------"
            "+--------------------+------+-----------------",
            "Prod-1 | ca-central-1                                                       |         3.0% "
            "| canary 10% for 10m |  60m |             1:10",
            "Prod-2 | us-east-1                                                          |        35.0% "
            "| canary 10% for 10m |  60m |             2:20",
            "Prod-3 | ap-south-1, sa-east-1                                              |         8.0% "
            "| linear 25%/5m      |  30m |             3:05",
            "Prod-4 | ap-southeast-2, ap-northeast-1, eu-central-1, eu-west-1, us-west-2 |        54.0% "
            "| linear 25%/5m      |  30m |             3:50",
        ]
    )


def test_table_lead_time_is_hours_and_minutes() -> None:
    # Whole hours: 60 minutes is 1:00 (not 0:60, nor 0:00), 120 is 2:00.
    policy = DeploymentPolicy(shape=TrafficShape.CANARY, bake_minutes=50)
    assert policy.lead_time_minutes == 60
    plan = plan_waves(inventory(("us-east-1", 0.7), ("eu-west-1", 0.3)), account=PROD, first_policy=policy)

    assert [line.rsplit(" ", 1)[-1] for line in plan.table().splitlines()[2:]] == ["1:00", "2:00"]


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


def test_plan_from_environments_normalizes_shares_by_their_total() -> None:
    env = example_environments()
    shares = {region: 0.5 for wave in env.waves for region in wave.regions}  # total 4.5

    plan = plan_from_environments(env, shares)

    assert [p.blast_radius for p in plan.waves] == [1 / 9, 1 / 9, 2 / 9, 5 / 9]


def test_plan_from_environments_keeps_a_zero_blast_radius() -> None:
    env = example_environments()
    radii = [0.0, 0.4, 0.2, 0.4]
    waves = tuple(
        Wave(name=w.name, targets=w.targets, policy=w.policy, blast_radius=r)
        for w, r in zip(env.waves, radii, strict=True)
    )
    hand = Environments(toolchain=env.toolchain, alpha=env.alpha, beta=env.beta, gamma=env.gamma, waves=waves)

    plan = plan_from_environments(hand)

    assert [p.blast_radius for p in plan.waves] == radii


@pytest.mark.parametrize(
    ("shares", "field", "fix"),
    [
        ({"ca-central-1": 1.0}, "shares", "give every region a share"),
        (
            {
                e.region: e.traffic_share
                for e in EXAMPLE_INVENTORY
                if e.region not in ("us-east-1", "eu-west-1")
            },
            "shares",
            "no traffic share for eu-west-1, us-east-1; give every region a share",
        ),
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
