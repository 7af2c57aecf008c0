"""Shared runner for the example services' integration tests (needs only boto3).

Each service lists its cases; ``run(cases)`` calls every endpoint in ``ENDPOINTS`` (comma-separated
Lambda alias ARNs) with every case, like a customer would, and returns a process exit code.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import boto3

Case = tuple[str, dict[str, Any], dict[str, Any]]


def invoke(arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Invoke one alias ARN (in any account/region that allows us) and return its JSON answer."""
    region = arn.split(":")[3]
    response = boto3.client("lambda", region_name=region).invoke(
        FunctionName=arn, Payload=json.dumps(payload).encode()
    )
    if response.get("FunctionError"):
        raise AssertionError(f"{arn} raised {response['FunctionError']}: {response['Payload'].read()!r}")
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def run(cases: list[Case]) -> int:
    """Invoke every endpoint with every case; 0 when all pass, 1 otherwise (also when none given)."""
    endpoints = [e for e in os.environ.get("ENDPOINTS", "").split(",") if e]
    if not endpoints:
        print("ENDPOINTS is empty: nothing to test is a failure, not a pass", file=sys.stderr)
        return 1
    # Zeta sets SKIP_NOT_DEPLOYED=1: a production copy that does not exist yet (first rollout of a
    # new region) has nothing to be compatible with. Everywhere else a missing endpoint fails.
    skip_missing = os.environ.get("SKIP_NOT_DEPLOYED") == "1"
    failures = 0
    for arn in endpoints:
        for name, payload, expected in cases:
            try:
                got = invoke(arn, payload)
            except boto3.client("lambda", region_name=arn.split(":")[3]).exceptions.ResourceNotFoundException:
                if not skip_missing:
                    raise
                print(f"SKIP {arn}: not deployed yet")
                break
            ok = all(got.get(k) == v for k, v in expected.items())
            failures += not ok
            print(f"{'PASS' if ok else 'FAIL'} {arn}: {name} -> {got}")
    return 1 if failures else 0
