"""Whole-pipeline snapshots (syrupy) of each example pipeline: the pipeline stack and every stack its
stages deploy (each copy's application stack, the per-account access stacks).

After an intended change: `make snapshot-update`, then read the diff of the .ambr files.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from hands_off.testing import pipeline_snapshot


@pytest.mark.parametrize("service", ["orders", "catalog"])
def test_snapshot_pipeline(fleet: Any, service: str, snapshot: SnapshotAssertion) -> None:
    assert pipeline_snapshot(fleet.pipeline(service)) == snapshot
