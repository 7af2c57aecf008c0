"""Summarize a synthesized cloud assembly: pipelines, their stages, stacks, and the wave plan.

Usage: ``python -m hands_off.summary cdk.out`` (``make synth`` runs it).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hands_off.model import example_plan

__all__ = ["AssemblySummary", "PipelineSummary", "summarize"]


@dataclass(frozen=True)
class PipelineSummary:
    """One ``AWS::CodePipeline::Pipeline`` found in a template."""

    stack: str
    name: str
    pipeline_type: str
    stages: tuple[str, ...]


@dataclass(frozen=True)
class AssemblySummary:
    """What a cloud assembly holds."""

    templates: dict[str, dict[str, Any]]
    pipelines: tuple[PipelineSummary, ...]

    @property
    def resource_count(self) -> int:
        return sum(len(t.get("Resources", {})) for t in self.templates.values())


def _templates(out: Path) -> dict[str, dict[str, Any]]:
    """Every template in ``out`` and its nested stage assemblies, keyed by file stem."""
    return {
        p.stem.removesuffix(".template"): json.loads(p.read_text())
        for p in sorted(out.rglob("*.template.json"))
    }


def summarize(out: Path) -> AssemblySummary:
    """Read every template under ``out`` (nested stage assemblies included)."""
    templates = _templates(out)
    pipelines = []
    for stack, template in templates.items():
        for resource in template.get("Resources", {}).values():
            if resource.get("Type") != "AWS::CodePipeline::Pipeline":
                continue
            props = resource["Properties"]
            pipelines.append(
                PipelineSummary(
                    stack=stack,
                    name=str(props.get("Name", "?")),
                    pipeline_type=str(props.get("PipelineType", "V1")),
                    stages=tuple(stage["Name"] for stage in props["Stages"]),
                )
            )
    return AssemblySummary(templates=templates, pipelines=tuple(pipelines))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "cdk.out")
    if not out.is_dir():
        print(f"hands-off summary: error: {out} does not exist; run `make synth` first", file=sys.stderr)
        return 2
    summary = summarize(out)
    print(f"Synthesized {len(summary.templates)} stacks ({summary.resource_count} resources) into {out}/")
    for pipeline in summary.pipelines:
        print(
            f"  {pipeline.name} [{pipeline.pipeline_type}] ({pipeline.stack}): {' → '.join(pipeline.stages)}"
        )
    print()
    print("Wave plan of the example fleet:")
    print(example_plan().table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
