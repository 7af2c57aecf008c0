"""Hypothesis properties of plan_waves over generated inventories."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
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
def test_wave_sizes_never_shrink(inventory: tuple[RegionTraffic, ...], factor: float) -> None:
    sizes = [len(p.wave.targets) for p in plan(inventory, factor).waves]

    assert sizes == sorted(sizes)


@given(inventories(), factors)
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
