"""Deterministic zip packaging of a Lambda source directory (same input → same bytes).

Usage: ``python -m hands_off.package SRC_DIR OUT_ZIP [--exclude NAME ...]``, or
``python -m hands_off.package --gates OUT_ZIP`` for the gate runtime (what the pipeline's Build
signs for the gate Lambdas). Fixed timestamps and sorted entries keep the package (and so the
signed package and CDK asset hash) stable.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["GATES_ZIP_NAME", "bundle_gates", "package_directory", "package_gates"]

GATES_ZIP_NAME = "hands-off-gates.zip"
"""The file name of the signed gate runtime in the Build's signed-code directory."""

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_ALWAYS_EXCLUDED = {"__pycache__", ".pytest_cache", ".mypy_cache"}


def package_directory(source: Path, output: Path, exclude: Iterable[str] = ()) -> list[str]:
    """Zip the files under ``source`` into ``output``; return the archive names written."""
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: not a directory (give the Lambda source folder)")
    excluded = _ALWAYS_EXCLUDED | set(exclude)
    files = sorted(
        p for p in source.rglob("*") if p.is_file() and not excluded.intersection(p.relative_to(source).parts)
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(source).as_posix()
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
            names.append(name)
    return names


def bundle_gates(output_dir: Path) -> None:
    """Write the gate Lambdas' code into ``output_dir``: the ``hands_off_gates`` modules (sources
    only) and the pinned ``tzdata`` (zoneinfo reads it; Lambda's image has no time zone database)."""
    import tzdata

    import hands_off_gates

    source = Path(hands_off_gates.__file__).parent
    package = output_dir / hands_off_gates.__name__
    package.mkdir(parents=True, exist_ok=True)
    for module in sorted(source.glob("*.py")):
        shutil.copyfile(module, package / module.name)
    shutil.copytree(
        Path(tzdata.__file__).parent,
        output_dir / "tzdata",
        ignore=shutil.ignore_patterns("__pycache__"),
        dirs_exist_ok=True,
    )


def package_gates(output: Path) -> list[str]:
    """Zip :func:`bundle_gates` into ``output`` (deterministic); return the archive names."""
    with tempfile.TemporaryDirectory() as bundle:
        bundle_gates(Path(bundle))
        return package_directory(Path(bundle), output)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hands_off.package", description=__doc__)
    parser.add_argument("source", type=Path, nargs="?", help="the Lambda source folder")
    parser.add_argument("output", type=Path, nargs="?", help="the zip to write")
    parser.add_argument("--exclude", action="append", default=[], help="file or folder name to leave out")
    parser.add_argument("--gates", type=Path, metavar="OUT_ZIP", help="package the gate runtime instead")
    args = parser.parse_args(argv)
    if args.gates is not None:
        if args.source is not None:
            parser.error("--gates takes only the zip to write")
        names = package_gates(args.gates)
        print(f"packaged {len(names)} files into {args.gates}")
        return 0
    if args.source is None or args.output is None:
        parser.error("give SRC_DIR and OUT_ZIP (or --gates OUT_ZIP)")
    try:
        names = package_directory(args.source, args.output, args.exclude)
    except FileNotFoundError as error:
        print(f"hands-off package: error: {error}", file=sys.stderr)
        return 2
    print(f"packaged {len(names)} files into {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
