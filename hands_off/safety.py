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

How the rules map onto cdk-nag's one-``CfnResource``-at-a-time engine (the logic is
:data:`hands_off.check.DEPLOYMENT_SAFETY`'s, shared with ``hands-off check`` through
:class:`hands_off.check.resource_judge.ResourceJudge`):

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

cdk-nag 3 is a CDK validation plugin (``Validations.of(app).add_plugins``), not an Aspect: its
findings go to CDK's ``validation-report.json`` (not to annotations), and acknowledgements
(``Validations.of(scope).acknowledge``) replace v2's ``NagSuppressions``. A cdk-nag pack reports
failure on any unacknowledged violation, a warning (HO-W6) included, and CDK then fails synthesis.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import jsii
from aws_cdk import CfnResource, Stack, Stage
from cdk_nag import IApplyRule, NagMessageLevel, NagPack, NagRuleCompliance
from constructs import IConstruct

from hands_off.assembly import Assembly
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
        self._rules = {entry.rule.id: entry.rule for entry in pack}
        self._pack = pack
        self._judged: tuple[tuple[Path, int], ResourceJudge] | None = None

    @property
    def name(self) -> str:
        """The plugin's name in CDK's validation report."""
        return "HandsOff"

    def _check_resource(self, node: CfnResource) -> None:
        """Apply every rule that judges ``node`` (none for resources no rule is about)."""
        if node.cfn_resource_type not in JUDGED_TYPES:
            return
        stack = Stack.of(node)
        judged = self._judge(node).judge(stack.artifact_id, str(stack.resolve(node.logical_id)))
        for rule_id, findings in (judged or {}).items():
            # cast: IApplyRule's protocol wants settable attributes, jsii only reads them
            self._apply_rule(cast(IApplyRule, _Judgement(self._rules[rule_id], node, findings)))

    def _judge(self, node: CfnResource) -> ResourceJudge:
        """The judge of the assembly ``node``'s app has written, read once per synthesis."""
        root = node.node.root
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
        return f"{self._rule.info} Fix: {self._rule.fix}"

    @property
    def explanation(self) -> str:
        """The practice checked and what was found on this resource (``verbose`` only)."""
        found = "; ".join(finding.message for finding in self._findings)
        return f"(practice {self._rule.practice}) {found}".rstrip()

    @property
    def level(self) -> NagMessageLevel:
        """Error or warning, as in ``hands-off check``."""
        return _LEVELS[self._rule.level]

    def rule(self, node: CfnResource) -> NagRuleCompliance:
        """Non-compliant if the rule found something on this resource."""
        del node  # judged already: the findings are this resource's
        return NagRuleCompliance.NON_COMPLIANT if self._findings else NagRuleCompliance.COMPLIANT
