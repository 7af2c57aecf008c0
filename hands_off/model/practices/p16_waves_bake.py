"""P16: every production wave bakes after its deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P16-NO-BAKE",
    practice="P16",
    level=Level.ERROR,
    info="Every production wave bakes after its deployment.",
    explanation=(
        "A bake is the time after a wave's traffic shift while its alarms are watched; only "
        "then does the next, larger wave start. Without a bake, problems that build up over "
        "minutes (leaks, retries, slow queues) reach the next wave before any alarm fires. "
        "Fix: give every wave a bake of at least the alarms' evaluation window "
        "(period_minutes x evaluation_periods), e.g. policy=ONE_BOX_POLICY (60 min)."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag every wave with a zero-minute bake (gamma may skip its bake)."""
    window = view.alarm_policy.evaluation_window_minutes
    for i, wave in enumerate(view.waves):
        if wave.policy.bake_minutes == 0:
            yield RULE.finding(
                f"waves[{i}].policy.bake_minutes",
                f"wave {wave.name!r} does not bake; give it a bake of at least {window} min "
                "(the alarms' evaluation window) so alarms can stop the rollout (P16)",
            )
