"""Run a pack over an assembly and report: a table, JSON, or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hands_off.assembly import Assembly
from hands_off.check.packs import DEPLOYMENT_SAFETY, PackedRule, catalog
from hands_off.check.rule import CheckRule, Finding, Level, Waiver

__all__ = ["Report", "run"]

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_TOOL_URI = "https://github.com/example-org/hands-off"


@dataclass(frozen=True, kw_only=True)
class Report:
    """The findings of one check run.

    Attributes:
        pipelines: the names of the pipelines checked.
        rules: the rules run.
        findings: every finding, waived ones included, pipeline by pipeline and rule by rule.
        unused_waivers: waivers that matched no finding (stale ones to remove).
    """

    pipelines: tuple[str, ...]
    rules: tuple[CheckRule, ...]
    findings: tuple[Finding, ...]
    unused_waivers: tuple[Waiver, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether an unwaived error-level finding exists (``hands-off check`` exits 1)."""
        return any(finding.fails for finding in self.findings)

    def table(self) -> str:
        """A plain-text table, one finding a line, then a one-line verdict."""
        rows = [
            (
                "waived" if f.waived is not None else str(f.rule.level),
                f.rule.id,
                str(f.location),
                f.message + (f" [waived: {f.waived}]" if f.waived is not None else ""),
            )
            for f in self.findings
        ]
        header = ("level", "rule", "where", "finding")
        lines: list[str] = []
        if rows:
            widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
            lines += [
                " | ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row))
                for row in [header, (*("-" * w for w in widths), "-------"), *rows]
            ]
            fixes = {f.rule.id: f.rule for f in self.findings}
            lines += ["", "How to fix:"] + [f"  {rule.id}: {rule.fix}" for rule in fixes.values()]
            lines.append("")
        lines += [f"unused waiver: {w.rule}:{w.pipeline} ({w.reason})" for w in self.unused_waivers]
        errors = sum(1 for f in self.findings if f.fails)
        warnings = sum(1 for f in self.findings if f.waived is None and f.rule.level is Level.WARNING)
        waived = sum(1 for f in self.findings if f.waived is not None)
        verdict = "FAILED" if self.failed else "passed"
        lines.append(
            f"hands-off check {verdict}: {len(self.pipelines)} pipeline(s), {len(self.rules)} rules, "
            f"{errors} error(s), {warnings} warning(s), {waived} waived"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable dict: ``failed``, ``pipelines``, ``rules`` and ``findings``."""
        return {
            "failed": self.failed,
            "pipelines": list(self.pipelines),
            "rules": [_rule_json(rule) for rule in self.rules],
            "findings": [
                {
                    "rule": f.rule.id,
                    "level": str(f.rule.level),
                    "pipeline": f.location.pipeline,
                    "stage": f.location.stage,
                    "stack": f.location.stack,
                    "logical_id": f.location.logical_id,
                    "message": f.message,
                    "fix": f.rule.fix,
                    "waived": f.waived,
                }
                for f in self.findings
            ],
        }

    def to_sarif(self) -> dict[str, Any]:
        """A SARIF 2.1.0 log (for code-scanning upload). Waived findings carry an accepted
        external suppression with the waiver's reason as its justification."""
        from hands_off import __version__

        index = {rule.id: i for i, rule in enumerate(self.rules)}
        results = []
        for f in self.findings:
            logical = [
                {"name": name, "fullyQualifiedName": qualified, "kind": kind}
                for name, qualified, kind in _logical_locations(f)
            ]
            result: dict[str, Any] = {
                "ruleId": f.rule.id,
                "ruleIndex": index[f.rule.id],
                "level": str(f.rule.level),
                "message": {"text": f"{f.message}. Fix: {f.rule.fix}"},
                "locations": [{"logicalLocations": logical}],
            }
            if f.waived is not None:
                result["suppressions"] = [
                    {"kind": "external", "status": "accepted", "justification": f.waived}
                ]
            results.append(result)
        return {
            "$schema": _SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "hands-off",
                            "version": __version__,
                            "informationUri": _TOOL_URI,
                            "rules": [_sarif_rule(rule) for rule in self.rules],
                        }
                    },
                    "results": results,
                }
            ],
        }

    def render(self, format: str) -> str:
        """The report as ``table``, ``json`` or ``sarif`` text."""
        if format == "table":
            return self.table()
        data = self.to_json() if format == "json" else self.to_sarif()
        return json.dumps(data, indent=2)


def _rule_json(rule: CheckRule) -> dict[str, str]:
    return {
        "id": rule.id,
        "practice": rule.practice,
        "level": str(rule.level),
        "info": rule.info,
        "fix": rule.fix,
    }


def _sarif_rule(rule: CheckRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.id.replace("-", ""),
        "shortDescription": {"text": rule.info},
        "fullDescription": {"text": f"{rule.info} ({rule.practice})"},
        "help": {"text": rule.fix},
        "defaultConfiguration": {"level": str(rule.level)},
        "properties": {"practice": rule.practice},
    }


def _logical_locations(finding: Finding) -> list[tuple[str, str, str]]:
    where = finding.location
    parts = [
        (where.pipeline, "pipeline"),
        (where.stage, "stage"),
        (where.stack, "stack"),
        (where.logical_id, "resource"),
    ]
    found: list[tuple[str, str, str]] = []
    qualified: list[str] = []
    for name, kind in parts:
        if name:
            qualified.append(name)
            found.append((name, "/".join(qualified), kind))
    return found


def run(
    assembly: Assembly,
    *,
    pack: tuple[PackedRule, ...] = DEPLOYMENT_SAFETY,
    waivers: Iterable[Waiver] = (),
    pipeline: str | None = None,
) -> Report:
    """Run ``pack`` over every pipeline of ``assembly`` (or the one named ``pipeline``) and apply
    ``waivers``.

    Example::

        report = run(Assembly.read("cdk.out"), waivers=[Waiver.parse("HO-W3:orders:one region")])
        print(report.table())
        raise SystemExit(1 if report.failed else 0)
    """
    waivers = tuple(waivers)
    pipelines = [p for p in assembly.pipelines if pipeline is None or p.name == pipeline]
    findings: list[Finding] = []
    used: set[Waiver] = set()
    for checked in pipelines:
        for entry in pack:
            for finding in entry.check(assembly, checked):
                waiver = next((w for w in waivers if w.covers(finding)), None)
                if waiver is not None:
                    used.add(waiver)
                    finding = finding.waive(waiver.reason)
                findings.append(finding)
    return Report(
        pipelines=tuple(p.name for p in pipelines),
        rules=catalog(pack),
        findings=tuple(findings),
        unused_waivers=tuple(w for w in waivers if w not in used),
    )
