"""Helpers shared by the gate tests (importable: conftest puts this folder on sys.path)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

EVENTS_DIR = Path(__file__).resolve().parent / "events"
WRITER = "arn:aws:sts::111111111111:assumed-role/Developer/alice"

# What a direct invocation of orders' hotfix function arms (tests/gates/test_hotfix_override_check.py,
# test_attack9_hotfix.py): the instant, orders' override parameter, one group through its reader.
HOTFIX_NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ORDERS_OVERRIDE = "/hands-off/orders-application/override"
ORDERS_READER = "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader"
ORDERS_EAST_GROUP = {
    "region": "us-east-1",
    "role_arn": ORDERS_READER,
    "application": "orders-prod",
    "deployment_group": "orders-prod",
    "own_alarms": ["orders-prod-health"],
}
"""The AWS identity :class:`FakeSsm`'s history names as the writer of the version read."""


def at(text: str) -> datetime:
    """An aware datetime from ISO-8601 (``Z`` allowed)."""
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    return parsed


def hotfix_override_value(now: datetime, **fields: Any) -> str:
    """A ``hotfix`` override for Prod-2, bound to execution ``exec-1``, expiring 2 h after ``now``,
    as a developer writes it to the override parameter."""
    value = {
        "who": "alice",
        "why": "hotfix INC-1",
        "expires_at": (now + timedelta(hours=2)).isoformat(),
        "stages": ["Prod-2"],
        "scope": ["hotfix"],
        "execution_id": "exec-1",
        **fields,
    }
    return json.dumps(value)


def load_event(name: str) -> dict[str, Any]:
    """A sample event from ``tests/gates/events``."""
    data = json.loads((EVENTS_DIR / name).read_text())
    assert isinstance(data, dict)
    return data


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every stdout line parsed as JSON (each log line must be one JSON object)."""
    records = []
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            assert isinstance(record, dict)
            records.append(record)
    return records


class FakeSsm:
    """An SSM client holding one parameter whose history says who wrote each version.

    ``history`` is a list of pages, each a list of ``(version, LastModifiedUser)``. With ``name``,
    the parameter is that one only: any other is ``ParameterNotFound``.
    """

    def __init__(
        self,
        raw: object,
        *,
        version: object = 3,
        history: Sequence[Sequence[tuple[int, object]]] = (((1, "x"), (2, "y"), (3, WRITER)),),
        history_error: Exception | None = None,
        name: str | None = None,
    ) -> None:
        self.raw = raw
        self.version = version
        self.pages = [list(page) for page in history]
        self.history_error = history_error
        self.name = name
        self.history_calls: list[dict[str, Any]] = []
        self.parameter_calls: list[dict[str, Any]] = []

    def factory(self, region: str | None, role_arn: str | None) -> FakeSsm:
        """As a handler's ``ssm`` client factory."""
        return self

    def get_parameter(self, **params: Any) -> dict[str, Any]:
        self.parameter_calls.append(params)
        if self.name is not None and params["Name"] != self.name:
            error = {"Code": "ParameterNotFound", "Message": params["Name"]}
            raise ClientError({"Error": error}, "GetParameter")
        return {"Parameter": {"Name": params["Name"], "Value": self.raw, "Version": self.version}}

    def get_parameter_history(self, **params: Any) -> dict[str, Any]:
        self.history_calls.append(params)
        if self.history_error is not None:
            raise self.history_error
        index = int(params.get("NextToken") or 0)
        response: dict[str, Any] = {
            "Parameters": [
                # SSM returns each version's value too: the entry of the version read holds it.
                {"Version": v, "LastModifiedUser": user, **({"Value": self.raw} if v == self.version else {})}
                for v, user in self.pages[index]
            ]
        }
        if index + 1 < len(self.pages):
            response["NextToken"] = str(index + 1)
        return response
