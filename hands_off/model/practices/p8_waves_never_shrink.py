"""P8: production waves never shrink."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["RULE", "check"]

RULE = Rule(
    code="HO-P8-WAVES-SHRINK",
    practice="P8",
    level=Level.ERROR,
    info="Production waves never shrink.",
    explanation=(
        "Production is deployed in waves of increasing size: each wave is trusted only as far "
        "as the smaller waves before it proved the change safe. A wave with fewer targets than "
        "the one before puts the larger exposure first, so the smaller wave after it adds "
        "little confidence and costs lead time. Fix: move targets to a later wave, or reorder "
        "the waves so their sizes never decrease."
    ),
)


def _targets(count: int) -> str:
    return f"{count} target" if count == 1 else f"{count} targets"


def check(view: FleetView) -> Iterator[Finding]:
    """Flag every wave with fewer targets than the wave before it."""
    for i, (before, wave) in enumerate(pairwise(view.waves), start=1):
        if len(wave.targets) < len(before.targets):
            yield RULE.finding(
                f"waves[{i}].targets",
                f"wave {wave.name!r} has {_targets(len(wave.targets))}, fewer than the "
                f"{len(before.targets)} of {before.name!r}; waves must never shrink (P8), "
                "so move targets to a later wave or reorder the waves",
            )
