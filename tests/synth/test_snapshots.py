"""Whole-template snapshots (syrupy) of each example pipeline and one application stack.

After an intended change: `make snapshot-update`, then read the diff of the .ambr files.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from hands_off.stacks.application_stack import ApplicationStage
from hands_off.testing import template_snapshot


@pytest.mark.parametrize("service", ["orders", "catalog"])
def test_snapshot_pipeline(fleet: Any, service: str, snapshot: SnapshotAssertion) -> None:
    assert template_snapshot(fleet.pipeline(service)) == snapshot


def test_snapshot_prod1_application_stack(fleet: Any, snapshot: SnapshotAssertion) -> None:
    pipeline = fleet.pipeline("orders")
    [stage] = [c for c in pipeline.node.children if isinstance(c, ApplicationStage) and c.node.id == "Prod-1"]
    assert template_snapshot(stage.stack) == snapshot
