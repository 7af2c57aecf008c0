"""A practice rule, how bad breaking it is, and what a check reports (cdk-nag's rule shape)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hands_off.model.errors import ConfigError

__all__ = ["Finding", "Level", "Rule"]

# "HO-" + the practice id + "-" + what the rule flags, e.g. "HO-P8-WAVES-SHRINK".
_CODE = re.compile(r"^HO-(?P<practice>[PX][0-9]+)-[A-Z0-9]+(?:-[A-Z0-9]+)*$")


class Level(StrEnum):
    """How bad a finding is (the values are SARIF's levels).

    ``ERROR`` stops the build (``Environments`` raises a ``ConfigError``); ``WARNING`` is allowed
    but against the practices, and is shown as a CDK warning at synth.
    """

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, kw_only=True)
class Rule:
    """What one practice rule checks: its stable code, the practice it enforces, its level and
    the text a reader needs.

    Example::

        RULE = Rule(
            code="HO-P8-WAVES-SHRINK",
            practice="P8",
            level=Level.ERROR,
            info="Production waves never shrink.",
            explanation="Each wave deploys to at least as many targets as the one before ...",
        )

    Attributes:
        code: the stable id, ``HO-<practice>-<WHAT>`` in capitals, e.g.
            ``"HO-P8-WAVES-SHRINK"``; tests and suppressions refer to it.
        practice: the practice id it enforces (``"P8"``), from the practices checklist; the
            code starts with ``f"HO-{practice}-"``.
        level: ``Level.ERROR`` or ``Level.WARNING``.
        info: one short line: what a compliant fleet does.
        explanation: why the practice matters and how to fix a finding.
    """

    code: str
    practice: str
    level: Level
    info: str
    explanation: str

    def __post_init__(self) -> None:
        """Check the code's shape, that it names the practice, and that the texts are there."""
        match = _CODE.fullmatch(self.code) if isinstance(self.code, str) else None
        if match is None:
            raise ConfigError(
                "Rule.code",
                f"{self.code!r} is not a rule code; write HO-<practice>-<WHAT> in capitals, "
                "e.g. 'HO-P8-WAVES-SHRINK'",
            )
        if match["practice"] != self.practice:
            raise ConfigError(
                "Rule.practice",
                f"{self.practice!r} does not match the code {self.code!r}; "
                f"use practice={match['practice']!r}",
            )
        if not isinstance(self.level, Level):
            raise ConfigError("Rule.level", f"must be a Level, got {self.level!r}; use Level.ERROR")
        for name in ("info", "explanation"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ConfigError(f"Rule.{name}", f"{self.code} has no {name}; write one")

    def finding(self, field: str, message: str) -> Finding:
        """A finding of this rule at ``field`` (e.g. ``"waves[2].targets"``); ``message`` says
        what is wrong there and how to fix it."""
        return Finding(rule=self, field=field, message=message)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One place where a fleet breaks a rule.

    Attributes:
        rule: the rule broken.
        field: the path of the offending value in the fleet, as in ``ConfigError.field``,
            e.g. ``"waves[2].targets"`` (waves are numbered from 0 in deployment order).
        message: what is wrong and how to fix it, naming the stage or wave.
    """

    rule: Rule
    field: str
    message: str

    @property
    def code(self) -> str:
        """The rule's code, e.g. ``"HO-P8-WAVES-SHRINK"``."""
        return self.rule.code

    @property
    def level(self) -> Level:
        """The rule's level."""
        return self.rule.level

    def error(self) -> ConfigError:
        """This finding as a ``ConfigError`` carrying the rule's code (to raise)."""
        return ConfigError(self.field, self.message, code=self.rule.code)

    def __str__(self) -> str:
        """``"error HO-P8-WAVES-SHRINK waves[2].targets: <message>"``."""
        return f"{self.level} {self.code} {self.field}: {self.message}"
