"""The benchmark's assembly statistics (benchmarks/run.py) count what is really there."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_assembly_stats_of_the_example_fleet(fleet: Any) -> None:
    stats = load_run().assembly_stats(fleet.outdir)
    templates = list(fleet.outdir.rglob("*.template.json"))
    assert stats.stacks == len(templates)
    roles = sum(
        1
        for t in templates
        for r in json.loads(t.read_text())["Resources"].values()
        if r["Type"] == "AWS::IAM::Role"
    )
    assert sum(stats.roles_by_account.values()) == roles
    # per account: 7 tooling roles and 3 per target account for each of the two services
    assert stats.roles_by_account["222222222222"] == 2 * 3
    assert stats.roles_by_account["333333333333"] == 2 * 3
    assert stats.max_actions_per_stage >= 5  # Prod-4: gate, 5 x (prepare, deploy), bake


def test_slope_is_least_squares() -> None:
    run = load_run()
    assert run.slope([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == 2.0
    assert run.slope([1.0, 1.0], [3.0, 5.0]) == 0.0
