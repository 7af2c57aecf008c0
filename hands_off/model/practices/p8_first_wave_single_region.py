"""P8: the first production wave deploys to a single region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P8-FIRST-WAVE-MULTI-REGION",
    practice="P8",
    level=Level.ERROR,
    info="The first production wave deploys to a single region.",
    explanation=(
        "The first production wave is the first time a change meets real customers, so its "
        "blast radius is the smallest of all: one low-traffic region (one AZ at a time). A "
        "first wave spanning several regions turns a bad change into a multi-region outage "
        "before any bake could stop it. Fix: start with a single low-traffic region and move "
        "the others to later waves (the wave planner, plan_waves, does this)."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag a first wave that spans more than one region."""
    if not view.waves:
        return
    first = view.waves[0]
    if len(first.regions) > 1:
        yield RULE.finding(
            "waves[0].targets",
            f"the first wave {first.name!r} spans {len(first.regions)} regions "
            f"({', '.join(first.regions)}); start with a single low-traffic region (P8)",
        )
