"""The deployment-safety rules as a cdk-nag pack inside a synth: the plain CDK Pipelines app fails
with the rules ``hands-off check`` names, each on its resource; the example fleet passes; an
acknowledgement silences one rule on one scope, as for any cdk-nag pack."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import Acknowledgment, App, CfnResource, Stack, Validations

from hands_off.assembly import Assembly
from hands_off.check import catalog, run
from hands_off.safety import DeploymentSafetyChecks
from tests.check.plain_pipeline import PROD_REGIONS, plain_app
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
