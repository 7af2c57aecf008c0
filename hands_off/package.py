"""Deterministic zip packaging of a Lambda source directory (same input → same bytes).

Usage: ``python -m hands_off.package SRC_DIR OUT_ZIP [--exclude NAME ...]``. Fixed timestamps and
sorted entries keep the package (and so the signed package and CDK asset hash) stable.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["package_directory"]

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hands_off.package", description=__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--exclude", action="append", default=[], help="file or folder name to leave out")
    args = parser.parse_args(argv)
    try:
        names = package_directory(args.source, args.output, args.exclude)
    except FileNotFoundError as error:
        print(f"hands-off package: error: {error}", file=sys.stderr)
        return 2
    print(f"packaged {len(names)} files into {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
