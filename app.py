#!/usr/bin/env python3
"""The CDK app ``make synth`` runs: the example fleet, checked by cdk-nag.

Never calls AWS: every account and region is explicit in the model.
"""

from __future__ import annotations

import sys

from aws_cdk import App

from hands_off.example import build_example_fleet
from hands_off.model import ConfigError
from hands_off.nag import apply_nag


def main() -> int:
    app = App()
    try:
        build_example_fleet(app)
    except ConfigError as error:
        print(f"hands-off: configuration error: {error}", file=sys.stderr)
        return 2
    apply_nag(app)
    app.synth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
