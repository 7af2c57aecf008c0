"""Node.js from PyPI: the wrappers `make setup` writes work from any working directory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hands_off.node import link_into


def test_npm_wrapper_runs_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "venv")
    link_into(Path("bin"))  # relative, as the Makefile passes .venv/bin
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(bin_dir / "npm"), "--version"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(".")[0].isdigit()
    assert (bin_dir / "node").resolve().is_file()
