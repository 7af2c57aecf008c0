"""P5: pre-production and production copies run in separate accounts (a warning)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P5-SHARED-ACCOUNT",
    practice="P5",
    level=Level.WARNING,
    info="Pre-production and production copies run in separate accounts.",
    explanation=(
        "Pre-production stages exist to fail before production does. In an account shared "
        "with production, a pre-production change (an IAM policy, a quota, a deleted table) "
        "can reach production resources, and its alarms and limits are mixed with "
        "production's. Allowed, but against the practice. Fix: deploy alpha, beta and gamma "
        "into pre-production accounts that host no production target."
    ),
)


def check(view: FleetView) -> Iterator[Finding]:
    """Flag, once, the accounts that host both a pre-production and a production copy.

    The finding's field is the first pre-production target in a shared account.
    """
    production = {t.account.account_id for wave in view.waves for t in wave.targets}
    stages = (("alpha", view.alpha), ("beta", view.beta), ("gamma", view.gamma))
    shared_at = [
        (f"{name}.targets[{j}]", target.account.account_id)
        for name, stage in stages
        for j, target in enumerate(stage.targets)
        if target.account.account_id in production
    ]
    if not shared_at:
        return
    shared = sorted({account_id for _, account_id in shared_at})
    yield RULE.finding(
        shared_at[0][0],
        f"account(s) {', '.join(shared)} host both pre-production and production copies: use "
        "separate accounts so a pre-production change cannot reach production resources",
    )
