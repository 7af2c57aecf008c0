"""P9: a production one-box step takes at most 10% of the wave's traffic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.policy import TrafficShape
from hands_off.model.practices.p9_one_box_first import ONE_BOX_WAVES
from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["MAX_ONE_BOX_PERCENT", "RULE", "check"]

MAX_ONE_BOX_PERCENT = 10
"""The largest share of a wave's traffic its one-box step may take, in percent."""

RULE = Rule(
    code="HO-P9-ONE-BOX-TOO-LARGE",
    practice="P9",
    level=Level.ERROR,
    info=f"A production one-box step takes at most {MAX_ONE_BOX_PERCENT}% of the wave's traffic.",
    explanation=(
        "The one-box step exists to limit the impact of a bad change to a small share of the "
        "wave's customers while alarms decide. A larger slice hurts more customers before the "
        "rollback and is no longer a one-box. Fix: set the canary's step_percent to at most "
        f"{MAX_ONE_BOX_PERCENT} (ONE_BOX_POLICY uses 10)."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag each canary among the first waves whose one-box slice is too large.

    A wave that is not a canary has no one-box step; ``HO-P9-NO-ONE-BOX`` flags it.
    """
    for i, wave in enumerate(view.waves[:ONE_BOX_WAVES]):
        policy = wave.policy
        if policy.shape is TrafficShape.CANARY and policy.step_percent > MAX_ONE_BOX_PERCENT:
            yield RULE.finding(
                f"waves[{i}].policy.step_percent",
                f"wave {wave.name!r} sends {policy.step_percent}% to its one-box; keep it at "
                f"most {MAX_ONE_BOX_PERCENT}% of the wave's traffic (P9)",
            )
