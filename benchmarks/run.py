"""`make bench`: hands-off against a plain CDK Pipelines app of the same topology, measured in pairs
with the CDK settings ``make synth`` uses, plus per-service counts and AWS quotas.

How it measures (every figure in ``results.json`` with the spread of its pairs):

- **Same settings on both sides.** The environment the CDK CLI gives an app (``CDK_CONTEXT_JSON``:
  the ``context`` of ``cdk.json`` plus the CLI's defaults, ``CDK_CLI_VERSION``...) is captured once
  from the pinned CLI itself (``cdk synth --app <probe>``) and passed to every ``python <app>.py``
  process, hands-off (``fleet_app.py``, cdk-nag on, built by ``hands_off.run`` as ``app.py`` is) and
  baseline (``baseline_app.py``) alike. aws-cdk-lib's built-in CloudFormation validation (a
  WebAssembly schema check of every template) runs as ``make synth`` runs it (on: CDK's default)
  for the main figures, and off on both sides (``CDK_VALIDATION=false``) for a second, shorter set
  of rounds. (The cdk.json flag ``@aws-cdk/core:validateAgainstDefaultRules`` does not turn it on
  or off: it only makes its findings errors instead of warnings, so it stays as in cdk.json.)
- **Pairs.** One round is five groups of processes run back to back: one service (hands-off,
  baseline, floor), two services (the example's orders + catalog, the baseline's two pipelines,
  the floor's two), then N=1 and N=20 of each side. The floor (``floor_app.py``) is the baseline
  plus what every hands-off synth does whatever its pipelines hold: cdk-nag and the shared stacks
  (account baselines, gate roles). Odd rounds run each group in the other order so a drift of the
  machine does not favour one side. One warm-up run of each app first, not counted.
- **Figures.** Synth ratio = t(hands-off) / t(baseline) per round; likewise floor / baseline and
  hands-off / floor. Cost of each added service =
  (t(N=20) - t(N=1)) / 19 per round, for each side. Peak RSS = ``ru_maxrss`` from ``os.wait4``, the
  largest single process of the app (Python or its jsii Node runtime; as ``/usr/bin/time -v``
  reports it), at N=20; its ratio pairs the two N=20 runs of a round. Each: median, min, max, IQR.
- **Counts** (deterministic, from the cloud assemblies of the first round): per added service =
  (count(N=20) - count(N=1)) / 19, so what services share (an account-region baseline, gate
  machinery) is not counted per service; also the counts at N=1 and the share per service at N=20.
- **Quotas** over fleets of ``BENCH_SIZES`` services (hands-off, one run each): resources and bytes
  of the largest template, the most actions in a pipeline stage, IAM roles per account.

Writes ``results.json``, ``results.md`` (rendered from results.json by :func:`render`) and
``scaling.png`` into ``BENCH_OUT``; when that is ``benchmarks/`` (the default), also the table
between the ``bench`` markers of README.md (``tests/synth/test_benchmark_stats.py`` checks they agree).

Environment: ``BENCH_PAIRS`` (rounds with the cdk.json settings, default 5),
``BENCH_VALIDATION_PAIRS`` (rounds with the built-in validation the other way, default 3; 0 skips),
``BENCH_LARGE_N``
(the N compared with N=1, default 20), ``BENCH_SIZES`` (quota fleet sizes, default ``1,5,20,50``),
``BENCH_MAKE_TEST=1`` (also time ``make test``: minutes; off by default), ``BENCH_OUT``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
SCHEMA = 2
"""Version of the layout of results.json that :func:`render` reads."""

VALIDATION_FLAG = "@aws-cdk/core:validateAgainstDefaultRules"
"""Makes the built-in validation's findings errors (not warnings); does not turn it on or off."""
VALIDATION_ENV = "CDK_VALIDATION"
"""``false`` turns aws-cdk-lib's built-in CloudFormation validation off (for every app)."""
TOOLING_ACCOUNT = "111111111111"
KMS_KEY = "AWS::KMS::Key"
IAM_ROLE = "AWS::IAM::Role"

LIMITS = {
    "resources_per_template": 500,
    "template_bytes": 1_000_000,
    "iam_roles_per_account": 1_000,
    "actions_per_stage": 50,
}
TARGETS = {
    "synth_ratio_1_service": 1.0,
    "synth_ratio_2_services": 1.0,
    "cost_per_added_service_s": 0.40,
    "peak_rss_ratio_at_large_n": 1.10,
    "resource_ratio_per_service": 1.2,
    "kms_keys_per_service": 1.0,
    "tooling_roles_per_service": 5.0,
    "make_test_wall_s": 300.0,
    "make_test_peak_rss_mib": 2048.0,
}


# --- one process ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One synth process: wall time, the peak RSS of its largest process, its cloud assembly."""

    wall_s: float
    peak_rss_mib: float
    outdir: Path

    def discard(self) -> None:
        shutil.rmtree(self.outdir, ignore_errors=True)


def cli_environment() -> dict[str, str]:
    """The CDK variables the pinned CDK CLI gives an app on ``cdk synth`` (``CDK_CONTEXT_JSON``,
    ``CDK_CLI_VERSION``...), captured from the CLI itself by running it on a probe app that writes
    its environment down. Per-run paths point into ``$OUTDIR``. Falls back to cdk.json's
    ``context`` plus the defaults CLI 2.1148 adds when the CLI is not installed."""
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    if cli.exists():
        with tempfile.TemporaryDirectory(prefix="bench-probe-") as tmp:
            dump, out = Path(tmp) / "env.json", Path(tmp) / "out"
            probe = Path(tmp) / "probe.py"
            probe.write_text(
                "import json, os, pathlib\n"
                "env = {k: v for k, v in os.environ.items() if k.startswith('CDK_')}\n"
                "overflow = os.environ.get('CONTEXT_OVERFLOW_LOCATION_ENV')\n"
                "if overflow:\n"
                "    ctx = json.loads(env.get('CDK_CONTEXT_JSON', '{}'))\n"
                "    ctx.update(json.loads(pathlib.Path(overflow).read_text()))\n"
                "    env['CDK_CONTEXT_JSON'] = json.dumps(ctx)\n"
                f"pathlib.Path({str(dump)!r}).write_text(json.dumps(env))\n"
            )
            app = f"{sys.executable} {probe}"
            subprocess.run(
                [str(cli), "synth", "--quiet", "--no-notices", "--output", str(out), "--app", app],
                cwd=ROOT,
                env={**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,  # the probe writes no assembly; the CLI says so and exits 1
            )
            if dump.exists():
                env: dict[str, str] = json.loads(dump.read_text())
                return {
                    k: v.replace(str(out), "$OUTDIR")
                    for k, v in env.items()
                    if k not in ("CDK_DISABLE_VERSION_CHECK", "CDK_DISABLE_CLI_TELEMETRY")
                }
    context = {
        **json.loads((ROOT / "cdk.json").read_text()).get("context", {}),
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
        "aws:cdk:version-reporting": True,
        "aws:cdk:bundling-stacks": ["**"],
        "@aws-cdk/core:failSynthOnValidationErrors": False,
    }
    return {"CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "$OUTDIR"}


def with_validation(cli_env: Mapping[str, str], validation: bool) -> dict[str, str]:
    """``cli_env`` with aws-cdk-lib's built-in CloudFormation validation on or off: aws-cdk-lib
    runs it unless the app is made with ``builtin_cloud_formation_validation=False`` or the
    environment has ``CDK_VALIDATION=false`` (both apps here use the default, so the variable
    decides for both)."""
    return {**cli_env, VALIDATION_ENV: "true" if validation else "false"}


def synth(script: str, cli_env: Mapping[str, str], **env: str) -> Run:
    """Run ``python benchmarks/<script>`` as ``cdk synth`` would run an app, in a fresh output
    directory; time it and read the peak RSS of its largest process."""
    outdir = Path(tempfile.mkdtemp(prefix="bench-"))
    environ = {
        **os.environ,
        **{k: v.replace("$OUTDIR", str(outdir)) for k, v in cli_env.items()},
        "CDK_OUTDIR": str(outdir),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        **env,
    }
    # stderr to a file, not a pipe: a pipe nobody reads until exit blocks a chatty app.
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(BENCH / script)],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            shutil.rmtree(outdir, ignore_errors=True)
            stderr.seek(0)
            raise RuntimeError(f"{script} {env} failed:\n{stderr.read().decode()[-3000:]}")
    # ru_maxrss (KiB on Linux) covers the child and the descendants it waited for (jsii waits for
    # its Node runtime at exit): the largest single process, not their sum.
    return Run(wall_s=wall, peak_rss_mib=usage.ru_maxrss / 1024, outdir=outdir)


# --- what an assembly holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class AssemblyStats:
    """What one cloud assembly holds, measured against the limits.

    ``types_by_env`` counts resources by type in each ``account/region``.
    """

    stacks: int
    resources: int
    max_resources_per_stack: int
    max_template_bytes: int
    max_actions_per_stage: int
    types_by_env: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, resource_type: str | None = None, account: str | None = None) -> int:
        """Resources of ``resource_type`` (any type if ``None``) in ``account`` (any if ``None``)."""
        return sum(
            sum(types.values()) if resource_type is None else types.get(resource_type, 0)
            for env, types in self.types_by_env.items()
            if account is None or env.split("/")[0] == account
        )

    def by_account(self, resource_type: str) -> dict[str, int]:
        """Resources of ``resource_type`` in each account."""
        totals: Counter[str] = Counter()
        for env, types in self.types_by_env.items():
            totals[env.split("/")[0]] += types.get(resource_type, 0)
        return dict(sorted(totals.items()))

    def by_type(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for types in self.types_by_env.values():
            totals.update(types)
        return dict(totals)


def assembly_stats(outdir: Path) -> AssemblyStats:
    """Count stacks, resources (by type, account and region), template sizes and pipeline actions
    in a cloud assembly, nested stage assemblies included."""
    stacks = resources = max_resources = max_bytes = max_actions = 0
    types_by_env: dict[str, Counter[str]] = {}
    for manifest_path in sorted(outdir.rglob("manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        for artifact in manifest.get("artifacts", {}).values():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            text = (manifest_path.parent / artifact["properties"]["templateFile"]).read_text()
            found = json.loads(text).get("Resources", {})
            env = artifact.get("environment", "aws://unknown-account/unknown-region")
            account, region = env.removeprefix("aws://").split("/")[:2]
            stacks += 1
            resources += len(found)
            max_resources = max(max_resources, len(found))
            max_bytes = max(max_bytes, len(text.encode()))
            types_by_env.setdefault(f"{account}/{region}", Counter()).update(
                r["Type"] for r in found.values()
            )
            for resource in found.values():
                if resource["Type"] == "AWS::CodePipeline::Pipeline":
                    for stage in resource["Properties"]["Stages"]:
                        max_actions = max(max_actions, len(stage["Actions"]))
    return AssemblyStats(
        stacks=stacks,
        resources=resources,
        max_resources_per_stack=max_resources,
        max_template_bytes=max_bytes,
        max_actions_per_stage=max_actions,
        types_by_env={env: dict(sorted(c.items())) for env, c in sorted(types_by_env.items())},
    )


def per_added_service(
    small: AssemblyStats, large: AssemblyStats, n_small: int, n_large: int
) -> dict[str, Any]:
    """What each service adds between a fleet of ``n_small`` and one of ``n_large``:
    (count(large) - count(small)) / (n_large - n_small), for resources, stacks, KMS keys, IAM roles
    (in each account) and each resource type that changes."""
    step = n_large - n_small

    def added(a: float, b: float) -> float:
        return (b - a) / step

    accounts = sorted(set(small.by_account(IAM_ROLE)) | set(large.by_account(IAM_ROLE)))
    roles_small, roles_large = small.by_account(IAM_ROLE), large.by_account(IAM_ROLE)
    types_small, types_large = small.by_type(), large.by_type()
    by_type = {
        t: added(types_small.get(t, 0), types_large.get(t, 0))
        for t in sorted(set(types_small) | set(types_large))
        if types_small.get(t, 0) != types_large.get(t, 0)
    }
    return {
        "resources": added(small.resources, large.resources),
        "stacks": added(small.stacks, large.stacks),
        "kms_keys": added(small.count(KMS_KEY), large.count(KMS_KEY)),
        "iam_roles_by_account": {a: added(roles_small.get(a, 0), roles_large.get(a, 0)) for a in accounts},
        "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
    }


def services_at_role_quota(roles_small: float, per_service: float, n_small: int, quota: int) -> int | None:
    """How many services fit in an account before its IAM role quota, with ``roles_small`` roles
    at ``n_small`` services and ``per_service`` more for each added one (``None``: no limit)."""
    if per_service <= 0:
        return None
    return max(0, int((quota - roles_small) // per_service) + n_small)


# --- pairs ---------------------------------------------------------------------------------------


def spread(values: Iterable[float]) -> dict[str, Any]:
    """Median, min, max and interquartile range of ``values`` (all of them kept)."""
    xs = list(values)
    q1, q3 = (statistics.quantiles(xs, n=4, method="inclusive")[::2]) if len(xs) > 1 else (xs[0], xs[0])
    return {
        "median": statistics.median(xs),
        "min": min(xs),
        "max": max(xs),
        "q1": q1,
        "q3": q3,
        "n": len(xs),
        "values": xs,
    }


def pair_ratios(a: list[float], b: list[float]) -> list[float]:
    """a[i] / b[i] for each pair."""
    return [x / y for x, y in zip(a, b, strict=True)]


def pair_costs(small: list[float], large: list[float], n_small: int, n_large: int) -> list[float]:
    """(large[i] - small[i]) / (n_large - n_small) for each pair: the cost of each added service."""
    return [(y - x) / (n_large - n_small) for x, y in zip(small, large, strict=True)]


@dataclass(frozen=True)
class Job:
    """One process of a pair: which app, with which environment."""

    key: str
    script: str
    env: dict[str, str]


SIDES = ("hands_off", "baseline", "floor")
"""hands-off (``fleet_app.py``), plain CDK Pipelines (``baseline_app.py``) and the floor: plain plus
cdk-nag and the shared stacks (``floor_app.py``)."""

SCRIPTS = {"hands_off": "fleet_app.py", "baseline": "baseline_app.py", "floor": "floor_app.py"}


def pairs_for(n_large: int) -> list[tuple[Job, ...]]:
    """The groups of one round (see the module docstring): one service on each side, two services
    on each side, then N=1 and N=``n_large`` of each side."""

    def fleet(n: int) -> dict[str, str]:
        return {"HANDS_OFF_BENCH_SERVICES": str(n)}

    example = {"HANDS_OFF_BENCH_FLEET": "example"}
    return [
        tuple(Job(f"ratio1.{side}", SCRIPTS[side], fleet(1)) for side in SIDES),
        tuple(Job(f"ratio2.{side}", SCRIPTS[side], example) for side in SIDES),
        *(
            (
                Job(f"cost.{side}.1", SCRIPTS[side], fleet(1)),
                Job(f"cost.{side}.N", SCRIPTS[side], fleet(n_large)),
            )
            for side in SIDES
        ),
    ]


def run_rounds(
    rounds: int,
    n_large: int,
    cli_env: Mapping[str, str],
    *,
    keep_stats: bool,
    runner: Callable[..., Run] = synth,
) -> tuple[dict[str, list[Run]], dict[str, AssemblyStats]]:
    """Run ``rounds`` rounds of groups; odd rounds reverse the order inside each group. Returns the runs
    of each job (assemblies discarded) and, if ``keep_stats``, each job's assembly stats from the
    first round."""
    runs: dict[str, list[Run]] = {}
    stats: dict[str, AssemblyStats] = {}
    for index in range(rounds):
        for group in pairs_for(n_large):
            for job in group if index % 2 == 0 else reversed(group):
                run = runner(job.script, cli_env, **job.env)
                if keep_stats and index == 0:
                    stats[job.key] = assembly_stats(run.outdir)
                run.discard()
                runs.setdefault(job.key, []).append(run)
                print(f"  round {index + 1}/{rounds} {job.key}: {run.wall_s:.2f} s", flush=True)
    return runs, stats


def figures(runs: Mapping[str, list[Run]], n_large: int) -> dict[str, Any]:
    """The paired figures of a set of rounds, each with its spread."""

    def wall(key: str) -> list[float]:
        return [r.wall_s for r in runs[key]]

    def rss(key: str) -> list[float]:
        return [r.peak_rss_mib for r in runs[key]]

    def synth_figures(prefix: str) -> dict[str, Any]:
        return {
            "hands_off_s": spread(wall(f"{prefix}.hands_off")),
            "baseline_s": spread(wall(f"{prefix}.baseline")),
            "floor_s": spread(wall(f"{prefix}.floor")),
            "ratio": spread(pair_ratios(wall(f"{prefix}.hands_off"), wall(f"{prefix}.baseline"))),
            "floor_ratio": spread(pair_ratios(wall(f"{prefix}.floor"), wall(f"{prefix}.baseline"))),
            "ratio_to_floor": spread(pair_ratios(wall(f"{prefix}.hands_off"), wall(f"{prefix}.floor"))),
        }

    return {
        "rounds": len(runs["ratio1.hands_off"]),
        "synth_1_service": synth_figures("ratio1"),
        "synth_2_services": synth_figures("ratio2"),
        "cost_per_added_service_s": {
            side: spread(pair_costs(wall(f"cost.{side}.1"), wall(f"cost.{side}.N"), 1, n_large))
            for side in SIDES
        },
        "synth_large_n_s": {side: spread(wall(f"cost.{side}.N")) for side in SIDES},
        "peak_rss_large_n_mib": {
            "hands_off": spread(rss("cost.hands_off.N")),
            "baseline": spread(rss("cost.baseline.N")),
            "floor": spread(rss("cost.floor.N")),
            "ratio": spread(pair_ratios(rss("cost.hands_off.N"), rss("cost.baseline.N"))),
            "floor_ratio": spread(pair_ratios(rss("cost.floor.N"), rss("cost.baseline.N"))),
        },
        "peak_rss_1_service_mib": {side: spread(rss(f"ratio1.{side}")) for side in SIDES},
    }


# --- counts, quotas, verdicts --------------------------------------------------------------------


def counts(stats: Mapping[str, AssemblyStats], n_large: int) -> dict[str, Any]:
    """Per-service counts of both sides from the first round's assemblies."""
    out: dict[str, Any] = {}
    for side in ("hands_off", "baseline"):
        one, two, large = stats[f"ratio1.{side}"], stats[f"ratio2.{side}"], stats[f"cost.{side}.N"]
        out[side] = {
            "at_1_service": {
                "stacks": one.stacks,
                "resources": one.resources,
                "kms_keys": one.count(KMS_KEY),
                "iam_roles_by_account": one.by_account(IAM_ROLE),
            },
            "at_2_services": {"stacks": two.stacks, "resources": two.resources},
            f"share_per_service_at_{n_large}": {
                "resources": large.resources / n_large,
                "kms_keys": large.count(KMS_KEY) / n_large,
                "iam_roles_by_account": {a: c / n_large for a, c in large.by_account(IAM_ROLE).items()},
            },
            "per_added_service": per_added_service(one, large, 1, n_large),
        }
    ours, theirs = out["hands_off"]["per_added_service"], out["baseline"]["per_added_service"]
    out["resource_ratio_per_service"] = ours["resources"] / theirs["resources"]
    out["resource_ratio_at_1_service"] = (
        out["hands_off"]["at_1_service"]["resources"] / out["baseline"]["at_1_service"]["resources"]
    )
    return out


def quota_row(n: int, stats: AssemblyStats, wall_s: float, peak_rss_mib: float) -> dict[str, Any]:
    roles = stats.by_account(IAM_ROLE)
    return {
        "services": n,
        "wall_s": wall_s,
        "peak_rss_mib": peak_rss_mib,
        "stacks": stats.stacks,
        "resources": stats.resources,
        "max_resources_per_stack": stats.max_resources_per_stack,
        "max_template_bytes": stats.max_template_bytes,
        "max_actions_per_stage": stats.max_actions_per_stage,
        "iam_roles_by_account": roles,
        "kms_keys": stats.count(KMS_KEY),
    }


def verdict(value: float, target: float, why: str, unit: str = "") -> str:
    """``met``, or ``missed by <how much>: <value> against <= <target> (<why>)``; lower is better."""
    if value <= target:
        return "met"
    by = f"{value - target:.2f}{'' if unit == 'x' else unit}"
    return f"missed by {by}: {value:.2f}{unit} against <= {target:g}{unit} ({why})"


def per_account(values: Mapping[str, float]) -> str:
    return ", ".join(f"{a}: {r:g}" for a, r in values.items())


def top_types(by_type: Mapping[str, float], other: Mapping[str, float], k: int = 4) -> str:
    """The ``k`` resource types hands-off adds most of per service beyond the baseline."""
    extra = {t: n - other.get(t, 0) for t, n in by_type.items()}
    best = sorted(((n, t) for t, n in extra.items() if n > 0), reverse=True)[:k]
    return ", ".join(f"{t.removeprefix('AWS::')} +{n:g}" for n, t in best)


def floor_why(figure: Mapping[str, Any]) -> str:
    """``; the floor alone: <floor / baseline>x`` of a synth figure that has the floor's pairs
    (empty for results from before the floor was measured)."""
    if "floor_ratio" not in figure:
        return ""
    return f"; plain + cdk-nag + the shared stacks alone: {figure['floor_ratio']['median']:.2f}x"


def verdicts(results: Mapping[str, Any]) -> dict[str, str]:
    """A verdict per target (on the median of the pairs where there are pairs)."""
    main, c, n_large = results["main"], results["counts"], results["large_n"]
    ours, theirs = c["hands_off"]["per_added_service"], c["baseline"]["per_added_service"]
    size = (
        f"{ours['resources']:g} resources in {ours['stacks']:g} stacks per added service vs "
        f"{theirs['resources']:g} in {theirs['stacks']:g}"
    )
    extra = top_types(ours["by_type"], theirs["by_type"])
    one = c["hands_off"]["at_1_service"], c["baseline"]["at_1_service"]
    out = {
        "synth_ratio_1_service": verdict(
            main["synth_1_service"]["ratio"]["median"],
            TARGETS["synth_ratio_1_service"],
            f"{one[0]['resources']} resources in {one[0]['stacks']} stacks vs "
            f"{one[1]['resources']} in {one[1]['stacks']}" + floor_why(main["synth_1_service"]),
            "x",
        ),
        "synth_ratio_2_services": verdict(
            main["synth_2_services"]["ratio"]["median"],
            TARGETS["synth_ratio_2_services"],
            f"{c['hands_off']['at_2_services']['resources']} resources vs "
            f"{c['baseline']['at_2_services']['resources']}" + floor_why(main["synth_2_services"]),
            "x",
        ),
        "cost_per_added_service_s": verdict(
            main["cost_per_added_service_s"]["hands_off"]["median"],
            TARGETS["cost_per_added_service_s"],
            f"{size}; the baseline costs {main['cost_per_added_service_s']['baseline']['median']:.2f} s"
            + (
                f", the floor {main['cost_per_added_service_s']['floor']['median']:.2f} s"
                if "floor" in main["cost_per_added_service_s"]
                else ""
            ),
            " s",
        ),
        "peak_rss_ratio_at_large_n": verdict(
            main["peak_rss_large_n_mib"]["ratio"]["median"],
            TARGETS["peak_rss_ratio_at_large_n"],
            f"{main['peak_rss_large_n_mib']['hands_off']['median']:.0f} MiB vs "
            f"{main['peak_rss_large_n_mib']['baseline']['median']:.0f} MiB at N={n_large}",
            "x",
        ),
        "resource_ratio_per_service": verdict(
            c["resource_ratio_per_service"],
            TARGETS["resource_ratio_per_service"],
            f"{size}; most: {extra}",
            "x",
        ),
        "kms_keys_per_service": verdict(
            ours["kms_keys"],
            TARGETS["kms_keys_per_service"],
            f"{c['hands_off']['at_1_service']['kms_keys']} keys at N=1, "
            f"{ours['kms_keys']:g} more per added service",
        ),
        "tooling_roles_per_service": verdict(
            ours["iam_roles_by_account"].get(TOOLING_ACCOUNT, 0.0),
            TARGETS["tooling_roles_per_service"],
            f"per added service by account: {per_account(ours['iam_roles_by_account'])}",
        ),
    }
    make_test = results.get("make_test")
    if make_test:
        out["make_test_wall_s"] = verdict(
            make_test["wall_s"], TARGETS["make_test_wall_s"], "one run of make test", " s"
        )
        out["make_test_peak_rss_mib"] = verdict(
            make_test["peak_rss_mib"],
            TARGETS["make_test_peak_rss_mib"],
            "largest single process of make test",
            " MiB",
        )
    return out


def measure_make_test() -> dict[str, Any]:
    """Wall time and peak RSS (largest single process) of one ``make test``, after install."""
    start = time.perf_counter()
    # Its output goes to a file: a failing run says why (the tail is printed) without the log
    # filling the bench's own output.
    with tempfile.NamedTemporaryFile("w+", prefix="bench-make-test-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "test"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        tail = Path(log.name).read_text(errors="replace").splitlines()[-40:]
        print(f"make test failed (full log: {log.name}):", *tail, sep="\n", file=sys.stderr, flush=True)
    return {
        "command": "make test",
        "wall_s": time.perf_counter() - start,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "exit_code": os.waitstatus_to_exitcode(status),
    }


# --- report --------------------------------------------------------------------------------------


def fmt(s: Mapping[str, Any], digits: int = 2, unit: str = "") -> str:
    """``median (min to max, IQR q1 to q3)`` of a spread."""
    d = digits
    if s["n"] == 1:
        return f"{s['median']:.{d}f}{unit} (1 pair)"
    low_high = f"{s['min']:.{d}f} to {s['max']:.{d}f}"
    return f"{s['median']:.{d}f}{unit} ({low_high}, IQR {s['q1']:.{d}f} to {s['q3']:.{d}f})"


def plural_rounds(n: int) -> str:
    return f"{n} round" if n == 1 else f"{n} rounds"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Markdown table lines."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


SIDE_NAMES = {
    "hands_off": "hands-off",
    "baseline": "plain CDK Pipelines",
    "floor": "floor (plain + cdk-nag + shared stacks)",
}


def floor_rows(both: Callable[[Callable[[Mapping[str, Any]], str]], list[str]], n: int) -> list[list[str]]:
    """The figures of the floor (``floor_app.py``): what cdk-nag and the shared stacks cost a plain
    app, and hands-off against that floor."""
    return [
        [
            "synth ratio floor / plain, 1 service",
            *both(lambda m: fmt(m["synth_1_service"]["floor_ratio"], unit="x")),
            "",
            "what cdk-nag and the shared stacks cost alone",
        ],
        [
            "synth ratio hands-off / floor, 1 service",
            *both(lambda m: fmt(m["synth_1_service"]["ratio_to_floor"], unit="x")),
            "",
            "what hands-off's pipelines cost beyond them",
        ],
        [
            "synth ratio floor / plain, 2 services",
            *both(lambda m: fmt(m["synth_2_services"]["floor_ratio"], unit="x")),
            "",
            "",
        ],
        [
            "synth ratio hands-off / floor, 2 services",
            *both(lambda m: fmt(m["synth_2_services"]["ratio_to_floor"], unit="x")),
            "",
            "",
        ],
        [
            f"cost of each added service, floor (N=1 vs {n})",
            *both(lambda m: fmt(m["cost_per_added_service_s"]["floor"], unit=" s")),
            "",
            "",
        ],
        [
            f"peak RSS ratio floor / plain at N={n}",
            *both(lambda m: fmt(m["peak_rss_large_n_mib"]["floor_ratio"], unit="x")),
            "",
            "",
        ],
    ]


def render(results: Mapping[str, Any]) -> str:
    """The markdown of results.md and of the README block, from results.json alone."""
    main, off, c, v = (
        results["main"],
        results.get("validation_flipped"),
        results["counts"],
        results["verdicts"],
    )
    n, t = results["large_n"], TARGETS
    ours, theirs = c["hands_off"]["per_added_service"], c["baseline"]["per_added_service"]
    one = c["hands_off"]["at_1_service"], c["baseline"]["at_1_service"]

    def both(figure: Callable[[Mapping[str, Any]], str]) -> list[str]:
        return [f"**{figure(main)}**", figure(off) if off else "not run"]

    def roles(per_account: Mapping[str, float]) -> str:
        return ", ".join(f"{a}: {r:g}" for a, r in per_account.items())

    # Results from before the floor was measured render without its rows and column.
    floored = "floor_ratio" in main["synth_1_service"] and (
        off is None or "floor_ratio" in off["synth_1_service"]
    )
    validation = "on" if main["validation"] else "off"
    flipped = "off" if main["validation"] else "on"
    intro = (
        f"Paired runs: median of the pairs (min to max, IQR); {plural_rounds(main['rounds'])} with the "
        f"cdk.json settings `make synth` uses (built-in CloudFormation validation {validation})"
        + (f", {plural_rounds(off['rounds'])} with that validation {flipped} on both sides." if off else ".")
    )
    lines = [intro, ""]
    lines += table(
        [
            "figure",
            f"cdk.json settings (validation {validation})",
            f"validation {flipped}",
            "target",
            "verdict",
        ],
        [
            [
                "synth ratio hands-off / plain, 1 service",
                *both(lambda m: fmt(m["synth_1_service"]["ratio"], unit="x")),
                f"<= {t['synth_ratio_1_service']}x",
                v["synth_ratio_1_service"],
            ],
            [
                "synth ratio, 2 services (orders + catalog)",
                *both(lambda m: fmt(m["synth_2_services"]["ratio"], unit="x")),
                f"<= {t['synth_ratio_2_services']}x",
                v["synth_ratio_2_services"],
            ],
            [
                f"cost of each added service, hands-off (N=1 vs {n})",
                *both(lambda m: fmt(m["cost_per_added_service_s"]["hands_off"], unit=" s")),
                f"<= {t['cost_per_added_service_s']:.2f} s",
                v["cost_per_added_service_s"],
            ],
            [
                f"cost of each added service, plain CDK Pipelines (N=1 vs {n})",
                *both(lambda m: fmt(m["cost_per_added_service_s"]["baseline"], unit=" s")),
                "",
                "",
            ],
            [
                f"peak RSS ratio at N={n} (largest process)",
                *both(lambda m: fmt(m["peak_rss_large_n_mib"]["ratio"], unit="x")),
                f"<= {t['peak_rss_ratio_at_large_n']:.2f}x",
                v["peak_rss_ratio_at_large_n"],
            ],
            *(floor_rows(both, n) if floored else []),
        ],
    )
    lines.append("")
    sides = SIDES if floored else SIDES[:2]
    lines += table(
        [f"cdk.json settings (validation {validation})", *(SIDE_NAMES[side] for side in sides)],
        [
            ["synth, 1 service", *(fmt(main["synth_1_service"][f"{side}_s"], unit=" s") for side in sides)],
            ["synth, 2 services", *(fmt(main["synth_2_services"][f"{side}_s"], unit=" s") for side in sides)],
            [f"synth, {n} services", *(fmt(main["synth_large_n_s"][side], unit=" s") for side in sides)],
            [
                f"peak RSS, {n} services",
                *(fmt(main["peak_rss_large_n_mib"][side], 0, " MiB") for side in sides),
            ],
        ],
    )
    lines.append("")
    lines += table(
        [
            f"per added service (assemblies at N=1 and {n})",
            "hands-off",
            "plain CDK Pipelines",
            "target",
            "verdict",
        ],
        [
            [
                "resources",
                f"{ours['resources']:g}",
                f"{theirs['resources']:g}",
                f"<= {t['resource_ratio_per_service']}x plain (is {c['resource_ratio_per_service']:.2f}x)",
                v["resource_ratio_per_service"],
            ],
            ["stacks", f"{ours['stacks']:g}", f"{theirs['stacks']:g}", "", ""],
            [
                "KMS keys",
                f"{ours['kms_keys']:g}",
                f"{theirs['kms_keys']:g}",
                f"<= {t['kms_keys_per_service']:g}",
                v["kms_keys_per_service"],
            ],
            [
                "IAM roles, tooling account",
                f"{ours['iam_roles_by_account'].get(TOOLING_ACCOUNT, 0):g}",
                f"{theirs['iam_roles_by_account'].get(TOOLING_ACCOUNT, 0):g}",
                f"<= {t['tooling_roles_per_service']:g}",
                v["tooling_roles_per_service"],
            ],
            [
                "IAM roles, each account",
                roles(ours["iam_roles_by_account"]),
                roles(theirs["iam_roles_by_account"]),
                "",
                "",
            ],
            [
                "one service alone: stacks / resources / KMS keys",
                f"{one[0]['stacks']} / {one[0]['resources']} / {one[0]['kms_keys']}",
                f"{one[1]['stacks']} / {one[1]['resources']} / {one[1]['kms_keys']}",
                "",
                "",
            ],
        ],
    )
    make_test = results.get("make_test")
    if make_test:
        lines += [
            "",
            f"`make test` (one run, exit code {make_test['exit_code']}): {make_test['wall_s'] / 60:.1f} min "
            f"(target <= 5 min: {v['make_test_wall_s']}); peak RSS of its largest process "
            f"{make_test['peak_rss_mib']:.0f} MiB (target <= 2048 MiB: {v['make_test_peak_rss_mib']}).",
        ]
    lim, load = results["limits"], results["machine"]["load_average"]
    quota_rows = [
        [
            str(q["services"]),
            f"{q['wall_s']:.1f} s",
            f"{q['peak_rss_mib']:.0f} MiB",
            str(q["stacks"]),
            str(q["resources"]),
            f"{q['max_resources_per_stack']} / {q['max_template_bytes'] / 1000:.0f}",
            str(q["max_actions_per_stage"]),
            str(max(q["iam_roles_by_account"].values(), default=0)),
        ]
        for q in results["quotas"]
    ]
    quota_rows.append(
        [
            "AWS limit",
            "",
            "",
            "",
            "",
            f"{lim['resources_per_template']} / {lim['template_bytes'] // 1000}",
            str(lim["actions_per_stage"]),
            f"{lim['iam_roles_per_account']}",
        ]
    )
    lines.append("")
    lines += table(
        [
            "quotas: N services (hands-off, one run)",
            "synth",
            "peak RSS",
            "stacks",
            "resources",
            "largest template (resources / KB)",
            "most actions in a stage",
            "IAM roles, busiest account",
        ],
        quota_rows,
    )
    at_quota = ", ".join(
        f"{a}: {'no limit' if s is None else s}" for a, s in results["services_at_role_quota"].items()
    )
    lines += [
        "",
        f"Services per account before the IAM role quota: {at_quota}. Largest share of a per-template "
        f"or per-stage limit at N={results['quotas'][-1]['services']}: {results['max_share_of_limit']:.0%}. "
        f"CDK settings {results['context']['source']}; {results['machine']['cpus']} CPUs, "
        f"Python {results['machine']['python']}, load average {load['start']:.1f} at the start, "
        f"{load['end']:.1f} at the end.",
    ]
    return "\n".join(lines)


def chart(results: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["quotas"]
    n = [r["services"] for r in rows]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(n, [r["wall_s"] for r in rows], "o-", color="tab:blue", label="synth (s)")
    left.set_xlabel("services in the app")
    left.set_ylabel("synth wall time (s)", color="tab:blue")
    right = left.twinx()
    right.plot(
        n, [max(r["iam_roles_by_account"].values()) for r in rows], "s--", color="tab:red", label="IAM roles"
    )
    right.axhline(LIMITS["iam_roles_per_account"], color="tab:red", linestyle=":", linewidth=1)
    right.set_ylabel("IAM roles in the busiest account (quota dotted)", color="tab:red")
    fig.suptitle("hands-off: synth time and IAM roles against fleet size")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def readme_block(text: str) -> str | None:
    """The text between the bench markers of a README, without the newlines next to them."""
    if README_START not in text or README_END not in text:
        return None
    return text.split(README_START, 1)[1].split(README_END, 1)[0].strip("\n")


def update_readme(table: str, readme: Path = ROOT / "README.md") -> None:
    """Put ``table`` between the bench markers of ``readme`` (nothing happens without them)."""
    text = readme.read_text()
    if readme_block(text) is not None:
        head, rest = text.split(README_START, 1)
        _, tail = rest.split(README_END, 1)
        readme.write_text(f"{head}{README_START}\n{table}\n{README_END}{tail}")


# --- main ----------------------------------------------------------------------------------------


def main() -> int:
    rounds = int(os.environ.get("BENCH_PAIRS", "5"))
    flipped_rounds = int(os.environ.get("BENCH_VALIDATION_PAIRS", "3"))
    n_large = int(os.environ.get("BENCH_LARGE_N", "20"))
    sizes = sorted({int(s) for s in os.environ.get("BENCH_SIZES", "1,5,20,50").split(",")})
    out = Path(os.environ.get("BENCH_OUT", str(BENCH))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if rounds < 1 or n_large < 2:
        raise SystemExit("BENCH_PAIRS must be >= 1 and BENCH_LARGE_N >= 2")

    cli_env = cli_environment()
    context = json.loads(cli_env["CDK_CONTEXT_JSON"])
    cdk_json = json.loads((ROOT / "cdk.json").read_text()).get("context", {})
    print(f"CDK environment from {'the CDK CLI' if 'CDK_CLI_VERSION' in cli_env else 'cdk.json'}", flush=True)

    print("warm-up (not counted)...", flush=True)
    for script in SCRIPTS.values():
        synth(script, cli_env).discard()

    started, load_at_start = time.perf_counter(), os.getloadavg()[0]
    # As `make synth` runs it: on unless the environment turns it off (hands_off.run keeps CDK's default).
    validation = os.environ.get(VALIDATION_ENV, "").lower() != "false"
    print(f"{rounds} rounds with the cdk.json settings (validation {validation})...", flush=True)
    runs, stats = run_rounds(rounds, n_large, with_validation(cli_env, validation), keep_stats=True)
    flipped = None
    if flipped_rounds > 0:
        print(
            f"{flipped_rounds} rounds with the built-in validation {not validation} on both sides", flush=True
        )
        flipped_runs, _ = run_rounds(
            flipped_rounds, n_large, with_validation(cli_env, not validation), keep_stats=False
        )
        flipped = {**figures(flipped_runs, n_large), "validation": not validation}

    print(f"quotas over N = {sizes}...", flush=True)
    quotas = []
    for n in sizes:
        if n == 1:
            q = quota_row(
                1,
                stats["ratio1.hands_off"],
                runs["ratio1.hands_off"][0].wall_s,
                runs["ratio1.hands_off"][0].peak_rss_mib,
            )
        elif n == n_large:
            q = quota_row(
                n,
                stats["cost.hands_off.N"],
                runs["cost.hands_off.N"][0].wall_s,
                runs["cost.hands_off.N"][0].peak_rss_mib,
            )
        else:
            run = synth("fleet_app.py", cli_env, HANDS_OFF_BENCH_SERVICES=str(n))
            q = quota_row(n, assembly_stats(run.outdir), run.wall_s, run.peak_rss_mib)
            run.discard()
        quotas.append(q)
        print(f"  N={n}: {q['wall_s']:.1f} s, {q['stacks']} stacks, {q['resources']} resources", flush=True)
    biggest = quotas[-1]
    share = max(
        biggest["max_resources_per_stack"] / LIMITS["resources_per_template"],
        biggest["max_template_bytes"] / LIMITS["template_bytes"],
        biggest["max_actions_per_stage"] / LIMITS["actions_per_stage"],
    )
    c = counts(stats, n_large)
    one_roles = c["hands_off"]["at_1_service"]["iam_roles_by_account"]
    added_roles = c["hands_off"]["per_added_service"]["iam_roles_by_account"]
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "large_n": n_large,
        "main": {**figures(runs, n_large), "validation": validation},
        "validation_flipped": flipped,
        "counts": c,
        "quotas": quotas,
        "services_at_role_quota": {
            a: services_at_role_quota(one_roles.get(a, 0), r, 1, LIMITS["iam_roles_per_account"])
            for a, r in added_roles.items()
        },
        "max_share_of_limit": share,
        "limits": LIMITS,
        "targets": TARGETS,
        "context": {
            "source": "captured from the CDK CLI"
            if "CDK_CLI_VERSION" in cli_env
            else "cdk.json + CLI defaults",
            "cli_version": cli_env.get("CDK_CLI_VERSION"),
            "validation_in_cdk_json": cdk_json.get(VALIDATION_FLAG),
            "added_to_cdk_json": {k: v for k, v in context.items() if cdk_json.get(k, object()) != v},
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            # 1-minute load average: above the CPU count, other work widened the spread
            "load_average": {"start": load_at_start, "end": os.getloadavg()[0]},
        },
        "measure_minutes": (time.perf_counter() - started) / 60,
    }
    if os.environ.get("BENCH_MAKE_TEST") == "1":
        print("make test (minutes)...", flush=True)
        results["make_test"] = measure_make_test()
    results["verdicts"] = verdicts(results)

    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = render(results)
    (out / "results.md").write_text(table + "\n")
    chart(results, out / "scaling.png")
    if out == BENCH.resolve():
        update_readme(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
