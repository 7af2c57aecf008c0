"""Fixtures for the deployment-gate Lambda tests.

The gate modules are the ``hands_off_gates`` package (shipped in the wheel and bundled
as the Lambda asset); the tests import it like any package. ``gate_testing`` (helpers
next to this file) is put on ``sys.path``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent  # for the `gate_testing` helpers

if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test reach real AWS: fake credentials, a fixed region."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    """Run the test inside moto's mock of every AWS service."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def fresh_handler_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every handler fresh client factories (an empty cache) for this test.

    The factories a handler made at import cache clients across calls, like a warm Lambda
    container; a client cached outside this test's moto mock would reach past it.
    """
    from hands_off_gates import alarms, bake, decide, execution, override, time_window
    from hands_off_gates.gate_common import default_client_factory

    for module in (alarms, bake, decide, execution, override, time_window):
        fresh = {service: default_client_factory(service) for service in module.handler.services}
        monkeypatch.setattr(module.handler, "clients", fresh)
