"""What each IAM role of a template may do, whatever shape its policies take: statements of the
``AWS::IAM::Policy`` resources attached to it (CDK's ``DefaultPolicy``) and of its own inline
``Policies`` are the same IAM permissions (an ``AWS::IAM::Policy`` is an inline policy of the
roles it names), so tests read both through here."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["identity_statements", "role_permissions", "role_statements"]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every policy statement role ``role_id`` (a logical id of ``template``) has: its inline
    ``Policies``, then each ``AWS::IAM::Policy`` naming it in ``Roles``."""
    resources = template["Resources"]
    statements: list[dict[str, Any]] = []
    for policy in resources[role_id].get("Properties", {}).get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"].get(
            "Roles", []
        ):
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def identity_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement of ``template`` with the logical id holding it: each
    ``AWS::IAM::Policy`` and ``AWS::IAM::ManagedPolicy``, and each role's inline ``Policies``."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(logical_id, s) for s in properties["PolicyDocument"]["Statement"]]
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def role_permissions(template: dict[str, Any]) -> dict[str, list[str]]:
    """Each role of ``template`` (by logical id): the sorted set of its permissions, one
    ``effect action resource condition`` line per action and resource (JSON for tokens), and its
    managed policies. Two templates whose roles have equal permissions give equal results."""
    result: dict[str, list[str]] = {}
    for role_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        lines = set()
        for statement in role_statements(template, role_id):
            condition = json.dumps(statement.get("Condition"), sort_keys=True)
            for action in _listed(statement.get("Action", statement.get("NotAction"))):
                for arn in _listed(statement.get("Resource", statement.get("NotResource"))):
                    target = arn if isinstance(arn, str) else json.dumps(arn, sort_keys=True)
                    lines.add(f"{statement['Effect']} {action} {target} {condition}")
        for managed in resource.get("Properties", {}).get("ManagedPolicyArns", []):
            lines.add(f"managed {json.dumps(managed, sort_keys=True)}")
        result[role_id] = sorted(lines)
    return result
