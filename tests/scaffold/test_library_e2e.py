"""hands-off as a library, end to end, the way a new team uses it.

Build the wheel, install it into a fresh virtualenv outside the repository, run ``hands-off init``
into a temporary folder, then run the new repository's own ``make test`` and ``make -s bootstrap``
(which runs its ``make synth`` first) with ``PIP_FIND_LINKS`` pointing at the wheel. The scaffold
must synthesize a pipeline with every stage, gate, bake and CodeDeploy group the example pipelines
have, and its Build must refer only to what the scaffold holds. About two minutes (two
virtualenvs, mostly from pip's cache); it is the test that proves the wheel alone is enough.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "payments"

pytestmark = pytest.mark.e2e


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed in {cwd}:\n{output[-6000:]}"
    return output


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without this repository's virtualenv or Node on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "JSII_NODE", "PYTHONPATH")}
    here = {str(ROOT / ".venv" / "bin"), str(ROOT / "node_modules" / ".bin")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p not in here)
    # Make's variables of the calling `make test` must not leak into the scaffold's make.
    for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "CDK_CONTEXT", "CDK_OUT", "CI", "CODEBUILD_BUILD_ID"):
        env.pop(name, None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("library")
    wheels = work / "wheels"
    # Build from a copy: setuptools' build/ folder in the checkout may hold stale modules.
    source = work / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "build", "cdk.out*", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)], cwd=work)
    [wheel] = wheels.glob("hands_off-*.whl")
    user_venv = work / "user-venv"
    venv.create(user_venv, with_pip=True)
    env = _clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    # --no-compile: this virtualenv only runs `hands-off init` and `--version`, which import no
    # aws-cdk-lib (tests/test_lazy_imports.py); byte-compiling its modules took ~20 s of CPU.
    _run(
        [str(user_venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile", str(wheel)],
        cwd=work,
        env=env,
    )
    version = _run([str(user_venv / "bin" / "hands-off"), "--version"], cwd=work, env=env)
    repo = work / SERVICE
    _run([str(user_venv / "bin" / "hands-off"), "init", str(repo), "--service", SERVICE], cwd=work, env=env)
    make_env = _clean_env(PIP_FIND_LINKS=str(wheels))
    test_output = _run(["make", "test"], cwd=repo, env=make_env)
    # `make -s bootstrap > bootstrap.sh`, as the scaffold's README says: `make synth`, then the script.
    bootstrap = subprocess.run(
        ["make", "-s", "bootstrap"], cwd=repo, env=make_env, capture_output=True, text=True, timeout=900
    )
    assert bootstrap.returncode == 0, f"make -s bootstrap failed in {repo}:\n{bootstrap.stderr[-6000:]}"
    return {
        "wheel": wheel,
        "version": version,
        "repo": repo,
        "test_output": test_output,
        "synth_output": bootstrap.stderr,
        "bootstrap_script": bootstrap.stdout,
    }


def test_the_wheel_holds_the_gate_runtime_and_the_scaffold(scaffold: dict[str, Any]) -> None:
    import zipfile

    names = set(zipfile.ZipFile(scaffold["wheel"]).namelist())
    assert "hands_off_gates/decide.py" in names
    assert "hands_off/scaffold/templates/Makefile.tmpl" in names
    assert "hands_off/py.typed" in names
    from hands_off import __version__

    assert scaffold["version"].strip() == f"hands-off {__version__}"


def test_the_scaffold_holds_no_copy_of_hands_off(scaffold: dict[str, Any]) -> None:
    repo: Path = scaffold["repo"]
    tracked = [
        p
        for p in repo.rglob("*")
        if p.is_file() and not {".venv", "node_modules", "cdk.out"} & set(p.relative_to(repo).parts)
    ]
    assert not [p for p in tracked if p.name in ("service_pipeline.py", "decide.py")]
    # Its own .venv got hands-off from the wheel, not from this checkout.
    [installed] = (repo / ".venv").glob("lib/python*/site-packages/hands_off_gates")
    assert ROOT not in installed.resolve().parents


def test_make_test_ran_the_unit_tests_and_recorded_the_pipeline_snapshot(scaffold: dict[str, Any]) -> None:
    assert re.search(r"\b3 passed\b", scaffold["test_output"]), scaffold["test_output"][-2000:]
    assert list((scaffold["repo"] / "tests" / "__snapshots__").glob("*.ambr"))


def test_in_ci_a_missing_snapshot_fails_instead_of_being_recorded(scaffold: dict[str, Any]) -> None:
    """The pipeline's Build runs `make test` on a fresh checkout: an uncommitted snapshot must not
    pass by recording itself there."""
    repo: Path = scaffold["repo"]
    snapshots, aside = repo / "tests" / "__snapshots__", repo / "snapshots-aside"
    snapshots.rename(aside)
    try:
        result = subprocess.run(
            ["make", "test"], cwd=repo, env=_clean_env(CODEBUILD_BUILD_ID="x"), capture_output=True, text=True
        )
    finally:
        aside.rename(snapshots)
    assert result.returncode != 0
    assert "tests/__snapshots__ is missing" in result.stderr
    assert not (repo / "tests" / "__snapshots__" / "__snapshots__").exists()


def test_synth_makes_one_pipeline_with_everything_the_example_has(scaffold: dict[str, Any]) -> None:
    """Same stages, gates, bakes and CodeDeploy groups as the example pipelines (same fleet)."""
    templates = {
        p: json.loads(p.read_text()) for p in sorted((scaffold["repo"] / "cdk.out").rglob("*.template.json"))
    }
    [pipeline] = [
        r["Properties"]
        for t in templates.values()
        for r in t["Resources"].values()
        if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["Name"] == f"{SERVICE}-application"
    assert [s["Name"] for s in pipeline["Stages"]] == [
        "Source", "Build", "UpdatePipeline", "Assets", "Alpha", "Beta", "Gamma", "Zeta",
        "Prod-1", "Prod-2", "Prod-3", "Prod-4",
    ]  # fmt: skip
    groups = [
        r
        for t in templates.values()
        for r in t.get("Resources", {}).values()
        if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    ]
    assert len(groups) == 13  # Alpha 1 + Beta 1 + Gamma 2 + 9 production regions
    assert all(g["Properties"]["AutoRollbackConfiguration"]["Enabled"] for g in groups)
    parameters = {
        r["Properties"]["Name"]
        for t in templates.values()
        for r in t.get("Resources", {}).values()
        if r["Type"] == "AWS::SSM::Parameter"
    }
    steps = ["Gamma", "Prod-1", "Prod-2", "Prod-3", "Prod-4"]
    assert {f"/hands-off/{SERVICE}-application/gates/{s}-{k}" for s in steps for k in ("Gate", "Bake")} <= (
        parameters
    )
    assert "Synthesized" in scaffold["synth_output"]
    # new-user trial: the CLI's "Supply a stack id" line read as something to act on
    assert "Supply a stack id" not in scaffold["synth_output"]


def test_the_build_refers_only_to_what_the_scaffold_holds(scaffold: dict[str, Any]) -> None:
    repo: Path = scaffold["repo"]
    template = json.loads((repo / "cdk.out" / "PaymentsPipeline.template.json").read_text())
    [synth] = [
        r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::CodeBuild::Project" and "Synth" in k
    ]
    spec = json.loads(synth["Source"]["BuildSpec"])
    commands = [c for phase in spec["phases"].values() for c in phase["commands"]]
    assert commands[0] == "make setup"
    makefile = (repo / "Makefile").read_text()
    for command in commands:
        assert ".venv/bin" not in command, command
        assert "hands_off/" not in command, command
        if command.startswith("make "):
            target = command.split()[1]
            assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{command}: no such target"
        for directory in re.findall(r"CODE_DIRECTORY=(\S+)", command):
            assert (repo / directory / "app.py").is_file()


def test_make_bootstrap_deploys_exactly_the_baselines_the_app_has(
    scaffold: dict[str, Any], tmp_path: Path
) -> None:
    """The script ``make -s bootstrap`` prints is of the assembly ``make synth`` wrote: every stack
    id it deploys exists there, every baseline and gate-roles stack there is deployed, and every
    environment a stack is in is bootstrapped."""
    from hands_off.assembly import Assembly

    script: str = scaffold["bootstrap_script"]
    assert script.startswith("#!/usr/bin/env bash\n# CDK bootstrap for the app synthesized in cdk.out")
    path = tmp_path / "bootstrap.sh"
    path.write_text(script, encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0
    commands = [c for c in script.replace(" \\\n    ", " ").splitlines() if c and not c.startswith("#")]
    deployed = {w for c in commands if c.startswith("cdk deploy --exclusively ") for w in c.split()[3:]}
    bootstrapped = {
        w for c in commands if c.startswith("cdk bootstrap ") for w in c.split() if w.startswith("aws://")
    }
    stacks = Assembly.read(scaffold["repo"] / "cdk.out").stacks
    ids = {stack.display_name for stack in stacks}
    assert deployed <= ids
    assert deployed == {i for i in ids if i.startswith(("HandsOffBaseline-", "HandsOffGateRoles-"))}
    assert len(deployed) == 13  # 12 baselines (as the example fleet's) and the gate roles
    assert bootstrapped == {f"aws://{stack.account}/{stack.region}" for stack in stacks}
