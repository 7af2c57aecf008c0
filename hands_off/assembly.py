"""Read a synthesized cloud assembly (``cdk.out``): stacks, templates, pipelines, stages, actions.

Pure Python over JSON: no ``aws_cdk`` import, nothing synthesized, so the summary, ``check`` and
``diagram`` can read an assembly in milliseconds, and rules over it stay plain functions.

Example::

    assembly = Assembly.read(Path("cdk.out"))
    for pipeline in assembly.pipelines:
        for stage in pipeline.stages:
            print(pipeline.name, stage.name, stage.deploy_regions)

It follows ``manifest.json`` into every nested stage assembly (``assembly-*/``), as the CDK CLI
does, so each stack comes with its account and region.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Assembly", "AssemblyError", "Pipeline", "PipelineAction", "PipelineStage", "Stack"]

_STACK = "aws:cloudformation:stack"
_NESTED = "cdk:cloud-assembly"
_ENVIRONMENT = re.compile(r"^aws://(?P<account>[^/]+)/(?P<region>[^/]+)$")
_ACCOUNT_IN_ARN = re.compile(r":iam::(?P<account>[0-9]{12}):")


class AssemblyError(Exception):
    """A directory that cannot be read as a cloud assembly; the message says what and how to fix it."""


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssemblyError(f"{path}: not found; synthesize again (`make synth`)") from None
    except json.JSONDecodeError as err:
        raise AssemblyError(f"{path}: is not valid JSON ({err}); synthesize again (`make synth`)") from None


def _literal(value: Any) -> str:
    """The literal text of a template value: a string, or the string parts of an ``Fn::Join``
    (``Ref``/``GetAtt`` parts count as empty), so ``arn:${Partition}:iam::123...`` keeps its account."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("Fn::Join"), list) and len(value["Fn::Join"]) == 2:
        separator, parts = value["Fn::Join"]
        if isinstance(separator, str) and isinstance(parts, list):
            return separator.join(_literal(part) for part in parts)
    return ""


def _known(value: str) -> str | None:
    """``None`` for CDK's environment-agnostic placeholders (``unknown-account``, ``unknown-region``)."""
    return None if value.startswith("unknown-") else value


@dataclass(frozen=True, kw_only=True)
class Stack:
    """One CloudFormation stack of the assembly.

    Attributes:
        artifact_id: the id in its ``manifest.json`` (the template file's stem).
        stack_name: the deployed name. Default in the manifest: the artifact id.
        display_name: the construct path, e.g. ``OrdersPipeline/Prod-1/App``.
        account: the 12-digit account id, or ``None`` for an environment-agnostic stack.
        region: the region, or ``None`` for an environment-agnostic stack.
        template_path: the template file.
        template: the parsed template.
    """

    artifact_id: str
    stack_name: str
    display_name: str
    account: str | None
    region: str | None
    template_path: Path
    template: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        """The template's ``Resources`` by logical id (empty if it has none)."""
        resources = self.template.get("Resources", {})
        return resources if isinstance(resources, Mapping) else {}

    def resources_of_type(self, resource_type: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """``(logical id, resource)`` of every resource of ``resource_type``, in template order."""
        for logical_id, resource in self.resources.items():
            if isinstance(resource, Mapping) and resource.get("Type") == resource_type:
                yield logical_id, resource


@dataclass(frozen=True, kw_only=True)
class PipelineAction:
    """One action of a pipeline stage.

    Attributes:
        name: the action name.
        category: ``Source``, ``Build``, ``Deploy``, ``Invoke``, ... (``""`` if absent).
        provider: ``CloudFormation``, ``CodeBuild``, ``StepFunctions``, ... (``""`` if absent).
        run_order: the action's ``RunOrder``. Default in CodePipeline: 1.
        region: where it runs: its ``Region``, else the pipeline's region (``None`` if unknown).
        account: the account of its ``RoleArn`` (CDK Pipelines' deploy role in the target
            account), or ``None`` when it runs with the pipeline's own role.
        configuration: the action's ``Configuration``.
    """

    name: str
    category: str
    provider: str
    run_order: int
    region: str | None
    account: str | None
    configuration: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def deploys(self) -> bool:
        """Whether it is a CloudFormation deployment action (change set prepare or execute)."""
        return self.provider == "CloudFormation"

    @property
    def input(self) -> Mapping[str, Any] | None:
        """The JSON object of a literal ``Configuration.Input`` (a Step Functions action's input),
        else ``None``."""
        text = self.configuration.get("Input")
        if not isinstance(text, str):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, Mapping) else None


@dataclass(frozen=True, kw_only=True)
class PipelineStage:
    """One stage of a pipeline: its name and actions, in template order."""

    name: str
    actions: tuple[PipelineAction, ...]

    @property
    def deploy_regions(self) -> tuple[str, ...]:
        """The distinct regions of its CloudFormation actions, in order of first appearance."""
        return tuple(dict.fromkeys(a.region for a in self.actions if a.deploys and a.region is not None))


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    """One ``AWS::CodePipeline::Pipeline`` resource.

    Attributes:
        stack: the artifact id of the stack that holds it.
        logical_id: its logical id in that stack.
        name: its ``Name`` (``"?"`` if not a literal).
        pipeline_type: ``V1`` or ``V2``. Default in CodePipeline: ``V1``.
        account: the account of its stack.
        region: the region of its stack (and of every action without a ``Region``).
        stages: its stages, in order.
    """

    stack: str
    logical_id: str
    name: str
    pipeline_type: str
    account: str | None
    region: str | None
    stages: tuple[PipelineStage, ...]

    def stage(self, name: str) -> PipelineStage | None:
        """The stage called ``name``, or ``None``."""
        return next((stage for stage in self.stages if stage.name == name), None)


def _action(raw: Mapping[str, Any], home: str | None) -> PipelineAction:
    type_id = raw.get("ActionTypeId", {})
    configuration = raw.get("Configuration", {})
    region = raw.get("Region")
    account = _ACCOUNT_IN_ARN.search(_literal(raw.get("RoleArn")))
    run_order = raw.get("RunOrder", 1)
    return PipelineAction(
        name=str(raw.get("Name", "?")),
        category=str(type_id.get("Category", "")),
        provider=str(type_id.get("Provider", "")),
        run_order=run_order if isinstance(run_order, int) else 1,
        region=region if isinstance(region, str) else home,
        account=account["account"] if account else None,
        configuration=configuration if isinstance(configuration, Mapping) else {},
    )


def _pipeline(stack: Stack, logical_id: str, resource: Mapping[str, Any]) -> Pipeline:
    props = resource.get("Properties", {})
    name = props.get("Name")
    return Pipeline(
        stack=stack.artifact_id,
        logical_id=logical_id,
        name=name if isinstance(name, str) else "?",
        pipeline_type=str(props.get("PipelineType", "V1")),
        account=stack.account,
        region=stack.region,
        stages=tuple(
            PipelineStage(
                name=str(stage.get("Name", "?")),
                actions=tuple(_action(action, stack.region) for action in stage.get("Actions", [])),
            )
            for stage in props.get("Stages", [])
        ),
    )


def _stacks(directory: Path) -> list[Stack]:
    """The stacks of the assembly in ``directory`` and of every nested assembly, manifest order."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"{directory}: no manifest.json, so this is not a cloud assembly; run `make synth` first"
        )
    manifest = _load(manifest_path)
    stacks: list[Stack] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == _NESTED:
            stacks += _stacks(directory / props["directoryName"])
        elif kind == _STACK:
            template_path = directory / props["templateFile"]
            environment = _ENVIRONMENT.match(str(artifact.get("environment", "")))
            stacks.append(
                Stack(
                    artifact_id=artifact_id,
                    stack_name=str(props.get("stackName", artifact_id)),
                    display_name=str(artifact.get("displayName", artifact_id)),
                    account=_known(environment["account"]) if environment else None,
                    region=_known(environment["region"]) if environment else None,
                    template_path=template_path,
                    template=_load(template_path),
                )
            )
    return stacks


@dataclass(frozen=True, kw_only=True)
class Assembly:
    """A synthesized cloud assembly, nested stage assemblies included.

    Build it with :meth:`Assembly.read`.

    Attributes:
        directory: the assembly directory (``cdk.out``).
        stacks: every stack, in manifest order (nested assemblies where the manifest lists them).
    """

    directory: Path
    stacks: tuple[Stack, ...]

    @classmethod
    def read(cls, directory: Path | str) -> Assembly:
        """Read ``directory`` (e.g. ``cdk.out``) through its ``manifest.json``.

        Raises:
            AssemblyError: if it has no manifest, or a manifest or template is missing or not JSON.
        """
        root = Path(directory)
        return cls(directory=root, stacks=tuple(_stacks(root)))

    @property
    def resource_count(self) -> int:
        """Resources in all templates."""
        return sum(len(stack.resources) for stack in self.stacks)

    @property
    def pipelines(self) -> tuple[Pipeline, ...]:
        """Every ``AWS::CodePipeline::Pipeline``, ordered by stack artifact id then logical id."""
        found = [
            _pipeline(stack, logical_id, resource)
            for stack in self.stacks
            for logical_id, resource in stack.resources_of_type("AWS::CodePipeline::Pipeline")
        ]
        return tuple(sorted(found, key=lambda p: (p.stack, p.logical_id)))

    def ssm_parameters(self) -> dict[str, str]:
        """``Name`` → ``Value`` of every ``AWS::SSM::Parameter`` whose name and value are literals."""
        parameters: dict[str, str] = {}
        for stack in self.stacks:
            for _, resource in stack.resources_of_type("AWS::SSM::Parameter"):
                props = resource.get("Properties", {})
                name, value = props.get("Name"), props.get("Value")
                if isinstance(name, str) and isinstance(value, str):
                    parameters[name] = value
        return parameters
