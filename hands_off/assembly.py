"""Read a synthesized cloud assembly (``cdk.out``): stacks, templates, pipelines, stages, actions.

Pure Python over JSON: no ``aws_cdk`` import, nothing synthesized, so the summary, ``check`` and
``diagram`` can read an assembly in milliseconds, and rules over it stay plain functions.

Example::

    assembly = Assembly.read(Path("cdk.out"))
    for pipeline in assembly.pipelines:
        for stage in pipeline.stages:
            print(pipeline.name, stage.name, stage.deploy_regions)

It follows ``manifest.json`` into every nested stage assembly (``assembly-*/``), as the CDK CLI
does, so each stack comes with its account and region, and reads the templates of CloudFormation
nested stacks (CDK's ``NestedStack``: template assets of their parent stack, not stack artifacts)
through the asset manifests, so a pipeline inside one is read too. What it cannot place, it
refuses (:class:`AssemblyError`): two stacks with one artifact id, a nested template no stack
points to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property, partial
from pathlib import Path
from typing import Any

__all__ = [
    "PRODUCTION_TOKENS",
    "ActionRole",
    "Assembly",
    "AssemblyError",
    "Pipeline",
    "PipelineAction",
    "PipelineStage",
    "RollbackConfig",
    "Stack",
    "TrafficShift",
]

_STACK = "aws:cloudformation:stack"
_NESTED = "cdk:cloud-assembly"
_ASSET_MANIFEST = "cdk:asset-manifest"
_NESTED_STACK = "AWS::CloudFormation::Stack"
_NESTED_TEMPLATE_SUFFIX = ".nested.template.json"
_ENVIRONMENT = re.compile(r"^aws://(?P<account>[^/]+)/(?P<region>[^/]+)$")
_ACCOUNT_IN_ARN = re.compile(r":iam::(?P<account>[0-9]{12}):")
# CDK Pipelines' TemplatePath: "<artifact>::<directory>/<stack artifact id>.template.json".
_TEMPLATE_ARTIFACT = re.compile(r"(?:^|/|::)(?P<artifact>[^/:]+)\.template\.json$")


PRODUCTION_TOKENS = frozenset({"prod", "production", "prd"})
"""Words (split on anything not a letter or digit, lower-cased, trailing digits ignored) that mark
a stage or a stack name as production: ``Prod-1``, ``Production``, ``orders-prod-us-east-1``."""
_PRE_PRODUCTION_TOKENS = frozenset(
    {"alpha", "beta", "gamma", "zeta", "dev", "test", "qa", "uat", "staging", "preprod", "integ", "sandbox"}
)
_WORD = re.compile(r"[A-Za-z]+|[0-9]+")
_BAKE_NAME = re.compile(r"bake|soak|wait", re.IGNORECASE)
_GATE_NAME = re.compile(r"gate|approv|block|check", re.IGNORECASE)
_TEST_NAME = re.compile(r"test|verify|validat|smoke|probe", re.IGNORECASE)


def _words(text: str) -> set[str]:
    """Lower-cased words of ``text``: ``"Prod-us-east-1"`` → ``{"prod", "us", "east", "1"}``;
    camel case splits too (``"PreProd"`` → ``{"pre", "prod"}``, but ``"Preprod"`` stays one)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return {word.lower() for word in _WORD.findall(spaced)}


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
        nested: the templates of its CloudFormation nested stacks, by the logical id of their
            ``AWS::CloudFormation::Stack`` resource in ``template``: that nested stack's template,
            then the templates of the stacks nested in it, depth first. Default: none.
    """

    artifact_id: str
    stack_name: str
    display_name: str
    account: str | None
    region: str | None
    template_path: Path
    template: Mapping[str, Any] = field(repr=False, compare=False)
    nested: Mapping[str, tuple[Mapping[str, Any], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

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

    def nested_resources_of_type(self, resource_type: str) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        """``(nested stack's logical id, logical id, resource)`` of every resource of
        ``resource_type`` in the templates of its nested stacks (see ``nested``), in order. The
        nested stack's logical id is that of its ``AWS::CloudFormation::Stack`` resource here."""
        for nested_stack, templates in self.nested.items():
            for template in templates:
                resources = _mapping(template.get("Resources"))
                for logical_id, resource in resources.items():
                    if isinstance(resource, Mapping) and resource.get("Type") == resource_type:
                        yield nested_stack, logical_id, resource

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        """The ``Properties`` of resource ``logical_id`` (``{}`` if absent)."""
        return _mapping(_mapping(self.resources.get(logical_id)).get("Properties"))

    def alarm_ids(self, reference: Any) -> tuple[str, ...]:
        """The logical ids of the ``AWS::CloudWatch::Alarm`` resources a reference names: a
        ``Ref``, a literal ``AlarmName``, or a composite alarm (expanded to the alarms in its
        rule). Names of alarms outside the stack resolve to nothing."""
        if isinstance(reference, Mapping) and "Ref" in reference:
            logical_id = reference["Ref"]
        elif isinstance(reference, str):
            logical_id = next(
                (
                    lid
                    for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
                    for lid, r in self.resources_of_type(kind)
                    if _mapping(r.get("Properties")).get("AlarmName") == reference
                ),
                None,
            )
        else:
            return ()
        resource = _mapping(self.resources.get(str(logical_id)))
        if resource.get("Type") == "AWS::CloudWatch::Alarm":
            return (str(logical_id),)
        if resource.get("Type") != "AWS::CloudWatch::CompositeAlarm":
            return ()
        rule = json.dumps(_mapping(resource.get("Properties")).get("AlarmRule"))
        found = re.findall(r'\{"Fn::GetAtt": \["([^"]+)", "Arn"\]\}', rule)
        # An alarm under NOT (e.g. a suppressor) holds the composite off; it never triggers it.
        negated = set(re.findall(r'NOT \(ALARM\(\\"", \{"Fn::GetAtt": \["([^"]+)", "Arn"\]\}', rule))
        return tuple(
            dict.fromkeys(
                alarm for lid in found if lid not in negated for alarm in self.alarm_ids({"Ref": lid})
            )
        )

    def rollback_configs(self) -> tuple[RollbackConfig, ...]:
        """How this stack's deployments roll back on alarms: one per
        ``AWS::CodeDeploy::DeploymentGroup`` and per ``AWS::ECS::Service`` with deployment alarms."""
        configs: list[RollbackConfig] = []
        for logical_id, resource in self.resources_of_type("AWS::CodeDeploy::DeploymentGroup"):
            props = _mapping(resource.get("Properties"))
            alarms = _mapping(props.get("AlarmConfiguration"))
            rollback = _mapping(props.get("AutoRollbackConfiguration"))
            enabled = alarms.get("Enabled") in (True, "true")
            names = alarms.get("Alarms", []) if enabled else []
            events = rollback.get("Events", []) if rollback.get("Enabled") in (True, "true") else []
            configs.append(
                RollbackConfig(
                    logical_id=logical_id,
                    kind="CodeDeploy",
                    alarms=tuple(
                        dict.fromkeys(
                            a
                            for entry in (names if isinstance(names, list) else [])
                            for a in self.alarm_ids(_mapping(entry).get("Name"))
                        )
                    ),
                    on_alarm=enabled and isinstance(events, list) and "DEPLOYMENT_STOP_ON_ALARM" in events,
                    traffic_shift=self._codedeploy_shift(props.get("DeploymentConfigName")),
                )
            )
        for logical_id, resource in self.resources_of_type("AWS::ECS::Service"):
            props = _mapping(resource.get("Properties"))
            alarms = _mapping(_mapping(props.get("DeploymentConfiguration")).get("Alarms"))
            if not alarms:
                continue
            names = alarms.get("AlarmNames", [])
            configs.append(
                RollbackConfig(
                    logical_id=logical_id,
                    kind="ECS",
                    alarms=tuple(
                        dict.fromkeys(
                            a
                            for name in (names if isinstance(names, list) else [])
                            for a in self.alarm_ids(name)
                        )
                    ),
                    on_alarm=alarms.get("Enable") in (True, "true")
                    and alarms.get("Rollback") in (True, "true"),
                    traffic_shift=None,
                )
            )
        return tuple(configs)

    def _codedeploy_shift(self, config: Any) -> TrafficShift | None:
        if isinstance(config, str):
            return TrafficShift.predefined(config)
        if isinstance(config, Mapping) and "Ref" in config:
            routing = _mapping(self.properties(str(config["Ref"])).get("TrafficRoutingConfig"))
            return TrafficShift.from_routing(routing)
        return None


@dataclass(frozen=True, kw_only=True)
class TrafficShift:
    """How a deployment moves traffic to the new version (read from CodeDeploy's config).

    Attributes:
        shape: ``canary``, ``linear`` or ``all-at-once``.
        percent: the first step's share of traffic (100 for all at once).
        interval_minutes: the canary's watch period or the linear step interval (0 for all at once).
    """

    shape: str
    percent: int
    interval_minutes: int

    @classmethod
    def from_routing(cls, routing: Mapping[str, Any]) -> TrafficShift | None:
        """From a ``TrafficRoutingConfig`` (``None`` if unreadable)."""
        kind = routing.get("Type")
        if kind == "AllAtOnce":
            return cls(shape="all-at-once", percent=100, interval_minutes=0)
        for key, shape, percent, interval in (
            ("TimeBasedCanary", "canary", "CanaryPercentage", "CanaryInterval"),
            ("TimeBasedLinear", "linear", "LinearPercentage", "LinearInterval"),
        ):
            if kind == key:
                values = _mapping(routing.get(key))
                p, i = values.get(percent), values.get(interval)
                if isinstance(p, int) and isinstance(i, int):
                    return cls(shape=shape, percent=p, interval_minutes=i)
        return None

    @classmethod
    def predefined(cls, name: str) -> TrafficShift | None:
        """From a config's name: CodeDeploy's predefined ones, e.g.
        ``CodeDeployDefault.LambdaCanary10Percent5Minutes``, and the account-region baseline's
        (``hands_off.naming.lambda_deployment_config_name``), e.g.
        ``hands-off-lambda-linear-25-percent-every-5-minutes``."""
        if re.search(r"AllAtOnce$", name):
            return cls(shape="all-at-once", percent=100, interval_minutes=0)
        match = re.search(r"(Canary|Linear)(\d+)Percent(?:Every)?(\d+)Minutes?$", name) or re.search(
            r"-(canary|linear)-(\d+)-percent-(?:every-)?(\d+)-minutes?$", name
        )
        if match is None:
            return None
        return cls(shape=match[1].lower(), percent=int(match[2]), interval_minutes=int(match[3]))

    @property
    def deploy_minutes(self) -> int:
        """Minutes to shift all traffic: canary one interval, linear ``interval * (ceil(100 /
        step) - 1)``, all at once 0 (as ``DeploymentPolicy.deploy_minutes``)."""
        if self.shape == "canary":
            return self.interval_minutes
        if self.shape == "linear":
            return self.interval_minutes * (-(-100 // self.percent) - 1)
        return 0

    def __str__(self) -> str:
        """``canary 10% for 10m``, ``linear 25%/5m`` or ``all at once``."""
        if self.shape == "canary":
            return f"canary {self.percent}% for {self.interval_minutes}m"
        if self.shape == "linear":
            return f"linear {self.percent}%/{self.interval_minutes}m"
        return "all at once"


@dataclass(frozen=True, kw_only=True)
class RollbackConfig:
    """One deployment's automatic rollback, as its stack declares it.

    Attributes:
        logical_id: the deployment group or ECS service.
        kind: ``CodeDeploy`` or ``ECS``.
        alarms: logical ids of the ``AWS::CloudWatch::Alarm`` resources it watches (composite
            alarms expanded; alarms outside the stack are not listed).
        on_alarm: whether an alarm stops and rolls back the deployment (CodeDeploy: alarms
            enabled and ``DEPLOYMENT_STOP_ON_ALARM``; ECS: ``Enable`` and ``Rollback``).
        traffic_shift: CodeDeploy's traffic shift, if readable.
    """

    logical_id: str
    kind: str
    alarms: tuple[str, ...]
    on_alarm: bool
    traffic_shift: TrafficShift | None


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
    def stack_name(self) -> str | None:
        """The ``StackName`` a CloudFormation action deploys (``None`` for other actions)."""
        name = self.configuration.get("StackName") if self.deploys else None
        return name if isinstance(name, str) else None

    @property
    def template_artifact(self) -> str | None:
        """The stack artifact id in its ``TemplatePath`` (CDK Pipelines' change set preparation),
        e.g. ``OrdersPipelineProd1App4DE28A0E``, else ``None``."""
        path = self.configuration.get("TemplatePath")
        match = _TEMPLATE_ARTIFACT.search(path) if isinstance(path, str) else None
        return match["artifact"] if match else None

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


class ActionRole(StrEnum):
    """What an action does in its stage, read from its category, provider, name and position
    (see :meth:`PipelineStage.roles`)."""

    SOURCE = "source"
    BUILD = "build"
    GATE = "gate"
    DEPLOY = "deploy"
    TEST = "test"
    BAKE = "bake"


@dataclass(frozen=True, kw_only=True)
class PipelineStage:
    """One stage of a pipeline: its name and actions, in template order.

    Attributes:
        name: the stage name.
        actions: its actions, in template order.
        before_entry: its ``BeforeEntry`` conditions (V2 pipelines). Default: none (``{}``).
        on_failure: its ``OnFailure`` setting, e.g. ``{"Result": "ROLLBACK"}``. Default: ``{}``.
        on_success: its ``OnSuccess`` conditions. Default: ``{}``.
    """

    name: str
    actions: tuple[PipelineAction, ...]
    before_entry: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    on_failure: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    on_success: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def on_failure_result(self) -> str | None:
        """``OnFailure.Result`` (``ROLLBACK``, ``FAIL``, ``RETRY``), or ``None`` if not set."""
        result = self.on_failure.get("Result")
        return result if isinstance(result, str) else None

    @property
    def deploy_run_orders(self) -> tuple[int, int] | None:
        """The first and last ``RunOrder`` of its CloudFormation actions, or ``None``."""
        orders = [action.run_order for action in self.actions if action.deploys]
        return (min(orders), max(orders)) if orders else None

    def roles(self) -> tuple[tuple[PipelineAction, ActionRole], ...]:
        """Each action with its role, in template order.

        ``DEPLOY``: a CloudFormation action. ``SOURCE``: a ``Source`` action. Before the first
        deployment, an ``Approval`` or ``Invoke`` action, or one named like a gate (gate,
        approval, check, block) is a ``GATE``. At or after the last deployment, an action named
        like a bake (bake, soak, wait) is a ``BAKE``, and any other ``Build``, ``Test`` or
        ``Invoke`` action a ``TEST``. In a stage without deployments, ``Test`` actions and those
        named like a test are ``TEST``, named like a bake ``BAKE``, ``Approval``/``Invoke`` or
        named like a gate ``GATE``; the rest ``BUILD``.
        """
        span = self.deploy_run_orders
        roles: list[tuple[PipelineAction, ActionRole]] = []
        for action in self.actions:
            gate_like = action.category in ("Approval", "Invoke") or bool(_GATE_NAME.search(action.name))
            if action.deploys:
                role = ActionRole.DEPLOY
            elif action.category == "Source":
                role = ActionRole.SOURCE
            elif span is not None and action.run_order < span[0]:
                role = ActionRole.GATE if gate_like else ActionRole.BUILD
            elif span is not None:
                role = ActionRole.BAKE if _BAKE_NAME.search(action.name) else ActionRole.TEST
            elif _BAKE_NAME.search(action.name):
                role = ActionRole.BAKE
            elif action.category == "Test" or _TEST_NAME.search(action.name):
                role = ActionRole.TEST
            else:
                role = ActionRole.GATE if gate_like else ActionRole.BUILD
            roles.append((action, role))
        return tuple(roles)

    def actions_of(self, role: ActionRole) -> tuple[PipelineAction, ...]:
        """Its actions whose role is ``role``, in template order."""
        return tuple(action for action, found in self.roles() if found is role)

    @property
    def before_entry_rules(self) -> tuple[Mapping[str, Any], ...]:
        """The rules of every ``BeforeEntry`` condition (``Name``, ``RuleTypeId``,
        ``Configuration``), in order."""
        conditions = self.before_entry.get("Conditions", [])
        return tuple(
            rule
            for condition in (conditions if isinstance(conditions, list) else [])
            if isinstance(condition, Mapping)
            for rule in condition.get("Rules", [])
            if isinstance(rule, Mapping)
        )

    @property
    def deploy_regions(self) -> tuple[str, ...]:
        """The distinct regions of its CloudFormation actions, in order of first appearance."""
        return tuple(dict.fromkeys(a.region for a in self.actions if a.deploys and a.region is not None))


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    """One ``AWS::CodePipeline::Pipeline`` resource.

    Attributes:
        stack: the artifact id of the stack that holds it (its parent stack, for one inside a
            nested stack).
        logical_id: its logical id in its template.
        name: its ``Name`` (``"?"`` if not a literal).
        pipeline_type: ``V1`` or ``V2``. Default in CodePipeline: ``V1``.
        account: the account of its stack.
        region: the region of its stack (and of every action without a ``Region``).
        stages: its stages, in order.
        triggers: its ``Triggers`` (V2 pipelines), as in the template. Default: none.
        nested_stack: for a pipeline inside a CloudFormation nested stack of ``stack``, the
            logical id of that nested stack's ``AWS::CloudFormation::Stack`` resource in
            ``stack``; ``None`` for one in ``stack``'s own template. Default: ``None``.
    """

    stack: str
    logical_id: str
    name: str
    pipeline_type: str
    account: str | None
    region: str | None
    stages: tuple[PipelineStage, ...]
    triggers: tuple[Mapping[str, Any], ...] = field(default=(), repr=False, compare=False)
    nested_stack: str | None = None

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


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _pipeline(
    stack: Stack, logical_id: str, resource: Mapping[str, Any], nested_stack: str | None = None
) -> Pipeline:
    props = resource.get("Properties", {})
    name = props.get("Name")
    triggers = props.get("Triggers", [])
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
                before_entry=_mapping(stage.get("BeforeEntry")),
                on_failure=_mapping(stage.get("OnFailure")),
                on_success=_mapping(stage.get("OnSuccess")),
            )
            for stage in props.get("Stages", [])
        ),
        triggers=tuple(t for t in (triggers if isinstance(triggers, list) else []) if isinstance(t, Mapping)),
        nested_stack=nested_stack,
    )


def _asset_files(directory: Path, manifest: Mapping[str, Any]) -> dict[str, Path]:
    """Object key → source file of every file asset in the asset manifests of the assembly in
    ``directory`` (where CDK's default synthesizer says a nested stack's template goes)."""
    files: dict[str, Path] = {}
    for artifact in _mapping(manifest.get("artifacts")).values():
        props = _mapping(_mapping(artifact).get("properties"))
        if _mapping(artifact).get("type") != _ASSET_MANIFEST or not isinstance(props.get("file"), str):
            continue
        for asset in _mapping(_load(directory / props["file"]).get("files")).values():
            source = _mapping(_mapping(asset).get("source")).get("path")
            for destination in _mapping(_mapping(asset).get("destinations")).values():
                key = _mapping(destination).get("objectKey")
                if isinstance(source, str) and isinstance(key, str):
                    files[key] = directory / source
    return files


def _nested_template_path(
    resource: Mapping[str, Any], directory: Path, assets: Callable[[], Mapping[str, Path]]
) -> Path | None:
    """The template file of an ``AWS::CloudFormation::Stack`` resource: its ``aws:asset:path``
    metadata, else the asset whose object key ends its ``TemplateURL``; ``None`` for a template
    not in the assembly (a literal URL of a template from elsewhere)."""
    asset_path = _mapping(resource.get("Metadata")).get("aws:asset:path")
    if isinstance(asset_path, str):
        return directory / asset_path
    url = _literal(_mapping(resource.get("Properties")).get("TemplateURL"))
    return next((path for key, path in assets().items() if url.endswith(f"/{key}")), None)


def _nested(
    template: Mapping[str, Any],
    directory: Path,
    assets: Callable[[], Mapping[str, Path]],
    claimed: set[Path],
) -> dict[str, tuple[Mapping[str, Any], ...]]:
    """The nested stacks' templates of ``template`` (see :attr:`Stack.nested`), found through the
    assembly's asset files (``assets``: object key → file, read on first call); adds every
    template file read to ``claimed``."""
    nested: dict[str, tuple[Mapping[str, Any], ...]] = {}
    for logical_id, resource in _mapping(template.get("Resources")).items():
        if not isinstance(resource, Mapping) or resource.get("Type") != _NESTED_STACK:
            continue
        path = _nested_template_path(resource, directory, assets)
        if path is None:
            continue
        claimed.add(path)
        inner = _load(path)
        deeper = _nested(_mapping(inner), directory, assets, claimed)
        nested[logical_id] = (inner, *(t for templates in deeper.values() for t in templates))
    return nested


def _stacks(directory: Path) -> list[Stack]:
    """The stacks of the assembly in ``directory`` and of every nested assembly, manifest order."""
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"{directory}: no manifest.json, so this is not a cloud assembly; run `make synth` first"
        )
    manifest = _load(manifest_path)
    assets = cache(partial(_asset_files, directory, manifest))  # read only for a nested stack
    claimed: set[Path] = set()
    stacks: list[Stack] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == _NESTED:
            stacks += _stacks(directory / props["directoryName"])
        elif kind == _STACK:
            template_path = directory / props["templateFile"]
            environment = _ENVIRONMENT.match(str(artifact.get("environment", "")))
            template = _load(template_path)
            stacks.append(
                Stack(
                    artifact_id=artifact_id,
                    stack_name=str(props.get("stackName", artifact_id)),
                    display_name=str(artifact.get("displayName", artifact_id)),
                    account=_known(environment["account"]) if environment else None,
                    region=_known(environment["region"]) if environment else None,
                    template_path=template_path,
                    template=template,
                    nested=_nested(_mapping(template), directory, assets, claimed),
                )
            )
    unclaimed = sorted(set(directory.glob(f"*{_NESTED_TEMPLATE_SUFFIX}")) - claimed)
    read = {path.read_bytes() for path in claimed} if unclaimed else set()
    for path in unclaimed:
        if path.read_bytes() not in read:  # not a copy of one read: nested stacks alike share an asset
            raise AssemblyError(
                f"{path}: a nested stack template that no stack's AWS::CloudFormation::Stack resource "
                "points to through an asset manifest, so no rule could judge it; synthesize with CDK's "
                "default stack synthesizer, or move its resources out of the NestedStack"
            )
    return stacks


def _unique(stacks: list[Stack]) -> tuple[Stack, ...]:
    """``stacks``, each artifact id once.

    Raises:
        AssemblyError: if two stacks share an artifact id (as CDK gives ``Default/P/App`` and
            ``P/App``), since a pipeline's ``TemplatePath`` then names either.
    """
    seen: dict[str, Stack] = {}
    for stack in stacks:
        first = seen.setdefault(stack.artifact_id, stack)
        if first is not stack:
            raise AssemblyError(
                f"stacks {first.display_name!r} ({first.template_path}) and {stack.display_name!r} "
                f"({stack.template_path}) have the same artifact id {stack.artifact_id} (CDK drops "
                "'Default' from construct paths before hashing), so no rule can tell which one a "
                "pipeline deploys; rename the stage or stack of one of them"
            )
    return tuple(stacks)


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
            AssemblyError: if it has no manifest, a manifest or template is missing or not JSON,
                two stacks share an artifact id, or a nested stack template has no parent stack.
        """
        root = Path(directory)
        return cls(directory=root, stacks=_unique(_stacks(root)))

    @property
    def resource_count(self) -> int:
        """Resources in all templates."""
        return sum(len(stack.resources) for stack in self.stacks)

    @property
    def pipelines(self) -> tuple[Pipeline, ...]:
        """Every ``AWS::CodePipeline::Pipeline``, those inside nested stacks included, ordered by
        stack artifact id, then nested stack (none first), then logical id."""
        found = [
            _pipeline(stack, logical_id, resource)
            for stack in self.stacks
            for logical_id, resource in stack.resources_of_type("AWS::CodePipeline::Pipeline")
        ] + [
            _pipeline(stack, logical_id, resource, nested_stack)
            for stack in self.stacks
            for nested_stack, logical_id, resource in stack.nested_resources_of_type(
                "AWS::CodePipeline::Pipeline"
            )
        ]
        return tuple(sorted(found, key=lambda p: (p.stack, p.nested_stack or "", p.logical_id)))

    def stack(self, artifact_id: str) -> Stack | None:
        """The stack whose artifact id is ``artifact_id``, or ``None``."""
        return next((stack for stack in self.stacks if stack.artifact_id == artifact_id), None)

    def deployed_stack(self, action: PipelineAction) -> Stack | None:
        """The stack a CloudFormation action deploys: the artifact its ``TemplatePath`` names, else
        the stack with its ``StackName`` in its region (and account, when the action has one)."""
        if not action.deploys:
            return None
        artifact = action.template_artifact
        if artifact is not None and (found := self.stack(artifact)) is not None:
            return found
        return next(
            (
                stack
                for stack in self.stacks
                if stack.stack_name == action.stack_name
                and stack.region == action.region
                and (action.account is None or stack.account == action.account)
            ),
            None,
        )

    def stage_stacks(self, stage: PipelineStage) -> tuple[Stack, ...]:
        """The distinct stacks a stage's CloudFormation actions deploy, in order."""
        found = (self.deployed_stack(action) for action in stage.actions if action.deploys)
        return tuple({stack.artifact_id: stack for stack in found if stack is not None}.values())

    def production_stages(self, pipeline: Pipeline) -> tuple[PipelineStage, ...]:
        """The pipeline's production waves: deploying stages, from the first production one on.

        A stage is production when a word of its name is in :data:`PRODUCTION_TOKENS`
        (``Prod-1``, ``Production``), or, when its name has no pre-production word (alpha, beta,
        gamma, zeta, staging, test, qa, dev, ...), when a stack it deploys has such a word in its
        stack name (``orders-prod-us-east-1``). Every deploying stage after the first production
        stage is production too: a pipeline does not go back to pre-production.
        """
        waves: list[PipelineStage] = []
        for stage in pipeline.stages:
            if stage.deploy_run_orders is None:
                continue
            if waves or self._is_production(stage):
                waves.append(stage)
        return tuple(waves)

    def _is_production(self, stage: PipelineStage) -> bool:
        words = {word.rstrip("0123456789") for word in _words(stage.name)}
        if words & PRODUCTION_TOKENS:
            return True
        if words & _PRE_PRODUCTION_TOKENS:
            return False
        return any(
            {w.rstrip("0123456789") for w in _words(stack.stack_name)} & PRODUCTION_TOKENS
            for stack in self.stage_stacks(stage)
        )

    def action_parameter(self, action: PipelineAction) -> Mapping[str, Any] | None:
        """The JSON object held by the SSM parameter an action's input names as
        ``config_parameter`` (hands-off's gate and bake inputs), else ``None``."""
        pointer = (action.input or {}).get("config_parameter")
        value = self._parameters.get(pointer) if isinstance(pointer, str) else None
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, Mapping) else None

    @cached_property
    def _parameters(self) -> dict[str, str]:
        return self.ssm_parameters()

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
