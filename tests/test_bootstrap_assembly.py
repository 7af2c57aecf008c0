"""``hands-off bootstrap --assembly``: the bootstrap script of what the app really synthesizes.

Found by a new-user trial: a pipeline subclass can add a region in ``environments()`` that the fleet
file lacks, and the script built from the fleet file then neither bootstraps that account and
region nor deploys its baseline (the paging topic the copies' alarms publish to).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from hands_off.assembly import Assembly, AssemblyError
from hands_off.bootstrap import assembly_bootstrap_plan, bootstrap_plan, render_bootstrap
from hands_off.cli import main
from hands_off.example import OrdersPipeline
from hands_off.model import Account, Environments, Target, load_environments
from hands_off.naming import baseline_stack_id, gate_roles_stack_id
from hands_off.stacks.account_baseline import add_account_baselines
from hands_off.testing import app_context

ROOT = Path(__file__).resolve().parent.parent
FLEET = ROOT / "examples" / "fleet.toml"
TOOLING, PREPROD, PROD = "111111111111", "222222222222", "333333333333"
EXTRA = "eu-north-1"  # the region only the code adds


class OrdersWithExtraRegion(OrdersPipeline):
    """The fleet file's environments, plus one more production region added in code."""

    def environments(self) -> Environments:
        fleet = load_environments(FLEET)
        *waves, last = fleet.waves
        prod = Account(name="prod", account_id=PROD)
        last = dataclasses.replace(last, targets=(*last.targets, Target(account=prod, region=EXTRA)))
        return dataclasses.replace(fleet, waves=(*waves, last))


def _commands(script: str) -> list[str]:
    """The commands of a rendered script, continuation lines joined."""
    joined = script.replace(" \\\n    ", " ").splitlines()
    return [line for line in joined if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def extra_region_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app ``hands_off.run`` would synthesize for ``OrdersWithExtraRegion`` (without cdk-nag)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    previous = Path.cwd()
    os.chdir(ROOT)  # code folders are relative to the repository root
    try:
        app = App(context=app_context(ROOT / "cdk.json"), outdir=str(outdir))
        OrdersWithExtraRegion(app)
        add_account_baselines(app)
        app.synth()
    finally:
        os.chdir(previous)
    return outdir


@pytest.mark.synth
def test_the_fleet_file_script_misses_a_region_the_code_adds(extra_region_app: Path) -> None:
    """The premise: the app has the extra region's copy and baseline, the fleet file does not."""
    assembly = Assembly.read(extra_region_app)
    ids = {stack.display_name for stack in assembly.stacks}
    assert baseline_stack_id(PROD, EXTRA) in ids
    assert any(
        s.account == PROD and s.region == EXTRA and s.display_name.endswith("/App") for s in assembly.stacks
    )
    fleet_script = render_bootstrap(bootstrap_plan(load_environments(FLEET)), source=str(FLEET))
    assert f"aws://{PROD}/{EXTRA}" not in fleet_script
    assert baseline_stack_id(PROD, EXTRA) not in fleet_script


@pytest.mark.synth
def test_assembly_script_bootstraps_and_deploys_the_region_the_code_adds(
    extra_region_app: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no cdk.out here

    assert main(["bootstrap", "--assembly", str(extra_region_app)]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    commands = _commands(out)
    [prod_bootstrap] = [c for c in commands if c.startswith("cdk bootstrap") and f"aws://{PROD}/" in c]
    assert f"aws://{PROD}/{EXTRA}" in shlex.split(prod_bootstrap)
    assert f"--trust {TOOLING}" in prod_bootstrap
    # The tooling account hosts CDK Pipelines' support stack in the extra region too.
    [tooling_bootstrap] = [c for c in commands if c.startswith("cdk bootstrap") and f"aws://{TOOLING}/" in c]
    assert f"aws://{TOOLING}/{EXTRA}" in shlex.split(tooling_bootstrap)
    deploys = [c for c in commands if c.startswith("cdk deploy --exclusively")]
    assert any(baseline_stack_id(PROD, EXTRA) in shlex.split(c) for c in deploys)
    # Every stack the script deploys exists in the assembly, by the id `cdk deploy` selects it with.
    ids = {stack.display_name for stack in Assembly.read(extra_region_app).stacks}
    deployed = {word for c in deploys for word in shlex.split(c)[3:]}
    assert gate_roles_stack_id(TOOLING, "us-east-1") in deployed
    assert deployed <= ids
    assert {i for i in ids if i.startswith(("HandsOffBaseline-", "HandsOffGateRoles-"))} == deployed


@pytest.mark.synth
def test_fleet_file_plan_that_lacks_what_the_assembly_deploys_fails_in_one_line(
    extra_region_app: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["bootstrap", "--config", str(FLEET), "--assembly", str(extra_region_app)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("hands-off: error: --config: ")
    assert len(err.strip().splitlines()) == 1
    assert f"aws://{PROD}/{EXTRA}" in err
    assert baseline_stack_id(PROD, EXTRA) in err
    assert f"--assembly {extra_region_app}" in err  # the fix


# --- hand-written assemblies (no synth) ----------------------------------------------------------

OTHER = "444444444444"
Stacks = list[tuple[str, str, str | None, dict[str, Any]]]
"""(artifact id, display name, ``aws://account/region`` or ``None``, template)."""


def _deploy(artifact: str, directory: str, region: str, account: str) -> dict[str, Any]:
    """CDK Pipelines' change set preparation of a stage stack."""
    return {
        "Name": f"{artifact}.Prepare",
        "ActionTypeId": {"Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1"},
        "Configuration": {
            "StackName": artifact,
            "TemplatePath": f"Synth_Output::{directory}/{artifact}.template.json",
        },
        "Region": region,
        "RoleArn": f"arn:aws:iam::{account}:role/cdk-hnb659fds-deploy-role",
    }


def _pipeline(name: str, stages: list[tuple[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    return {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {"Name": name, "Stages": [{"Name": n, "Actions": a} for n, a in stages]},
            }
        }
    }


def _write(directory: Path, stacks: Stacks, nested: dict[str, Stacks] | None = None) -> Path:
    """A cloud assembly of ``stacks``, with each of ``nested`` (directory → stacks) a stage assembly."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for artifact_id, display, environment, template in stacks:
        (directory / f"{artifact_id}.template.json").write_text(json.dumps(template), encoding="utf-8")
        artifacts[artifact_id] = {
            "type": "aws:cloudformation:stack",
            "environment": environment or "aws://unknown-account/unknown-region",
            "displayName": display,
            "properties": {"templateFile": f"{artifact_id}.template.json"},
        }
    for name, inner in (nested or {}).items():
        _write(directory / name, inner)
        artifacts[name] = {"type": "cdk:cloud-assembly", "properties": {"directoryName": name}}
    (directory / "manifest.json").write_text(json.dumps({"artifacts": artifacts}), encoding="utf-8")
    return directory


EMPTY: dict[str, Any] = {"Resources": {}}


def _small_app(directory: Path) -> Path:
    """Pipeline ``P`` in the tooling account's us-east-1: Alpha deploys an app and the preprod
    access stack to us-west-2, Prod-1 an app to the prod account's ap-south-1. Baselines where the
    app pages (not prod's: nothing there pages), the gate roles, an environment-agnostic stack and a
    stack of another account that no pipeline deploys."""
    alpha, prod1 = "assembly-P-Alpha", "assembly-P-Prod-1"
    pipeline = _pipeline(
        "svc-application",
        [
            ("Source", []),
            (
                "Alpha",
                [
                    _deploy("PAlphaAccesspreprod", alpha, "us-west-2", PREPROD),
                    _deploy("PAlphaApp", alpha, "us-west-2", PREPROD),
                ],
            ),
            ("Prod-1", [_deploy("PProd1App", prod1, "ap-south-1", PROD)]),
        ],
    )
    return _write(
        directory,
        [
            ("P", "P", f"aws://{TOOLING}/us-east-1", pipeline),
            ("cross-region-stack-111111111111_us-west-2", "x", f"aws://{TOOLING}/us-west-2", EMPTY),
            (
                gate_roles_stack_id(TOOLING, "us-east-1"),
                gate_roles_stack_id(TOOLING, "us-east-1"),
                f"aws://{TOOLING}/us-east-1",
                EMPTY,
            ),
            (
                baseline_stack_id(TOOLING, "us-east-1"),
                baseline_stack_id(TOOLING, "us-east-1"),
                f"aws://{TOOLING}/us-east-1",
                EMPTY,
            ),
            (
                baseline_stack_id(PREPROD, "us-west-2"),
                baseline_stack_id(PREPROD, "us-west-2"),
                f"aws://{PREPROD}/us-west-2",
                EMPTY,
            ),
            ("Agnostic", "Agnostic", None, EMPTY),
            ("Other", "Other", f"aws://{OTHER}/eu-west-1", EMPTY),
        ],
        {
            alpha: [
                ("PAlphaAccesspreprod", "P/Alpha/Access-preprod", f"aws://{PREPROD}/us-west-2", EMPTY),
                ("PAlphaApp", "P/Alpha/App", f"aws://{PREPROD}/us-west-2", EMPTY),
            ],
            prod1: [("PProd1App", "P/Prod-1/App", f"aws://{PROD}/ap-south-1", EMPTY)],
        },
    )


def test_assembly_plan_bootstraps_every_environment_with_a_stack_and_deploys_the_baselines_it_has(
    tmp_path: Path,
) -> None:
    plan = assembly_bootstrap_plan(Assembly.read(_small_app(tmp_path / "cdk.out")))

    assert (plan.toolchain.account.account_id, plan.toolchain.region) == (TOOLING, "us-east-1")
    tooling, preprod, prod, other = plan.accounts
    assert [e.account.account_id for e in plan.accounts] == [TOOLING, PREPROD, PROD, OTHER]
    # the pipelines' region first, then every region a stage deploys to (support stacks)
    assert tooling.regions == ("us-east-1", "us-west-2", "ap-south-1")
    assert (tooling.tooling, tooling.trust, tooling.stages) == (True, None, ())
    assert tooling.baseline_stacks == (
        baseline_stack_id(TOOLING, "us-east-1"),
        gate_roles_stack_id(TOOLING, "us-east-1"),
    )
    assert (preprod.account.name, preprod.regions, preprod.stages) == ("preprod", ("us-west-2",), ("Alpha",))
    assert (preprod.trust, preprod.tooling) == (TOOLING, False)
    assert preprod.baseline_stacks == (baseline_stack_id(PREPROD, "us-west-2"),)
    # no baseline in the assembly, none deployed: `cdk deploy` would find no such stack
    assert (prod.account.name, prod.regions, prod.stages, prod.baseline_stacks) == (
        "target",
        ("ap-south-1",),
        ("Prod-1",),
        (),
    )
    assert (other.regions, other.stages, other.trust) == (("eu-west-1",), (), TOOLING)
    commands = plan.commands()
    assert f"cdk bootstrap aws://{OTHER}/eu-west-1 --trust {TOOLING}" in " ".join(commands)
    assert not any("unknown" in c for c in commands)  # the environment-agnostic stack is left out
    assert sum(c.startswith("cdk deploy") for c in commands) == 2
    script = render_bootstrap(plan, source="x")
    assert f"Account {OTHER} (target): stacks no pipeline stage deploys, in eu-west-1." in script


def test_gate_roles_without_a_baseline_are_still_deployed(tmp_path: Path) -> None:
    directory = _small_app(tmp_path / "cdk.out")
    (directory / f"{baseline_stack_id(TOOLING, 'us-east-1')}.template.json").unlink()
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest["artifacts"][baseline_stack_id(TOOLING, "us-east-1")]
    (directory / "manifest.json").write_text(json.dumps(manifest))

    [tooling, *_] = assembly_bootstrap_plan(Assembly.read(directory)).accounts

    assert (
        tooling.baseline_deploy_command()
        == f"cdk deploy --exclusively {gate_roles_stack_id(TOOLING, 'us-east-1')}"
    )
    script = render_bootstrap(assembly_bootstrap_plan(Assembly.read(directory)), source="x")
    assert "# Then the gate roles every pipeline in us-east-1 runs its gates as" in script


def test_missing_names_what_one_plan_lacks_of_another(tmp_path: Path) -> None:
    needed = assembly_bootstrap_plan(Assembly.read(_small_app(tmp_path / "cdk.out")))
    fleet = bootstrap_plan(load_environments(FLEET))

    assert needed.missing(needed) == ()
    assert fleet.missing(needed) == (
        f"cdk bootstrap aws://{OTHER}/eu-west-1",
    )  # the fleet bootstraps and deploys everything else, and more (fine)
    assert needed.missing(fleet)[0] == f"cdk bootstrap aws://{TOOLING}/eu-west-1"
    moved = dataclasses.replace(fleet, toolchain=Target(account=fleet.toolchain.account, region="eu-west-1"))
    assert (
        moved.missing(needed)[0]
        == f"the pipelines' aws://{TOOLING}/us-east-1 (it has aws://{TOOLING}/eu-west-1)"
    )


@pytest.mark.parametrize(
    ("stacks", "message"),
    [
        ([("Other", "Other", f"aws://{OTHER}/eu-west-1", EMPTY)], "has no pipeline, so no tooling account"),
        (
            [
                ("P", "P", f"aws://{TOOLING}/us-east-1", _pipeline("a", [])),
                ("Q", "Q", f"aws://{TOOLING}/eu-west-1", _pipeline("b", [])),
            ],
            f"has pipelines in aws://{TOOLING}/us-east-1, aws://{TOOLING}/eu-west-1",
        ),
        ([("P", "P", None, _pipeline("a", []))], "a pipeline stack has no account and region"),
    ],
)
def test_an_assembly_without_one_tooling_environment_is_refused(
    tmp_path: Path, stacks: Stacks, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = _write(tmp_path / "cdk.out", stacks)
    with pytest.raises(AssemblyError, match=message):
        assembly_bootstrap_plan(Assembly.read(directory))

    assert main(["bootstrap", "--assembly", str(directory)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"hands-off: error: --assembly: {directory}: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_config_is_checked_against_the_cdk_out_of_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _small_app(tmp_path / "cdk.out")

    assert main(["bootstrap", "--config", str(FLEET)]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"hands-off: error: --config: {FLEET} lacks what the app synthesized in cdk.out (found in the "
        f"working directory) needs: cdk bootstrap aws://{OTHER}/eu-west-1 (a pipeline's environments() "
        "adds them in code, or the file is another fleet's); print the script of the app instead: "
        "hands-off bootstrap --assembly cdk.out\n"
    )


def test_config_that_covers_the_assembly_prints_the_fleet_files_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    directory = _small_app(tmp_path / "elsewhere")
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest["artifacts"]["Other"]
    (directory / "manifest.json").write_text(json.dumps(manifest))

    assert main(["bootstrap", "--config", str(FLEET), "--assembly", str(directory)]) == 0

    out = capsys.readouterr().out
    assert out == render_bootstrap(bootstrap_plan(load_environments(FLEET)), source=str(FLEET)) + "\n"


def test_an_unreadable_cdk_out_in_the_working_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "manifest.json").write_text("{")

    assert main(["bootstrap", "--config", str(FLEET)]) == 2

    err = capsys.readouterr().err
    assert err.startswith("hands-off: error: --assembly: cdk.out/manifest.json: is not valid JSON")
    assert len(err.strip().splitlines()) == 1


def test_the_example_fleet_script_is_refused_where_an_app_deploys_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """New-user trial: `hands-off bootstrap` with no argument, run in a service repository after
    `make synth`, printed the built-in example fleet's script (exit 0), not the app's."""
    monkeypatch.chdir(tmp_path)
    _small_app(tmp_path / "cdk.out")

    assert main(["bootstrap"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        "hands-off: error: bootstrap: the built-in example fleet lacks what the app synthesized in "
        "cdk.out (found in the working directory) needs: "
    )
    assert err.rstrip().endswith(
        "print the script of the app instead: hands-off bootstrap --assembly cdk.out"
    )
    assert len(err.strip().splitlines()) == 1


def test_the_example_fleet_script_without_an_assembly_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no cdk.out here

    assert main(["bootstrap"]) == 0

    assert "cdk bootstrap" in capsys.readouterr().out
