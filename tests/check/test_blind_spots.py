"""What the rules cannot see must not pass silently: a pipeline or a production copy inside a
CloudFormation nested stack (its template is an asset of the parent stack, not a stack artifact),
and two stacks of one assembly with the same artifact id (CDK drops ``Default`` path segments
before hashing, so ``Default/P/App`` in a ``Stage("Default")`` and ``P/App`` share an id)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Acknowledgment, App, NestedStack, Stack, Stage, Validations
from constructs import Construct

from hands_off.assembly import Assembly, AssemblyError
from hands_off.check import run
from hands_off.check.resource_judge import ResourceJudge
from hands_off.cli import main
from hands_off.safety import DeploymentSafetyChecks
from tests.check import mini_assembly as mini
from tests.check import plain_pipeline as pp

_ONE_WAVE_RULES = ["HO-W1", "HO-W2", "HO-W7", "HO-W8", "HO-W9", "HO-W10"]


def _one_wave_app(outdir: Path, *, nested: bool) -> tuple[App, Stack]:
    """A one-wave production pipeline (three regions at once), in a NestedStack if ``nested``."""
    app = App(outdir=str(outdir))
    stack = Stack(app, "Tooling")
    scope: Construct = NestedStack(stack, "Inner") if nested else stack
    pp.one_wave_pipeline(scope, name="nested")
    return app, stack


def _nested_stack_id(assembly: Assembly) -> str:
    tooling = assembly.stack("Tooling")
    assert tooling is not None
    return next(lid for lid, _ in tooling.resources_of_type("AWS::CloudFormation::Stack"))


def _report(outdir: Path) -> dict[str, list[str]]:
    """Rule → construct paths of the HandsOff plugin's unacknowledged violations."""
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    return {
        violation["ruleName"]: [c["constructPath"] for c in violation["violatingConstructs"]]
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "HandsOff"
        for violation in plugin["violations"]
    }


def test_a_pipeline_in_a_nested_stack_is_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app, _ = _one_wave_app(tmp_path, nested=True)
    app.synth()
    assembly = Assembly.read(tmp_path)
    nested_stack = _nested_stack_id(assembly)

    [pipeline] = assembly.pipelines
    verdict = ResourceJudge(assembly).judge("Tooling", nested_stack)
    status = main(["check", str(tmp_path)])
    out = capsys.readouterr().out

    assert (pipeline.name, pipeline.stack, pipeline.nested_stack) == ("nested", "Tooling", nested_stack)
    assert verdict is not None
    assert [rule for rule, findings in verdict.items() if findings] == _ONE_WAVE_RULES
    assert status == 1
    assert "HO-W1  | nested/Prod" in out


def test_the_pack_reports_a_nested_pipeline_on_its_nested_stack_resource(tmp_path: Path) -> None:
    app, _ = _one_wave_app(tmp_path, nested=True)
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()

    resource = "Tooling/Inner.NestedStack/Inner.NestedStackResource"
    assert _report(tmp_path) == {rule: [resource] for rule in _ONE_WAVE_RULES}


def test_a_nested_pipeline_can_be_acknowledged_on_its_parent_stack(tmp_path: Path) -> None:
    app, stack = _one_wave_app(tmp_path, nested=True)
    for rule in _ONE_WAVE_RULES:
        Validations.of(stack).acknowledge(Acknowledgment(id=rule, reason="a demo pipeline, never deployed"))
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    app.synth()  # passes

    assert _report(tmp_path) == {}


def _nest(directory: Path, parent: str, logical_id: str, template: dict[str, Any]) -> None:
    """Give stack artifact ``parent`` of a mini assembly a nested stack ``logical_id``, as CDK's
    default synthesizer writes one: a template asset, named in the parent's asset manifest and
    referenced by the ``TemplateURL`` of an ``AWS::CloudFormation::Stack`` resource."""
    object_key = hashlib.sha256(logical_id.encode()).hexdigest() + ".json"
    template_file = f"{parent}{logical_id}.nested.template.json"
    (directory / template_file).write_text(json.dumps(template), encoding="utf-8")
    assets = {"version": "55.0.0", "files": {object_key[:-5]: {
        "source": {"path": template_file, "packaging": "file"},
        "destinations": {"d": {"bucketName": "cdk-assets", "objectKey": object_key}},
    }}}  # fmt: skip
    (directory / f"{parent}.assets.json").write_text(json.dumps(assets), encoding="utf-8")
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    manifest["artifacts"][f"{parent}.assets"] = {
        "type": "cdk:asset-manifest",
        "properties": {"file": f"{parent}.assets.json"},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    parent_path = directory / f"{parent}.template.json"
    body = json.loads(parent_path.read_text(encoding="utf-8"))
    url = {
        "Fn::Join": [
            "",
            ["https://s3.", {"Ref": "AWS::Region"}, ".amazonaws.com/", {"Fn::Sub": "b"}, f"/{object_key}"],
        ]
    }
    body.setdefault("Resources", {})[logical_id] = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": url},
    }
    parent_path.write_text(json.dumps(body), encoding="utf-8")


def _copy_with_nested_compute(tmp_path: Path) -> Assembly:
    """A pipeline whose first production wave deploys ``prod``: its function is in a nested stack."""
    directory = mini.write(
        tmp_path,
        [
            mini.stage("Source", mini.action("Src", "Source", "S3", 1)),
            mini.stage("Prod-1", mini.deploy("prod", "us-east-1")),
        ],
        {"prod": ("us-east-1", {"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {}}}})},
    )
    _nest(directory, "prod", "InnerStack", mini.lambda_stack())
    return Assembly.read(directory)


def test_a_copy_with_compute_in_a_nested_stack_fails_closed(tmp_path: Path) -> None:
    assembly = _copy_with_nested_compute(tmp_path)

    nested = [f for f in run(assembly).findings if f.location.logical_id == "InnerStack"]
    verdict = ResourceJudge(assembly).judge("prod", "InnerStack")

    assert [f.rule.id for f in nested] == ["HO-W4", "HO-W5", "HO-W6", "HO-W12"]
    assert all("not judged" in f.message and "NestedStack" in f.message for f in nested)
    assert verdict is not None
    assert {rule: len(findings) for rule, findings in verdict.items()} == {
        "HO-W4": 1,
        "HO-W5": 1,
        "HO-W6": 1,
        "HO-W12": 1,
    }


def test_a_nested_template_no_stack_points_to_is_an_error(tmp_path: Path) -> None:
    directory = mini.write(tmp_path, [mini.stage("Prod-1", mini.deploy("prod", "us-east-1"))], {})
    (directory / "ToolingInner.nested.template.json").write_text(json.dumps(mini.lambda_stack()))

    with pytest.raises(AssemblyError, match=r"ToolingInner\.nested\.template\.json"):
        Assembly.read(directory)


def _two_assemblies_one_id(tmp_path: Path) -> Path:
    """A cloud assembly with two nested assemblies that each hold a stack artifact ``AppABC123``."""
    artifacts = {}
    for directory, display in (("assembly-Default", "Default/P/Prod/App"), ("assembly-P-Prod", "P/Prod/App")):
        (tmp_path / directory).mkdir(parents=True)
        (tmp_path / directory / "AppABC123.template.json").write_text(json.dumps(mini.lambda_stack()))
        inner = {"artifacts": {"AppABC123": {
            "type": "aws:cloudformation:stack",
            "environment": "aws://333333333333/us-east-1",
            "displayName": display,
            "properties": {"templateFile": "AppABC123.template.json"},
        }}}  # fmt: skip
        (tmp_path / directory / "manifest.json").write_text(json.dumps(inner))
        artifacts[directory] = {"type": "cdk:cloud-assembly", "properties": {"directoryName": directory}}
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return tmp_path


def test_two_stacks_with_one_artifact_id_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError) as raised:
        Assembly.read(_two_assemblies_one_id(tmp_path))

    message = str(raised.value)
    assert "\n" not in message
    assert "same artifact id AppABC123" in message
    assert "'Default/P/Prod/App'" in message
    assert "'P/Prod/App'" in message
    assert "rename" in message


def test_check_reports_an_artifact_id_collision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", str(_two_assemblies_one_id(tmp_path))])

    assert status == 2
    assert "AppABC123" in capsys.readouterr().err


def test_the_pack_fails_on_a_stage_named_default_that_collides(tmp_path: Path) -> None:
    """The reproducer: a ``Stage("Default")`` whose stack's path differs from a production copy's
    only by ``Default`` takes the copy's artifact id; synthesis fails instead of judging the wrong one."""
    app = App(outdir=str(tmp_path))
    decoy = Stage(app, "Default")
    Stack(Construct(Construct(decoy, "PlainPipeline"), f"Prod-{pp.PROD_REGIONS[0]}"), "App")
    pp._PlainPipelineStack(app, "PlainPipeline")
    Validations.of(app).add_plugins(DeploymentSafetyChecks())

    refused = (
        r"'HandsOff' failed: stacks 'Default/PlainPipeline/Prod-us-east-1/App' .* same artifact id .*rename"
    )
    with pytest.raises(Exception, match=refused):
        app.synth()
