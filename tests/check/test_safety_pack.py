"""The deployment-safety rules as a cdk-nag pack inside a synth: the plain CDK Pipelines app fails
with the rules ``hands-off check`` names, each on its resource; the example fleet passes; an
acknowledgement silences one rule on one scope, as for any cdk-nag pack. The pack reports what
cdk-nag's own walk of the construct tree would, but at a cost in jsii round trips that does not
grow with the app's resources; it reads acknowledgements as cdk-nag and CDK do (its own
``HandsOff::`` ones included, so warnings still fail the synth), and neither forged logical id
metadata nor two stacks of one artifact id move a finding onto another construct."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import (
    Acknowledgment,
    App,
    CfnResource,
    PolicyValidationPluginReport,
    Stack,
    Stage,
    Validations,
)
from cdk_nag import NagPack
from constructs import Construct
from jsii._kernel.providers import process as jsii_process

from hands_off.assembly import Assembly
from hands_off.check import DEPLOYMENT_SAFETY, ResourceJudge, catalog, run
from hands_off.safety import DeploymentSafetyChecks
from tests.check.plain_pipeline import (
    PROD_REGIONS,
    _PlainPipelineStack,
    _ServiceStack,
    one_wave_pipeline,
    plain_app,
)
from tests.conftest import Fleet

_ACKNOWLEDGED_STAGE = f"Prod-{PROD_REGIONS[1]}"
_REASON = "code signing arrives with the Q3 platform release"


@dataclass(frozen=True)
class NagRun:
    """A synth of the plain app with the pack: the error it raised and its validation report."""

    app: App
    outdir: Path
    error: str
    conclusion: str
    violations: dict[str, list[str]]  # rule id -> construct paths, as reported
    severities: dict[str, str]  # rule id -> error / warning


@pytest.fixture(scope="module")
def plain_nag(tmp_path_factory: pytest.TempPathFactory) -> NagRun:
    """The plain app synthesized once with the pack, HO-W12 acknowledged on one production stage."""
    outdir = tmp_path_factory.mktemp("plain-nag")
    app = plain_app(outdir)
    stage = app.node.find_child("PlainPipeline").node.find_child(_ACKNOWLEDGED_STAGE)
    Validations.of(stage).acknowledge(Acknowledgment(id="HO-W12", reason=_REASON))
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed") as failure:
        app.synth()

    (plugin,) = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    assert plugin["pluginName"] == "HandsOff"
    return NagRun(
        app=app,
        outdir=outdir,
        error=str(failure.value),
        conclusion=plugin["conclusion"],
        violations={
            v["ruleName"]: [c["constructPath"] for c in v["violatingConstructs"]]
            for v in plugin["violations"]
        },
        severities={v["ruleName"]: v["severity"] for v in plugin["violations"]},
    )


def test_plain_pipeline_fails_synth_naming_at_least_five_rules(plain_nag: NagRun) -> None:
    assert plain_nag.conclusion == "failure"
    assert len(plain_nag.violations) >= 5
    assert all(re.fullmatch(r"HO-W[0-9]+", rule) for rule in plain_nag.violations)
    assert plain_nag.severities["HO-W1"] == "error"
    assert plain_nag.severities["HO-W6"] == "warning"


def test_pack_and_check_name_the_same_rules(plain_nag: NagRun) -> None:
    # the synth wrote its assembly before validating: the CLI's verdict over the very same one
    report = run(Assembly.read(plain_nag.outdir))

    assert set(plain_nag.violations) == {finding.rule.id for finding in report.findings}


def test_each_rule_is_reported_on_the_resource_it_judges(plain_nag: NagRun) -> None:
    pipeline = ["PlainPipeline/Pipeline/Pipeline/Resource"]
    handlers = [f"PlainPipeline/Prod-{region}/App/Handler/Resource" for region in PROD_REGIONS]

    for rule in ("HO-W1", "HO-W2", "HO-W7", "HO-W8", "HO-W10", "HO-W11"):
        assert plain_nag.violations[rule] == pipeline, rule
    for rule in ("HO-W4", "HO-W5", "HO-W6"):
        assert plain_nag.violations[rule] == handlers, rule


def test_each_violation_carries_the_rules_fix(plain_nag: NagRun) -> None:
    texts = plain_nag.error + (plain_nag.outdir / "validation-report.json").read_text()

    for rule in catalog():
        if rule.id in plain_nag.violations:
            assert f"Fix: {rule.fix}" in texts.replace("\\", ""), rule.id


def test_acknowledgement_silences_one_rule_on_one_scope(plain_nag: NagRun) -> None:
    acknowledged = f"PlainPipeline/{_ACKNOWLEDGED_STAGE}/App/Handler/Resource"

    assert acknowledged not in plain_nag.violations["HO-W12"]
    assert len(plain_nag.violations["HO-W12"]) == len(PROD_REGIONS) - 1
    assert acknowledged in plain_nag.violations["HO-W4"]  # only the acknowledged rule


def test_validate_scope_after_synth_agrees_and_verbose_says_what_was_found(plain_nag: NagRun) -> None:
    # validate_scope judges the assembly the fixture's synth wrote: no second synth
    report = DeploymentSafetyChecks(verbose=True).validate_scope(plain_nag.app)

    paths = {v.rule_name: [r.construct_path for r in v.violating_resources] for v in report.violations}
    assert paths == plain_nag.violations  # the acknowledgement included
    described = {v.rule_name: v.description for v in report.violations}
    assert described["HO-W1"].endswith("(practice P8) production is one stage ('Prod', 3 regions at once)")


def test_hands_off_pipelines_pass(fleet: Fleet) -> None:
    # The fleet fixture has synthesized already (with AwsSolutions): the pack judges its assembly.
    report = DeploymentSafetyChecks().validate_scope(fleet.app)

    assert [(v.rule_name, [c.construct_path for c in v.violating_resources]) for v in report.violations] == []
    assert report.success


def test_validating_before_synthesis_says_how(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    CfnResource(Stack(app, "Tooling"), "Pipeline", type="AWS::CodePipeline::Pipeline")

    with pytest.raises(
        RuntimeError, match=r"has none yet: register it with Validations.*after app\.synth\(\)"
    ):
        DeploymentSafetyChecks().validate_scope(app)


def _violations(report: PolicyValidationPluginReport) -> list[tuple[str, str | None, str, list[str]]]:
    """A report's violations as cdk-nag wrote them: rule, severity, description, construct paths."""
    return [
        (v.rule_name, v.severity, v.description, [r.construct_path or "" for r in v.violating_resources])
        for v in report.violations
    ]


@pytest.mark.parametrize("verbose", [False, True])
def test_pack_reports_what_cdk_nags_own_walk_reports(plain_nag: NagRun, verbose: bool) -> None:
    # cdk-nag's validateScope walks the construct tree in Node and calls the pack back on every
    # CfnResource: the pack's own validate_scope must say the same, in the same order
    prod = plain_nag.app.node.find_child("PlainPipeline").node.find_child(f"Prod-{PROD_REGIONS[0]}")

    for scope in (plain_nag.app, prod):
        walked = NagPack.validate_scope(DeploymentSafetyChecks(verbose=verbose), scope)
        report = DeploymentSafetyChecks(verbose=verbose).validate_scope(scope)

        assert _violations(report) == _violations(walked), scope.node.path
        assert report.success == walked.success


def _one_wave_app(outdir: Path, *, topics: int = 0, context: dict[str, object] | None = None) -> App:
    """A tooling stack with one hand-written pipeline that deploys production in one wave (HO-W1,
    W2, W7 … on ``Tooling/Pipeline``), and ``topics`` resources that no rule judges."""
    app = App(outdir=str(outdir), context=context)
    stack = Stack(app, "Tooling")
    one_wave_pipeline(stack)
    for topic in range(topics):
        CfnResource(stack, f"Topic{topic}", type="AWS::SNS::Topic")
    return app


def _plugin_report(outdir: Path) -> dict[str, list[str]]:
    reports = json.loads((outdir / "validation-report.json").read_text())["pluginReports"]
    (plugin,) = (report for report in reports if report["pluginName"] == "HandsOff")
    return {
        v["ruleName"]: [c["constructPath"] for c in v["violatingConstructs"]] for v in plugin["violations"]
    }


def test_synth_costs_the_same_round_trips_whatever_the_resource_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every message Python sends to the jsii runtime (a call, or the answer to a callback)
    sends = [0]
    send = jsii_process._NodeProcess.send

    def counted(self: object, *args: object, **kwargs: object) -> object:
        sends[0] += 1
        return send(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jsii_process._NodeProcess, "send", counted)
    called_back: list[CfnResource] = []
    monkeypatch.setattr(DeploymentSafetyChecks, "_check_resource", lambda _, node: called_back.append(node))
    costs = {}
    for topics in (1, 60):
        app = _one_wave_app(tmp_path / str(topics), topics=topics)
        Validations.of(app).add_plugins(DeploymentSafetyChecks())
        before = sends[0]
        with pytest.raises(Exception, match="ValidationFailed"):
            app.synth()
        costs[topics] = sends[0] - before
        assert _plugin_report(tmp_path / str(topics))["HO-W1"] == ["Tooling/Pipeline"]

    assert costs[1] == costs[60]  # per finding, not per resource
    assert costs[60] < 60
    assert called_back == []  # cdk-nag's per-resource callback: never


def test_acknowledgement_on_any_scope_above_silences_and_the_rest_still_fails_synth(tmp_path: Path) -> None:
    app = _one_wave_app(tmp_path)
    Validations.of(app).acknowledge(Acknowledgment(id="HO-W1", reason="one wave until the Q3 split"))
    # as aws-cdk-lib before 2.262.1 wrote it: lower-case prefix
    tooling = app.node.find_child("Tooling")
    tooling.node.add_metadata(
        Validations.ACKNOWLEDGED_RULES_METADATA_KEY, {"annotation::HO-W2": "one region"}
    )
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    violations = _plugin_report(tmp_path)
    assert "HO-W1" not in violations
    assert "HO-W2" not in violations
    assert violations["HO-W7"] == violations["HO-W8"] == ["Tooling/Pipeline"]


def test_without_logical_id_metadata_the_pack_walks_the_tree_as_cdk_nag_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_resource = DeploymentSafetyChecks._check_resource
    called_back: list[str] = []

    def spied(pack: DeploymentSafetyChecks, node: CfnResource) -> None:
        called_back.append(node.node.path)
        check_resource(pack, node)

    monkeypatch.setattr(DeploymentSafetyChecks, "_check_resource", spied)
    app = _one_wave_app(tmp_path, topics=2, context={"aws:cdk:disable-logicalId-metadata": True})
    app.synth()

    report = DeploymentSafetyChecks().validate_scope(app)

    assert called_back == ["Tooling/Pipeline", "Tooling/Topic0", "Tooling/Topic1"]
    assert {v.rule_name for v in report.violations} >= {"HO-W1", "HO-W2", "HO-W7", "HO-W8"}
    assert all(
        [r.construct_path for r in v.violating_resources] == ["Tooling/Pipeline"] for v in report.violations
    )


def _walked_and_reported(app: App) -> tuple[PolicyValidationPluginReport, PolicyValidationPluginReport]:
    """cdk-nag's own walk of the synthesized ``app`` and the pack's report of it."""
    walked = NagPack.validate_scope(DeploymentSafetyChecks(), app)
    return walked, DeploymentSafetyChecks().validate_scope(app)


def test_list_shaped_acknowledgement_metadata_acknowledges_nothing(tmp_path: Path) -> None:
    # cdk-nag (and CDK) read an acknowledgement's ids as the keys of an object: a list has none
    app = _one_wave_app(tmp_path)
    app.node.add_metadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, ["HO-W1", "HO-W2"])
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    violations = _plugin_report(tmp_path)
    assert violations["HO-W1"] == violations["HO-W2"] == ["Tooling/Pipeline"]
    walked, report = _walked_and_reported(app)
    assert _violations(report) == _violations(walked)


def test_a_decoy_stack_with_the_copys_artifact_id_does_not_take_its_findings(tmp_path: Path) -> None:
    # CDK drops a 'Default' segment before naming a stack's artifact: the decoy's stack
    # Default/PlainPipeline/Prod-<region>/App has the production copy's artifact id, and it is
    # acknowledged; the copy's own findings must still be reported, on the copy
    app = App(outdir=str(tmp_path))
    decoy = Stage(app, "Default")
    _ServiceStack(Construct(Construct(decoy, "PlainPipeline"), f"Prod-{PROD_REGIONS[0]}"), "App")
    for rule in ("HO-W4", "HO-W5", "HO-W6", "HO-W12"):
        Validations.of(decoy).acknowledge(Acknowledgment(id=rule, reason="sandbox, deployed by no pipeline"))
    _PlainPipelineStack(app, "PlainPipeline")
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed") as failure:
        app.synth()

    # either the assembly reader refuses the ambiguous artifact id (the plugin fails), or the
    # pack reports the copy's findings on the copy
    if "same artifact id" not in str(failure.value):
        copy = f"PlainPipeline/Prod-{PROD_REGIONS[0]}/App/Handler/Resource"
        violations = _plugin_report(tmp_path)
        assert all(copy in violations[rule] for rule in ("HO-W4", "HO-W5", "HO-W6", "HO-W12"))
        walked, report = _walked_and_reported(app)
        assert _violations(report) == _violations(walked)


def test_with_two_stacks_of_one_artifact_id_the_pack_walks_the_tree_as_cdk_nag_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pack's own guard, whatever the assembly reader makes of it: its judge tells stacks by
    # artifact id, so an assembly in which one names two stacks places nothing for sure
    app = _one_wave_app(tmp_path)
    app.synth()
    assembly = Assembly.read(tmp_path)
    (tooling,) = assembly.stacks
    twice = Assembly(directory=assembly.directory, stacks=(tooling, tooling))
    monkeypatch.setattr(
        DeploymentSafetyChecks, "_judge", lambda _, root: ResourceJudge(twice, DEPLOYMENT_SAFETY)
    )
    check_resource = DeploymentSafetyChecks._check_resource
    called_back: list[str] = []

    def spied(pack: DeploymentSafetyChecks, node: CfnResource) -> None:
        called_back.append(node.node.path)
        check_resource(pack, node)

    monkeypatch.setattr(DeploymentSafetyChecks, "_check_resource", spied)

    walked, report = _walked_and_reported(app)

    assert called_back == ["Tooling/Pipeline", "Tooling/Pipeline"]  # the walk, then the pack's
    assert _violations(report) == _violations(walked)
    assert [r.construct_path for r in report.violations[0].violating_resources] == ["Tooling/Pipeline"]


def test_a_forged_logical_id_entry_does_not_move_a_finding(tmp_path: Path) -> None:
    # the pipeline's own aws:cdk:logicalId entry switched off for its subtree, and its logical id
    # claimed by an acknowledged construct: the findings stay on the pipeline
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Tooling")
    holder = Construct(stack, "Release")
    holder.node.set_context("aws:cdk:disable-logicalId-metadata", True)
    pipeline = one_wave_pipeline(holder)
    sandbox = Construct(stack, "Sandbox")
    for rule in ("HO-W1", "HO-W2", "HO-W7", "HO-W8", "HO-W10"):
        Validations.of(sandbox).acknowledge(Acknowledgment(id=rule, reason="an experiment"))
    sandbox.node.add_metadata("aws:cdk:logicalId", stack.resolve(pipeline.logical_id))
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    violations = _plugin_report(tmp_path)
    assert violations["HO-W1"] == violations["HO-W7"] == ["Tooling/Release/Pipeline"]
    walked, report = _walked_and_reported(app)
    assert _violations(report) == _violations(walked)


@pytest.mark.parametrize("logical_id_metadata", [True, False])
def test_a_namespaced_acknowledgement_silences_in_the_pack_so_warnings_still_fail_synth(
    tmp_path: Path, logical_id_metadata: bool
) -> None:
    # 'HandsOff::HO-W<n>', the form CDK's message suggests: were CDK to suppress it after the pack,
    # it would count errors only, and the unacknowledged HO-W6 warnings would pass the synth
    context = None if logical_id_metadata else {"aws:cdk:disable-logicalId-metadata": True}
    app = App(outdir=str(tmp_path), context=context)
    _PlainPipelineStack(app, "PlainPipeline")
    errors = ("HO-W1", "HO-W2", "HO-W4", "HO-W5", "HO-W7", "HO-W8", "HO-W10", "HO-W11", "HO-W12")
    for rule in errors:
        Validations.of(app).acknowledge(Acknowledgment(id=f"HandsOff::{rule}", reason="accepted"))
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    reports = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    (plugin,) = (report for report in reports if report["pluginName"] == "HandsOff")
    assert plugin["conclusion"] == "failure"
    assert [v["ruleName"] for v in plugin["violations"]] == ["HO-W6"]
    assert not plugin.get("suppressedViolations")  # the pack's own doing, not CDK's
