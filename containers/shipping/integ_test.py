"""Integration tests for the shipping service: call each deployed copy like a customer would.

Run by the pipeline after each pre-production deployment (``ENDPOINTS`` = the copy's load balancer
URL from the stack output, e.g. ``http://shipping-gamma-123.eu-west-1.elb.amazonaws.com``) and in
Zeta (``ENDPOINTS`` = every production URL, comma-separated). Needs only the standard library.
With ``SKIP_NOT_DEPLOYED=1`` (Zeta) an endpoint that does not resolve yet (the first rollout of a
new region) is skipped; everywhere else it fails.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from typing import Any

# (name, path, expected status, expected subset of the JSON body)
Case = tuple[str, str, int, dict[str, Any]]

CASES: list[Case] = [
    ("is healthy", "/health", 200, {"ok": True}),
    ("quotes a 1.5 kg parcel to France", "/quote?weight_grams=1500&country=FR", 200, {"price_cents": 600}),
    ("rejects a weight of zero", "/quote?weight_grams=0&country=FR", 400, {"ok": False}),
    ("rejects an unknown country", "/quote?weight_grams=100&country=XX", 400, {"ok": False}),
    ("answers 404 on an unknown path", "/no-such-path", 404, {"ok": False}),
]


def call(url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url``; the status and JSON body, also for 4xx/5xx answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def not_deployed(error: Exception) -> bool:
    """The endpoint's name does not resolve: its load balancer does not exist (yet)."""
    reason = getattr(error, "reason", error)
    return isinstance(reason, socket.gaierror)


def run(cases: list[Case]) -> int:
    """Call every endpoint with every case; 0 when all pass, 1 otherwise (also when none given)."""
    endpoints = [e.rstrip("/") for e in os.environ.get("ENDPOINTS", "").split(",") if e]
    if not endpoints:
        print("ENDPOINTS is empty: nothing to test is a failure, not a pass", file=sys.stderr)
        return 1
    skip_missing = os.environ.get("SKIP_NOT_DEPLOYED") == "1"
    failures = 0
    for endpoint in endpoints:
        for name, path, status, expected in cases:
            try:
                got_status, body = call(endpoint + path)
            except (urllib.error.URLError, OSError) as error:
                if skip_missing and not_deployed(error):
                    print(f"SKIP {endpoint}: not deployed yet")
                    break
                print(f"FAIL {endpoint}: {name} -> {error}")
                failures += 1
                continue
            ok = got_status == status and all(body.get(k) == v for k, v in expected.items())
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} {endpoint}: {name} -> {got_status} {body}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(run(CASES))
