"""The wave planner (X1): from a region inventory to production waves of increasing size."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hands_off.model._checks import check_float, check_int, check_name
from hands_off.model.account import Account
from hands_off.model.environments import Environments
from hands_off.model.errors import ConfigError
from hands_off.model.policy import FAST_POLICY, ONE_BOX_POLICY, DeploymentPolicy
from hands_off.model.regions import validate_region
from hands_off.model.target import Target
from hands_off.model.wave import Wave

__all__ = [
    "PlannedWave",
    "RegionTraffic",
    "WavePlan",
    "plan_from_environments",
    "plan_waves",
]

# Shares of an inventory may be rounded; they must sum to 1 within this tolerance.
_SHARE_TOLERANCE = 0.01
# Size of the first geometric group (the wave after the two single-region waves).
_FIRST_GROUP_SIZE = 2.0
_EPSILON = 1e-9


@dataclass(frozen=True, kw_only=True)
class RegionTraffic:
    """One region of a service's fleet and the share of global traffic it serves.

    Example::

        RegionTraffic(region="eu-west-1", traffic_share=0.14)

    Attributes:
        region: a region code from ``KNOWN_REGIONS``.
        traffic_share: the region's share of global traffic, in ``(0, 1]``.
        az_count: availability zones the service uses there, 1 to 6. Default: ``3``.
    """

    region: str
    traffic_share: float
    az_count: int = 3

    def __post_init__(self) -> None:
        """Validate the region, the share and the AZ count."""
        validate_region(self.region, "RegionTraffic.region")
        check_float(
            self.traffic_share,
            field="RegionTraffic.traffic_share",
            low=0.0,
            high=1.0,
            low_inclusive=False,
            fix="give a share of global traffic, e.g. 0.05 for 5%",
        )
        check_int(self.az_count, field="RegionTraffic.az_count", low=1, high=6)


@dataclass(frozen=True, kw_only=True)
class PlannedWave:
    """A wave with what it risks and when it finishes.

    Attributes:
        wave: the wave itself.
        blast_radius: the share of global traffic this wave touches, 0 to 1.
        cumulative_blast_radius: the share touched by this wave and every wave before it.
        cumulative_lead_time_minutes: minutes from the start of the first production wave to
            the end of this wave's bake.
    """

    wave: Wave
    blast_radius: float
    cumulative_blast_radius: float
    cumulative_lead_time_minutes: int

    def __post_init__(self) -> None:
        """Validate the shares and the lead time."""
        check_float(self.blast_radius, field="PlannedWave.blast_radius", low=0.0, high=1.0)
        check_float(
            self.cumulative_blast_radius,
            field="PlannedWave.cumulative_blast_radius",
            low=0.0,
            high=1.0,
        )
        check_int(
            self.cumulative_lead_time_minutes,
            field="PlannedWave.cumulative_lead_time_minutes",
            low=0,
            high=10**9,
        )

    @property
    def zonal_blast_radius(self) -> float:
        """The share of global traffic the wave's first step touches when the service deploys one
        Availability Zone at a time (an EC2 fleet's CodeDeploy ``ZonalConfig``, P8): one zone in
        each of the wave's regions, so at most ``blast_radius`` over the fewest zones any of its
        regions uses (exact for a single-region wave with evenly loaded zones)."""
        return self.blast_radius / min(target.az_count for target in self.wave.targets)


def _hours(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


@dataclass(frozen=True, kw_only=True)
class WavePlan:
    """Production waves in order, with blast radius and cumulative lead time.

    Example::

        plan = plan_waves(EXAMPLE_INVENTORY, account=prod)
        print(plan.table())

    Attributes:
        waves: the planned waves, in deployment order (non-empty).
    """

    waves: tuple[PlannedWave, ...]

    def __post_init__(self) -> None:
        """Validate that the plan has waves."""
        object.__setattr__(self, "waves", tuple(self.waves))
        if not self.waves:
            raise ConfigError("WavePlan.waves", "is empty; a plan needs at least one wave")

    @property
    def production_waves(self) -> tuple[Wave, ...]:
        """The plain ``Wave`` objects, ready for ``Environments(waves=...)``."""
        return tuple(planned.wave for planned in self.waves)

    @property
    def total_lead_time_minutes(self) -> int:
        """Minutes from the start of the first wave to the end of the last wave's bake."""
        return self.waves[-1].cumulative_lead_time_minutes

    def table(self, *, zonal: bool = False) -> str:
        """A plain-text table, one row per wave.

        Columns: wave | regions | blast radius (%) | policy | bake | cumulative lead time (h:mm);
        with ``zonal`` (a service deployed one Availability Zone at a time, e.g. an EC2 fleet)
        also the blast radius of each wave's first zone (:attr:`PlannedWave.zonal_blast_radius`).
        """
        header: tuple[str, ...] = ("wave", "regions", "blast radius", "policy", "bake", "lead time (h:mm)")
        rows: list[tuple[str, ...]] = [
            (
                planned.wave.name,
                ", ".join(planned.wave.regions),
                f"{planned.blast_radius * 100:.1f}%",
                planned.wave.policy.summary,
                f"{planned.wave.policy.bake_minutes}m",
                _hours(planned.cumulative_lead_time_minutes),
            )
            for planned in self.waves
        ]
        right = {2, 4, 5}
        if zonal:
            header = (*header[:3], "first AZ", *header[3:])
            rows = [
                (*row[:3], f"{planned.zonal_blast_radius * 100:.1f}%", *row[3:])
                for row, planned in zip(rows, self.waves, strict=True)
            ]
            right = {2, 3, 5, 6}
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells: Sequence[str]) -> str:
            parts = [
                cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(cells)
            ]
            return " | ".join(parts).rstrip()

        rule = "-+-".join("-" * width for width in widths)
        return "\n".join([line(header), rule, *(line(row) for row in rows)])

    def zonal_summary(self) -> str:
        """One sentence: what the first wave risks when the service deploys one Availability Zone
        at a time (P8, X1), e.g. ``"Deployed one AZ at a time, Prod-1 starts on 1 of the 3 AZs of
        ca-central-1: 0.7% of global traffic (the region's 2.0%)."``"""
        first = self.waves[0]
        regions = ", ".join(first.wave.regions)
        zones = min(target.az_count for target in first.wave.targets)
        each = "each of " if len(first.wave.targets) > 1 else ""
        return (
            f"Deployed one AZ at a time, {first.wave.name} starts on 1 of the {zones} AZs of "
            f"{each}{regions}: {first.zonal_blast_radius * 100:.1f}% of global traffic (the wave's "
            f"{first.blast_radius * 100:.1f}%)."
        )


def _group_sizes(count: int, factor: float) -> list[int]:
    """Split ``count`` regions into non-decreasing groups growing by ``factor`` from 2."""
    sizes: list[int] = []
    target = _FIRST_GROUP_SIZE
    left = count
    while left > 0:
        size = max(sizes[-1] if sizes else 1, math.floor(target + 0.5))
        if left < size:
            if sizes and left < sizes[-1]:
                sizes[-1] += left
            else:
                sizes.append(left)
            break
        sizes.append(size)
        left -= size
        # Capped so a huge factor cannot overflow; one group then takes everything left.
        target = min(target * factor, float(count))
    return sizes


def _check_inventory(inventory: Sequence[RegionTraffic]) -> tuple[RegionTraffic, ...]:
    if isinstance(inventory, str | bytes) or not isinstance(inventory, Sequence):
        raise ConfigError("inventory", "must be a sequence of RegionTraffic")
    entries = tuple(inventory)
    if not entries:
        raise ConfigError("inventory", "is empty; list at least one region with its traffic_share")
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, RegionTraffic):
            raise ConfigError(f"inventory[{index}]", f"must be a RegionTraffic, got {type(entry).__name__}")
        if entry.region in seen:
            raise ConfigError(
                f"inventory[{index}].region",
                f"region {entry.region!r} is listed twice; list each region once",
            )
        seen.add(entry.region)
    total = math.fsum(entry.traffic_share for entry in entries)
    if abs(total - 1.0) > _SHARE_TOLERANCE:
        raise ConfigError(
            "inventory",
            f"traffic shares sum to {total:.4f}, not 1; make the traffic_share values add up "
            f"to 1 (within {_SHARE_TOLERANCE})",
        )
    return entries


def _planned(waves: Sequence[Wave], radii: Sequence[float]) -> WavePlan:
    planned: list[PlannedWave] = []
    cumulative_share = 0.0
    cumulative_minutes = 0
    for wave, radius in zip(waves, radii, strict=True):
        cumulative_share += radius
        cumulative_minutes += wave.policy.lead_time_minutes
        planned.append(
            PlannedWave(
                wave=wave,
                blast_radius=radius,
                cumulative_blast_radius=min(1.0, cumulative_share),
                cumulative_lead_time_minutes=cumulative_minutes,
            )
        )
    return WavePlan(waves=tuple(planned))


def plan_waves(
    inventory: Sequence[RegionTraffic],
    *,
    account: Account,
    factor: float = 2.0,
    first_policy: DeploymentPolicy = ONE_BOX_POLICY,
    later_policy: DeploymentPolicy = FAST_POLICY,
    name_prefix: str = "Prod-",
) -> WavePlan:
    """Derive production waves from a region inventory (X1, P8).

    Wave 1 is the single lowest-traffic region; wave 2 the single highest-traffic region. The
    other regions follow in ascending traffic (lowest risk first), in groups that grow by
    ``factor`` from 2 (2, 4, 8, ... for ``factor=2``). Sizes never shrink: a last group smaller
    than the one before it joins it. Ties in traffic are broken by region name.

    Blast radii are the wave's shares divided by the inventory's total, so they sum to 1.

    Example::

        plan = plan_waves(EXAMPLE_INVENTORY, account=Account(name="prod", account_id="3" * 12))
        [p.wave.regions for p in plan.waves][:2]  # [('ca-central-1',), ('us-east-1',)]

    Args:
        inventory: every production region with its traffic share (shares sum to 1 ± 0.01).
        account: the production account every wave deploys into.
        factor: growth of the group sizes after wave 2, at least 1. Default: ``2.0``.
        first_policy: policy of waves 1 and 2. Default: ``ONE_BOX_POLICY``.
        later_policy: policy of the later waves. Default: ``FAST_POLICY``.
        name_prefix: wave names are ``name_prefix + str(n)``. Default: ``"Prod-"``.

    Raises:
        ConfigError: on an empty inventory, a duplicate or unknown region, shares not summing
            to 1, a factor below 1, or a name prefix that makes invalid stage names.
    """
    entries = _check_inventory(inventory)
    if not isinstance(account, Account):
        raise ConfigError("account", f"must be an Account, got {type(account).__name__}")
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not math.isfinite(factor)
        or factor < 1.0
    ):
        raise ConfigError("factor", f"must be a number of at least 1.0 (waves never shrink), got {factor!r}")
    check_name(f"{name_prefix}{len(entries)}", field="name_prefix")

    ordered = sorted(entries, key=lambda entry: (entry.traffic_share, entry.region))
    groups: list[list[RegionTraffic]] = [[ordered[0]]]
    if len(ordered) > 1:
        groups.append([ordered[-1]])
        rest = ordered[1:-1]
        start = 0
        for size in _group_sizes(len(rest), factor):
            groups.append(rest[start : start + size])
            start += size

    total = math.fsum(entry.traffic_share for entry in entries)
    waves: list[Wave] = []
    radii: list[float] = []
    for index, group in enumerate(groups):
        radius = min(1.0, math.fsum(entry.traffic_share for entry in group) / total)
        waves.append(
            Wave(
                name=f"{name_prefix}{index + 1}",
                targets=tuple(
                    Target(account=account, region=entry.region, az_count=entry.az_count) for entry in group
                ),
                policy=first_policy if index < 2 else later_policy,
                blast_radius=radius,
            )
        )
        radii.append(radius)
    return _planned(waves, radii)


def plan_from_environments(env: Environments, shares: Mapping[str, float] | None = None) -> WavePlan:
    """Wrap the (hand-listed or planned) waves of ``env`` in a ``WavePlan``.

    Blast radius of each wave: from ``shares`` (region → traffic share, normalized by their
    total) if given; else from each wave's ``blast_radius`` when every wave has one (waves made
    by ``plan_waves``); else proportional to the wave's number of targets.

    Raises:
        ConfigError: if ``shares`` misses a production region, names a region no wave deploys,
            or has a share that is not a positive number.
    """
    waves = env.waves
    radii: list[float]
    if shares is not None:
        regions = {region for wave in waves for region in wave.regions}
        for region, share in shares.items():
            if region not in regions:
                raise ConfigError(
                    f"shares[{region!r}]",
                    f"no wave deploys region {region!r}; remove it or add it to a wave",
                )
            check_float(share, field=f"shares[{region!r}]", low=0.0, high=1.0, low_inclusive=False)
        missing = sorted(regions - shares.keys())
        if missing:
            raise ConfigError(
                "shares", f"no traffic share for {', '.join(missing)}; give every region a share"
            )
        total = math.fsum(shares.values())
        radii = [min(1.0, math.fsum(shares[r] for r in w.regions) / total) for w in waves]
    elif all(wave.blast_radius is not None for wave in waves):
        radii = [wave.blast_radius or 0.0 for wave in waves]
    else:
        count = sum(len(wave.targets) for wave in waves)
        radii = [len(wave.targets) / count for wave in waves]
    return _planned(waves, radii)
