"""Fixtures for the deployment-gate Lambda tests.

The gate modules live in ``lambda/gates`` (an asset folder, not a package: ``lambda``
is a keyword) and import each other as top-level modules, exactly as on the Lambda
runtime. Put that folder on ``sys.path`` so the tests work whatever pytest's
``pythonpath`` setting is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

GATES_DIR = Path(__file__).resolve().parents[2] / "lambda" / "gates"
TESTS_DIR = Path(__file__).resolve().parent  # for the `gate_testing` helpers

# Importing the gate modules must not drop __pycache__ into the Lambda asset folder
# (it would change the asset hash and ship stale bytecode).
sys.dont_write_bytecode = True

for _path in (GATES_DIR, TESTS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


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
    """Give the handlers' module-level client factories an empty cache per test."""
    import alarms
    import bake
    import override
    from gate_common import default_client_factory

    monkeypatch.setattr(alarms, "_CLOUDWATCH", default_client_factory("cloudwatch"))
    monkeypatch.setattr(bake, "_CLOUDWATCH", default_client_factory("cloudwatch"))
    monkeypatch.setattr(override, "_SSM", default_client_factory("ssm"))
