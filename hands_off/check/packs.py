"""The deployment-safety pack: every rule with its check, in catalog order."""

from __future__ import annotations

from dataclasses import dataclass

from hands_off.check.rule import CheckRule, RuleCheck
from hands_off.check.rules import copies, source, stages, waves

__all__ = ["DEPLOYMENT_SAFETY", "PackedRule", "catalog"]


@dataclass(frozen=True)
class PackedRule:
    """A rule and its check function."""

    rule: CheckRule
    check: RuleCheck


DEPLOYMENT_SAFETY: tuple[PackedRule, ...] = (
    PackedRule(waves.TWO_WAVES, waves.two_waves),
    PackedRule(waves.FIRST_WAVE_ONE_REGION, waves.first_wave),
    PackedRule(waves.WAVES_NEVER_SHRINK, waves.waves_grow),
    PackedRule(copies.ROLLS_BACK_ON_ALARMS, copies.rolls_back),
    PackedRule(copies.ALARMS_COVER, copies.alarms_cover),
    PackedRule(copies.ONE_BOX_FIRST, copies.one_box_first),
    PackedRule(stages.BAKE, stages.bake),
    PackedRule(stages.BLOCKER, stages.blocker),
    PackedRule(stages.INTEGRATION_TESTS, stages.integration_tests),
    PackedRule(stages.ROLLBACK_ON_FAILURE, stages.rollback_on_failure),
    PackedRule(source.ONE_BRANCH, source.one_branch),
    PackedRule(copies.CODE_SIGNING, copies.code_signing),
)
"""The rules ``hands-off check`` runs (HO-W1 ... HO-W12)."""


def catalog(pack: tuple[PackedRule, ...] = DEPLOYMENT_SAFETY) -> tuple[CheckRule, ...]:
    """The rules of a pack, in order (for docs, SARIF and the table's legend)."""
    return tuple(entry.rule for entry in pack)
