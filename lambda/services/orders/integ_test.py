"""Integration tests for the orders service: call the deployed alias like a customer would.

Run by the pipeline after each pre-production deployment (``ENDPOINTS`` = the alias ARN from the
stack output) and in Zeta (``ENDPOINTS`` = every production alias ARN). Needs only boto3.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from integ_runner import Case, run

CASES: list[Case] = [
    (
        "prices a valid order",
        {"items": [{"sku": "A-1", "quantity": 2, "unit_price_cents": 250}]},
        {"ok": True, "total_cents": 500},
    ),
    ("rejects an empty order", {"items": []}, {"ok": False}),
    (
        "rejects a negative quantity",
        {"items": [{"sku": "A-1", "quantity": -1, "unit_price_cents": 1}]},
        {"ok": False},
    ),
]

if __name__ == "__main__":
    raise SystemExit(run(CASES))
