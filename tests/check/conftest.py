"""The plain CDK Pipelines app, synthesized once per session (shared with tests/diagram)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.check.plain_pipeline import plain_assembly_dir


@pytest.fixture(scope="session")
def plain_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plain app's ``cdk.out``."""
    return plain_assembly_dir(tmp_path_factory.getbasetemp())
