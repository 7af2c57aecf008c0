"""The ``hands-off`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hands_off.cli import main
from hands_off.model import EXAMPLE_INVENTORY

FIXTURES = Path(__file__).parent / "fixtures"


def test_plan_prints_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "Wave plan of the built-in example fleet (9 regions, factor 2)"
    for entry in EXAMPLE_INVENTORY:
        assert entry.region in out
    assert "Prod-4" in out
    assert lines[-1] == "Total lead time, first wave start to last bake end: 3:50 (230 min)"


def test_plan_with_factor(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--factor", "1"]) == 0

    assert "Prod-5" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "argv", "detail"),
    [
        ("fleet.toml", [], "9 regions, factor 2"),
        ("fleet.toml", ["--factor", "3"], "9 regions, factor 3"),
        ("fleet.toml", ["--factor", "1.5"], "9 regions, factor 1.5"),
        ("fleet_waves.toml", [], "7 regions, hand-listed waves"),
    ],
)
def test_plan_with_config_says_which_factor(
    capsys: pytest.CaptureFixture[str], name: str, argv: list[str], detail: str
) -> None:
    assert main(["plan", "--config", str(FIXTURES / name), *argv]) == 0

    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"Wave plan of {FIXTURES / name} ({detail})"
    assert "ca-central-1" in out


@pytest.mark.parametrize(("planner", "factor"), [("", "2"), ("[planner]\nfactor = 3.0\n", "3")])
def test_plan_heading_reads_the_files_planner_factor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], planner: str, factor: str
) -> None:
    text = (FIXTURES / "fleet.toml").read_text(encoding="utf-8").replace("[planner]\nfactor = 2.0\n", planner)
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")

    assert main(["plan", "--config", str(path)]) == 0

    assert capsys.readouterr().out.splitlines()[0] == f"Wave plan of {path} (9 regions, factor {factor})"


def test_bootstrap_prints_the_example_fleets_script(capsys: pytest.CaptureFixture[str]) -> None:
    from hands_off.bootstrap import bootstrap_commands, bootstrap_plan, render_bootstrap
    from hands_off.model import example_environments

    assert main(["bootstrap"]) == 0

    out, err = capsys.readouterr()
    assert err == ""
    envs = example_environments()
    assert out == render_bootstrap(bootstrap_plan(envs), source="the built-in example fleet") + "\n"
    assert out.startswith("#!/usr/bin/env bash\n")
    assert "\ncdk bootstrap aws://111111111111/us-east-1 aws://111111111111/us-west-2" in out
    commands = bootstrap_commands(envs)
    # per account: (create the execution policy,) bootstrap, then deploy its account-region baselines
    assert len(commands) == 8
    assert [c for c in commands if c.startswith("cdk deploy")] == [
        "cdk deploy --exclusively HandsOffBaseline-111111111111-us-east-1"
        " HandsOffGateRoles-111111111111-us-east-1",
        "cdk deploy --exclusively HandsOffBaseline-222222222222-us-west-2"
        " HandsOffBaseline-222222222222-eu-west-1",
        "cdk deploy --exclusively " + " ".join(
            f"HandsOffBaseline-333333333333-{region}"
            for region in ("ca-central-1", "us-east-1", "ap-south-1", "sa-east-1", "ap-southeast-2",
                           "ap-northeast-1", "eu-central-1", "eu-west-1", "us-west-2")
        ),
    ]  # fmt: skip


def test_bootstrap_with_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hands_off.bootstrap import bootstrap_plan, render_bootstrap
    from hands_off.model import load_environments

    monkeypatch.chdir(tmp_path)  # no cdk.out to check the file against (test_bootstrap_assembly.py)
    path = FIXTURES / "fleet_waves.toml"

    assert main(["bootstrap", "--config", str(path)]) == 0

    out = capsys.readouterr().out
    assert out == render_bootstrap(bootstrap_plan(load_environments(path)), source=str(path)) + "\n"
    assert f"# CDK bootstrap for {path}" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--factor", "0.5"], "hands-off: error: factor: must be a number of at least 1.0"),
        (["plan", "--config", "nope.toml"], "hands-off: error: nope.toml: No such file or directory"),
        (["plan", "--config", str(FIXTURES)], "hands-off: error: "),
        (
            ["plan", "--config", str(FIXTURES / "fleet_waves.toml"), "--factor", "3"],
            "hands-off: error: factor: applies only to a fleet with [[inventory]]",
        ),
        (["bootstrap", "--config", "nope.toml"], "hands-off: error: nope.toml: No such file or directory"),
        (["bootstrap", "--config", str(FIXTURES)], "hands-off: error: "),
    ],
)
def test_user_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(message)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_bad_config_file_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (FIXTURES / "fleet.toml").read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('\nregion = "us-east-1"', '\nregion = "us-est-1"'), encoding="utf-8")

    assert main(["plan", "--config", str(path)]) == 2

    err = capsys.readouterr().err
    assert err == (
        f"hands-off: error: {path}: inventory.1.region: 'us-est-1' is not a known AWS region "
        "(did you mean 'us-east-1'?)\n"
    )


@pytest.mark.parametrize("argv", [[], ["deploy"], ["plan", "--factor", "x"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2

    assert "usage: hands-off" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["plan", "bootstrap"])
def test_help_exits_0(capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert main([command, "--help"]) == 0

    out = capsys.readouterr().out
    assert "--config FILE" in out
    if command == "bootstrap":
        assert "--assembly DIR" in out


def test_bootstrap_with_a_bad_config_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (FIXTURES / "fleet.toml").read_text(encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(text.replace('prod = "333333333333"', 'prod = "3333"'), encoding="utf-8")

    assert main(["bootstrap", "--config", str(path)]) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"hands-off: error: {path}: accounts.prod: ")
    assert len(err.strip().splitlines()) == 1


def test_runs_as_a_module() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "hands_off.cli", "plan"], cwd=root, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "Prod-1" in result.stdout


def test_a_closed_pipe_is_not_reported_as_a_fleet_file_error() -> None:
    """Like `hands-off plan | head -1`, with the reader gone before anything is written."""
    root = Path(__file__).resolve().parents[2]
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "hands_off.cli", "plan"],
            cwd=root,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)

    assert result.returncode == 0
    assert result.stderr == ""


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from hands_off import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hands-off {__version__}\n"


def test_init_writes_a_repository_and_says_what_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", str(tmp_path / "pay"), "--service", "pay"]) == 0
    assert "make test && make synth" in capsys.readouterr().out
    assert (tmp_path / "pay" / "infra" / "service.py").is_file()


def test_init_into_a_busy_folder_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "keep.txt").write_text("x")
    assert main(["init", str(tmp_path), "--service", "pay"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("hands-off: error: DIR: ")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_help_lists_check_and_diagram(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0

    out = capsys.readouterr().out
    assert "check" in out
    assert "diagram" in out


@pytest.mark.parametrize("command", ["check", "diagram"])
def test_check_and_diagram_without_an_assembly_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert main([command, str(tmp_path / "cdk.out")]) == 2

    assert capsys.readouterr().err.startswith("hands-off: error: assembly: ")
