"""The ``hands-off`` command line.

Example::

    $ hands-off plan                       # the built-in example fleet
    $ hands-off plan --config fleet.toml --factor 3

User errors (a bad fleet file, a missing file) print ``hands-off: error: <message>`` on stderr
and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hands_off.model.errors import ConfigError
from hands_off.model.planner import WavePlan

__all__ = ["main"]

_PROG = "hands-off"
_USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Safe, hands-off deployments: plan and inspect pipelines."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
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
    return parser


def _render(heading: str, plan: WavePlan) -> str:
    total = plan.total_lead_time_minutes
    return "\n".join(
        [
            heading,
            "",
            plan.table(),
            "",
            f"Total lead time, first wave start to last bake end: "
            f"{total // 60}:{total % 60:02d} ({total} min)",
        ]
    )


def _plan(config: Path | None, factor: float | None) -> str:
    # Imported here so `hands-off --help` stays fast and the example loads only when used.
    if config is None:
        from hands_off.model.example import EXAMPLE_INVENTORY, example_plan

        chosen = 2.0 if factor is None else factor
        plan = example_plan(chosen)
        heading = (
            f"Wave plan of the built-in example fleet ({len(EXAMPLE_INVENTORY)} regions, factor {chosen:g})"
        )
        return _render(heading, plan)
    from hands_off.model.config_file import load_plan

    plan = load_plan(config, factor=factor)
    return _render(f"Wave plan of {config}", plan)


def _error(message: str) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return _USAGE_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hands-off`` command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0 on success, 2 on a usage or configuration error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed usage and the error
        return exit_.code if isinstance(exit_.code, int) else _USAGE_ERROR
    if args.command is None:
        parser.print_help(sys.stderr)
        return _USAGE_ERROR
    try:
        print(_plan(args.config, args.factor))
    except ConfigError as err:
        return _error(str(err))
    except OSError as err:
        name = err.filename if err.filename is not None else args.config
        reason = err.strerror or str(err)
        return _error(f"{name}: {reason}; pass --config with the path of a readable fleet file")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
