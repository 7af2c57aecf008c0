"""Packs of practice rules, and running them over a fleet: list, find, or fail on the first error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from hands_off.model.practices import (
    p5_gamma_multi_region,
    p5_separate_accounts,
    p6_gamma_one_box,
    p8_first_wave_single_region,
    p8_region_in_one_wave,
    p8_waves_never_shrink,
    p9_one_box_first,
    p9_one_box_small,
    p16_bake_covers_alarms,
    p16_waves_bake,
)
from hands_off.model.practices.rule import Finding, Level, Rule

if TYPE_CHECKING:
    from hands_off.model.practices.fleet_view import FleetView

__all__ = ["MODEL_RULES", "RuleModule", "catalog", "findings", "raise_first"]


class RuleModule(Protocol):
    """The shape of one rule: a module (or any object) with a ``RULE`` and a ``check``.

    ``check(view)`` is pure: it reads the view and yields a ``Finding`` for each place that
    breaks ``RULE`` (nothing when the fleet complies or the rule does not apply).
    """

    RULE: Rule

    def check(self, view: FleetView) -> Iterator[Finding]:
        """Yield the findings of ``RULE`` in ``view``."""
        ...


MODEL_RULES: tuple[RuleModule, ...] = (
    p5_gamma_multi_region,
    p6_gamma_one_box,
    p8_region_in_one_wave,
    p8_first_wave_single_region,
    p8_waves_never_shrink,
    p9_one_box_first,
    p9_one_box_small,
    p16_waves_bake,
    p16_bake_covers_alarms,
    p5_separate_accounts,
)
"""The rules ``Environments`` runs when it is built, in order of precedence: when a fleet
breaks several, ``raise_first`` reports the earliest rule's first finding."""


def findings(view: FleetView, rules: Iterable[RuleModule] = MODEL_RULES) -> tuple[Finding, ...]:
    """Every finding of ``rules`` in ``view``, rule by rule, errors and warnings alike.

    Example::

        for finding in findings(environments):
            print(finding)  # "error HO-P8-WAVES-SHRINK waves[3].targets: wave 'Prod-4' has ..."
    """
    return tuple(finding for rule in rules for finding in rule.check(view))


def raise_first(view: FleetView, rules: Iterable[RuleModule] = MODEL_RULES) -> tuple[Finding, ...]:
    """Fail fast on the first ``ERROR`` finding; return the ``WARNING`` findings.

    Rules run in the order given and each stops at its first error, so the error raised is the
    one a user fixes first.

    Raises:
        ConfigError: for the first error finding, with the finding's field and message and the
            rule's ``code``.
    """
    warnings: list[Finding] = []
    for rule in rules:
        for finding in rule.check(view):
            if finding.level is Level.ERROR:
                raise finding.error()
            warnings.append(finding)
    return tuple(warnings)


def catalog(rules: Iterable[RuleModule] = MODEL_RULES) -> tuple[Rule, ...]:
    """The rules of a pack (code, practice, level, info, explanation), for docs and ``check``.

    Example::

        for rule in catalog():
            print(f"{rule.code:32} {rule.practice:4} {rule.level:8} {rule.info}")
    """
    return tuple(rule.RULE for rule in rules)
