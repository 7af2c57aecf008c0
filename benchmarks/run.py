"""`make bench`: synth speed against a plain CDK Pipelines app of the same topology, fleet
scaling, and CloudFormation / IAM / CodePipeline quotas.

1. Same topology: ``benchmarks/baseline_app.py`` (plain ``aws_cdk.pipelines``) and one hands-off
   service (``benchmarks/fleet_app.py``, cdk-nag on, as ``make synth`` runs it) are synthesized in
   alternation, A B A B ..., each as its own ``python app.py`` process on the same Node; the
   report gives the median of the pair-by-pair ratios.
2. Scaling: fleets of N services (default 1, 5, 20, 50): wall time, peak memory, stacks,
   resources, the largest template, IAM roles per service in each account, the most actions in
   one pipeline stage, each beside its AWS limit.

Writes ``benchmarks/results.json``, ``benchmarks/results.md`` and ``benchmarks/scaling.png``, and
the table between the ``bench`` markers of README.md.

Environment: ``BENCH_PAIRS`` (default 5), ``BENCH_SIZES`` (default ``1,5,20,50``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"

LIMITS = {
    "resources_per_template": 500,
    "template_bytes": 1_000_000,
    "iam_roles_per_account": 1_000,
    "actions_per_stage": 50,
}
TARGETS = {
    "synth_ratio_vs_baseline": 1.0,
    "marginal_synth_s_per_service": 0.4,
    "iam_roles_per_service_max_account": 10,
    "share_of_limit_at_50": 0.6,
}


@dataclass(frozen=True)
class Run:
    """One synth process."""

    wall_s: float
    peak_rss_mb: float
    outdir: Path


@dataclass(frozen=True)
class AssemblyStats:
    """What one cloud assembly holds, measured against the limits."""

    stacks: int
    resources: int
    max_resources_per_stack: int
    max_template_bytes: int
    roles_by_account: dict[str, int]
    max_actions_per_stage: int


def synth(script: str, **env: str) -> Run:
    """Run ``script`` as a CDK app in a fresh output directory; time it and read its peak RSS."""
    outdir = Path(tempfile.mkdtemp(prefix="bench-"))
    environ = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        **env,
    }
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(BENCH / script)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        stderr = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"{script} failed:\n{stderr[-3000:]}")
    # ru_maxrss (KiB on Linux) of the child and the descendants it waited for: the largest
    # single process (Python or the jsii Node runtime), not their sum.
    return Run(wall_s=wall, peak_rss_mb=usage.ru_maxrss / 1024, outdir=outdir)


def assembly_stats(outdir: Path) -> AssemblyStats:
    """Count stacks, resources, roles per account and pipeline actions in a cloud assembly."""
    stacks = 0
    resources = 0
    max_resources = 0
    max_bytes = 0
    roles: Counter[str] = Counter()
    max_actions = 0
    for manifest_path in sorted(outdir.rglob("manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        for artifact in manifest.get("artifacts", {}).values():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            template_path = manifest_path.parent / artifact["properties"]["templateFile"]
            text = template_path.read_text()
            template = json.loads(text)
            account = artifact.get("environment", "aws://unknown/").split("/")[2]
            found = template.get("Resources", {})
            stacks += 1
            resources += len(found)
            max_resources = max(max_resources, len(found))
            max_bytes = max(max_bytes, len(text.encode()))
            roles[account] += sum(1 for r in found.values() if r["Type"] == "AWS::IAM::Role")
            for resource in found.values():
                if resource["Type"] == "AWS::CodePipeline::Pipeline":
                    for stage in resource["Properties"]["Stages"]:
                        max_actions = max(max_actions, len(stage["Actions"]))
    return AssemblyStats(
        stacks=stacks,
        resources=resources,
        max_resources_per_stack=max_resources,
        max_template_bytes=max_bytes,
        roles_by_account=dict(roles),
        max_actions_per_stage=max_actions,
    )


def compare(pairs: int) -> dict[str, Any]:
    """A/B synth of one hands-off service and the hand-written baseline, alternating."""
    ratios, ours, theirs = [], [], []
    for _ in range(pairs):
        a = synth("fleet_app.py", HANDS_OFF_BENCH_SERVICES="1")
        b = synth("baseline_app.py")
        ours.append(a.wall_s)
        theirs.append(b.wall_s)
        ratios.append(a.wall_s / b.wall_s)
    no_nag = [
        synth("fleet_app.py", HANDS_OFF_BENCH_SERVICES="1", HANDS_OFF_BENCH_NAG="0").wall_s for _ in range(3)
    ]
    return {
        "pairs": pairs,
        "synth_ratio_vs_baseline": statistics.median(ratios),
        "hands_off_median_s": statistics.median(ours),
        "baseline_median_s": statistics.median(theirs),
        "hands_off_without_nag_median_s": statistics.median(no_nag),
        "hands_off": asdict(assembly_stats(a.outdir)),
        "baseline": asdict(assembly_stats(b.outdir)),
    }


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den if den else 0.0


def scale(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        run = synth("fleet_app.py", HANDS_OFF_BENCH_SERVICES=str(n))
        stats = assembly_stats(run.outdir)
        rows.append(
            {
                "services": n,
                "wall_s": run.wall_s,
                "peak_rss_mb": run.peak_rss_mb,
                **asdict(stats),
                "roles_per_service_by_account": {a: c / n for a, c in stats.roles_by_account.items()},
            }
        )
        print(f"  N={n}: {run.wall_s:.1f} s, {stats.stacks} stacks, {stats.resources} resources", flush=True)
    return rows


def verdict(value: float, target: float, lower_is_better: bool = True) -> str:
    met = value <= target if lower_is_better else value >= target
    if met:
        return "met"
    return f"missed by {value - target:+.2f} ({value / target:.1f}x target)"


def markdown(results: dict[str, Any]) -> str:
    c = results["comparison"]
    lines = [
        "| same topology (1 service) | hands-off | plain CDK Pipelines |",
        "|---|---|---|",
        f"| synth, median of {c['pairs']} alternating runs | {c['hands_off_median_s']:.2f} s "
        f"(without cdk-nag {c['hands_off_without_nag_median_s']:.2f} s) | {c['baseline_median_s']:.2f} s |",
        f"| stacks / resources | {c['hands_off']['stacks']} / {c['hands_off']['resources']} "
        f"| {c['baseline']['stacks']} / {c['baseline']['resources']} |",
        f"| median pair ratio hands-off / baseline | **{c['synth_ratio_vs_baseline']:.2f}x** "
        f"(target <= 1.0: {results['verdicts']['synth_ratio_vs_baseline']}) | |",
        "",
        "| N services | synth | peak RSS | stacks | resources | largest template (resources / KB) "
        "| IAM roles per service (max account) | most actions in a stage |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["scaling"]:
        roles = max(row["roles_per_service_by_account"].values())
        lines.append(
            f"| {row['services']} | {row['wall_s']:.1f} s | {row['peak_rss_mb']:.0f} MB "
            f"| {row['stacks']} | {row['resources']} "
            f"| {row['max_resources_per_stack']} / {row['max_template_bytes'] / 1000:.0f} "
            f"| {roles:.1f} | {row['max_actions_per_stage']} |"
        )
    lines += [
        f"| AWS limit | | | | | {LIMITS['resources_per_template']} / {LIMITS['template_bytes'] // 1000} "
        f"| {LIMITS['iam_roles_per_account']} per account | {LIMITS['actions_per_stage']} |",
        "",
        f"Marginal synth per added service: **{results['marginal_synth_s_per_service']:.2f} s** "
        f"(target <= 0.4: {results['verdicts']['marginal_synth_s_per_service']}). "
        f"IAM roles per service, worst account: **{results['iam_roles_per_service_max_account']:.1f}** "
        f"(target <= 10: {results['verdicts']['iam_roles_per_service_max_account']}; "
        f"an account holds {results['services_per_account_at_role_quota']} services at the default quota). "
        f"Largest share of a per-template/per-stage limit at the biggest N: "
        f"{results['max_share_of_limit']:.0%} (target <= 60%: {results['verdicts']['share_of_limit']}).",
        "",
        f"Why the synth targets are missed: hands-off synthesizes {results['resource_ratio']:.1f}x the "
        "resources of the baseline for the same topology (code signing, gate and bake state machines "
        "with their Lambdas and log groups, canaries, per-account IAM stacks, paging topics with KMS "
        f"keys, stage conditions), and cdk-nag validation takes {results['nag_share']:.0%} of a "
        "one-service synth. Construct creation through jsii is the rest; it grows with resources.",
    ]
    return "\n".join(lines)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["scaling"]
    n = [r["services"] for r in rows]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(n, [r["wall_s"] for r in rows], "o-", color="tab:blue", label="synth (s)")
    left.set_xlabel("services in the app")
    left.set_ylabel("synth wall time (s)", color="tab:blue")
    right = left.twinx()
    right.plot(
        n,
        [max(r["roles_by_account"].values()) for r in rows],
        "s--",
        color="tab:red",
        label="IAM roles (max account)",
    )
    right.axhline(LIMITS["iam_roles_per_account"], color="tab:red", linestyle=":", linewidth=1)
    right.set_ylabel("IAM roles in the busiest account (quota dotted)", color="tab:red")
    fig.suptitle("hands-off: synth time and IAM roles against fleet size")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{table}\n{end}{tail}")


def main() -> int:
    pairs = int(os.environ.get("BENCH_PAIRS", "5"))
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "1,5,20,50").split(",")]
    print(f"comparing with the plain CDK Pipelines baseline ({pairs} pairs)...", flush=True)
    comparison = compare(pairs)
    print(f"scaling over N = {sizes}...", flush=True)
    scaling = scale(sizes)
    marginal = slope([float(r["services"]) for r in scaling], [r["wall_s"] for r in scaling])
    roles_per_service = max(max(r["roles_per_service_by_account"].values()) for r in scaling)
    biggest = scaling[-1]
    share = max(
        biggest["max_resources_per_stack"] / LIMITS["resources_per_template"],
        biggest["max_template_bytes"] / LIMITS["template_bytes"],
        biggest["max_actions_per_stage"] / LIMITS["actions_per_stage"],
    )
    results: dict[str, Any] = {
        "comparison": comparison,
        "scaling": scaling,
        "synth_ratio_vs_baseline": comparison["synth_ratio_vs_baseline"],
        "marginal_synth_s_per_service": marginal,
        "iam_roles_per_service_max_account": roles_per_service,
        "services_per_account_at_role_quota": int(LIMITS["iam_roles_per_account"] // roles_per_service),
        "max_resources_per_stack": max(r["max_resources_per_stack"] for r in scaling),
        "max_share_of_limit": share,
        "limits": LIMITS,
        "targets": TARGETS,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    results["resource_ratio"] = comparison["hands_off"]["resources"] / comparison["baseline"]["resources"]
    results["nag_share"] = 1 - comparison["hands_off_without_nag_median_s"] / comparison["hands_off_median_s"]
    results["verdicts"] = {
        "synth_ratio_vs_baseline": verdict(
            results["synth_ratio_vs_baseline"], TARGETS["synth_ratio_vs_baseline"]
        ),
        "marginal_synth_s_per_service": verdict(marginal, TARGETS["marginal_synth_s_per_service"]),
        "iam_roles_per_service_max_account": verdict(
            roles_per_service, TARGETS["iam_roles_per_service_max_account"]
        ),
        "share_of_limit": verdict(share, TARGETS["share_of_limit_at_50"]),
    }
    (BENCH / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = markdown(results)
    (BENCH / "results.md").write_text(table + "\n")
    chart(results, BENCH / "scaling.png")
    update_readme(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
