"""The writer role the hotfix function derives from a copy's gate-reader role."""

from __future__ import annotations

import pytest

from hands_off.naming import RolePurpose, ServiceNaming
from hands_off_gates.contract import hotfix_writer_role_arn


@pytest.mark.parametrize("service", ["orders", "orders-gate", "a"])
def test_the_derived_writer_is_the_role_the_access_stack_names(service: str) -> None:
    naming = ServiceNaming(service=service, tooling_account="111111111111", tooling_region="us-east-1")
    reader = naming.role_arn("333333333333", RolePurpose.GATE_READER)
    assert hotfix_writer_role_arn(reader) == naming.role_arn("333333333333", RolePurpose.HOTFIX)


@pytest.mark.parametrize(
    "role",
    [
        None,
        "arn:aws:iam::333333333333:role/some-role",
        "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader-x",
        "arn:aws:iam::333333333333:user/hands-off-orders-gate-reader",
    ],
)
def test_no_writer_for_a_role_not_named_as_a_gate_reader(role: str | None) -> None:
    assert hotfix_writer_role_arn(role) is None


def test_no_two_services_share_a_role_name_through_the_writer_purpose() -> None:
    names = {
        ServiceNaming(service=s, tooling_account="1", tooling_region="us-east-1").role(p)
        for s in ("orders", "orders-gate", "orders-hotfix")
        for p in RolePurpose
    }
    assert len(names) == 3 * len(RolePurpose)
