"""`make bench` (benchmarks/run.py) counts what is in an assembly and pairs its runs correctly.

Small fake assemblies and fake runs: nothing here synthesizes except the cross-check against the
example fleet, which reuses the session's synthesized fleet.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLING, PREPROD, PROD = "111111111111", "222222222222", "333333333333"


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


run = load_run()


def resources(**counts: int) -> dict[str, Any]:
    """A Resources section: ``resources(KMS_Key=2)`` -> two ``AWS::KMS::Key``."""
    out: dict[str, Any] = {}
    for name, n in counts.items():
        for i in range(n):
            out[f"{name.replace('_', '')}{i}"] = {"Type": f"AWS::{name.replace('_', '::')}"}
    return out


def pipeline(*actions_per_stage: int) -> dict[str, Any]:
    return {
        "Type": "AWS::CodePipeline::Pipeline",
        "Properties": {"Stages": [{"Actions": [{}] * n} for n in actions_per_stage]},
    }


def write_assembly(root: Path, stacks: dict[str, list[tuple[str, str, dict[str, Any]]]]) -> Path:
    """An assembly with one manifest per folder (``""`` is the top level, others nested stage
    assemblies): each stack is (name, ``account/region``, Resources). A non-stack artifact is
    added to every manifest: it must not count."""
    for folder, entries in stacks.items():
        where = root / folder
        where.mkdir(parents=True, exist_ok=True)
        artifacts: dict[str, Any] = {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}
        for name, env, found in entries:
            (where / f"{name}.template.json").write_text(json.dumps({"Resources": found}))
            artifacts[name] = {
                "type": "aws:cloudformation:stack",
                "environment": f"aws://{env}",
                "properties": {"templateFile": f"{name}.template.json"},
            }
        (where / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))
    return root


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    return write_assembly(
        tmp_path,
        {
            "": [
                (
                    "Pipeline",
                    f"{TOOLING}/us-east-1",
                    {**resources(IAM_Role=3, KMS_Key=1), "P": pipeline(1, 3, 2)},
                ),
                ("Baseline", f"{PREPROD}/us-west-2", resources(KMS_Key=1, SNS_Topic=1)),
            ],
            "assembly-Beta": [("App", f"{PREPROD}/us-west-2", resources(IAM_Role=2, Lambda_Function=1))],
            "assembly-Prod": [
                ("App", f"{PROD}/eu-west-1", resources(IAM_Role=2, KMS_Key=2, Lambda_Function=1)),
            ],
        },
    )


def test_assembly_stats_count_every_stack_nested_ones_included(assembly: Path) -> None:
    stats = run.assembly_stats(assembly)
    assert stats.stacks == 4
    assert stats.resources == (3 + 1 + 1) + 2 + 3 + 5
    assert stats.max_resources_per_stack == 5
    assert stats.max_actions_per_stage == 3
    largest = max(len(p.read_bytes()) for p in assembly.rglob("*.template.json"))
    assert stats.max_template_bytes == largest


def test_kms_keys_and_roles_are_counted_by_account_and_region(assembly: Path) -> None:
    stats = run.assembly_stats(assembly)
    assert stats.count(run.KMS_KEY) == 4
    assert stats.count(run.KMS_KEY, PREPROD) == 1
    assert stats.count(run.KMS_KEY, PROD) == 2
    assert stats.by_account(run.IAM_ROLE) == {TOOLING: 3, PREPROD: 2, PROD: 2}
    assert stats.types_by_env[f"{PREPROD}/us-west-2"] == {
        "AWS::IAM::Role": 2,
        "AWS::KMS::Key": 1,
        "AWS::Lambda::Function": 1,
        "AWS::SNS::Topic": 1,
    }
    assert stats.count() == stats.resources


def stats_of(**by_env: dict[str, int]) -> Any:
    """AssemblyStats with only ``types_by_env`` (``tooling``/``preprod`` keys name accounts)."""
    accounts = {"tooling": TOOLING, "preprod": PREPROD, "prod": PROD}
    types = {f"{accounts[k]}/us-east-1": v for k, v in by_env.items()}
    total = sum(sum(v.values()) for v in types.values())
    return run.AssemblyStats(
        stacks=len(types),
        resources=total,
        max_resources_per_stack=0,
        max_template_bytes=0,
        max_actions_per_stage=0,
        types_by_env=types,
    )


def test_per_added_service_leaves_out_what_services_share() -> None:
    # GIVEN one shared key per account whatever N, and 5 tooling roles + 3 preprod roles per service
    def fleet(n: int) -> Any:
        return stats_of(
            tooling={"AWS::KMS::Key": 1, "AWS::IAM::Role": 5 * n + 2},
            preprod={"AWS::KMS::Key": 1, "AWS::IAM::Role": 3 * n, "AWS::Lambda::Function": 4 * n},
        )

    # WHEN each added service is counted between N=1 and N=20
    added = run.per_added_service(fleet(1), fleet(20), 1, 20)

    # THEN the shared keys and the two shared roles are not counted per service
    assert added["kms_keys"] == 0
    assert added["iam_roles_by_account"] == {TOOLING: 5, PREPROD: 3}
    assert added["resources"] == 12
    assert added["by_type"] == {"AWS::IAM::Role": 8, "AWS::Lambda::Function": 4}


def test_services_before_the_role_quota() -> None:
    # 7 roles at N=1 and 7 more per service: 142 * 7 = 994 <= 1000 < 143 * 7
    assert run.services_at_role_quota(7, 7, 1, 1000) == 142
    # 100 shared roles, 5 per service: 100 + 180 * 5 = 1000
    assert run.services_at_role_quota(105, 5, 1, 1000) == 180
    assert run.services_at_role_quota(3, 0, 1, 1000) is None


def test_spread_keeps_every_value_with_median_range_and_iqr() -> None:
    s = run.spread([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["median"], s["min"], s["max"], s["q1"], s["q3"], s["n"]) == (3.0, 1.0, 5.0, 2.0, 4.0, 5)
    assert s["values"] == [5.0, 1.0, 3.0, 2.0, 4.0]
    one = run.spread([1.5])
    assert (one["median"], one["q1"], one["q3"], one["n"]) == (1.5, 1.5, 1.5, 1)


def test_pair_arithmetic() -> None:
    assert run.pair_ratios([3.0, 4.0], [2.0, 2.0]) == [1.5, 2.0]
    # (t(N=20) - t(N=1)) / 19 in each pair, never across pairs
    assert run.pair_costs([5.0, 6.0], [24.0, 44.0], 1, 20) == [1.0, 2.0]
    with pytest.raises(ValueError, match="zip"):
        run.pair_ratios([1.0, 2.0], [1.0])


class FakeRunner:
    """Stands in for ``synth``: records the order of the jobs; the wall time encodes the job."""

    WALL = {
        "fleet_app.py": {"1": 4.0, "20": 23.0, "example": 6.0},
        "baseline_app.py": {"1": 2.0, "20": 9.6, "example": 2.5},
        "floor_app.py": {"1": 2.5, "20": 11.5, "example": 3.0},
    }
    PER_ROUND = 12  # 3 + 3 + 2 + 2 + 2 processes

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.calls: list[tuple[str, str]] = []
        self.round = 0

    def __call__(self, script: str, cli_env: Any, **env: str) -> Any:
        size = env.get("HANDS_OFF_BENCH_FLEET") or env["HANDS_OFF_BENCH_SERVICES"]
        self.calls.append((script, size))
        # the second round is 10% slower on both sides: drift the pairs must cancel
        slow = 1.1 if len(self.calls) > self.PER_ROUND else 1.0
        outdir = self.tmp_path / f"run{len(self.calls)}"
        outdir.mkdir()
        wall = self.WALL[script][size] * slow
        return run.Run(wall_s=wall, peak_rss_mib=100.0 * wall, outdir=outdir)


def test_rounds_pair_each_job_and_swap_the_order_every_other_round(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    runs, stats = run.run_rounds(2, 20, {}, keep_stats=False, runner=fake)
    assert stats == {}
    first, second = fake.calls[:12], fake.calls[12:]
    groups = [
        [("fleet_app.py", "1"), ("baseline_app.py", "1"), ("floor_app.py", "1")],
        [("fleet_app.py", "example"), ("baseline_app.py", "example"), ("floor_app.py", "example")],
        [("fleet_app.py", "1"), ("fleet_app.py", "20")],
        [("baseline_app.py", "1"), ("baseline_app.py", "20")],
        [("floor_app.py", "1"), ("floor_app.py", "20")],
    ]
    assert first == [call for group in groups for call in group]
    assert second == [call for group in groups for call in reversed(group)]
    assert not any(p.exists() for p in tmp_path.iterdir())  # assemblies discarded

    f = run.figures(runs, 20)
    assert f["rounds"] == 2
    assert f["synth_1_service"]["ratio"]["values"] == pytest.approx([2.0, 2.0])
    assert f["synth_2_services"]["ratio"]["median"] == pytest.approx(6.0 / 2.5)
    assert f["cost_per_added_service_s"]["hands_off"]["values"] == pytest.approx([1.0, 1.1])
    assert f["cost_per_added_service_s"]["baseline"]["values"] == pytest.approx([0.4, 0.44])
    assert f["peak_rss_large_n_mib"]["ratio"]["median"] == pytest.approx(23.0 / 9.6)
    # the floor: plain + cdk-nag + the shared stacks, and hands-off against it
    assert f["synth_1_service"]["floor_ratio"]["values"] == pytest.approx([1.25, 1.25])
    assert f["synth_1_service"]["ratio_to_floor"]["median"] == pytest.approx(4.0 / 2.5)
    assert f["synth_2_services"]["ratio_to_floor"]["median"] == pytest.approx(6.0 / 3.0)
    assert f["cost_per_added_service_s"]["floor"]["values"] == pytest.approx([9.0 / 19, 9.9 / 19])
    assert f["peak_rss_large_n_mib"]["floor_ratio"]["median"] == pytest.approx(11.5 / 9.6)


def test_with_validation_switches_it_by_environment_and_changes_nothing_else() -> None:
    """The built-in validation runs unless CDK_VALIDATION=false; the cdk.json flag only makes its
    findings errors, so the context stays as it is."""
    context = json.dumps({"a": 1, run.VALIDATION_FLAG: True})
    env = {"CDK_CONTEXT_JSON": context, "CDK_CLI_VERSION": "2"}
    off, on = run.with_validation(env, False), run.with_validation(env, True)
    assert off == {**env, "CDK_VALIDATION": "false"}
    assert on == {**env, "CDK_VALIDATION": "true"}
    assert env == {"CDK_CONTEXT_JSON": context, "CDK_CLI_VERSION": "2"}


def test_verdicts_say_by_how_much_and_why() -> None:
    assert run.verdict(0.9, 1.0, "why") == "met"
    assert run.verdict(1.0, 1.0, "why") == "met"
    assert (
        run.verdict(1.5, 1.0, "more resources", "x") == "missed by 0.50: 1.50x against <= 1x (more resources)"
    )
    assert run.verdict(0.75, 0.4, "w", " s") == "missed by 0.35 s: 0.75 s against <= 0.4 s (w)"


def fake_results(tmp_path: Path) -> dict[str, Any]:
    runs, _ = run.run_rounds(2, 20, {}, keep_stats=False, runner=FakeRunner(tmp_path))

    def side(per_service_keys: int, roles: int, n: int) -> Any:
        return stats_of(
            tooling={"AWS::KMS::Key": 1 + per_service_keys * n, "AWS::IAM::Role": roles * n},
            preprod={"AWS::IAM::Role": 3 * n, "AWS::Lambda::Function": 10 * n},
        )

    stats = {}
    for name, keys, roles in (("hands_off", 0, 4), ("baseline", 1, 11)):
        stats[f"ratio1.{name}"] = side(keys, roles, 1)
        stats[f"ratio2.{name}"] = side(keys, roles, 2)
        stats[f"cost.{name}.N"] = side(keys, roles, 20)
    quota = run.quota_row(20, stats["cost.hands_off.N"], 23.0, 2300.0)
    results: dict[str, Any] = {
        "schema": run.SCHEMA,
        "large_n": 20,
        "main": {**run.figures(runs, 20), "validation": True},
        "validation_flipped": None,
        "counts": run.counts(stats, 20),
        "quotas": [quota],
        "services_at_role_quota": {TOOLING: 250},
        "max_share_of_limit": 0.1,
        "limits": run.LIMITS,
        "targets": run.TARGETS,
        "context": {"source": "test", "validation_in_cdk_json": True},
        "machine": {"cpus": 2, "python": "3", "load_average": {"start": 0.5, "end": 0.7}},
    }
    results["verdicts"] = run.verdicts(results)
    return results


def test_results_verdicts_and_rendering(tmp_path: Path) -> None:
    results = fake_results(tmp_path)
    c, v = results["counts"], results["verdicts"]
    assert c["hands_off"]["per_added_service"]["kms_keys"] == 0
    assert c["baseline"]["per_added_service"]["kms_keys"] == 1
    assert c["resource_ratio_per_service"] == pytest.approx(17 / 25)
    assert v["kms_keys_per_service"] == "met"
    assert v["tooling_roles_per_service"] == "met"
    assert v["resource_ratio_per_service"] == "met"
    assert v["synth_ratio_1_service"].startswith("missed by 1.00: 2.00x against <= 1x (")
    assert v["cost_per_added_service_s"].startswith("missed by 0.65 s: 1.05 s against <= 0.4 s (")
    text = run.render(json.loads(json.dumps(results)))
    assert text == run.render(results)  # what results.json holds renders as the run did
    assert "| synth ratio hands-off / plain, 1 service | **2.00x (2.00 to 2.00, IQR 2.00 to 2.00)** |" in text
    assert "| KMS keys | 0 | 1 | <= 1 | met |" in text
    assert "not run" in text
    # the floor says how much of the ratio cdk-nag and the shared stacks take alone
    assert v["synth_ratio_1_service"].endswith("; plain + cdk-nag + the shared stacks alone: 1.25x)")
    assert "the floor 0.50 s" in v["cost_per_added_service_s"]
    assert "| synth ratio hands-off / floor, 1 service | **1.60x (1.60 to 1.60, IQR 1.60 to 1.60)** |" in text
    assert "| synth, 1 service | 4.20 s (4.00 to 4.40, IQR 4.10 to 4.30) |" in text


def test_results_from_before_the_floor_render_without_it(tmp_path: Path) -> None:
    results = fake_results(tmp_path)
    for figure in ("synth_1_service", "synth_2_services"):
        for key in ("floor_s", "floor_ratio", "ratio_to_floor"):
            del results["main"][figure][key]
    for key in ("cost_per_added_service_s", "synth_large_n_s"):
        del results["main"][key]["floor"]
    del (
        results["main"]["peak_rss_large_n_mib"]["floor"],
        results["main"]["peak_rss_large_n_mib"]["floor_ratio"],
    )
    results["verdicts"] = run.verdicts(results)
    text = run.render(results)
    assert "floor" not in text
    assert "| synth, 1 service | 4.20 s (4.00 to 4.40, IQR 4.10 to 4.30) | 2.10 s" in text


def test_make_test_figures_get_verdicts_when_measured(tmp_path: Path) -> None:
    results = fake_results(tmp_path)
    results["make_test"] = {"command": "make test", "wall_s": 270.0, "peak_rss_mib": 3300.0, "exit_code": 0}
    v = run.verdicts(results)
    assert v["make_test_wall_s"] == "met"
    assert v["make_test_peak_rss_mib"].startswith("missed by 1252.00 MiB: 3300.00 MiB against <= 2048 MiB")
    assert "`make test` (one run, exit code 0): 4.5 min" in run.render({**results, "verdicts": v})


def test_update_readme_replaces_only_the_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{run.README_START}\nold\n{run.README_END}\n\n## next\n")
    run.update_readme("| new |\n|---|", readme)
    assert readme.read_text() == f"# x\n\n{run.README_START}\n| new |\n|---|\n{run.README_END}\n\n## next\n"
    assert run.readme_block(readme.read_text()) == "| new |\n|---|"


def test_readme_block_is_what_results_json_renders() -> None:
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    if results.get("schema") != run.SCHEMA:
        pytest.skip("benchmarks/results.json predates this layout: run `make bench`")
    block = run.readme_block((ROOT / "README.md").read_text())
    assert block == run.render(results), "README's bench block is stale: run `make bench`"


def test_assembly_stats_of_the_example_fleet(fleet: Any) -> None:
    """Cross-check against an independent count over the example fleet's templates."""
    stats = run.assembly_stats(fleet.outdir)
    templates = list(fleet.outdir.rglob("*.template.json"))
    assert stats.stacks == len(templates)
    types = Counter(
        r["Type"] for t in templates for r in json.loads(t.read_text()).get("Resources", {}).values()
    )
    assert stats.resources == sum(types.values())
    assert stats.by_type() == dict(types)
    assert stats.count(run.KMS_KEY) == types[run.KMS_KEY]
    assert sum(stats.by_account(run.IAM_ROLE).values()) == types[run.IAM_ROLE]
    assert set(stats.by_account(run.IAM_ROLE)) <= {TOOLING, PREPROD, PROD}
    assert stats.max_actions_per_stage >= 5  # Prod-4: gate, 5 x (prepare, deploy), bake
