"""Whole-pipeline snapshots (syrupy) of each example pipeline: the pipeline stack and every stack its
stages deploy (each copy's application stack, the per-account access stacks).

After an intended change: `make snapshot-update`, then read the diff of the .ambr files.
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from hands_off.testing import pipeline_snapshot, template_snapshot


@pytest.mark.parametrize("service", ["orders", "catalog"])
def test_snapshot_pipeline(fleet: Any, service: str, snapshot: SnapshotAssertion) -> None:
    assert pipeline_snapshot(fleet.pipeline(service)) == snapshot


@pytest.mark.parametrize("service", ["shipping", "inventory"])
def test_snapshot_first_production_copy_of_containers_and_servers(
    fleet: Any, service: str, snapshot: SnapshotAssertion
) -> None:
    # Issue 10: one ECS and one EC2 production stack (Prod-1, the one-box wave), whole.
    pipeline = fleet.pipeline(service)
    (stage,) = [
        s
        for s in pipeline.rendered.stages
        if s.stack.deployment.production and s.stack.deployment.stage_name == "Prod-1"
    ]
    assert template_snapshot(stage.stack) == snapshot
