"""The Python supply chain of ``make setup`` (what every pipeline's Build runs first): every package
comes from ``requirements.lock`` with its sha256, and the lock says what the pins say."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from hands_off.render.pins import INTEGRATION_TEST_REQUIREMENTS, install_commands

ROOT = Path(__file__).resolve().parents[1]
PIN_FILES = ("requirements.txt", "requirements-dev.txt", "requirements-tools.txt")

_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock_entries(text: str) -> dict[str, tuple[str, list[str]]]:
    """``name -> (version, hashes)`` of a ``--generate-hashes`` lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _ENTRY.match(line)
        if match:
            current = _normalize(match["name"])
            entries[current] = (match["version"], [])
        elif current and line.strip().startswith("--hash=sha256:"):
            entries[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif not line.startswith(" "):
            current = None
    return entries


def _pins(path: Path) -> dict[str, str]:
    """``name -> version`` of the ``name==version`` lines of one requirements file."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _ENTRY.match(line)
        assert match, f"{path.name}: {raw!r} is not pinned with =="
        pins[_normalize(match["name"])] = match["version"]
    return pins


LOCK = _lock_entries((ROOT / "requirements.lock").read_text())


def test_lock_parser_reads_names_versions_and_hashes() -> None:
    text = (
        "# header\n"
        "moto[ssm]==5.2.5 \\\n"
        "    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n"
        "    # via -r requirements-dev.txt\n"
        "colorama==0.4.6 ; sys_platform == 'win32' \\\n"
        "    --hash=sha256:cc\n"
    )
    assert _lock_entries(text) == {"moto": ("5.2.5", ["aa", "bb"]), "colorama": ("0.4.6", ["cc"])}


@pytest.mark.parametrize("pin_file", PIN_FILES)
def test_every_pin_is_locked_at_its_version(pin_file: str) -> None:
    stale = {
        name: (version, LOCK.get(name, ("missing", []))[0])
        for name, version in _pins(ROOT / pin_file).items()
        if LOCK.get(name, ("missing", []))[0] != version
    }
    assert not stale, f"requirements.lock disagrees with {pin_file} (pin, lock): {stale}; run `make lock`"


def test_every_locked_package_has_a_sha256() -> None:
    assert len(LOCK) > 40  # the whole transitive closure, not only the direct pins
    unhashed = [name for name, (_, hashes) in LOCK.items() if not hashes]
    assert not unhashed
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, hashes in LOCK.values() for h in hashes)


def test_the_lock_has_the_build_backend_the_editable_install_needs() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, build):
        locked = LOCK.get(_normalize(requirement.name))
        assert locked, f"{requirement.name} (build-system.requires) is not in requirements.lock"
        assert SpecifierSet(str(requirement.specifier)).contains(locked[0])
    assert "pip" in LOCK


def test_make_setup_installs_only_hashed_packages() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(DEPS_STAMP): ", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs == [
        "$(BIN)/python -m pip install -q --require-hashes -r requirements.lock",
        # The project itself: no dependencies resolved, no build backend downloaded.
        "$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .",
    ]


def test_the_integration_test_pins_are_the_locks_entries() -> None:
    # The integration-test steps install boto3 outside the virtualenv: the same versions and files.
    for pin, hashes in INTEGRATION_TEST_REQUIREMENTS:
        name, version = pin.split("==")
        assert LOCK[_normalize(name)] == (version, list(hashes)), f"{pin}: re-copy it from requirements.lock"
    assert {p.split("==")[0] for p, _ in INTEGRATION_TEST_REQUIREMENTS} >= {"boto3", "botocore"}


def test_integration_test_install_commands_require_hashes(tmp_path: Path) -> None:
    write, install = install_commands()
    assert install.startswith("pip install --quiet --require-hashes -r ")
    # The written file holds every pin with its hashes, one per line, as pip reads them.
    target = install.rsplit(" ", 1)[1]
    subprocess.run(write.replace(target, str(tmp_path / "r.txt")), shell=True, check=True)
    lines = (tmp_path / "r.txt").read_text().splitlines()
    assert lines == [
        " ".join([pin, *(f"--hash=sha256:{h}" for h in hashes)])
        for pin, hashes in INTEGRATION_TEST_REQUIREMENTS
    ]
