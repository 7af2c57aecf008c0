"""The deployment-safety pack: every rule with its check, in catalog order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hands_off.assembly import Assembly, Pipeline
from hands_off.check.rule import CheckRule, Finding, RuleCheck
from hands_off.check.rules import copies, source, stages, waves
from hands_off.check.rules._view import CopyCheck
from hands_off.check.rules._view import copies as production_copies

__all__ = ["DEPLOYMENT_SAFETY", "PackedRule", "catalog"]


@dataclass(frozen=True)
class PackedRule:
    """A rule and its check.

    Attributes:
        rule: the rule.
        check: its check over one pipeline of an assembly (what ``hands-off check`` runs).
        per_copy: for a rule that judges one production copy at a time, that check (the cdk-nag
            pack runs it on the copy holding the resource it judges); ``check`` then runs it over
            every production copy of the pipeline. ``None`` for a rule that judges the pipeline's
            shape. Default: ``None``.
    """

    rule: CheckRule
    check: RuleCheck
    per_copy: CopyCheck | None = None

    @classmethod
    def of_copies(cls, rule: CheckRule, per_copy: CopyCheck) -> PackedRule:
        """A rule judged copy by copy: ``check`` runs ``per_copy`` over every production copy."""

        def check(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
            for copy in production_copies(assembly, pipeline):
                yield from per_copy(copy)

        return cls(rule=rule, check=check, per_copy=per_copy)


DEPLOYMENT_SAFETY: tuple[PackedRule, ...] = (
    PackedRule(waves.TWO_WAVES, waves.two_waves),
    PackedRule(waves.FIRST_WAVE_ONE_REGION, waves.first_wave),
    PackedRule(waves.WAVES_NEVER_SHRINK, waves.waves_grow),
    PackedRule.of_copies(copies.ROLLS_BACK_ON_ALARMS, copies.rolls_back),
    PackedRule.of_copies(copies.ALARMS_COVER, copies.alarms_cover),
    PackedRule.of_copies(copies.ONE_BOX_FIRST, copies.one_box_first),
    PackedRule(stages.BAKE, stages.bake),
    PackedRule(stages.BLOCKER, stages.blocker),
    PackedRule(stages.INTEGRATION_TESTS, stages.integration_tests),
    PackedRule(stages.ROLLBACK_ON_FAILURE, stages.rollback_on_failure),
    PackedRule(source.ONE_BRANCH, source.one_branch),
    PackedRule.of_copies(copies.CODE_SIGNING, copies.code_signing),
)
"""The rules ``hands-off check`` runs (HO-W1 ... HO-W12)."""


def catalog(pack: tuple[PackedRule, ...] = DEPLOYMENT_SAFETY) -> tuple[CheckRule, ...]:
    """The rules of a pack, in order (for docs, SARIF and the table's legend)."""
    return tuple(entry.rule for entry in pack)
