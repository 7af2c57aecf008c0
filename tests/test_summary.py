"""``hands_off.assembly`` (reading ``cdk.out``) and ``python -m hands_off.summary``.

Most tests build a tiny cloud assembly from JSON in ``tmp_path``; the last ones read the
synthesized example fleet (session fixture ``fleet``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hands_off.assembly import Assembly, AssemblyError
from hands_off.summary import main, summarize

TOOLING, PROD = "111111111111", "333333333333"


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _role(account: str, region: str, kind: str) -> dict[str, Any]:
    """A role ARN the way CDK Pipelines writes it (partition as a Ref)."""
    arn = f":iam::{account}:role/cdk-hnb659fds-{kind}-role-{account}-{region}"
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, arn]]}


def _deploy(stack_name: str, region: str | None, run_order: int, mode: str = "Prepare") -> dict[str, Any]:
    home = region or "us-east-1"
    action: dict[str, Any] = {
        "ActionTypeId": {"Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1"},
        "Configuration": {"StackName": stack_name, "RoleArn": _role(PROD, home, "cfn-exec")},
        "Name": f"{stack_name}.{mode}",
        "RoleArn": _role(PROD, home, "deploy"),
        "RunOrder": run_order,
    }
    if region is not None:
        action["Region"] = region
    return action


def _step(name: str, parameter: str, run_order: int) -> dict[str, Any]:
    return {
        "ActionTypeId": {"Category": "Invoke", "Owner": "AWS", "Provider": "StepFunctions", "Version": "1"},
        "Configuration": {
            "StateMachineArn": {"Ref": "Machine"},
            "Input": json.dumps({"config_parameter": parameter, "pipeline_execution_id": "#{x}"}),
        },
        "Name": name,
        "RunOrder": run_order,
    }


def _parameter(name: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": name, "Type": "String", "Value": json.dumps(value)},
    }


def _stage(name: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {"Name": name, "Actions": list(actions)}


def _fake_assembly(out: Path) -> Path:
    """A pipeline (us-east-1) with Source, Build, Gamma, Prod-1 (ca-central-1), Prod-2 (its own
    region: no Region on the actions) and Prod-3 (two regions), and one nested stage assembly."""
    gates = "/hands-off/shop-application/gates"
    source = {
        "ActionTypeId": {"Category": "Source", "Owner": "AWS", "Provider": "CodeStarSourceConnection"},
        "Name": "source",
    }
    pipeline = {
        "Type": "AWS::CodePipeline::Pipeline",
        "Properties": {
            "Name": "shop-application",
            "PipelineType": "V2",
            "Stages": [
                _stage("Source", source),
                _stage("Build", {"ActionTypeId": {"Provider": "CodeBuild"}, "Name": "Synth", "RunOrder": 1}),
                _stage(
                    "Gamma",
                    _step("Gamma-Gate", f"{gates}/Gamma-Gate", 1),
                    _deploy("shop-gamma-us-west-2", "us-west-2", 2),
                    _step("Gamma-Bake", f"{gates}/Gamma-Bake", 3),
                ),
                _stage(
                    "Prod-1",
                    _step("Prod-1-Gate", f"{gates}/Prod-1-Gate", 1),
                    _deploy("shop-prod-ca-central-1", "ca-central-1", 2),
                    _deploy("shop-prod-ca-central-1", "ca-central-1", 3, "Deploy"),
                    _step("Prod-1-Bake", f"{gates}/Prod-1-Bake", 4),
                ),
                _stage(
                    "Prod-2",
                    _deploy("shop-prod-us-east-1", None, 1),
                    _step("Prod-2-Bake", f"{gates}/Prod-2-Bake", 2),
                ),
                _stage(
                    "Prod-3",
                    _deploy("shop-prod-sa-east-1", "sa-east-1", 1),
                    _deploy("shop-prod-ap-south-1", "ap-south-1", 1),
                    _deploy("shop-prod-sa-east-1", "sa-east-1", 2, "Deploy"),
                ),
            ],
        },
    }
    resources = {
        "Pipeline": pipeline,
        "GammaGate": _parameter(f"{gates}/Gamma-Gate", {"stage": "Gamma", "max_wait_seconds": 60}),
        "GammaBake": _parameter(f"{gates}/Gamma-Bake", {"stage": "Gamma", "bake_seconds": 600}),
        "Prod1Bake": _parameter(f"{gates}/Prod-1-Bake", {"stage": "Prod-1", "bake_seconds": 3600}),
        "Prod2Bake": _parameter(f"{gates}/Prod-2-Bake", {"stage": "Prod-2", "bake_seconds": 1800}),
        "Other": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Ref": "X"}, "Value": "v"}},
    }
    _write(out / "ShopPipeline.template.json", {"Resources": resources})
    _write(
        out / "assembly-ShopPipeline-Prod-1" / "ShopPipelineProd1App.template.json", {"Resources": {"F": {}}}
    )
    _write(
        out / "assembly-ShopPipeline-Prod-1" / "manifest.json",
        {
            "version": "55.0.0",
            "artifacts": {
                "ShopPipelineProd1App": {
                    "type": "aws:cloudformation:stack",
                    "environment": f"aws://{PROD}/ca-central-1",
                    "properties": {
                        "templateFile": "ShopPipelineProd1App.template.json",
                        "stackName": "shop-prod-ca-central-1",
                    },
                    "displayName": "ShopPipeline/Prod-1/App",
                }
            },
        },
    )
    _write(
        out / "manifest.json",
        {
            "version": "55.0.0",
            "artifacts": {
                "assembly-ShopPipeline-Prod-1": {
                    "type": "cdk:cloud-assembly",
                    "properties": {"directoryName": "assembly-ShopPipeline-Prod-1", "displayName": "x"},
                },
                "ShopPipeline.assets": {"type": "cdk:asset-manifest", "properties": {"file": "x.json"}},
                "ShopPipeline": {
                    "type": "aws:cloudformation:stack",
                    "environment": f"aws://{TOOLING}/us-east-1",
                    "properties": {"templateFile": "ShopPipeline.template.json"},
                    "displayName": "ShopPipeline",
                },
                "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
            },
        },
    )
    return out


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return _fake_assembly(tmp_path / "cdk.out")


# --- hands_off.assembly -----------------------------------------------------------------------------


def test_reads_stacks_of_nested_assemblies_with_their_environments(out: Path) -> None:
    assembly = Assembly.read(out)

    assert [(s.artifact_id, s.account, s.region) for s in assembly.stacks] == [
        ("ShopPipelineProd1App", PROD, "ca-central-1"),
        ("ShopPipeline", TOOLING, "us-east-1"),
    ]
    app = assembly.stacks[0]
    assert app.stack_name == "shop-prod-ca-central-1"
    assert app.display_name == "ShopPipeline/Prod-1/App"
    assert app.template_path == out / "assembly-ShopPipeline-Prod-1" / "ShopPipelineProd1App.template.json"
    assert assembly.stacks[1].stack_name == "ShopPipeline"  # the artifact id when not given
    assert assembly.resource_count == 7


def test_reads_pipelines_stages_and_actions(out: Path) -> None:
    (pipeline,) = Assembly.read(out).pipelines

    assert (pipeline.stack, pipeline.logical_id, pipeline.name) == (
        "ShopPipeline",
        "Pipeline",
        "shop-application",
    )
    assert (pipeline.pipeline_type, pipeline.account, pipeline.region) == ("V2", TOOLING, "us-east-1")
    assert [stage.name for stage in pipeline.stages] == [
        "Source",
        "Build",
        "Gamma",
        "Prod-1",
        "Prod-2",
        "Prod-3",
    ]
    prod1 = pipeline.stage("Prod-1")
    assert prod1 is not None
    assert [a.name for a in prod1.actions] == [
        "Prod-1-Gate",
        "shop-prod-ca-central-1.Prepare",
        "shop-prod-ca-central-1.Deploy",
        "Prod-1-Bake",
    ]
    gate, prepare = prod1.actions[:2]
    assert (gate.provider, gate.category, gate.run_order, gate.account) == (
        "StepFunctions",
        "Invoke",
        1,
        None,
    )
    assert gate.region == "us-east-1"  # no Region: the pipeline's own
    assert (prepare.provider, prepare.region, prepare.account) == ("CloudFormation", "ca-central-1", PROD)
    assert prepare.configuration["StackName"] == "shop-prod-ca-central-1"
    assert pipeline.stage("Nope") is None


def test_stage_deploy_regions_in_order_of_first_use(out: Path) -> None:
    (pipeline,) = Assembly.read(out).pipelines

    regions = {stage.name: stage.deploy_regions for stage in pipeline.stages}

    assert regions == {
        "Source": (),
        "Build": (),
        "Gamma": ("us-west-2",),
        "Prod-1": ("ca-central-1",),
        "Prod-2": ("us-east-1",),
        "Prod-3": ("sa-east-1", "ap-south-1"),
    }


def test_ssm_parameters_and_step_inputs(out: Path) -> None:
    assembly = Assembly.read(out)

    parameters = assembly.ssm_parameters()
    assert json.loads(parameters["/hands-off/shop-application/gates/Prod-1-Bake"])["bake_seconds"] == 3600
    assert len(parameters) == 4  # the one whose name is not a literal is left out
    (pipeline,) = assembly.pipelines
    bake = pipeline.stages[3].actions[-1]
    assert bake.input == {
        "config_parameter": "/hands-off/shop-application/gates/Prod-1-Bake",
        "pipeline_execution_id": "#{x}",
    }
    assert pipeline.stages[3].actions[1].input is None


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda out: None, "no manifest.json"),
        (lambda out: (out / "manifest.json").write_text("{", encoding="utf-8"), "is not valid JSON"),
        (lambda out: (out / "ShopPipeline.template.json").unlink(), "ShopPipeline.template.json"),
    ],
)
def test_unreadable_assemblies_raise_one_clear_error(tmp_path: Path, setup: Any, message: str) -> None:
    out = tmp_path / "cdk.out"
    if message == "no manifest.json":
        out.mkdir()
    else:
        _fake_assembly(out)
    setup(out)

    with pytest.raises(AssemblyError, match=message):
        Assembly.read(out)


# --- hands_off.summary ------------------------------------------------------------------------------


def test_summary_prints_the_plan_of_the_assembly_it_reads(out: Path) -> None:
    text = summarize(out)

    assert text.splitlines() == [
        f"Synthesized 2 stacks (7 resources) into {out}/",
        "  shop-application [V2] (ShopPipeline): Source → Build → Gamma → Prod-1 → Prod-2 → Prod-3",
        "",
        f"Wave plan of shop-application (read from {out}/):",
        "wave   | regions               | bake",
        "-------+-----------------------+-----",
        "Prod-1 | ca-central-1          |  60m",
        "Prod-2 | us-east-1             |  30m",
        "Prod-3 | sa-east-1, ap-south-1 |    ?",
    ]


def test_summary_of_a_pipeline_without_production_stages(out: Path) -> None:
    template_path = out / "ShopPipeline.template.json"
    template = json.loads(template_path.read_text(encoding="utf-8"))
    stages = template["Resources"]["Pipeline"]["Properties"]["Stages"]
    template["Resources"]["Pipeline"]["Properties"]["Stages"] = stages[:2]
    template_path.write_text(json.dumps(template), encoding="utf-8")

    lines = summarize(out).splitlines()

    assert lines[-1] == "Wave plan of shop-application: no production stages (Prod-N)"


def test_main_prints_the_summary(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(out)]) == 0

    assert capsys.readouterr().out == summarize(out) + "\n"


@pytest.mark.parametrize("kind", ["missing", "not an assembly"])
def test_main_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out = tmp_path / "cdk.out"
    if kind == "not an assembly":
        out.mkdir()

    assert main([str(out)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("hands-off summary: error: ")
    assert len(captured.err.strip().splitlines()) == 1
    assert "make synth" in captured.err


def test_summary_does_not_import_the_example() -> None:
    unwanted = ("hands_off.example", "hands_off.model", "aws_cdk")
    code = (
        f"import sys, hands_off.summary; print(sorted(m for m in sys.modules if m.startswith({unwanted!r})))"
    )
    root = Path(__file__).resolve().parents[1]

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- the synthesized example fleet ------------------------------------------------------------------


@pytest.mark.synth
def test_summary_of_the_example_shows_each_pipelines_waves(fleet: Any) -> None:
    from hands_off.model import example_environments

    assembly = Assembly.read(fleet.outdir)
    waves = example_environments().waves

    text = summarize(fleet.outdir)

    files = list(Path(fleet.outdir).rglob("*.template.json"))
    assert text.splitlines()[0].startswith(f"Synthesized {len(files)} stacks (")
    for pipeline in assembly.pipelines:
        assert f"Wave plan of {pipeline.name} (read from {fleet.outdir}/):" in text
        for wave in waves:
            stage = pipeline.stage(wave.name)
            assert stage is not None
            assert stage.deploy_regions == wave.regions
            row = f"{wave.name} | {', '.join(wave.regions)}"
            assert any(
                line.startswith(row) and line.endswith(f"{wave.policy.bake_minutes}m")
                for line in text.splitlines()
            ), (row, text)
