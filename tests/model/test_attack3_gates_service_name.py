"""Attack review of c016220 (side finding, pre-existing since the gate runtime was signed in the
Build): a service named ``hands-off-gates`` is accepted, and then its package and the gate
runtime share every name the Build uses: ``build/hands-off-gates.zip`` (``package_path`` and the
gates' package), ``<service>/unsigned/hands-off-gates.zip`` and ``<service>/signed/hands-off-gates/``
of the signing bucket, and ``build/signed/hands-off-gates.zip``. The gates are packaged and signed
after the service, so the service's functions are synthesized with the gate runtime."""

from __future__ import annotations

import pytest

from hands_off.constructs.code_signing import GATES_PACKAGE_NAME
from hands_off.model import ConfigError, validate_service_identity


def test_the_gate_runtime_name_is_not_a_service_name() -> None:
    with pytest.raises(ConfigError):
        validate_service_identity(
            "GatesPipeline",
            service_name=GATES_PACKAGE_NAME,
            repository="example-org/gates",
            connection_arn="arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
            branch="main",
            requires_source=True,
        )


@pytest.mark.parametrize("name", ["hands-off", "hands-off-orders"])
def test_the_hands_off_prefix_is_reserved_and_the_error_names_the_field(name: str) -> None:
    from hands_off.model import identity
    from hands_off.naming import ORG_PREFIX

    assert identity._RESERVED_PREFIX == ORG_PREFIX  # the model's copy of the prefix
    with pytest.raises(ConfigError, match=r"OrdersPipeline\.service_name: .*reserved"):
        validate_service_identity(
            "OrdersPipeline",
            service_name=name,
            repository="example-org/orders",
            connection_arn="arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
            branch="main",
            requires_source=True,
        )
    # a name merely containing it is fine
    validate_service_identity(
        "OrdersPipeline",
        service_name="orders-hands-off",
        repository="example-org/orders",
        connection_arn="arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
        branch="main",
        requires_source=True,
    )
