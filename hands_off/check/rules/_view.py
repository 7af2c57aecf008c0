"""What several rules read of a pipeline: its production waves, pre-production stages, copies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hands_off.assembly import Assembly, Pipeline, PipelineStage, Stack
from hands_off.check.rule import Finding

__all__ = ["COMPUTE_TYPES", "NESTED_COPY_TYPES", "Copy", "CopyCheck", "copies", "pre_production_stages"]

COMPUTE_TYPES = (
    "AWS::Lambda::Function",
    "AWS::ECS::Service",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::EC2::Instance",
)
"""Resource types that make a deployed stack a *copy* of the service (what serves traffic)."""
NESTED_COPY_TYPES = (*COMPUTE_TYPES, "AWS::CodeDeploy::DeploymentGroup")
"""Resource types of a copy that its rules cannot judge inside a CloudFormation nested stack."""


@dataclass(frozen=True, kw_only=True)
class Copy:
    """One deployed stack that runs the service, in one stage.

    Attributes:
        pipeline: the name of the pipeline that deploys it.
        stage: the stage that deploys it.
        wave: its production wave's position (0 = first), or ``None`` in pre-production.
        stack: the stack.
        compute: the logical ids of its compute resources (functions, services, ...), in its own
            template.
        nested: the logical ids of its nested stacks (``AWS::CloudFormation::Stack``) whose
            templates hold compute or a CodeDeploy deployment group: the copy rules cannot
            judge those, and report them. Default: none.
    """

    pipeline: str
    stage: PipelineStage
    wave: int | None
    stack: Stack
    compute: tuple[str, ...]
    nested: tuple[str, ...] = ()


def pre_production_stages(assembly: Assembly, pipeline: Pipeline) -> tuple[PipelineStage, ...]:
    """Deploying stages before the first production wave."""
    production = {stage.name for stage in assembly.production_stages(pipeline)}
    stages: list[PipelineStage] = []
    for stage in pipeline.stages:
        if stage.name in production:
            break
        if stage.deploy_run_orders is not None:
            stages.append(stage)
    return tuple(stages)


def copies(assembly: Assembly, pipeline: Pipeline) -> tuple[Copy, ...]:
    """The production copies of ``pipeline``, wave by wave (stacks without compute, in their own
    template or a nested stack's, are not copies: IAM, networking, data)."""
    found: list[Copy] = []
    for wave, stage in enumerate(assembly.production_stages(pipeline)):
        for stack in assembly.stage_stacks(stage):
            compute = tuple(lid for kind in COMPUTE_TYPES for lid, _ in stack.resources_of_type(kind))
            nested = tuple(
                dict.fromkeys(
                    lid for kind in NESTED_COPY_TYPES for lid, _, _ in stack.nested_resources_of_type(kind)
                )
            )
            if compute or nested:
                found.append(
                    Copy(
                        pipeline=pipeline.name,
                        stage=stage,
                        wave=wave,
                        stack=stack,
                        compute=compute,
                        nested=nested,
                    )
                )
    return tuple(found)


CopyCheck = Callable[[Copy], Iterator[Finding]]
"""A per-copy rule's check: a pure function of one production copy (its stack's resources)
yielding findings located on its resources."""
