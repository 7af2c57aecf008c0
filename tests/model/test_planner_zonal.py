"""The planner knows Availability Zones (X1, P8): a service deployed one AZ at a time (an EC2
fleet's ZonalConfig) starts its first wave on one zone of the lowest-traffic region."""

from __future__ import annotations

import pytest

from hands_off.cli import main
from hands_off.model import Account, RegionTraffic, plan_waves

PROD = Account(name="prod", account_id="333333333333")
INVENTORY = [
    RegionTraffic(region="ca-central-1", traffic_share=0.06, az_count=3),
    RegionTraffic(region="us-east-1", traffic_share=0.6, az_count=6),
    RegionTraffic(region="eu-west-1", traffic_share=0.2, az_count=3),
    RegionTraffic(region="ap-south-1", traffic_share=0.14, az_count=2),
]


def test_first_wave_risks_one_zone_of_the_lowest_traffic_region() -> None:
    plan = plan_waves(INVENTORY, account=PROD)
    first = plan.waves[0]
    assert first.wave.regions == ("ca-central-1",)
    assert first.zonal_blast_radius == pytest.approx(0.02)  # 6% over 3 zones
    assert plan.waves[1].zonal_blast_radius == pytest.approx(0.1)  # us-east-1: 60% over 6


def test_multi_region_wave_counts_its_fewest_zones() -> None:
    plan = plan_waves(INVENTORY, account=PROD)
    last = plan.waves[-1]
    assert set(last.wave.regions) == {"ap-south-1", "eu-west-1"}
    assert last.zonal_blast_radius == pytest.approx(0.34 / 2)  # at most: ap-south-1 has 2 zones


def test_table_and_summary_say_so() -> None:
    plan = plan_waves(INVENTORY, account=PROD)
    header, _, first, *_ = plan.table(zonal=True).splitlines()
    assert header.split(" | ")[3].strip() == "first AZ"
    assert first.split(" | ")[3].strip() == "2.0%"
    assert "first AZ" not in plan.table()
    assert plan.zonal_summary() == (
        "Deployed one AZ at a time, Prod-1 starts on 1 of the 3 AZs of ca-central-1: 2.0% of global "
        "traffic (the wave's 6.0%)."
    )


def test_cli_plan_zonal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--zonal"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "first AZ" in out
    assert "Prod-1 starts on 1 of the 3 AZs of ca-central-1: 1.0% of global traffic" in out
