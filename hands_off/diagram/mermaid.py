"""Mermaid diagrams of a pipeline, read from a cloud assembly.

:func:`flowchart` draws the stages in order; each deploying stage is a box holding its gate, one
deployment per region (with the traffic shift its CodeDeploy group uses and the alarms it rolls
back on), its tests and its bake, and its conditions (``BeforeEntry``, ``OnFailure``) in its
title. :func:`gantt` draws the production wave plan as a timeline: per wave, the deployment (the
slowest traffic shift of its regions) then the bake (``bake_seconds`` of the bake's SSM input).

Example::

    assembly = Assembly.read("cdk.out")
    for pipeline in assembly.pipelines:
        print(flowchart(assembly, pipeline))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from numbers import Real

from hands_off.assembly import ActionRole, Assembly, Pipeline, PipelineAction, PipelineStage

__all__ = ["flowchart", "gantt"]

_ORDER = (ActionRole.GATE, ActionRole.DEPLOY, ActionRole.TEST, ActionRole.BAKE)


def _text(value: str) -> str:
    """A label safe inside Mermaid's ``"..."``."""
    return value.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _bake_minutes(assembly: Assembly, action: PipelineAction) -> int | None:
    seconds = (assembly.action_parameter(action) or {}).get("bake_seconds")
    if isinstance(seconds, Real) and not isinstance(seconds, bool):
        return round(float(seconds) / 60)
    return None


def _source(stage: PipelineStage) -> str:
    parts = []
    for action in stage.actions:
        config: Mapping[str, object] = action.configuration
        repository = config.get("FullRepositoryId") or config.get("RepositoryName") or action.name
        branch = config.get("BranchName") or config.get("Branch")
        parts.append(f"{repository}@{branch}" if isinstance(branch, str) else str(repository))
    return ", ".join(parts)


def _conditions(stage: PipelineStage) -> str:
    found = []
    for rule in stage.before_entry_rules:
        config = rule.get("Configuration")
        alarm = config.get("AlarmName") if isinstance(config, Mapping) else None
        what = f"alarm {alarm}" if isinstance(alarm, str) else str(rule.get("Name"))
        found.append(f"before entry: {what}")
    if stage.on_failure_result:
        found.append(f"on failure: {stage.on_failure_result.lower()}")
    return "".join(f"<br/>{_text(line)}" for line in found)


def _deployments(assembly: Assembly, stage: PipelineStage) -> list[str]:
    """One label per region: ``ca-central-1<br/>canary 10% for 10m, rollback on 3 alarms``, or
    the stacks it updates when none shifts traffic through CodeDeploy or rolls back on alarms."""
    labels = []
    stacks = assembly.stage_stacks(stage)
    for region in stage.deploy_regions:
        details: list[str] = []
        for stack in (s for s in stacks if s.region == region):
            for config in stack.rollback_configs():
                shift = str(config.traffic_shift) if config.traffic_shift else config.kind
                alarms = (
                    f", rollback on {len(config.alarms)} alarms" if config.on_alarm and config.alarms else ""
                )
                details.append(shift + alarms)
        if not details:  # plain CloudFormation updates (IAM, data, or a copy without CodeDeploy)
            details = [f"{s.stack_name} (CloudFormation)" for s in stacks if s.region == region]
        labels.append("<br/>".join(_text(line) for line in [region, *dict.fromkeys(details)]))
    return labels


def _nodes(assembly: Assembly, stage: PipelineStage, prefix: str) -> list[tuple[ActionRole, list[str]]]:
    """Node lines grouped by role, in the order gate → deploy → test → bake."""
    roles = stage.roles()
    groups: list[tuple[ActionRole, list[str]]] = []
    for role in _ORDER:
        actions = [action for action, found in roles if found is role]
        if not actions:
            continue
        if role is ActionRole.DEPLOY:
            labels = _deployments(assembly, stage)
            lines = [f'{prefix}_d{i}["{label}"]' for i, label in enumerate(labels)]
        elif role is ActionRole.GATE:
            lines = [f'{prefix}_g{i}{{{{"{_text(a.name)}"}}}}' for i, a in enumerate(actions)]
        elif role is ActionRole.TEST:
            lines = [f'{prefix}_t{i}[/"{_text(_short(a.name))}"/]' for i, a in enumerate(actions)]
        else:
            lines = []
            for i, action in enumerate(actions):
                minutes = _bake_minutes(assembly, action)
                label = f"{action.name} {minutes} min" if minutes is not None else action.name
                lines.append(f'{prefix}_b{i}(["{_text(label)}"])')
        groups.append((role, lines))
    return groups


def _short(name: str) -> str:
    """``Gamma-us-west-2.Gamma-us-west-2-IntegrationTest`` → ``Gamma-us-west-2-IntegrationTest``."""
    return name.rsplit(".", 1)[-1]


def _node_id(line: str) -> str:
    match = re.match(r"[A-Za-z0-9_]+", line)
    return match[0] if match else line


def flowchart(assembly: Assembly, pipeline: Pipeline) -> str:
    """A Mermaid ``flowchart LR`` of ``pipeline``: every stage in order, its gate, deployments per
    region (traffic shift, rollback alarms), tests, bake and stage conditions."""
    lines = ["flowchart LR", f"  %% {pipeline.name}"]
    ids = []
    for index, stage in enumerate(pipeline.stages):
        sid = f"s{index}"
        ids.append(sid)
        title = _text(stage.name) + _conditions(stage)
        if stage.deploy_run_orders is None:
            roles = {role for _, role in stage.roles()}
            if ActionRole.SOURCE in roles:
                body = _source(stage)
            else:
                body = ", ".join(_short(a.name) for a in stage.actions)
            lines.append(f'  {sid}["{title}<br/><i>{_text(body)}</i>"]')
            continue
        lines.append(f'  subgraph {sid}["{title}"]')
        lines.append("    direction TB")
        groups = _nodes(assembly, stage, sid)
        for _, nodes in groups:
            lines += [f"    {node}" for node in nodes]
        for (_, before), (_, after) in pairwise(groups):
            left = " & ".join(_node_id(n) for n in before)
            right = " & ".join(_node_id(n) for n in after)
            lines.append(f"    {left} --> {right}")
        lines.append("  end")
    if ids:
        lines.append("  " + " --> ".join(ids))
    return "\n".join(lines)


def gantt(assembly: Assembly, pipeline: Pipeline) -> str:
    """A Mermaid ``gantt`` of the production waves of ``pipeline``: per wave its deployment (the
    slowest traffic shift among its regions; drawn as 1 minute when no traffic shift is readable)
    then its bake, one after the other, titled with the total lead time."""
    waves = assembly.production_stages(pipeline)
    rows: list[str] = []
    start = 0
    for index, stage in enumerate(waves):
        shifts = [
            config.traffic_shift.deploy_minutes
            for stack in assembly.stage_stacks(stage)
            for config in stack.rollback_configs()
            if config.traffic_shift is not None
        ]
        deploy = max(shifts, default=0)
        bake = sum(
            m for a in stage.actions_of(ActionRole.BAKE) if (m := _bake_minutes(assembly, a)) is not None
        )
        regions = ", ".join(stage.deploy_regions)
        rows.append(f"  section {_text(stage.name)}")
        rows.append(f"  deploy {_text(regions)} :w{index}d, {_clock(start)}, {max(deploy, 1)}m")
        start += max(deploy, 1)
        if bake:
            rows.append(f"  bake {bake} min :w{index}b, {_clock(start)}, {bake}m")
            start += bake
    total = f"{start // 60}:{start % 60:02d}"
    head = [
        "gantt",
        f"  title {_text(pipeline.name)}: {len(waves)} production wave{'' if len(waves) == 1 else 's'}, "
        f"lead time {total} (h:mm)",
        "  dateFormat HH:mm",
        "  axisFormat %H:%M",
    ]
    return "\n".join(head + rows)


def _clock(minutes: int) -> str:
    """Minutes from the start as ``HH:mm`` (Mermaid's ``dateFormat``); days wrap into hours >= 24."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
