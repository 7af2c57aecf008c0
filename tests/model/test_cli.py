"""The ``hands-off`` command line."""

from __future__ import annotations

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


@pytest.mark.parametrize("name", ["fleet.toml", "fleet_waves.toml"])
def test_plan_with_config(capsys: pytest.CaptureFixture[str], name: str) -> None:
    assert main(["plan", "--config", str(FIXTURES / name)]) == 0

    out = capsys.readouterr().out
    assert out.startswith(f"Wave plan of {FIXTURES / name}")
    assert "ca-central-1" in out


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
        "hands-off: error: inventory.1.region: 'us-est-1' is not a known AWS region "
        "(did you mean 'us-east-1'?)\n"
    )


@pytest.mark.parametrize("argv", [[], ["deploy"], ["plan", "--factor", "x"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2

    assert "usage: hands-off" in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--help"]) == 0

    assert "--config FILE" in capsys.readouterr().out


def test_runs_as_a_module() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "hands_off.cli", "plan"], cwd=root, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert "Prod-1" in result.stdout
