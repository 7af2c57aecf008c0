"""The ``hands-off`` command line.

Example::

    $ hands-off plan                       # the built-in example fleet
    $ hands-off plan --config fleet.toml --factor 3
    $ hands-off bootstrap --assembly cdk.out > bootstrap.sh    # the cdk bootstrap commands
    $ hands-off init payments --service payments               # a new service repository
    $ hands-off check cdk.out --format sarif > check.sarif     # deployment-safety rules
    $ hands-off diagram cdk.out --pipeline orders-application  # a Mermaid flowchart (--plan: Gantt)
    $ hands-off --version

User errors (a bad fleet file, a missing file) print ``hands-off: error: <message>`` on stderr
and exit with status 2, without a traceback. ``check`` exits 1 when an unwaived error-level
rule fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hands_off.model.errors import ConfigError
from hands_off.model.planner import WavePlan

if TYPE_CHECKING:
    from hands_off.bootstrap import BootstrapPlan

__all__ = ["main"]

_PROG = "hands-off"
_USAGE_ERROR = 2
# plan_waves' default factor, and the default of a fleet file's [planner] factor.
_DEFAULT_FACTOR = 2.0
_EXAMPLE = "the built-in example fleet"
_CHECK_FAILED = 1
# Where `cdk synth` writes the assembly by default: `bootstrap --config` checks the file against it.
_CDK_OUT = Path("cdk.out")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Safe, hands-off deployments: plan and inspect pipelines."
    )
    from hands_off import __version__

    parser.add_argument("--version", action="version", version=f"{_PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    init = commands.add_parser(
        "init",
        help="write a new service repository that uses hands-off (make synth, make test)",
        description="Write a service repository into DIR (new or empty): a CDK app, an "
        "organization pipeline class and a service class, a Lambda handler with unit and "
        "integration tests, a whole-pipeline snapshot test, fleet.toml, cdk.json, pinned "
        "requirements (hands-off==this version) and a Makefile with `make synth` and `make test`.",
    )
    init.add_argument("directory", type=Path, metavar="DIR", help="the folder to create")
    init.add_argument("--service", required=True, metavar="NAME", help="lower-case service name")
    init.add_argument("--repository", metavar="OWNER/NAME", help="Git repository (default: my-org/NAME)")
    init.add_argument(
        "--org-class",
        metavar="MODULE:CLASS",
        help="take the organization's base pipeline from a shared package instead of infra/org.py",
    )
    init.add_argument(
        "--org-requirement",
        metavar="SPEC",
        help="the requirement providing --org-class, e.g. acme-pipelines==1.0",
    )
    plan = commands.add_parser(
        "plan",
        help="print the production wave plan (blast radius and lead time per wave)",
        description="Print the production wave plan of a fleet file, or of the built-in "
        "example fleet when --config is not given.",
    )
    plan.add_argument(
        "--config", type=Path, metavar="FILE", help="fleet TOML file (default: built-in example)"
    )
    plan.add_argument(
        "--factor",
        type=float,
        metavar="F",
        help="wave growth factor, at least 1.0 (default: the file's [planner] factor, or 2.0)",
    )
    plan.add_argument(
        "--zonal",
        action="store_true",
        help="the service deploys one Availability Zone at a time (EC2 fleets): show each wave's first-AZ "
        "blast radius",
    )
    bootstrap = commands.add_parser(
        "bootstrap",
        help="print the cdk bootstrap, account-baseline and gate-roles deploy commands of the app "
        "(--assembly) or fleet, as a shell script",
        description="Print, as a shell script with comments, the `cdk bootstrap` commands (and "
        "the execution policy each target account needs), each account's followed by the `cdk "
        "deploy` of its account-region baselines (the shared paging topic, CodeDeploy applications, "
        "buckets), the tooling account's with the shared gate roles. With --assembly, for what the "
        "synthesized app deploys (regions a pipeline adds in code included); with --config, for a "
        "fleet file; with neither, for the built-in example fleet. A fleet's script is refused when "
        "the assembly (--assembly, else ./cdk.out if present) deploys anywhere the fleet lacks. "
        "Nothing is run.",
    )
    bootstrap.add_argument(
        "--assembly",
        type=Path,
        metavar="DIR",
        help="synthesized cloud assembly (e.g. cdk.out, after `cdk synth`): the plan of what it deploys; "
        "with --config, only checks the fleet file against it",
    )
    bootstrap.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="fleet TOML file (default: built-in example); either is checked against ./cdk.out if present",
    )
    check = commands.add_parser(
        "check",
        help="check the pipelines of a cloud assembly against the deployment-safety rules",
        description="Run the deployment-safety rules (HO-W1...) over every pipeline of a "
        "synthesized cloud assembly, hands-off's or any CDK Pipelines app's. Exits 1 when an "
        "unwaived error-level rule fails, 2 when the assembly cannot be read.",
    )
    check.add_argument(
        "assembly",
        nargs="?",
        type=Path,
        default=Path("cdk.out"),
        metavar="CDK_OUT",
        help="the cloud assembly directory (default: cdk.out)",
    )
    check.add_argument(
        "--format", choices=("table", "json", "sarif"), default="table", help="output format (default: table)"
    )
    check.add_argument("--pipeline", metavar="NAME", help="check only this pipeline")
    check.add_argument(
        "--waive",
        action="append",
        default=[],
        metavar="RULE:PIPELINE:REASON",
        help="accept RULE's findings in PIPELINE ('*': all) for REASON; repeatable",
    )
    check.add_argument(
        "--waivers",
        type=Path,
        metavar="FILE",
        help='TOML file with [tool.hands-off.waivers.<RULE>] pipeline = "reason" tables',
    )
    diagram = commands.add_parser(
        "diagram",
        help="print Mermaid diagrams of the pipelines of a cloud assembly",
        description="Print a Mermaid flowchart of each pipeline (stages, gates, deployments per "
        "region with their traffic shift, tests, bakes, stage conditions), each in a ```mermaid "
        "block; --plan prints the production wave plan as a Mermaid Gantt chart instead.",
    )
    diagram.add_argument(
        "assembly",
        nargs="?",
        type=Path,
        default=Path("cdk.out"),
        metavar="CDK_OUT",
        help="the cloud assembly directory (default: cdk.out)",
    )
    diagram.add_argument("--pipeline", metavar="NAME", help="only this pipeline")
    diagram.add_argument("--plan", action="store_true", help="the wave plan's lead time as a Gantt chart")
    return parser


def _render(heading: str, plan: WavePlan, zonal: bool = False) -> str:
    total = plan.total_lead_time_minutes
    return "\n".join(
        [
            heading,
            "",
            plan.table(zonal=zonal),
            "",
            *([plan.zonal_summary()] if zonal else []),
            f"Total lead time, first wave start to last bake end: "
            f"{total // 60}:{total % 60:02d} ({total} min)",
        ]
    )


def _regions(plan: WavePlan) -> str:
    count = len({region for wave in plan.production_waves for region in wave.regions})
    return f"{count} region" if count == 1 else f"{count} regions"


def _file_factor(config: Path, factor: float | None) -> str:
    """How the waves of a (valid) fleet file were made: ``factor F``, or hand-listed."""
    from hands_off.model.config_file import FleetFile

    with config.open("rb") as handle:
        fleet = FleetFile.model_validate(tomllib.load(handle))
    if fleet.waves is not None:
        return "hand-listed waves"
    if factor is None:
        factor = fleet.planner.factor if fleet.planner is not None else _DEFAULT_FACTOR
    return f"factor {factor:g}"


def _plan(config: Path | None, factor: float | None, zonal: bool = False) -> str:
    # Imported here so `hands-off --help` stays fast and the example loads only when used.
    if config is None:
        from hands_off.model.example import example_plan

        chosen = _DEFAULT_FACTOR if factor is None else factor
        plan = example_plan(chosen)
        return _render(f"Wave plan of {_EXAMPLE} ({_regions(plan)}, factor {chosen:g})", plan, zonal)
    from hands_off.model.config_file import load_plan

    plan = load_plan(config, factor=factor)
    return _render(f"Wave plan of {config} ({_regions(plan)}, {_file_factor(config, factor)})", plan, zonal)


def _assembly_plan(directory: Path) -> BootstrapPlan:
    """The ``BootstrapPlan`` of the assembly in ``directory``; ``ConfigError`` if unreadable."""
    from hands_off.assembly import Assembly, AssemblyError
    from hands_off.bootstrap import assembly_bootstrap_plan

    try:
        return assembly_bootstrap_plan(Assembly.read(directory))
    except AssemblyError as err:
        raise ConfigError("--assembly", str(err)) from None
    except OSError as err:
        raise ConfigError(
            "--assembly",
            f"{err.filename or directory}: {err.strerror or err}; pass a readable synthesized assembly",
        ) from None


def _bootstrap(config: Path | None, assembly: Path | None) -> str:
    """The script of the assembly (``--assembly`` alone), of the fleet file (``--config``) or of
    the example fleet (neither); a fleet's, checked against ``--assembly`` or a ``cdk.out`` in the
    working directory."""
    from hands_off.bootstrap import bootstrap_plan, render_bootstrap

    if config is None and assembly is not None:
        return render_bootstrap(_assembly_plan(assembly), source=f"the app synthesized in {assembly}")
    if config is None:
        from hands_off.model.example import example_environments

        plan, source, field = bootstrap_plan(example_environments()), _EXAMPLE, "bootstrap"
    else:
        from hands_off.model.config_file import load_environments

        plan, source, field = bootstrap_plan(load_environments(config)), str(config), "--config"
    found = assembly
    if found is None and (_CDK_OUT / "manifest.json").is_file():
        found = _CDK_OUT
    if found is not None:
        missing = plan.missing(_assembly_plan(found))
        if missing:
            where = f"{found} (found in the working directory)" if assembly is None else str(found)
            raise ConfigError(
                field,
                f"{source} lacks what the app synthesized in {where} needs: {', '.join(missing)} (a "
                "pipeline's environments() adds them in code, or the file is another fleet's); "
                f"print the script of the app instead: hands-off bootstrap --assembly {found}",
            )
    return render_bootstrap(plan, source=source)


def _init(args: argparse.Namespace) -> str:
    from hands_off.scaffold import init_project

    written = init_project(
        args.directory,
        service=args.service,
        repository=args.repository,
        org_class=args.org_class,
        org_requirement=args.org_requirement,
    )
    return (
        f"Wrote {len(written)} files into {args.directory}/. Next:\n"
        f"  cd {args.directory} && make test && make synth\n"
        "(hands-off is installed from your package index; PIP_FIND_LINKS=<folder> for a wheel file)"
    )


def _read(directory: Path, pipeline: str | None) -> tuple[Any, list[Any]]:
    """The assembly and its pipelines (only ``pipeline`` if given); ``ConfigError`` if unreadable."""
    from hands_off.assembly import Assembly, AssemblyError

    try:
        assembly = Assembly.read(directory)
    except AssemblyError as err:
        raise ConfigError("assembly", str(err)) from None
    pipelines = [p for p in assembly.pipelines if pipeline is None or p.name == pipeline]
    if pipeline is not None and not pipelines:
        names = ", ".join(p.name for p in assembly.pipelines) or "none"
        raise ConfigError("--pipeline", f"{directory} has no pipeline {pipeline!r} (it has: {names})")
    return assembly, pipelines


def _check(args: argparse.Namespace) -> tuple[str, int]:
    from hands_off.check import Waiver, load_waivers, run

    try:
        waivers = [Waiver.parse(text) for text in args.waive]
        if args.waivers is not None:
            waivers += load_waivers(args.waivers)
    except ValueError as err:
        raise ConfigError("--waive", str(err)) from None
    assembly, _ = _read(args.assembly, args.pipeline)
    report = run(assembly, waivers=waivers, pipeline=args.pipeline)
    return report.render(args.format), _CHECK_FAILED if report.failed else 0


def _diagram(args: argparse.Namespace) -> str:
    from hands_off.diagram import flowchart, gantt

    assembly, pipelines = _read(args.assembly, args.pipeline)
    draw = gantt if args.plan else flowchart
    return "\n\n".join(f"```mermaid\n{draw(assembly, p)}\n```" for p in pipelines)


def _error(message: str) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return _USAGE_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hands-off`` command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 on success, 1 when ``check`` finds an unwaived error, 2 on a
    usage or configuration error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed usage and the error
        return exit_.code if isinstance(exit_.code, int) else _USAGE_ERROR
    if args.command is None:
        parser.print_help(sys.stderr)
        return _USAGE_ERROR
    status = 0
    try:
        if args.command == "check":
            text, status = _check(args)
        elif args.command == "diagram":
            text = _diagram(args)
        elif args.command == "init":
            text = _init(args)
        elif args.command == "bootstrap":
            text = _bootstrap(args.config, args.assembly)
        else:
            text = _plan(args.config, args.factor, args.zonal)
    except ConfigError as err:
        return _error(str(err))
    except OSError as err:
        reason = err.strerror or str(err)
        if args.command == "init":
            return _error(f"{err.filename or args.directory}: {reason}; choose a folder you can write")
        if args.command == "check":
            return _error(
                f"{err.filename or args.waivers}: {reason}; pass --waivers with a readable TOML file"
            )
        name = err.filename if err.filename is not None else args.config
        return _error(f"{name}: {reason}; pass --config with the path of a readable fleet file")
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `hands-off plan | head -1`: the reader has all it wanted
        # Python would report the pipe again when flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status


if __name__ == "__main__":
    raise SystemExit(main())
