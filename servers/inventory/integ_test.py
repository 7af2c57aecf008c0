"""Integration tests for the inventory service: call each deployed fleet like a customer would.

Run by the pipeline after each pre-production deployment (``ENDPOINTS`` = the load balancer URL from
the stack output) and in Zeta (``ENDPOINTS`` = every deployed production URL, read from their
stacks). Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

Case = tuple[str, str, int, dict[str, Any]]

CASES: list[Case] = [
    ("is healthy", "health", 200, {"ok": True}),
    ("knows a stocked item", "items/A-1", 200, {"ok": True, "sku": "A-1"}),
    ("rejects an unknown item", "items/NO-SUCH-SKU", 404, {"ok": False}),
    ("rejects an unknown route", "no/such/route", 404, {"ok": False}),
]


def call(url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url``: (status, JSON body), for error statuses too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def run(cases: list[Case]) -> int:
    """Call every endpoint with every case; 0 when all pass, 1 otherwise (also when none given)."""
    endpoints = [e for e in os.environ.get("ENDPOINTS", "").split(",") if e]
    if not endpoints:
        print("ENDPOINTS is empty: nothing to test is a failure, not a pass", file=sys.stderr)
        return 1
    failures = 0
    for base in endpoints:
        for name, path, status, expected in cases:
            got_status, body = call(base.rstrip("/") + "/" + path)
            ok = got_status == status and all(body.get(k) == v for k, v in expected.items())
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} {base}: {name} -> {got_status} {body}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(run(CASES))
