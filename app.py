#!/usr/bin/env python3
"""The CDK app ``make synth`` runs: the example fleet, checked by cdk-nag.

Never calls AWS: every account and region is explicit in the model. ``hands_off.run`` creates the
app, applies cdk-nag and synthesizes; a configuration mistake is one line, not a traceback.
"""

from __future__ import annotations

from hands_off import run
from hands_off.example import build_example_fleet

if __name__ == "__main__":
    run(build_example_fleet)
