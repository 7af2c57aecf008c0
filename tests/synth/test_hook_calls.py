"""Hooks run once per pipeline, stage or copy: the plan is decided once, not at every use."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from aws_cdk import App
from constructs import Construct

from hands_off.deployment import Deployment
from hands_off.example import OrdersPipeline
from hands_off.model import DeploymentPolicy, GatePolicy, Stage, Wave


def test_each_hook_runs_once_per_stage_or_copy(repo_root: Path) -> None:
    calls: Counter[str] = Counter()
    per_stage: Counter[str] = Counter()

    class Counting(OrdersPipeline):
        def deployment_policy(self, stage: Stage | Wave) -> DeploymentPolicy:
            calls["deployment_policy"] += 1
            per_stage[stage.name] += 1
            return super().deployment_policy(stage)

        def gate_policy(self) -> GatePolicy:
            calls["gate_policy"] += 1
            return super().gate_policy()

        def application(self, scope: Construct, deployment: Deployment) -> Any:
            calls["application"] += 1
            return super().application(scope, deployment)

        def build_commands(self) -> list[str]:
            calls["build_commands"] += 1
            return super().build_commands()

        def integration_test_commands(self) -> list[str]:
            calls["integration_test_commands"] += 1
            return super().integration_test_commands()

    pipeline = Counting(App())
    envs = pipeline.envs
    stages = (envs.alpha, envs.beta, envs.gamma, *envs.waves)
    assert per_stage == {stage.name: 1 for stage in stages}
    assert calls["deployment_policy"] == len(stages)
    assert calls["gate_policy"] == 1
    assert calls["application"] == sum(len(s.targets) for s in stages) == 13
    assert calls["build_commands"] == 1
    assert calls["integration_test_commands"] == 1
