"""The deployment practices as rules: pure checks of a fleet, each with a code, a level and a fix.

cdk-nag's shape: one module per rule, each with a ``RULE`` (code, practice, level, info,
explanation) and a pure ``check(view)`` yielding ``Finding`` objects; a pack is a tuple of rule
modules. ``Environments`` runs ``MODEL_RULES`` when it is built and raises the first error as a
``ConfigError`` carrying the rule's code. Nothing here imports ``aws_cdk``: the same rules can
run over any ``FleetView``, e.g. one read from a synthesized cloud assembly.

Example::

    from hands_off.model import practices

    for rule in practices.catalog():
        print(rule.code, rule.practice, rule.level, rule.info)
    for finding in practices.findings(environments):
        print(finding)
"""

from __future__ import annotations

from hands_off.model.practices.fleet_view import FleetView
from hands_off.model.practices.packs import MODEL_RULES, RuleModule, catalog, findings, raise_first
from hands_off.model.practices.rule import Finding, Level, Rule

__all__ = [
    "MODEL_RULES",
    "Finding",
    "FleetView",
    "Level",
    "Rule",
    "RuleModule",
    "catalog",
    "findings",
    "raise_first",
]
