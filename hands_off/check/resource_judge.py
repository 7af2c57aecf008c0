"""The deployment-safety rules judged one resource at a time: what the cdk-nag pack
(:class:`hands_off.safety.DeploymentSafetyChecks`) asks of each ``CfnResource`` during a synth.

Pure Python over an :class:`~hands_off.assembly.Assembly`, running the very checks of
``hands-off check`` (:data:`~hands_off.check.packs.DEPLOYMENT_SAFETY`), each finding reported on
the resource it is about:

- a rule on the pipeline's shape (HO-W1-W3, W7-W11) on the ``AWS::CodePipeline::Pipeline``, or,
  for a pipeline inside a CloudFormation nested stack, on that nested stack's
  ``AWS::CloudFormation::Stack`` resource in its parent stack (the pipeline is judged all the
  same; its findings are acknowledged there);
- a rule on one production copy (HO-W4-W6, W12) on the resource of that copy its finding names:
  a Lambda function, ECS service, Auto Scaling group or EC2 instance, or a CodeDeploy deployment
  group, or a nested stack (``AWS::CloudFormation::Stack``) holding some, which no rule can judge
  (see :mod:`hands_off.check.rules.copies`). A copy is a stack that a production stage of a
  pipeline deploys, so these rules judge only stacks that a pipeline of the same assembly deploys.

Stacks are named by artifact id alone: :meth:`Assembly.read <hands_off.assembly.Assembly.read>`
refuses an assembly where two share one.

Example::

    judge = ResourceJudge(Assembly.read("cdk.out"))
    judge.judge("OrdersPipelineProd1App4DE28A0E", "ServiceFunction243F2A49")
    # {"HO-W4": (), "HO-W5": (), "HO-W6": (), "HO-W12": ()}: every copy rule passes there
    judge.judge("OrdersPipeline", "Pipeline9850B417")  # HO-W1 ... HO-W3, HO-W7 ... HO-W11
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from hands_off.assembly import Assembly, Pipeline
from hands_off.check.packs import DEPLOYMENT_SAFETY, PackedRule
from hands_off.check.rule import Finding
from hands_off.check.rules._view import COMPUTE_TYPES, Copy, copies

__all__ = ["COPY_TYPES", "JUDGED_TYPES", "NESTED_STACK_TYPE", "PIPELINE_TYPE", "ResourceJudge"]

PIPELINE_TYPE = "AWS::CodePipeline::Pipeline"
"""The resource the pipeline-shape rules are reported on."""
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
"""A nested stack: the resource a pipeline inside it, or a copy's resources inside it, are reported on."""
COPY_TYPES = frozenset({*COMPUTE_TYPES, "AWS::CodeDeploy::DeploymentGroup", NESTED_STACK_TYPE})
"""The resources of a production copy its rules are reported on."""
JUDGED_TYPES = frozenset({PIPELINE_TYPE, *COPY_TYPES})
"""Every resource type some rule judges; any other resource is not applicable to the pack."""


@dataclass(frozen=True)
class ResourceJudge:
    """The findings of a pack, resource by resource, over one assembly.

    Attributes:
        assembly: the synthesized cloud assembly.
        pack: the rules. Default: :data:`~hands_off.check.packs.DEPLOYMENT_SAFETY`.
    """

    assembly: Assembly
    pack: tuple[PackedRule, ...] = DEPLOYMENT_SAFETY

    @cached_property
    def _pipelines(self) -> dict[tuple[str, str], tuple[Pipeline, ...]]:
        """The pipelines reported on each resource: (stack artifact id, logical id) of the pipeline,
        or of the nested stack that holds it (which may hold several)."""
        by_resource: dict[tuple[str, str], list[Pipeline]] = {}
        for p in self.assembly.pipelines:
            by_resource.setdefault((p.stack, p.nested_stack or p.logical_id), []).append(p)
        return {resource: tuple(found) for resource, found in by_resource.items()}

    @cached_property
    def _copies(self) -> dict[str, tuple[Copy, ...]]:
        by_stack: dict[str, list[Copy]] = {}
        for pipeline in self.assembly.pipelines:
            for copy in copies(self.assembly, pipeline):
                by_stack.setdefault(copy.stack.artifact_id, []).append(copy)
        return {stack: tuple(found) for stack, found in by_stack.items()}

    def judge(self, stack: str, logical_id: str) -> Mapping[str, tuple[Finding, ...]] | None:
        """The rules that judge resource ``logical_id`` of the stack whose artifact id is
        ``stack``, each with its findings there (none: compliant), in pack order; ``None`` if no
        rule judges it (another resource type, or not part of a production copy). A nested stack
        (``AWS::CloudFormation::Stack``) gets the pipeline-shape findings of every pipeline inside
        it, or, in a production copy, the copy rules' findings that its resources are not judged."""
        pipelines = self._pipelines.get((stack, logical_id), ())
        if pipelines:
            return {
                entry.rule.id: tuple(
                    finding for pipeline in pipelines for finding in entry.check(self.assembly, pipeline)
                )
                for entry in self.pack
                if entry.per_copy is None
            }
        held = self._copies.get(stack, ())
        kind = held[0].stack.resources.get(logical_id, {}).get("Type") if held else None
        if kind not in COPY_TYPES:
            return None
        return {
            entry.rule.id: tuple(
                finding
                for copy in held
                for finding in entry.per_copy(copy)
                if finding.location.logical_id == logical_id
            )
            for entry in self.pack
            if entry.per_copy is not None
        }
