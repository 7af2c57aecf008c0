"""A hands-off app of N services for `make bench` (``python benchmarks/fleet_app.py``).

Built and synthesized by ``hands_off.run``, as ``app.py`` (what ``make synth`` runs) is. The CDK
settings come from the environment the CDK CLI gives an app (``CDK_CONTEXT_JSON``: the ``context``
of ``cdk.json`` and the CLI's defaults); ``benchmarks/run.py`` passes the same to both apps.

Environment:
- ``HANDS_OFF_BENCH_SERVICES``: N (default 1). Service 1 is the example ``orders``; the others are
  copies of it under other names (``svc002``...), so every added service has the same shape.
- ``HANDS_OFF_BENCH_FLEET=example``: the example's two Lambda services instead, ``orders`` and
  ``catalog`` (``HANDS_OFF_BENCH_SERVICES`` is then ignored).
- ``HANDS_OFF_BENCH_NAG``: ``1`` (default) runs cdk-nag, as ``make synth`` does; ``0`` does not.
- ``CDK_OUTDIR``: where the cloud assembly goes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aws_cdk import App

from hands_off import run
from hands_off.example import CatalogPipeline, OrdersPipeline
from hands_off.stacks.service_pipeline import ServicePipeline


def service_class(index: int) -> type[OrdersPipeline]:
    """The example orders service, renamed (service 1 is ``orders`` itself)."""
    if index == 1:
        return OrdersPipeline
    return type(f"Svc{index:03d}Pipeline", (OrdersPipeline,), {"service_name": f"svc{index:03d}"})


def service_classes() -> list[type[ServicePipeline]]:
    """The services this run builds, from the environment (see the module docstring)."""
    if os.environ.get("HANDS_OFF_BENCH_FLEET") == "example":
        return [OrdersPipeline, CatalogPipeline]
    count = int(os.environ.get("HANDS_OFF_BENCH_SERVICES", "1"))
    return [service_class(index) for index in range(1, count + 1)]


def main() -> None:
    classes = service_classes()

    def build(app: App) -> None:
        for cls in classes:
            cls(app)

    run(build, nag=os.environ.get("HANDS_OFF_BENCH_NAG", "1") == "1")


if __name__ == "__main__":
    main()
