"""Shared fixtures: the example fleet synthesized once per test session, as `cdk synth` does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aws_cdk import App
from hypothesis import HealthCheck, Phase, settings

from hands_off.example import build_example_fleet
from hands_off.nag import apply_nag
from hands_off.stacks.account_baseline import add_account_baselines
from hands_off.stacks.service_pipeline import ServicePipeline
from hands_off.testing import app_context

ROOT = Path(__file__).resolve().parent.parent

# Hypothesis profiles. "ci" (the default, so `make test` and CI use it): derandomized, the same
# examples on every run, so a broken property fails every run, not one in two; no deadline on a
# shared 2-core machine. "dev" (HYPOTHESIS_PROFILE=dev): random examples and the example
# database, to explore. "mutation" (`make mutate`): the ci examples without shrinking, as a
# mutant only needs to fail, not a minimal failure.
settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile(
    "mutation",
    parent=settings.get_profile("ci"),
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
    """The example fleet with its account-region baselines and cdk-nag applied, as ``hands_off.run``
    builds it, synthesized once (synth fails on any finding)."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(context=app_context(repo_root / "cdk.json"), outdir=str(outdir))
    pipelines = build_example_fleet(app)
    add_account_baselines(app)
    apply_nag(app)
    app.synth()
    return Fleet(app=app, pipelines=pipelines, outdir=outdir)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the end-to-end tests first: under ``make test``'s workers (pytest-xdist, whole files per
    worker) the minutes of the scaffold's own ``make test`` and ``make synth`` then overlap the rest
    of the suite instead of running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)
