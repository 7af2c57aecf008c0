"""Blocker override (P14): audited, expiring, and fail closed when it cannot be trusted."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_testing import at, json_lines, load_event

from hands_off_gates import override
from hands_off_gates.override import evaluate_override, read_override

NOW = at("2026-11-26T12:00:00Z")
PARAMETER = "/hands-off/orders/override"


def value(**fields: Any) -> str:
    data: dict[str, Any] = {"who": "alice", "why": "hotfix INC-1234", "expires_at": "2026-11-26T18:00:00Z"}
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not None})


def put(raw: str) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name=PARAMETER, Value=raw, Type="String")


def read(now: Any = NOW) -> Any:
    return read_override(PARAMETER, boto3.client("ssm", region_name="us-east-1"), now)


@pytest.mark.usefixtures("aws")
def test_absent_parameter_is_no_override() -> None:
    assert read() == {"active": False, "reason": "no override"}


@pytest.mark.usefixtures("aws")
def test_active_override_defaults_to_both_scopes() -> None:
    put(value())

    assert read() == {
        "active": True,
        "who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T18:00:00Z",
        "scope": ["alarms", "window"],
        "reason": "override by alice until 2026-11-26T18:00:00Z (scope: alarms, window): hotfix INC-1234",
    }


@pytest.mark.usefixtures("aws")
def test_active_override_with_scope_and_offset() -> None:
    put(value(scope=["window"], expires_at="2026-11-26T19:00:00+01:00"))

    result = read()

    assert result["active"] is True
    assert result["scope"] == ["window"]
    assert result["expires_at"] == "2026-11-26T18:00:00Z"


@pytest.mark.usefixtures("aws")
def test_expired_override() -> None:
    put(value(expires_at="2026-11-26T11:59:59Z"))

    result = read()

    assert result["active"] is False
    assert result["reason"].startswith("override expired at 2026-11-26T11:59:59Z")


@pytest.mark.usefixtures("aws")
def test_override_expiring_exactly_now_is_expired() -> None:
    put(value(expires_at="2026-11-26T12:00:00Z"))

    assert read()["active"] is False


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "override ignored: value: not valid JSON"),
        ('["alice"]', "override ignored: value: expected a JSON object"),
        (value(who=None), "override ignored: who: missing or empty"),
        (value(who="  "), "override ignored: who: missing or empty"),
        (value(why=None), "override ignored: why: missing or empty"),
        (
            value(expires_at="2026-11-26T18:00:00"),
            "override ignored: expires_at: '2026-11-26T18:00:00' has no UTC",
        ),
        (value(expires_at="tomorrow"), "override ignored: expires_at: 'tomorrow' is not an ISO-8601"),
        (value(expires_at=None), "override ignored: expires_at: expected an ISO-8601 string"),
        (
            value(expires_at="2026-12-03T12:00:01Z"),
            "override ignored: expires_at: 2026-12-03T12:00:01Z is more than 7 days",
        ),
        (value(scope=["alarm"]), "override ignored: scope[0]: 'alarm' is not one of alarms, window"),
        (value(scope=[]), "override ignored: scope: expected a non-empty list"),
        (value(scope="alarms"), "override ignored: scope: expected a non-empty list"),
        (value(scopes=["alarms"]), "override ignored: scopes: unknown key"),
    ],
)
def test_untrustworthy_override_is_ignored(raw: str, expected: str) -> None:
    put(raw)

    result = read()

    assert result == {"active": False, "reason": result["reason"]}
    assert result["reason"].startswith(expected), result["reason"]


def test_seven_days_exactly_is_allowed() -> None:
    assert evaluate_override(value(expires_at="2026-12-03T12:00:00Z"), NOW)["active"] is True


class FailingSsm:
    def __init__(self, code: str) -> None:
        self.code = code

    def get_parameter(self, **params: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": self.code, "Message": "nope"}}, "GetParameter")


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException", "InternalServerError"])
def test_unreadable_override_lets_nothing_through(code: str) -> None:
    result = read_override(PARAMETER, FailingSsm(code), NOW)

    assert result["active"] is False
    assert result["reason"].startswith(f"override unreadable ({code})")
    assert PARAMETER in result["reason"]


def test_parameter_not_found_via_client_error_is_no_override() -> None:
    assert read_override(PARAMETER, FailingSsm("ParameterNotFound"), NOW) == {
        "active": False,
        "reason": "no override",
    }


# -------------------------------------------------------------------------- handler


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_with_sample_event(capsys: pytest.CaptureFixture[str]) -> None:
    put(value(scope=["alarms"]))

    result = override.handler(load_event("override.json"), None)

    assert result["active"] is True
    assert result["scope"] == ["alarms"]
    record = json_lines(capsys.readouterr().out)[-1]
    assert record["gate"] == "override"
    assert record["pipeline"] == "orders"
    assert record["who"] == "alice"


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_absent_parameter() -> None:
    assert override.handler(load_event("override.json"), None) == {"active": False, "reason": "no override"}


@pytest.mark.parametrize(
    ("event", "prefix"),
    [
        ({"parameter_name": "hands-off/x"}, "override event invalid: parameter_name: "),
        ({"parameter_name": PARAMETER, "now": "2026-11-26"}, "override event invalid: now: "),
        (None, "override event invalid: event: "),
    ],
)
def test_handler_malformed_event_is_inactive(event: Any, prefix: str) -> None:
    result = override.handler(event, None)

    assert result["active"] is False
    assert result["reason"].startswith(prefix)
