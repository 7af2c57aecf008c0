"""Summarize a synthesized cloud assembly: stacks, pipelines with their stages, and the wave plan
each pipeline actually deploys.

Usage: ``python -m hands_off.summary cdk.out`` (``make synth`` runs it).

Everything printed is read from the assembly (see :mod:`hands_off.assembly`), not from the model:
a production stage's regions are those of its CloudFormation actions, its bake is the
``bake_seconds`` of the input its bake action reads from SSM.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hands_off.assembly import Assembly, AssemblyError, Pipeline, PipelineStage

__all__ = ["PRODUCTION_PREFIX", "main", "summarize"]

PRODUCTION_PREFIX = "Prod-"
"""Stages whose name starts with this are production waves (the wave planner's default prefix)."""


def _bake_minutes(stage: PipelineStage, parameters: Mapping[str, str]) -> str:
    """The stage's bake, from the SSM parameter its bake action's input names (``"?"`` if none)."""
    for action in stage.actions:
        pointer = (action.input or {}).get("config_parameter")
        value = parameters.get(pointer) if isinstance(pointer, str) else None
        if value is None:
            continue
        try:
            config = json.loads(value)
        except json.JSONDecodeError:
            continue
        seconds = config.get("bake_seconds") if isinstance(config, Mapping) else None
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return f"{seconds / 60:g}m"
    return "?"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)]
        return " | ".join(parts).rstrip()

    return [line(header), "-+-".join("-" * w for w in widths), *(line(row) for row in rows)]


def _wave_plan(pipeline: Pipeline, parameters: Mapping[str, str], out: Path) -> list[str]:
    waves = [stage for stage in pipeline.stages if stage.name.startswith(PRODUCTION_PREFIX)]
    if not waves:
        return [f"Wave plan of {pipeline.name}: no production stages ({PRODUCTION_PREFIX}N)"]
    rows = [(s.name, ", ".join(s.deploy_regions), _bake_minutes(s, parameters)) for s in waves]
    return [
        f"Wave plan of {pipeline.name} (read from {out}/):",
        *_table(("wave", "regions", "bake"), rows, right={2}),
    ]


def summarize(out: Path) -> str:
    """The summary of the assembly in ``out``: stack and resource counts, one line per pipeline
    with its stages, then each pipeline's production waves with their regions and bake.

    Raises:
        AssemblyError: if ``out`` cannot be read as a cloud assembly.
    """
    assembly = Assembly.read(out)
    pipelines = assembly.pipelines
    lines = [f"Synthesized {len(assembly.stacks)} stacks ({assembly.resource_count} resources) into {out}/"]
    lines += [
        f"  {p.name} [{p.pipeline_type}] ({p.stack}): {' → '.join(s.name for s in p.stages)}"
        for p in pipelines
    ]
    parameters = assembly.ssm_parameters()
    for pipeline in pipelines:
        lines += ["", *_wave_plan(pipeline, parameters, out)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the summary of ``argv[0]`` (default ``cdk.out``); 2 with one error line if unreadable."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "cdk.out")
    if not out.is_dir():
        print(f"hands-off summary: error: {out} does not exist; run `make synth` first", file=sys.stderr)
        return 2
    try:
        print(summarize(out))
    except AssemblyError as err:
        print(f"hands-off summary: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
