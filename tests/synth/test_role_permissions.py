"""The permissions of every IAM role each example pipeline deploys, snapshotted as a set of
(effect, action, resource, condition) whatever shape the policies take (CDK's separate
``AWS::IAM::Policy`` or the role's own inline ``Policies``): moving a statement between the two
leaves this snapshot unchanged, while a role that gains or loses a permission moves it."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from hands_off.testing import pipeline_snapshot
from tests.iam_permissions import role_permissions


@pytest.mark.parametrize("service", ["orders", "catalog", "shipping", "inventory"])
def test_snapshot_role_permissions(fleet: Any, service: str, snapshot: SnapshotAssertion) -> None:
    templates = pipeline_snapshot(fleet.pipeline(service))
    permissions = {path: role_permissions(template) for path, template in templates.items()}
    assert {path: roles for path, roles in permissions.items() if roles} == snapshot
