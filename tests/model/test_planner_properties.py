"""Hypothesis properties of plan_waves over generated inventories."""

from __future__ import annotations

import itertools
import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hands_off.model import (
    FAST_POLICY,
    KNOWN_REGIONS,
    Account,
    DeploymentPolicy,
    RegionTraffic,
    TrafficShape,
    WavePlan,
    plan_waves,
)

PROD = Account(name="prod", account_id="333333333333")


def even(count: int) -> tuple[RegionTraffic, ...]:
    """``count`` known regions with equal shares."""
    return tuple(
        RegionTraffic(region=region, traffic_share=1 / count) for region in sorted(KNOWN_REGIONS)[:count]
    )


# Five shares of 35ths whose blast radii, added in wave order, make 1.0000000000000002 in floats.
ROUNDS_ABOVE_ONE = tuple(
    RegionTraffic(region=region, traffic_share=weight / 35)
    for region, weight in (
        ("us-east-1", 1),
        ("ap-southeast-6", 5),
        ("eu-central-1", 9),
        ("ap-northeast-2", 10),
        ("ap-southeast-1", 10),
    )
)


@st.composite
def inventories(draw: st.DrawFn) -> tuple[RegionTraffic, ...]:
    """1..30 distinct known regions with positive weights normalized to sum to 1."""
    regions = draw(st.lists(st.sampled_from(sorted(KNOWN_REGIONS)), min_size=1, max_size=30, unique=True))
    weights = draw(st.lists(st.integers(1, 1000), min_size=len(regions), max_size=len(regions)))
    total = sum(weights)
    return tuple(
        RegionTraffic(region=region, traffic_share=weight / total, az_count=draw(st.integers(1, 6)))
        for region, weight in zip(regions, weights, strict=True)
    )


factors = st.floats(min_value=1.0, max_value=4.0, allow_nan=False)


def plan(inventory: tuple[RegionTraffic, ...], factor: float) -> WavePlan:
    return plan_waves(inventory, account=PROD, factor=factor)


@given(inventories(), factors)
def test_every_region_is_in_exactly_one_wave(inventory: tuple[RegionTraffic, ...], factor: float) -> None:
    result = plan(inventory, factor)

    planned = [region for p in result.waves for region in p.wave.regions]
    assert sorted(planned) == sorted(entry.region for entry in inventory)


@given(inventories(), factors)
def test_first_wave_is_the_single_lowest_traffic_region(
    inventory: tuple[RegionTraffic, ...], factor: float
) -> None:
    result = plan(inventory, factor)

    first = result.waves[0].wave
    assert len(first.regions) == 1
    assert min(entry.traffic_share for entry in inventory) == next(
        entry.traffic_share for entry in inventory if entry.region == first.regions[0]
    )
    if len(inventory) > 1:
        assert len(result.waves[1].wave.regions) == 1
        assert (
            result.waves[1].wave.regions[0]
            == max(inventory, key=lambda e: (e.traffic_share, e.region)).region
        )


@given(inventories(), factors)
# A last group compared with the first group instead of the one before it: 1, 1, 2, 4, 3.
@example(even(10), 2.0)
@example(even(11), 2.0)
@example(even(19), 2.0)
def test_wave_sizes_never_shrink(inventory: tuple[RegionTraffic, ...], factor: float) -> None:
    sizes = [len(p.wave.targets) for p in plan(inventory, factor).waves]

    assert sizes == sorted(sizes)


def geometric_groups(count: int, factor: float) -> list[int]:
    """The docstring's rule, stated on its own: groups of the non-decreasing sizes 2, 2f, 2f², ...
    (rounded half up, capped at ``count``) as long as they fit; what is left is a last group of
    its own unless it is smaller than the group before it, which it then joins."""
    planned: list[int] = []
    target = 2.0
    while True:
        size = max([*planned[-1:], math.floor(target + 0.5)])
        if sum(planned) + size > count:
            break
        planned.append(size)
        target = min(target * factor, float(count))
    left = count - sum(planned)
    if left == 0:
        return planned
    if planned and left < planned[-1]:
        return [*planned[:-1], planned[-1] + left]
    return [*planned, left]


@given(inventories(), factors)
# An equal-size last group stays its own wave (6 regions: 1, 1, 2, 2, not 1, 1, 4; 12: 1, 1, 2, 4, 4,
# not 1, 1, 2, 8), a smaller one joins the one before (11: 1, 1, 2, 7); factor 3 (16: 1, 1, 2, 6, 6).
@example(even(6), 2.0)
@example(even(12), 2.0)
@example(even(11), 2.0)
@example(even(16), 3.0)
def test_later_waves_follow_the_geometric_sizes(inventory: tuple[RegionTraffic, ...], factor: float) -> None:
    sizes = [len(p.wave.targets) for p in plan(inventory, factor).waves]

    assert sizes[:2] == [1, 1][: len(inventory)]
    assert sizes[2:] == geometric_groups(max(0, len(inventory) - 2), factor)


@given(inventories(), factors)
# Radii that add up to 1.0000000000000002: the cumulative blast radius is still capped at 1.
@example(ROUNDS_ABOVE_ONE, 2.0)
def test_blast_radii_sum_to_one(inventory: tuple[RegionTraffic, ...], factor: float) -> None:
    result = plan(inventory, factor)

    assert math.isclose(math.fsum(p.blast_radius for p in result.waves), 1.0, abs_tol=1e-9)
    assert math.isclose(result.waves[-1].cumulative_blast_radius, 1.0, abs_tol=1e-9)
    cumulative = [p.cumulative_blast_radius for p in result.waves]
    assert cumulative == sorted(cumulative)


@given(
    inventories(),
    factors,
    st.integers(1, 1440),
    st.integers(1, 1440),
)
def test_cumulative_lead_time_strictly_increases_when_waves_bake(
    inventory: tuple[RegionTraffic, ...], factor: float, first_bake: int, later_bake: int
) -> None:
    first = DeploymentPolicy(shape=TrafficShape.CANARY, bake_minutes=first_bake)
    result = plan_waves(
        inventory,
        account=PROD,
        factor=factor,
        first_policy=first,
        later_policy=FAST_POLICY.with_(bake_minutes=later_bake),
    )

    times = [p.cumulative_lead_time_minutes for p in result.waves]
    assert all(a < b for a, b in itertools.pairwise(times))
    assert result.total_lead_time_minutes == sum(p.wave.policy.lead_time_minutes for p in result.waves)


@settings(max_examples=50)
@given(inventories(), factors)
def test_table_mentions_every_region(inventory: tuple[RegionTraffic, ...], factor: float) -> None:
    table = plan(inventory, factor).table()

    for entry in inventory:
        assert entry.region in table


@settings(max_examples=50)
@given(inventories(), st.integers(0, 1440))
# A lead time of whole hours: 1:00 and 2:00 (not 0:60, not 0:00).
@example(even(2), 50)
def test_table_rows_show_each_wave(inventory: tuple[RegionTraffic, ...], first_bake: int) -> None:
    first = DeploymentPolicy(shape=TrafficShape.CANARY, bake_minutes=first_bake)
    result = plan_waves(inventory, account=PROD, first_policy=first)

    rows = [[cell.strip() for cell in line.split(" | ")] for line in result.table().splitlines()[2:]]

    expected = []
    for p in result.waves:
        hours, minutes = divmod(p.cumulative_lead_time_minutes, 60)
        expected.append(
            [
                p.wave.name,
                ", ".join(p.wave.regions),
                f"{round(p.blast_radius * 100, 1):.1f}%",
                p.wave.policy.summary,
                f"{p.wave.policy.bake_minutes}m",
                f"{hours}:{minutes:02d}",
            ]
        )
    assert rows == expected
