"""``hands_off.run``: the entry point of a user's ``app.py``. A configuration mistake is one line on
stderr and exit status 2, never a traceback, wherever it is raised (in the build, inside the
model, in a jsii callback during synth, or in a fleet file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hands_off
from hands_off.model import ConfigError
from hands_off.runner import error_line

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def run_app(tmp_path: Path, body: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Write ``body`` as ``app.py`` in ``tmp_path`` and run it as ``cdk synth`` would."""
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(body), encoding="utf-8")
    env = dict(os.environ)
    # The venv's Node runs jsii (as in the Makefile); cdk.out goes to the test's folder.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_OUTDIR"] = str(tmp_path / "cdk.out")
    result = subprocess.run(
        [sys.executable, str(app)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    return result, app


def line_of(app: Path, marker: str) -> int:
    """The 1-based line of ``app`` holding ``marker``."""
    lines = app.read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, start=1) if marker in text)


def assert_one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("hands-off: ")
    return result.stderr.rstrip("\n")


@pytest.mark.synth
def test_a_config_error_raised_in_build_is_one_line_with_the_users_line(tmp_path: Path) -> None:
    result, app = run_app(
        tmp_path,
        """
        from hands_off import ConfigError, run

        def build(app):
            raise ConfigError("Orders.service_name", "'Orders' is not lower-case; use 'orders'")  # HERE

        run(build)
        """,
    )

    line = assert_one_line(result)
    assert line == (
        f"hands-off: app.py:{line_of(app, '# HERE')}: Orders.service_name: "
        "'Orders' is not lower-case; use 'orders'"
    )


@pytest.mark.synth
def test_a_model_error_points_at_the_users_line_not_the_model(tmp_path: Path) -> None:
    result, app = run_app(
        tmp_path,
        """
        from hands_off.model import GatePolicy

        def gate_policy():
            return GatePolicy(org_alarm_prefixes="acme-critical-")  # HERE

        def build(app):
            gate_policy()

        from hands_off import run
        run(build)
        """,
    )

    line = assert_one_line(result)
    assert line.startswith(f"hands-off: app.py:{line_of(app, '# HERE')}: GatePolicy.org_alarm_prefixes: ")


@pytest.mark.synth
def test_a_config_error_from_a_jsii_callback_during_synth_is_one_line(tmp_path: Path) -> None:
    result, app = run_app(
        tmp_path,
        """
        import jsii
        from aws_cdk import Aspects, IAspect, Stack
        from hands_off import ConfigError, run

        @jsii.implements(IAspect)
        class Check:
            def visit(self, node):
                raise ConfigError("Check.node", "always fails; remove the check")

        def build(app):
            Stack(app, "Empty")
            Aspects.of(app).add(Check())

        run(build, nag=False)
        """,
    )

    line = assert_one_line(result)
    where = f"app.py:{line_of(app, 'raise ConfigError')}"
    assert line == f"hands-off: {where}: Check.node: always fails; remove the check"


@pytest.mark.synth
def test_a_fleet_file_error_names_the_file_and_the_key(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.toml"
    text = (FIXTURES / "fleet_waves.toml").read_text(encoding="utf-8")
    fleet.write_text(text.replace('alpha = ["us-west-2"]', 'alpha = ["us-wst-2"]'), encoding="utf-8")
    result, _ = run_app(
        tmp_path,
        f"""
        from hands_off import load_environments, run

        run(lambda app: load_environments({str(fleet)!r}))
        """,
    )

    line = assert_one_line(result)
    assert line == (
        f"hands-off: {fleet}: stages.alpha.0: 'us-wst-2' is not a known AWS region "
        "(did you mean 'us-west-2'?)"
    )


@pytest.mark.synth
def test_a_good_app_synthesizes_and_exits_0(tmp_path: Path) -> None:
    result, _ = run_app(
        tmp_path,
        """
        from aws_cdk import Stack
        from hands_off import run

        run(lambda app: Stack(app, "Empty"))
        """,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cdk.out" / "Empty.template.json").is_file()


@pytest.mark.synth
def test_a_bug_is_not_hidden(tmp_path: Path) -> None:
    result, _ = run_app(
        tmp_path,
        """
        from hands_off import run

        def build(app):
            raise KeyError("not a configuration mistake")

        run(build, nag=False)
        """,
    )

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "KeyError" in result.stderr


# ------------------------------------------------------------------ the line itself (in-process)


def test_error_line_without_a_user_frame_uses_the_field() -> None:
    assert (
        error_line(ConfigError("GatePolicy.windows", "bad; fix")) == "hands-off: GatePolicy.windows: bad; fix"
    )


def test_error_line_uses_argv0_as_the_program_name() -> None:
    line = error_line(ConfigError("X.y", "bad; fix"), argv0="orders-app")

    assert line == "orders-app: X.y: bad; fix"


def test_error_line_skips_frames_of_the_package() -> None:
    def user_code() -> None:
        hands_off.model.GatePolicy(org_alarm_names="x")  # type: ignore[arg-type]

    with pytest.raises(ConfigError) as caught:
        user_code()

    line = error_line(caught.value)
    assert line.startswith("hands-off: ")
    assert "test_runner.py:" in line
    assert ": GatePolicy.org_alarm_names: " in line


def test_run_is_exported_lazily() -> None:
    from hands_off.runner import run

    assert hands_off.run is run
    assert "run" in hands_off.__all__


@pytest.mark.synth
@pytest.mark.parametrize(
    "context",
    ['{"@aws-cdk/core:failSynthOnValidationErrors": false}', '{"@aws-cdk/core:appMode": "process"}'],
)
def test_context_cannot_turn_a_failed_validation_into_a_passing_synth(tmp_path: Path, context: str) -> None:
    """CDK decides whether a failed validation fails synth, from context a developer can set
    (cdk.json, ``-c``): ``run`` reads the report itself, so ``python app.py`` still fails."""
    env_context = f"CDK_CONTEXT_JSON={context!r}"
    result, _ = run_app(
        tmp_path,
        f"""
        import os, sys
        os.environ["CDK_CONTEXT_JSON"] = {context!r}  # {env_context}
        sys.path.insert(0, {str(ROOT)!r})
        from hands_off import run
        from tests.check.plain_pipeline import _PlainPipelineStack

        run(lambda app: _PlainPipelineStack(app, "PlainPipeline"))
        """,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    # CDK's Node runtime writes its own report lines on stderr through jsii's relay, which may
    # land after hands-off's line under load: look for hands-off's line, not the last one.
    ours = [
        line
        for line in result.stderr.strip().splitlines()
        if line.startswith("hands-off: synth failed validation: ")
    ]
    assert len(ours) == 1, result.stderr[-2000:]
    assert "HandsOff (HO-W1," in ours[0]
    assert "validation-report.json" in ours[0]


@pytest.mark.synth
def test_a_validation_report_left_by_an_earlier_synth_is_not_read(tmp_path: Path) -> None:
    """A synth without validation plugins writes no report: an old failing one in the output
    folder (cdk.out is not emptied between synths) must not fail it."""
    outdir = tmp_path / "cdk.out"
    outdir.mkdir()
    stale = {"pluginReports": [{"pluginName": "HandsOff", "conclusion": "failure", "violations": []}]}
    (outdir / "validation-report.json").write_text(json.dumps(stale), encoding="utf-8")
    result, _ = run_app(
        tmp_path,
        """
        import os
        os.environ["CDK_VALIDATION"] = "false"  # before jsii starts Node: no built-in validation
        from aws_cdk import Stack
        from hands_off import run

        run(lambda app: Stack(app, "Plain"), nag=False)
        """,
    )
    assert result.returncode == 0, result.stderr[-2000:]
