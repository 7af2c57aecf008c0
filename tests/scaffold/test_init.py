"""``hands-off init``: what it writes, what it refuses, and that its pinned files follow ours."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from hands_off import __version__
from hands_off.model import ConfigError
from hands_off.scaffold import init_project

ROOT = Path(__file__).resolve().parents[2]


def test_writes_a_repository_that_depends_on_this_version(tmp_path: Path) -> None:
    target = tmp_path / "payments"
    written = {p.relative_to(target).as_posix() for p in init_project(target, service="payments")}
    assert {
        "Makefile",
        "README.md",
        "app.py",
        "cdk.json",
        "fleet.toml",
        ".gitignore",
        "package.json",
        "package-lock.json",
        "requirements.txt",
        "infra/org.py",
        "infra/service.py",
        "payments/app.py",
        "payments/integ_test.py",
        "tests/test_app.py",
        "tests/test_pipeline.py",
    } <= written
    requirements = (target / "requirements.txt").read_text()
    assert f"hands-off=={__version__}\n" in requirements
    service = (target / "infra/service.py").read_text()
    assert "class PaymentsPipeline(OrgServicePipeline):" in service
    assert 'code_directory = "payments"' in service
    assert "{{" not in "".join(p.read_text() for p in target.rglob("*") if p.is_file())
    assert "`make -s bootstrap > bootstrap.sh`" in (target / "README.md").read_text()
    # The bootstrap script is of what the app synthesizes, not of fleet.toml alone: a pipeline can
    # add a region in code (found by a new-user trial).
    makefile = (target / "Makefile").read_text()
    assert "$(BIN)/hands-off bootstrap --assembly $(CDK_OUT)" in makefile
    assert "hands-off bootstrap --config" not in makefile
    # One list of pipelines for the app and the snapshot test: a second service added to the app
    # is snapshotted and nag-checked too (found by the new-user trial: the test built the first only).
    assert "def build(app: App) -> list[OrgServicePipeline]:" in service
    assert "hands_off.run(build)" in (target / "app.py").read_text()
    assert "built = build(app)" in (target / "tests/test_pipeline.py").read_text()
    # No copy of hands-off's code: the scaffold imports it.
    assert not (target / "hands_off").exists()
    assert not list(target.rglob("hands_off_gates"))


def test_the_org_class_can_come_from_a_shared_package(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    init_project(
        target,
        service="ledger-api",
        org_class="acme_pipelines.base:AcmeServicePipeline",
        org_requirement="acme-pipelines==1.2.0",
    )
    service = (target / "infra/service.py").read_text()
    assert "from acme_pipelines.base import AcmeServicePipeline" in service
    assert "class LedgerApiPipeline(AcmeServicePipeline):" in service
    assert 'code_directory = "ledger_api"' in service
    assert "acme-pipelines==1.2.0\n" in (target / "requirements.txt").read_text()
    assert not (target / "infra/org.py").exists()
    assert not (target / "fleet.toml").exists()
    # Nothing written refers to the files the shared package provides instead.
    assert "infra/org.py" not in (target / "README.md").read_text()
    assert "--config fleet.toml" not in (target / "Makefile").read_text()
    # `make bootstrap` reads the synthesized app, so it needs no fleet file here either (it used to
    # refuse without one, and the README named `hands-off bootstrap --config <the package's file>`).
    readme = (target / "README.md").read_text()
    assert "`make -s bootstrap > bootstrap.sh`" in readme
    assert "$(BIN)/hands-off bootstrap --assembly $(CDK_OUT)" in (target / "Makefile").read_text()
    assert "hands-off bootstrap --config" not in readme


def test_never_overwrites_anything(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match=r"^DIR: .*exists and is not an empty folder"):
        init_project(target, service="payments")
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"service": "Payments"}, "--service"),
        ({"service": "payments", "org_class": "acme_pipelines"}, "--org-class"),
        ({"service": "payments", "org_requirement": "acme==1"}, "--org-requirement"),
        ({"service": "payments", "repository": "https://github.com/acme/payments"}, "--repository"),
    ],
)
def test_bad_arguments_name_the_option(tmp_path: Path, kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{re.escape(field)}: "):
        init_project(tmp_path / "new", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "new").exists()


def test_scaffold_pins_follow_this_repository(tmp_path: Path) -> None:
    """The scaffold's cdk.json flags, CDK CLI lock and dependency pins are the ones we test with."""
    target = tmp_path / "payments"
    init_project(target, service="payments")
    ours = json.loads((ROOT / "cdk.json").read_text())
    theirs = json.loads((target / "cdk.json").read_text())
    assert theirs["context"] == ours["context"]
    assert theirs["app"] == ".venv/bin/python app.py"
    for name in ("package.json", "package-lock.json"):
        assert json.loads((target / name).read_text()) == json.loads((ROOT / name).read_text())
    pins = {
        line.split("==")[0]: line
        for file in ("requirements.txt", "requirements-dev.txt")
        for line in (ROOT / file).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    for line in (target / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0]
        if "==" in line and name != "hands-off":
            assert pins[name] == line, f"scaffold pins {line}, hands-off is tested with {pins[name]}"


def test_the_readme_lists_every_file_init_writes(tmp_path: Path) -> None:
    """The main README's table of what ``hands-off init`` writes names each file it writes (a new
    user reads it to find their way around the new repository)."""
    target = tmp_path / "payments"
    written = {p.relative_to(target).as_posix() for p in init_project(target, service="payments")}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("`hands-off init` writes into a new or empty folder only") :]
    table = table[: table.index("**2. Share the organization class.**")]
    listed = set(re.findall(r"`([^`\s]+)`", table))
    assert written <= listed, f"not in the README's table: {sorted(written - listed)}"


def test_a_config_mistake_fails_the_scaffolds_tests_with_its_one_line(tmp_path: Path) -> None:
    """New-user trial: ``make synth`` shows a wrong config as one line naming the field and the fix,
    but ``make test`` showed a pytest traceback into hands-off's own code. The scaffold's
    conftest turns a ``ConfigError`` (in a test or a fixture) into that one line."""
    import subprocess
    import sys

    target = tmp_path / "payments"
    init_project(target, service="payments")
    (target / "tests" / "test_mistake.py").write_text(
        "import pytest\n"
        "from hands_off.model import ConfigError\n\n"
        "@pytest.fixture\n"
        "def pipeline():\n"
        "    raise ConfigError(\n"
        "        'PaymentsPipeline.service_name', \"'hands-off-x' starts with 'hands-off'\"\n"
        "    )\n\n"
        "def test_in_a_fixture(pipeline):\n"
        "    pass\n\n"
        "def test_in_the_test():\n"
        "    raise ConfigError('Target.region', \"'us-est-1' is not a known AWS region\")\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-q",
            "tests/test_mistake.py",
        ],
        cwd=target,
        capture_output=True,
        text=True,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "PaymentsPipeline.service_name: 'hands-off-x' starts with 'hands-off'" in out
    assert "Target.region: 'us-est-1' is not a known AWS region" in out
    # no traceback: neither the raising frames nor pytest's source listing
    assert "Traceback" not in out
    assert "raise ConfigError" not in out, out


_FAKE_CDK = """#!/usr/bin/env bash
# `cdk synth --output DIR`: copy the prepared assembly there, and talk on stdout as CDK may.
echo "cdk says hello"
while [ $# -gt 0 ]; do
  if [ "$1" = --output ]; then cp -r "$ASSEMBLY" "$2"; fi
  shift
done
"""
_FAKE_PYTHON = """#!/usr/bin/env bash
# `python -m hands_off.summary DIR`: the synth summary, on stdout.
echo "Synthesized 1 pipeline"
"""


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("bash") is None, reason="needs make")
@pytest.mark.parametrize("flags", [["-s"], []])
def test_make_bootstrap_prints_only_the_script_of_the_synthesized_app(
    tmp_path: Path, flags: list[str]
) -> None:
    """``make -s bootstrap > bootstrap.sh``: synth first (its output on stderr), then the script of
    the assembly on stdout, nothing else. The CDK CLI and the venv's Python are stand-ins here; the
    real ones run in test_library_e2e.py."""
    import subprocess
    import sys

    hands_off = Path(sys.executable).parent / "hands-off"
    if not hands_off.is_file():
        pytest.skip("needs the hands-off console script next to this Python")
    target = tmp_path / "payments"
    init_project(target, service="payments")
    bin_ = target / ".venv" / "bin"
    bin_.mkdir(parents=True)
    for name, text in (("cdk", _FAKE_CDK), ("python", _FAKE_PYTHON)):
        (bin_ / name).write_text(text)
        (bin_ / name).chmod(0o755)
    (bin_ / "hands-off").symlink_to(hands_off)
    (target / "node_modules").mkdir()
    for stamp in (target / ".venv" / ".deps-installed", target / "node_modules" / ".cli-installed"):
        stamp.touch()  # set up already: newer than requirements.txt and package*.json
    assembly = tmp_path / "prepared"
    (assembly).mkdir()
    pipeline = {
        "Resources": {
            "P": {"Type": "AWS::CodePipeline::Pipeline", "Properties": {"Name": "payments", "Stages": []}}
        }
    }
    (assembly / "P.template.json").write_text(json.dumps(pipeline))
    (assembly / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "PaymentsPipeline": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://111111111111/us-east-1",
                        "properties": {"templateFile": "P.template.json"},
                    }
                }
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "CDK_OUT")}
    env["ASSEMBLY"] = str(assembly)

    result = subprocess.run(
        ["make", *flags, "bootstrap"], cwd=target, env=env, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    expected = subprocess.run(
        [str(hands_off), "bootstrap", "--assembly", "cdk.out"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert result.stdout == expected
    assert result.stdout.startswith("#!/usr/bin/env bash\n# CDK bootstrap for the app synthesized in cdk.out")
    assert "cdk bootstrap aws://111111111111/us-east-1" in result.stdout
    assert "Synthesized 1 pipeline" in result.stderr  # synth ran first; its output is not the script's
