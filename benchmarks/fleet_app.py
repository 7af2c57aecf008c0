"""A hands-off app of N services for `make bench` (``python benchmarks/fleet_app.py``).

Environment: ``HANDS_OFF_BENCH_SERVICES`` (default 1; service 1 is the example ``orders``, the
others are copies of it under other names) and ``HANDS_OFF_BENCH_NAG`` (default 1: run cdk-nag,
as ``make synth`` does). Writes to ``$CDK_OUTDIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aws_cdk import App

from hands_off.example import OrdersPipeline
from hands_off.nag import apply_nag


def service_class(index: int) -> type[OrdersPipeline]:
    """The example orders service, renamed (service 1 is ``orders`` itself)."""
    if index == 1:
        return OrdersPipeline
    return type(f"Svc{index:03d}Pipeline", (OrdersPipeline,), {"service_name": f"svc{index:03d}"})


def main() -> None:
    count = int(os.environ.get("HANDS_OFF_BENCH_SERVICES", "1"))
    app = App()
    for index in range(1, count + 1):
        service_class(index)(app)
    if os.environ.get("HANDS_OFF_BENCH_NAG", "1") == "1":
        apply_nag(app)
    app.synth()


if __name__ == "__main__":
    main()
