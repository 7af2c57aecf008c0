"""The Availability Zones hands-off assumes per region (no AWS call at synth), and the context key
a stack's zone lookup reads.

Pure Python: :mod:`hands_off.stacks.application_stack` answers every copy's zone lookup from here
without loading the EC2 fleet construct (and ``aws_ec2``, ``aws_autoscaling``, ``aws_elasticloadbalancingv2``)
for services that have no fleet. :mod:`hands_off.constructs.ec2_fleet` re-exports these names.
"""

from __future__ import annotations

from hands_off.model import ConfigError

__all__ = ["availability_zones", "availability_zones_context_key", "known_availability_zones"]

# AZ names differ from "<region>a, b, c" in a few regions (AZ names are per account; these are the
# ones every account can use). Synth never looks zones up (no AWS call at synth).
_ZONE_LETTERS = {
    "ap-northeast-1": "acd",
    "ca-central-1": "abd",
    "us-west-1": "ac",
    "sa-east-1": "abc",
    "us-east-1": "abcdef",
    "us-west-2": "abcd",
}


def availability_zones(region: str, count: int) -> list[str]:
    """``count`` Availability Zone names of ``region`` (``<region>a``, ``b``, ``c``... except in the
    regions whose zone letters have gaps).

    Raises:
        ConfigError: the region has fewer zones than ``count`` (as far as hands-off knows).
    """
    letters = _ZONE_LETTERS.get(region, "abc")
    if count > len(letters):
        raise ConfigError(
            f"Target.az_count ({region})",
            f"{count} zones asked, hands-off knows {len(letters)} in {region} "
            f"({', '.join(region + x for x in letters)}); lower az_count or pass availability_zones",
        )
    return [region + letter for letter in letters[:count]]


def known_availability_zones(region: str) -> list[str]:
    """Every Availability Zone of ``region`` hands-off knows (its zone table; ``a``-``c`` for a
    region the table does not list)."""
    return availability_zones(region, len(_ZONE_LETTERS.get(region, "abc")))


def availability_zones_context_key(account: str, region: str) -> str:
    """The CDK context key a stack's Availability Zone lookup reads (``cdk.context.json``)."""
    return f"availability-zones:account={account}:region={region}"
