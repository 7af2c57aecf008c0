"""A deployment-safety rule over a cloud assembly, where a finding is, and a waiver (cdk-nag's shape).

Rules reuse the fleet model's :class:`~hands_off.model.practices.rule.Level`; their ids are
``HO-W<n>`` (W for *wave-safe*), distinct from the model's ``HO-P<n>-...`` codes because they
judge any synthesized pipeline, not a hands-off fleet model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hands_off.model.practices.rule import Level

if TYPE_CHECKING:
    from hands_off.assembly import Assembly, Pipeline

__all__ = ["CheckRule", "Finding", "Level", "Location", "RuleCheck", "Waiver"]

_ID = re.compile(r"^HO-W[0-9]+$")


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a finding is. Every field but ``pipeline`` may be empty (``""``).

    Attributes:
        pipeline: the pipeline's name.
        stage: the pipeline stage.
        stack: the deployed stack's name.
        logical_id: the resource's logical id in that stack.
    """

    pipeline: str
    stage: str = ""
    stack: str = ""
    logical_id: str = ""

    def __str__(self) -> str:
        """``pipeline/stage/stack/logical id``, without the empty parts."""
        return "/".join(part for part in (self.pipeline, self.stage, self.stack, self.logical_id) if part)


@dataclass(frozen=True, kw_only=True)
class CheckRule:
    """One deployment-safety rule.

    Attributes:
        id: ``HO-W<n>``, stable; waivers and SARIF refer to it.
        practice: the practice(s) of the Builders' Library article it checks, e.g. ``"P8"``.
        level: ``Level.ERROR`` fails ``hands-off check``; ``Level.WARNING`` is reported only.
        info: one line, what a compliant pipeline does.
        fix: one line, how to fix a finding.
    """

    id: str
    practice: str
    level: Level
    info: str
    fix: str

    def __post_init__(self) -> None:
        """Check the id's shape and that the texts are there."""
        if not _ID.fullmatch(self.id):
            raise ValueError(f"CheckRule.id: {self.id!r} is not HO-W<n>; write e.g. 'HO-W12'")
        if not self.info.strip() or not self.fix.strip():
            raise ValueError(f"{self.id}: info and fix must not be empty; write one line each")

    def finding(self, location: Location, message: str) -> Finding:
        """A finding of this rule at ``location``; ``message`` says what is wrong there."""
        return Finding(rule=self, location=location, message=message)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One place where a pipeline breaks a rule.

    Attributes:
        rule: the rule broken.
        location: where.
        message: what is wrong there.
        waived: the waiver's reason if a waiver covers it, else ``None``.
    """

    rule: CheckRule
    location: Location
    message: str
    waived: str | None = None

    @property
    def fails(self) -> bool:
        """Whether it fails the check: an unwaived error."""
        return self.rule.level is Level.ERROR and self.waived is None

    def waive(self, reason: str) -> Finding:
        """This finding, waived with ``reason``."""
        return replace(self, waived=reason)

    def __str__(self) -> str:
        """``"error HO-W2 orders/Prod-1: <message>"`` (``waived`` instead of the level if waived)."""
        level = "waived" if self.waived is not None else str(self.rule.level)
        return f"{level} {self.rule.id} {self.location}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class Waiver:
    """Accept one rule's findings for one pipeline (or ``*``: every pipeline), with a reason.

    Example::

        Waiver(rule="HO-W3", pipeline="orders-application", reason="one region until 2027")

    Attributes:
        rule: the rule id, e.g. ``"HO-W3"``.
        pipeline: the pipeline name, or ``"*"`` for all.
        reason: why; shown with every finding it waives.
    """

    rule: str
    pipeline: str
    reason: str

    def __post_init__(self) -> None:
        """A waiver names a rule id, a pipeline and a reason."""
        if not _ID.fullmatch(self.rule):
            raise ValueError(f"waiver rule {self.rule!r} is not a rule id; write e.g. HO-W3")
        if not self.pipeline.strip():
            raise ValueError(f"waiver of {self.rule} names no pipeline; write its name or '*'")
        if not self.reason.strip():
            raise ValueError(f"waiver of {self.rule} for {self.pipeline} has no reason; write why")

    @classmethod
    def parse(cls, text: str) -> Waiver:
        """``RULE:PIPELINE:REASON`` (the reason may contain colons), e.g. the CLI's ``--waive``."""
        parts = text.split(":", 2)
        if len(parts) != 3:
            raise ValueError(f"waiver {text!r} is not RULE:PIPELINE:REASON, e.g. HO-W3:orders:one region")
        return cls(rule=parts[0].strip(), pipeline=parts[1].strip(), reason=parts[2].strip())

    def covers(self, finding: Finding) -> bool:
        """Whether this waiver applies to ``finding``."""
        return finding.rule.id == self.rule and self.pipeline in ("*", finding.location.pipeline)


RuleCheck = Callable[["Assembly", "Pipeline"], Iterator[Finding]]
"""A rule's check: a pure function of the assembly and one of its pipelines yielding findings."""
