"""``pipeline_snapshot``: a change to what a pipeline deploys is a short, readable snapshot diff, and a
change to the Lambda source alone is none.

Built the way a service team would: subclasses of the example ``OrdersPipeline``, synthesized with
the repository's ``cdk.json`` context. Their code folder is a copy of the orders source under the
git-ignored ``build/`` (``code_directory`` is relative to the repository root, and the build
commands quote it, so every synth here uses the same copy). One baseline synth serves every test.
"""

from __future__ import annotations

import dataclasses
import difflib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from syrupy.extensions.amber.serializer import AmberDataSerializer

from hands_off.example import OrdersPipeline
from hands_off.model import Environments, Stage, TrafficShape, Wave
from hands_off.model.policy import AlarmPolicy, DeploymentPolicy
from hands_off.testing import app_context, pipeline_snapshot, template_snapshot

pytestmark = pytest.mark.synth

# The first LINEAR wave of the example (Prod-3: two regions, 25% every 5 min, 30 min bake).
WAVE = "Prod-3"
MAX_LINE = 200


class Orders(OrdersPipeline):
    """The service as its team writes it; ``code_directory`` is pointed at a copy by the fixture."""


class SlowerWave(Orders):
    """One LINEAR wave shifts 20% every 10 minutes instead of 25% every 5."""

    def deployment_policy(self, stage: Stage | Wave) -> DeploymentPolicy:
        policy = super().deployment_policy(stage)
        if stage.name != WAVE:
            return policy
        assert policy.shape is TrafficShape.LINEAR
        return policy.with_(step_percent=20, interval_minutes=10)


class LongerBake(Orders):
    """One wave bakes 45 minutes instead of 30."""

    def deployment_policy(self, stage: Stage | Wave) -> DeploymentPolicy:
        policy = super().deployment_policy(stage)
        return policy.with_(bake_minutes=45) if stage.name == WAVE else policy


class LaxerFaultAlarm(Orders):
    """Every copy's fault alarm fires at 2.5% instead of 1%."""

    def environments(self) -> Environments:
        alarms = AlarmPolicy(fault_rate_percent=2.5)
        return dataclasses.replace(super().environments(), alarm_policy=alarms)


def changed_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The ``-``/``+`` lines of the .ambr diff syrupy would show between two snapshots."""
    old = AmberDataSerializer.serialize(before).splitlines()
    new = AmberDataSerializer.serialize(after).splitlines()
    return [
        line
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def assert_short(lines: list[str]) -> None:
    assert lines, "the change is missing from the snapshot"
    too_long = [line for line in lines if len(line) >= MAX_LINE]
    assert not too_long, f"{len(too_long)} changed lines of {MAX_LINE}+ characters: {too_long[0][:300]}"


def lambda_code(pipeline: Stack) -> list[Any]:
    """The raw (not normalized) ``Code`` of the Prod-1 copy's function: it names the asset hash."""
    stack = pipeline.node.find_child("Prod-1").node.find_child("App")
    assert isinstance(stack, Stack)
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    return [f["Properties"]["Code"] for f in functions.values()]


class Synth:
    """Synthesizes ``Orders`` variants into a work folder; holds the baseline."""

    def __init__(self, repo_root: Path, workdir: Path) -> None:
        self.repo_root = repo_root
        self.workdir = workdir
        self.source = workdir / "orders"
        self.pipeline = self.synth(Orders)
        self.baseline = pipeline_snapshot(self.pipeline)

    def synth(self, cls: type[Orders]) -> Orders:
        outdir = tempfile.mkdtemp(prefix="cdk.out-", dir=self.workdir)
        return cls(App(context=app_context(self.repo_root / "cdk.json"), outdir=outdir))

    def snapshot(self, cls: type[Orders]) -> dict[str, Any]:
        return pipeline_snapshot(self.synth(cls))

    def copies(self) -> int:
        """How many application stacks (one per stage/wave target) the baseline holds."""
        return sum(1 for key in self.baseline if key.endswith("/App"))


@pytest.fixture(scope="module")
def orders(repo_root: Path) -> Iterator[Synth]:
    (repo_root / "build").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="snapshot-helper-", dir=repo_root / "build"))
    shutil.copytree(repo_root / "lambda/services/orders", workdir / "orders")
    Orders.code_directory = str((workdir / "orders").relative_to(repo_root))
    try:
        yield Synth(repo_root, workdir)
    finally:
        Orders.code_directory = OrdersPipeline.code_directory
        shutil.rmtree(workdir, ignore_errors=True)


def test_snapshot_holds_the_pipeline_and_every_stage_stack(orders: Synth) -> None:
    keys = list(orders.baseline)
    assert keys[0] == "OrdersPipeline"
    assert "OrdersPipeline/Prod-1/App" in keys
    assert f"OrdersPipeline/{WAVE}-ap-south-1/App" in keys
    assert "OrdersPipeline/Zeta/Access-prod" in keys  # production roles deploy after validation
    # The gate and bake inputs (JSON in SSM parameter values) are parsed, not one long string.
    resources = orders.baseline["OrdersPipeline"]["Resources"].values()
    values = [r["Properties"]["Value"] for r in resources if r["Type"] == "AWS::SSM::Parameter"]
    assert values
    assert all(isinstance(v, dict) for v in values)


def test_a_linear_shift_change_is_a_short_diff(orders: Synth) -> None:
    lines = changed_lines(orders.baseline, orders.snapshot(SlowerWave))

    assert_short(lines)
    # Each of the wave's two copies leaves the baseline's shared fast config (named by its group)
    # for a config of its own: the group's DeploymentConfigName (1 line out, 3 in) and the new
    # config (16 lines).
    assert len(lines) <= 2 * 20, "\n".join(lines)
    removed = [line for line in lines if line.startswith("-")]
    assert len(removed) == 2
    assert all(
        "'DeploymentConfigName': 'hands-off-lambda-linear-25-percent-every-5-minutes'" in r for r in removed
    )
    added = "\n".join(line for line in lines if line.startswith("+"))
    assert "'LinearPercentage': 20" in added
    assert "'LinearInterval': 10" in added


def test_a_bake_time_change_is_a_short_diff(orders: Synth) -> None:
    lines = changed_lines(orders.baseline, orders.snapshot(LongerBake))

    assert_short(lines)
    assert len(lines) <= 4, "\n".join(lines)
    assert any(line.startswith("-") and "'bake_seconds': 1800" in line for line in lines), lines
    assert any(line.startswith("+") and "'bake_seconds': 2700" in line for line in lines), lines


def test_an_alarm_threshold_change_is_a_short_diff(orders: Synth) -> None:
    lines = changed_lines(orders.baseline, orders.snapshot(LaxerFaultAlarm))

    assert_short(lines)
    # Each copy's fault alarm: its threshold and the description that quotes it.
    assert len(lines) <= 4 * orders.copies(), "\n".join(lines)
    added = [line for line in lines if line.startswith("+")]
    assert any("'Threshold': 2.5" in line for line in added), lines
    assert all("2.5" in line for line in added), lines


def test_template_snapshot_is_the_pipeline_entry(orders: Synth) -> None:
    # The same synthesized app (no second synth): the one-stack helper parses JSON the same way.
    assert template_snapshot(orders.pipeline) == orders.baseline["OrdersPipeline"]


def test_editing_the_lambda_source_does_not_change_the_snapshot(orders: Synth) -> None:
    handler = orders.source / "app.py"
    original = handler.read_text()
    handler.write_text(original + "\n# an edit that changes the asset hash\n")
    try:
        edited = orders.synth(Orders)
        after = pipeline_snapshot(edited)
    finally:
        handler.write_text(original)

    assert lambda_code(edited) != lambda_code(orders.pipeline), "the edit did not change the asset"
    assert changed_lines(orders.baseline, after) == []
