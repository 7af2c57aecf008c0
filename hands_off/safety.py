"""The deployment-safety rules of ``hands-off check`` as a cdk-nag pack, for use inside a synth.

Example::

    from aws_cdk import Acknowledgment, App, Validations
    from hands_off.safety import DeploymentSafetyChecks

    app = App()
    ...  # your pipelines (hands-off's or hand-written CDK Pipelines)
    Validations.of(app).add_plugins(DeploymentSafetyChecks())
    # a finding accepted on purpose: acknowledged on its resource or any scope above it
    Validations.of(prod_stage).acknowledge(Acknowledgment(id="HO-W12", reason="signing from Q3"))
    app.synth()  # fails with a validation report of HO-W… violations, each on its resource

The finding ids are the rules' own (``HO-W1`` … ``HO-W12``), each with the rule's one-line fix;
``verbose=True`` adds the practice it checks and what was found on the first resource.

Which resource each rule reports its findings on (the logic is
:data:`hands_off.check.DEPLOYMENT_SAFETY`'s, shared with ``hands-off check`` through
:class:`hands_off.check.resource_judge.ResourceJudge`, one resource at a time):

- **On the** ``AWS::CodePipeline::Pipeline``: the pipeline's shape. HO-W1 (two waves), W2 (first
  wave one region), W3 (waves never shrink), W7 (bake after each production wave), W8 (blocker
  before each), W9 (integration tests after pre-production deploys), W10 (roll back on failure)
  and W11 (one source branch).
- **On a production copy's resources** (its Lambda function, ECS service, Auto Scaling group or
  EC2 instance, or its CodeDeploy deployment group): HO-W4 (rolls back on alarms), W5 (alarms on
  faults, latency, traffic), W6 (canary ≤ 10% in the first waves) and W12 (code signing
  enforced), each on the resource its finding names (W5 on the copy's first compute resource).

What no single resource can tell, and where the pack reads it from:

- *Which stages are production* (W1-W3, W7, W8, W10, and so every per-copy rule): a stage named
  ``Prod*`` is, but a stage named otherwise is production when a stack it deploys is named
  ``*prod*``: that name is on another stack, often in another stage's assembly.
- *Whether a resource is a production copy, and in which wave* (W4-W6, W12): only the pipeline
  that deploys its stack knows; stacks that no pipeline of this app deploys are not judged (a
  pipeline in another CDK app: run ``hands-off check`` over that app's assembly).
- *What a copy's alarms watch and how it shifts traffic* (W4-W6, W12): the alarms, deployment
  config and code signing config are the copy stack's other resources.
- *How long a bake lasts* (W7): the bake's SSM parameter, in another stack.

So the pack judges the cloud assembly that CDK has just written, as ``hands-off check`` does: CDK
runs validation plugins after synthesis, once the whole assembly (nested stage assemblies
included) is on disk. Reading the construct tree instead (``Stack.of(node).resolve(...)`` of L1
properties) would miss every property override — hands-off itself writes ``OnFailure`` and
``BeforeEntry`` with ``add_property_override`` — and report W8/W10 on pipelines that have them.
``validate_scope(app)`` therefore works only after ``app.synth()``.

And the pack goes to the construct tree only for what it reports. cdk-nag's own ``validate``
walks the whole tree in Node and calls its pack back for every ``CfnResource`` (hundreds per
service, each a round trip between Python and Node, though few are of a type a rule judges).
This pack overrides ``validate`` and ``validate_scope``: it judges every resource of the assembly
in Python, finds the construct path of each finding's resource in the ``aws:cdk:logicalId``
metadata of its stack in its own assembly's manifest, and checks that the construct there is a
``CfnResource`` of that logical id in that stack (metadata any construct may add, so it proves
nothing alone). It drops a finding whose rule is acknowledged on that construct or any scope above
it: cdk-nag's test (the keys of each construct's ``Validations.ACKNOWLEDGED_RULES_METADATA_KEY``
metadata object, with or without the ``Annotation::`` prefix; a list or a string acknowledges
nothing), and CDK's for the plugin's own ids (``HandsOff::HO-W6``, the form CDK's report
suggests). The pack drops those itself because CDK, once it drops any violation of a report, counts
only its errors: an unacknowledged HO-W6 warning would no longer fail the synth. It reports the
rest as cdk-nag would: in construct-tree order, each rule once with the description of its first
resource. A synth so costs a few round trips, plus a few per finding. Where it cannot place a
finding for sure (no logical id metadata, as with context ``aws:cdk:disable-logicalId-metadata``;
a path that is not that resource; two stacks of one artifact id, which the judge cannot tell
apart) it falls back to cdk-nag's walk, whose per-resource callback honours ``HandsOff::`` too.

cdk-nag 3 is a CDK validation plugin (``Validations.of(app).add_plugins``), not an Aspect: its
findings go to CDK's ``validation-report.json`` (not to annotations), and acknowledgements
(``Validations.of(scope).acknowledge``) replace v2's ``NagSuppressions``. A cdk-nag pack reports
failure on any unacknowledged violation, a warning (HO-W6) included, and CDK then fails synthesis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import (
    CfnResource,
    IPolicyValidationContext,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
    Stack,
    Stage,
    Validations,
)
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct, Node

from hands_off.assembly import Assembly
from hands_off.assembly import Stack as AssemblyStack
from hands_off.check import DEPLOYMENT_SAFETY, CheckRule, Finding, Level, PackedRule, ResourceJudge
from hands_off.check.resource_judge import JUDGED_TYPES

__all__ = ["PACK_NAME", "DeploymentSafetyChecks"]

PACK_NAME = "HO"
"""cdk-nag's pack prefix: finding ids are ``HO-W<n>``, the rule ids of ``hands-off check``."""


class DeploymentSafetyChecks(NagPack):
    """The deployment-safety rules (HO-W1 … HO-W12) as a cdk-nag pack: register it with
    ``Validations.of(app).add_plugins(DeploymentSafetyChecks())`` (see the module docstring).

    Args:
        scope: passed to cdk-nag: with ``write_suppressions_to_cloud_formation``, the scope whose
            resources get their acknowledgements as template metadata. Default: none.
        verbose: add the practice and the first resource's finding to each violation. Default:
            ``False``.
        write_suppressions_to_cloud_formation: see cdk-nag's ``NagPackProps``. Default: ``False``.
        pack: the rules. Default: :data:`hands_off.check.DEPLOYMENT_SAFETY`.
    """

    def __init__(
        self,
        scope: IConstruct | None = None,
        *,
        verbose: bool = False,
        write_suppressions_to_cloud_formation: bool = False,
        pack: tuple[PackedRule, ...] = DEPLOYMENT_SAFETY,
    ) -> None:
        super().__init__(
            scope,
            verbose=verbose,
            write_suppressions_to_cloud_formation=write_suppressions_to_cloud_formation,
        )
        self._pack_name = PACK_NAME
        self._verbose = verbose
        self._rules = {entry.rule.id: entry.rule for entry in pack}
        self._pack = pack
        self._judged: tuple[tuple[Path, int], ResourceJudge] | None = None

    @property
    def name(self) -> str:
        """The plugin's name in CDK's validation report."""
        return "HandsOff"

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        """CDK's entry point, after synthesis: :meth:`validate_scope` of the app being synthesized
        (cdk-nag's ``appConstruct`` of the validation context)."""
        app = cast("IConstruct | None", jsii.get(context, "appConstruct"))
        if app is None:
            raise RuntimeError(
                "DeploymentSafetyChecks needs the app on CDK's validation context (appConstruct), which "
                "this aws-cdk-lib does not provide: call validate_scope(app) after app.synth() instead"
            )
        return self.validate_scope(app)

    def validate_scope(self, scope: IConstruct) -> PolicyValidationPluginReport:
        """The violations on the resources under ``scope`` (all of them for the app), judged on the
        cloud assembly the app's last ``synth()`` wrote, less the acknowledged ones.

        Raises:
            RuntimeError: if the app has not been synthesized yet.
        """
        node = scope.node
        scope_path = node.path
        root = scope if scope_path == "" else node.root
        judge = self._judge(root)
        tree = _Tree(root, _namespace(self.name))
        located = _locate(judge, tree)
        if located is None:  # a resource the manifests do not place (for sure): cdk-nag's own walk
            return super().validate_scope(scope)
        ranked = {entry.rule.id: rank for rank, entry in enumerate(self._pack)}
        reported = [
            (path, rule_id, findings)
            for path, rule_id, findings in located
            if _within(path, scope_path) and not tree.acknowledged(path, _rule_name(rule_id))
        ]
        order = tree.order(path for path, _, _ in reported)
        reported.sort(key=lambda item: (order[item[0]], ranked[item[1]]))
        return self._report(reported)

    def _report(self, reported: Iterable[_Located]) -> PolicyValidationPluginReport:
        """cdk-nag's report of these findings: one violation per rule, in order of first resource,
        described as on its first resource."""
        violations: dict[str, tuple[str, str, list[str]]] = {}
        for path, rule_id, findings in reported:
            rule = self._rules[rule_id]
            description = _info(rule) + (f" {_explanation(rule, findings)}" if self._verbose else "")
            severity = "error" if _LEVELS[rule.level] == NagMessageLevel.ERROR else "warning"
            violations.setdefault(rule_id, (description, severity, []))[2].append(path)
        return PolicyValidationPluginReport(
            success=not violations,
            violations=[
                PolicyViolation(
                    rule_name=_rule_name(rule_id),
                    description=description,
                    severity=severity,
                    violating_resources=[
                        PolicyViolatingResource(construct_path=path, locations=["Properties"])
                        for path in paths
                    ],
                )
                for rule_id, (description, severity, paths) in violations.items()
            ],
        )

    def _check_resource(self, node: CfnResource) -> None:
        """Apply every rule that judges ``node`` (none for resources no rule is about): cdk-nag's
        per-resource callback, used only when :meth:`validate_scope` falls back to its walk."""
        if node.cfn_resource_type not in JUDGED_TYPES:
            return
        stack = Stack.of(node)
        construct = node.node
        judge = self._judge(construct.root)
        judged = judge.judge(stack.artifact_id, str(stack.resolve(node.logical_id)))
        tree: _Tree | None = None
        for rule_id, findings in (judged or {}).items():
            if findings:  # acknowledged as the plugin's (HandsOff::HO-W<n>): cdk-nag would not see it
                tree = tree or _Tree(construct.root, _namespace(self.name))
                if tree.acknowledged(construct.path, _rule_name(rule_id)):
                    continue
            # cast: IApplyRule's protocol wants settable attributes, jsii only reads them
            self._apply_rule(cast(IApplyRule, _Judgement(self._rules[rule_id], node, findings)))

    def _judge(self, root: IConstruct) -> ResourceJudge:
        """The judge of the assembly the app ``root`` has written, read once per synthesis."""
        manifest = Path(root.outdir) / "manifest.json" if isinstance(root, Stage) else None
        if manifest is None or not manifest.is_file():
            raise RuntimeError(
                "DeploymentSafetyChecks judges the synthesized cloud assembly of the app, which has none "
                "yet: register it with Validations.of(app).add_plugins(DeploymentSafetyChecks()) (CDK "
                "runs it after synthesis), or call validate_scope(app) after app.synth()"
            )
        key = (manifest.parent, manifest.stat().st_mtime_ns)
        if self._judged is None or self._judged[0] != key:
            self._judged = (key, ResourceJudge(Assembly.read(manifest.parent), self._pack))
        return self._judged[1]


_LEVELS = {Level.ERROR: NagMessageLevel.ERROR, Level.WARNING: NagMessageLevel.WARN}
_Located = tuple[str, str, tuple[Finding, ...]]
"""A finding located in the construct tree: ``(construct path, rule id, findings)``."""
_LOGICAL_ID = "aws:cdk:logicalId"
_ANNOTATION_PREFIX = re.compile(r"^annotation::", re.IGNORECASE)


def _namespace(plugin_name: str) -> str:
    """The prefix of the plugin's rule ids in CDK's acknowledgements (``HandsOff`` of
    ``HandsOff::HO-W6``): CDK's ``namespaceFromPluginName``."""
    return "Annotation" if plugin_name == "Construct Annotations" else plugin_name.replace(" ", "-")


def _rule_name(rule_id: str) -> str:
    """cdk-nag's id of a rule of the pack: the pack prefix, then the rule's id after it."""
    return f"{PACK_NAME}-{rule_id.removeprefix(f'{PACK_NAME}-')}"


def _info(rule: CheckRule) -> str:
    """What a compliant pipeline does, and the one-line fix."""
    return f"{rule.info} Fix: {rule.fix}"


def _explanation(rule: CheckRule, findings: tuple[Finding, ...]) -> str:
    """The practice checked and what was found on one resource."""
    found = "; ".join(finding.message for finding in findings)
    return f"(practice {rule.practice}) {found}".rstrip()


@dataclass(frozen=True)
class _Finding:
    """One rule's non-empty findings on one resource of the assembly."""

    stack: AssemblyStack
    logical_id: str
    rule_id: str
    findings: tuple[Finding, ...]


def _findings(judge: ResourceJudge) -> Iterator[_Finding]:
    """Every resource some rule judges, in the assembly: the rules that find something there."""
    for stack in judge.assembly.stacks:
        for logical_id, resource in stack.resources.items():
            if not isinstance(resource, Mapping) or resource.get("Type") not in JUDGED_TYPES:
                continue
            for rule_id, findings in (judge.judge(stack.artifact_id, logical_id) or {}).items():
                if findings:
                    yield _Finding(stack, logical_id, rule_id, findings)


def _locate(judge: ResourceJudge, tree: _Tree) -> list[_Located] | None:
    """``(construct path, rule id, findings)`` of each finding of ``judge``, its resource's construct
    path from the ``aws:cdk:logicalId`` metadata of its stack's manifest; ``None`` where that
    cannot be trusted: a finding with no (or no single) path there, or whose path is not a
    ``CfnResource`` of that logical id in that stack (metadata any construct may add), or an
    assembly in which two stacks share an artifact id (the judge tells stacks by it)."""
    artifact_ids = [stack.artifact_id for stack in judge.assembly.stacks]
    if len(set(artifact_ids)) != len(artifact_ids):
        return None
    paths: dict[Path, dict[str, str | None]] = {}
    located = []
    for finding in _findings(judge):
        stack = finding.stack
        if stack.template_path not in paths:
            paths[stack.template_path] = _construct_paths(stack)
        path = paths[stack.template_path].get(finding.logical_id)
        if path is None or tree.resource(path) != (stack.artifact_id, finding.logical_id):
            return None
        located.append((path, finding.rule_id, finding.findings))
    return located


def _construct_paths(stack: AssemblyStack) -> dict[str, str | None]:
    """The construct path of each logical id of ``stack`` (``None`` for one that two constructs
    claim, as a nested stack's may), from the stack's metadata in its assembly's manifest."""
    directory = stack.template_path.parent
    artifact = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["artifacts"][
        stack.artifact_id
    ]
    metadata: dict[str, Any] = dict(artifact.get("metadata", {}))
    if "additionalMetadataFile" in artifact:
        extra = json.loads((directory / artifact["additionalMetadataFile"]).read_text(encoding="utf-8"))
        for path, entries in extra.items():
            metadata[path] = [*metadata.get(path, []), *entries]
    paths: dict[str, str | None] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == _LOGICAL_ID and isinstance(entry.get("data"), str):
                logical_id = entry["data"]
                paths[logical_id] = None if logical_id in paths else path.removeprefix("/")
    return paths


def _within(path: str, scope_path: str) -> bool:
    """Whether the construct at ``path`` is the one at ``scope_path`` or under it."""
    return not scope_path or path == scope_path or path.startswith(f"{scope_path}/")


class _Tree:
    """The constructs on the paths of an app's findings, each fetched from the construct tree
    (over jsii) once; ``namespace`` is the plugin's in CDK's acknowledgements (:func:`_namespace`)."""

    def __init__(self, root: IConstruct, namespace: str) -> None:
        self._constructs: dict[str, IConstruct | None] = {"": root}
        self._nodes: dict[str, Node] = {}
        self._resources: dict[str, tuple[str, str] | None] = {}
        self._acknowledged: dict[str, frozenset[str]] = {}
        self._metadata_key: str | None = None
        self._namespace_prefix = f"{namespace}::"

    def _construct(self, path: str) -> IConstruct | None:
        if path not in self._constructs:
            parent_path, _, child_id = path.rpartition("/")
            parent = self._node(parent_path)
            self._constructs[path] = parent.try_find_child(child_id) if parent is not None else None
        return self._constructs[path]

    def _node(self, path: str) -> Node | None:
        if path not in self._nodes:
            construct = self._construct(path)
            if construct is None:
                return None
            self._nodes[path] = construct.node
        return self._nodes[path]

    def resource(self, path: str) -> tuple[str, str] | None:
        """``(stack artifact id, logical id)`` of the ``CfnResource`` at ``path``; ``None`` if there
        is no ``CfnResource`` there."""
        if path not in self._resources:
            construct = self._construct(path)
            resource = None
            if construct is not None and CfnResource.is_cfn_resource(construct):
                stack = Stack.of(construct)
                # jsii.get: the proxy may be typed IConstruct only (a class Python does not know)
                resource = (stack.artifact_id, str(stack.resolve(jsii.get(construct, "logicalId"))))
            self._resources[path] = resource
        return self._resources[path]

    def acknowledged(self, path: str, rule_id: str) -> bool:
        """Whether ``rule_id`` is acknowledged on the construct at ``path`` or any scope above it,
        as cdk-nag's ``isAcknowledged`` tells, or as CDK's acknowledgement of the plugin's own
        (``HandsOff::HO-W6``) does."""
        while True:
            if rule_id in self._acknowledged_on(path):
                return True
            if not path:
                return False
            path = path.rpartition("/")[0]

    def _acknowledged_on(self, path: str) -> frozenset[str]:
        """The rule ids acknowledged on the construct at ``path`` itself: the keys of its
        acknowledgement metadata (an object's keys only, as cdk-nag's ``Object.keys`` reads them:
        a list or a string acknowledges nothing), each without the ``Annotation::`` prefix (as
        cdk-nag reads it) or without the plugin's (as CDK does)."""
        if path not in self._acknowledged:
            node = self._node(path)
            if self._metadata_key is None:
                self._metadata_key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
            keys = [
                key
                for entry in (node.metadata if node is not None else [])
                if entry.type == self._metadata_key and isinstance(entry.data, Mapping)
                for key in entry.data
                if isinstance(key, str)
            ]
            prefix = self._namespace_prefix
            self._acknowledged[path] = frozenset(
                [_ANNOTATION_PREFIX.sub("", key) for key in keys]
                + [key.removeprefix(prefix) for key in keys if key.startswith(prefix)]
            )
        return self._acknowledged[path]

    def order(self, paths: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """A key of each of ``paths`` that sorts them in the order cdk-nag's walk meets them:
        depth first, each construct's children in ``node.children`` order (asked only where
        ``paths`` part ways)."""
        wanted = set(paths)
        branches: dict[str, set[str]] = {}
        for path in wanted:
            segments = path.split("/") if path else []
            for depth, segment in enumerate(segments):
                branches.setdefault("/".join(segments[:depth]), set()).add(segment)
        rank: dict[str, int] = {}
        for parent_path, child_ids in branches.items():
            if len(child_ids) < 2:
                continue
            parent = self._node(parent_path)
            children = [_ref(child) for child in parent.children] if parent is not None else []
            for child_id in child_ids:
                child_path = f"{parent_path}/{child_id}" if parent_path else child_id
                child = self._construct(child_path)
                ref = _ref(child) if child is not None else None
                rank[child_path] = children.index(ref) if ref in children else len(children)
        keys = {}
        for path in wanted:
            segments = path.split("/") if path else []
            keys[path] = tuple(rank.get("/".join(segments[: depth + 1]), 0) for depth in range(len(segments)))
        return keys


def _ref(construct: IConstruct) -> str:
    """jsii's id of the JavaScript object behind ``construct`` (the same for every Python proxy of
    it, where ``is`` may tell two proxies of one construct apart)."""
    return cast(str, construct.__jsii_ref__.ref)  # type: ignore[attr-defined]


@jsii.implements(IApplyRule)
class _Judgement:
    """One rule's verdict on one resource, in the shape cdk-nag's ``applyRule`` takes."""

    def __init__(self, rule: CheckRule, node: CfnResource, findings: tuple[Finding, ...]) -> None:
        self._rule = rule
        self._node = node
        self._findings = findings

    @property
    def node(self) -> CfnResource:
        """The resource judged."""
        return self._node

    @property
    def rule_suffix_override(self) -> str:
        """The id after the pack prefix: ``W3`` for ``HO-W3``."""
        return self._rule.id.removeprefix(f"{PACK_NAME}-")

    @property
    def info(self) -> str:
        """What a compliant pipeline does, and the one-line fix."""
        return _info(self._rule)

    @property
    def explanation(self) -> str:
        """The practice checked and what was found on this resource (``verbose`` only)."""
        return _explanation(self._rule, self._findings)

    @property
    def level(self) -> NagMessageLevel:
        """Error or warning, as in ``hands-off check``."""
        return _LEVELS[self._rule.level]

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        """Non-compliant if the rule found something on this resource."""
        del node  # judged already: the findings are this resource's
        return NagRuleCompliance.NON_COMPLIANT if self._findings else NagRuleCompliance.COMPLIANT
