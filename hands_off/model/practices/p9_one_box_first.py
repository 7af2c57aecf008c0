"""P9: the first production waves start with a one-box (canary) step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.policy import TrafficShape
from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["ONE_BOX_WAVES", "RULE", "check"]

ONE_BOX_WAVES = 2
"""How many of the first production waves must start with a one-box step."""

RULE = Rule(
    code="HO-P9-NO-ONE-BOX",
    practice="P9",
    level=Level.ERROR,
    info=f"The first {ONE_BOX_WAVES} production waves start with a one-box step.",
    explanation=(
        "Each early production wave first sends a small slice of its traffic (one box) to the "
        "new version; alarms on that slice roll it back and stop the rollout while the rest of "
        "the wave still runs the old version. A linear or all-at-once wave exposes a whole "
        "step of customers before any alarm can fire. Fix: give the first "
        f"{ONE_BOX_WAVES} waves a canary policy, e.g. policy=ONE_BOX_POLICY."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag each of the first waves whose policy is not a canary."""
    for i, wave in enumerate(view.waves[:ONE_BOX_WAVES]):
        shape = wave.policy.shape
        if shape is not TrafficShape.CANARY:
            yield RULE.finding(
                f"waves[{i}].policy.shape",
                f"wave {wave.name!r} uses {shape.value!r}; the first two waves start "
                "with a one-box step, so use TrafficShape.CANARY (e.g. ONE_BOX_POLICY) (P9)",
            )
