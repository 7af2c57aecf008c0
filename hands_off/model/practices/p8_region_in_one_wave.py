"""P8: each region is deployed by exactly one production wave."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P8-REGION-TWICE",
    practice="P8",
    level=Level.ERROR,
    info="Each region is deployed by exactly one production wave.",
    explanation=(
        "Waves grow the blast radius step by step: each wave adds regions the change has not "
        "reached yet, and its bake watches those regions. A region listed in two waves is "
        "changed twice, its traffic is counted twice in the wave sizes, and a later wave can "
        "overwrite what an earlier one baked. Fix: list every region in one wave only (move "
        "the extra account to the wave that already deploys the region)."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag every target whose region an earlier wave already deploys."""
    owner: dict[str, str] = {}
    for i, wave in enumerate(view.waves):
        for j, target in enumerate(wave.targets):
            first = owner.setdefault(target.region, wave.name)
            if first != wave.name:
                yield RULE.finding(
                    f"waves[{i}].targets[{j}]",
                    f"wave {wave.name!r} lists region {target.region!r}, already in "
                    f"{first!r}; a region is deployed by exactly one wave",
                )
