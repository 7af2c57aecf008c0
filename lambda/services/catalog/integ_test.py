"""Integration tests for the catalog service: call the deployed alias like a customer would.

Run by the pipeline after each pre-production deployment (``ENDPOINTS`` = the alias ARN from the
stack output) and in Zeta (``ENDPOINTS`` = every production alias ARN). Needs only boto3.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from integ_runner import Case, run

CASES: list[Case] = [
    ("finds a known product", {"sku": "A-1"}, {"ok": True, "name": "Anvil"}),
    ("rejects an unknown product", {"sku": "nope"}, {"ok": False}),
    ("rejects a missing sku", {}, {"ok": False}),
]

if __name__ == "__main__":
    raise SystemExit(run(CASES))
