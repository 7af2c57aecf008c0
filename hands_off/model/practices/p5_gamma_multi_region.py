"""P5: gamma deploys to at least two regions, so it is production-like."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P5-GAMMA-SINGLE-REGION",
    practice="P5",
    level=Level.ERROR,
    info="Gamma deploys to at least two regions.",
    explanation=(
        "Gamma is the last pre-production stage and must look like production, which runs in "
        "several regions: a change that only breaks when two regions talk to each other, or in "
        "a region other than the developers' own, must fail in gamma and not in the first "
        "production wave. Fix: add a gamma target in a second region (e.g. one of the "
        "production regions)."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag a gamma stage that spans a single region."""
    if len(view.gamma.regions) < 2:
        yield RULE.finding(
            "gamma.targets",
            "gamma deploys to a single region; add a second region so gamma is production-like (P5)",
        )
