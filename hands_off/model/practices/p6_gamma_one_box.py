"""P6: gamma deploys like production, one box first, never all at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.policy import TrafficShape
from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P6-GAMMA-ALL-AT-ONCE",
    practice="P6",
    level=Level.ERROR,
    info="Gamma deploys one box first, not all at once.",
    explanation=(
        "Gamma rehearses the production deployment: the same one-box step, alarms and bake as "
        "production (P5), with the new code on one box beside the old fleet while the alarms "
        "watch (P6). An all-at-once gamma never exercises the one-box step or its rollback, so "
        "the first time they run is in production. Fix: give gamma the production one-box "
        "policy, e.g. policy=ONE_BOX_POLICY."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag a gamma stage whose policy shifts all traffic at once."""
    if view.gamma.policy.shape is TrafficShape.ALL_AT_ONCE:
        yield RULE.finding(
            "gamma.policy.shape",
            "gamma deploys all at once; give it the production one-box policy "
            "(e.g. ONE_BOX_POLICY) so it is production-like (P5, P6)",
        )
