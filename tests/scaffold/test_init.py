"""``hands-off init``: what it writes, what it refuses, and that its pinned files follow ours."""

from __future__ import annotations

import json
import re
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
    # Its README does not send the reader to `make bootstrap`, which refuses without a fleet file
    # (found by a new-user trial): it names the command that works.
    readme = (target / "README.md").read_text()
    assert "make -s bootstrap" not in readme
    assert "hands-off bootstrap --config <the fleet file of acme-pipelines==1.2.0>" in readme


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
