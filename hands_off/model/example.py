"""The built-in example fleet used by ``hands-off plan`` and the docs."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hands_off.model.account import Account
from hands_off.model.environments import Environments
from hands_off.model.planner import RegionTraffic, WavePlan, plan_from_environments, plan_waves
from hands_off.model.policy import ONE_BOX_POLICY, PREPROD_POLICY
from hands_off.model.target import Target
from hands_off.model.wave import Stage

__all__ = ["EXAMPLE_ACCOUNTS", "EXAMPLE_INVENTORY", "example_environments", "example_plan"]

EXAMPLE_ACCOUNTS: Mapping[str, Account] = MappingProxyType(
    {
        "tooling": Account(name="tooling", account_id="111111111111"),
        "preprod": Account(name="preprod", account_id="222222222222"),
        "prod": Account(name="prod", account_id="333333333333"),
    }
)
"""The example's accounts by role: ``tooling``, ``preprod`` and ``prod``."""

EXAMPLE_INVENTORY: tuple[RegionTraffic, ...] = (
    RegionTraffic(region="ca-central-1", traffic_share=0.03),
    RegionTraffic(region="us-east-1", traffic_share=0.35),
    RegionTraffic(region="us-west-2", traffic_share=0.18),
    RegionTraffic(region="eu-west-1", traffic_share=0.14),
    RegionTraffic(region="eu-central-1", traffic_share=0.09),
    RegionTraffic(region="ap-northeast-1", traffic_share=0.08),
    RegionTraffic(region="ap-southeast-2", traffic_share=0.05),
    RegionTraffic(region="sa-east-1", traffic_share=0.04),
    RegionTraffic(region="ap-south-1", traffic_share=0.04),
)
"""A nine-region fleet whose traffic shares sum to 1."""


def example_environments(factor: float = 2.0) -> Environments:
    """The example fleet: pipelines in us-east-1, pre-production in us-west-2 (+ eu-west-1 for
    Gamma), production waves planned from ``EXAMPLE_INVENTORY``.

    Args:
        factor: growth factor of the planned waves. Default: ``2.0``.
    """
    preprod = EXAMPLE_ACCOUNTS["preprod"]
    return Environments(
        toolchain=Target(account=EXAMPLE_ACCOUNTS["tooling"], region="us-east-1"),
        alpha=Stage(
            name="Alpha",
            targets=(Target(account=preprod, region="us-west-2"),),
            policy=PREPROD_POLICY,
        ),
        beta=Stage(
            name="Beta",
            targets=(Target(account=preprod, region="us-west-2"),),
            policy=PREPROD_POLICY,
        ),
        gamma=Stage(
            name="Gamma",
            targets=(
                Target(account=preprod, region="us-west-2"),
                Target(account=preprod, region="eu-west-1"),
            ),
            policy=ONE_BOX_POLICY,
        ),
        waves=plan_waves(EXAMPLE_INVENTORY, account=EXAMPLE_ACCOUNTS["prod"], factor=factor).production_waves,
    )


def example_plan(factor: float = 2.0) -> WavePlan:
    """The wave plan of ``example_environments(factor)``, with traffic-based blast radii."""
    shares = {entry.region: entry.traffic_share for entry in EXAMPLE_INVENTORY}
    return plan_from_environments(example_environments(factor), shares)
