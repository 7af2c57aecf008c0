"""P16: a bake lasts at least as long as the alarms need to fire."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.policy import DeploymentPolicy
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P16-BAKE-TOO-SHORT",
    practice="P16",
    level=Level.ERROR,
    info="A bake lasts at least the alarms' evaluation window.",
    explanation=(
        "An alarm fires only after period_minutes x evaluation_periods of breaching data. A "
        "bake that ends sooner lets the pipeline promote a change its alarms were about to "
        "stop, so the bake protects nothing. Fix: bake at least the evaluation window, or "
        "shorten the window (fewer or shorter alarm periods). A bake of 0 (no bake) is "
        "allowed in gamma and flagged by HO-P16-NO-BAKE in production waves."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag gamma and every wave whose bake is shorter than the alarms' evaluation window."""
    window = view.alarm_policy.evaluation_window_minutes
    baked: list[tuple[str, str, DeploymentPolicy]] = [("gamma", "gamma", view.gamma.policy)]
    baked += [(f"waves[{i}]", wave.name, wave.policy) for i, wave in enumerate(view.waves)]
    for path, name, policy in baked:
        if 0 < policy.bake_minutes < window:
            yield RULE.finding(
                f"{path}.policy.bake_minutes",
                f"{name!r} bakes {policy.bake_minutes} min, shorter than the alarms' "
                f"evaluation window of {window} min (period_minutes x evaluation_periods); "
                f"bake at least {window} min or shorten the alarm window",
            )
