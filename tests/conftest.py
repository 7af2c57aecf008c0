"""Shared fixtures: the example fleet synthesized once per test session, as `cdk synth` does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import App

from hands_off.example import build_example_fleet
from hands_off.nag import apply_nag
from hands_off.stacks.service_pipeline import ServicePipeline
from hands_off.testing import app_context

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Fleet:
    """The synthesized example fleet."""

    app: App
    pipelines: list[ServicePipeline]
    outdir: Path

    def pipeline(self, service: str) -> ServicePipeline:
        return next(p for p in self.pipelines if p.service_name == service)


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    """Run from the repository root (code folders and cdk.json are relative to it)."""
    previous = Path.cwd()
    import os

    os.chdir(ROOT)
    yield ROOT
    os.chdir(previous)


@pytest.fixture(scope="session")
def fleet(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """The example fleet with cdk-nag applied, synthesized once (synth fails on any finding)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context=app_context(repo_root / "cdk.json"), outdir=str(outdir))
    pipelines = build_example_fleet(app)
    apply_nag(app)
    app.synth()
    return Fleet(app=app, pipelines=pipelines, outdir=outdir)
