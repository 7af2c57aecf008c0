"""Shared gate helpers: instants, errors, logging, and the client factory."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from gate_testing import at, json_lines

from hands_off_gates import gate_common
from hands_off_gates.gate_common import (
    GateConfigError,
    default_client_factory,
    describe_error,
    error_code,
    is_transient,
    iso_utc,
    log,
    now_from_event,
    parse_instant,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T12:00:00Z", "2026-11-26T12:00:00Z"),
        ("2026-11-26T13:00:00+01:00", "2026-11-26T12:00:00Z"),
        (" 2026-11-26T04:00:00-08:00 ", "2026-11-26T12:00:00Z"),
        ("2026-11-26T12:00:00.250Z", "2026-11-26T12:00:00.250000Z"),
    ],
)
def test_parse_instant_accepts_offsets(text: str, expected: str) -> None:
    assert iso_utc(parse_instant(text, "f")) == expected


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("2026-11-26T12:00:00", "no UTC offset"),
        ("2026-11-26", "no UTC offset"),
        ("noon", "not an ISO-8601"),
        ("", "expected an ISO-8601 string"),
        (None, "expected an ISO-8601 string"),
        (1764158400, "expected an ISO-8601 string"),
    ],
)
def test_parse_instant_rejects_naive_and_garbage(value: Any, hint: str) -> None:
    with pytest.raises(GateConfigError) as caught:
        parse_instant(value, "blackouts[0].start")

    assert caught.value.field == "blackouts[0].start"
    assert hint in caught.value.message


def test_now_from_event() -> None:
    fixed = at("2026-01-01T00:00:00Z")

    assert now_from_event({"now": "2026-11-26T12:00:00Z"}) == at("2026-11-26T12:00:00Z")
    assert now_from_event({}, lambda: fixed) == fixed
    assert now_from_event({"now": None}, lambda: fixed) == fixed
    assert now_from_event({}).tzinfo is not None
    with pytest.raises(GateConfigError, match=r"^now: "):
        now_from_event({"now": "2026-11-26T12:00:00"})


def test_log_writes_one_json_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    log("INFO", "hello\nworld", gate="x", when=datetime(2026, 1, 1, tzinfo=UTC))

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json_lines(lines[0])[0]
    assert record["level"] == "INFO"
    assert record["message"] == "hello\nworld"
    assert record["service"] == "hands-off-gates"
    assert record["gate"] == "x"


def test_error_helpers() -> None:
    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "X")
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "X")

    assert error_code(throttled) == "Throttling"
    assert describe_error(throttled) == "Throttling: Rate exceeded"
    assert error_code(ValueError("x")) == "ValueError"
    assert is_transient(throttled)
    assert is_transient(EndpointConnectionError(endpoint_url="https://x"))
    assert not is_transient(denied)


@pytest.mark.usefixtures("aws")
def test_default_client_factory_caches_per_region_and_role() -> None:
    factory = default_client_factory("cloudwatch")
    role = "arn:aws:iam::123456789012:role/reader"

    east = factory("us-east-1", None)
    assert factory("us-east-1", None) is east
    assert factory("eu-west-1", None) is not east
    assert factory("eu-west-1", None).meta.region_name == "eu-west-1"
    assumed = factory("us-east-1", role)
    assert assumed is not east
    assert factory("us-east-1", role) is assumed
    assert factory(None, None).meta.region_name == "us-east-1"  # AWS_REGION


@pytest.mark.usefixtures("aws")
def test_default_client_factory_refreshes_assumed_credentials_before_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = {"now": datetime.now(UTC)}
    factory = default_client_factory("cloudwatch", clock=lambda: clock["now"])
    role = "arn:aws:iam::123456789012:role/reader"

    first = factory("us-east-1", role)
    clock["now"] += timedelta(minutes=30)
    assert factory("us-east-1", role) is first
    clock["now"] += timedelta(hours=2)  # past the (1 h) credential lifetime
    assert factory("us-east-1", role) is not first


def test_assumed_credentials_without_an_expiry_are_refreshed_within_15_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    class Sts:
        calls = 0

        def assume_role(self, **_: Any) -> Any:
            Sts.calls += 1
            return {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t"}}

    def fake_client(service: str, **_: Any) -> Any:
        return Sts() if service == "sts" else object()

    monkeypatch.setattr(boto3, "client", fake_client)
    clock = {"now": datetime(2026, 11, 26, 12, 0, tzinfo=UTC)}
    factory = default_client_factory("cloudwatch", clock=lambda: clock["now"])
    role = "arn:aws:iam::123456789012:role/reader"

    first = factory("us-east-1", role)
    clock["now"] += timedelta(minutes=9)
    assert factory("us-east-1", role) is first  # 15 min assumed, refreshed 5 min before
    clock["now"] += timedelta(minutes=2)
    assert factory("us-east-1", role) is not first
    assert Sts.calls == 2


def test_gate_config_error_str() -> None:
    error = GateConfigError("windows[0].start", "bad")

    assert str(error) == "windows[0].start: bad"
    assert isinstance(error, ValueError)
    assert gate_common.SERVICE_NAME == "hands-off-gates"


def test_health_is_mirrored_as_emf_for_stage_conditions(capsys: pytest.CaptureFixture[str]) -> None:
    """The gates mirror what they saw into the tooling account: HandsOff/Gates UnhealthyCopies."""
    from hands_off_gates.gate_common import emit_health

    emit_health({"pipeline": "orders-application"}, 2)
    emit_health({}, 5)  # no pipeline named: nothing to mirror
    [line] = capsys.readouterr().out.strip().splitlines()
    record = json.loads(line)
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "HandsOff/Gates"
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Pipeline"]]
    assert record["Pipeline"] == "orders-application"
    assert record["UnhealthyCopies"] == 2


# ------------------------------------------------------------- timeouts, retries, deadlines


@pytest.mark.usefixtures("aws")
def test_every_client_has_short_timeouts_and_standard_retries() -> None:
    """One hanging region must not outlast the 60 s Lambda: 3 s to connect, 10 s to read, and
    botocore's standard retry mode (3 attempts in all, with backoff) on every client, assumed or not."""
    factory = default_client_factory("cloudwatch")

    for client in (factory("eu-west-1", None), factory("eu-west-1", "arn:aws:iam::123456789012:role/reader")):
        config = client.meta.config
        assert config.connect_timeout == gate_common.CONNECT_TIMEOUT_SECONDS == 3
        assert config.read_timeout == gate_common.READ_TIMEOUT_SECONDS == 10
        assert config.retries == {"total_max_attempts": 3, "mode": "standard"}


@pytest.mark.usefixtures("aws")
def test_the_sts_client_that_assumes_a_role_has_the_same_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    made: list[tuple[str, Any]] = []
    real_client = boto3.client

    def recording_client(service: str, *args: Any, **kwargs: Any) -> Any:
        made.append((service, kwargs.get("config")))
        return real_client(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", recording_client)
    default_client_factory("cloudwatch")("eu-west-1", "arn:aws:iam::123456789012:role/reader")

    assert [service for service, _ in made] == ["sts", "cloudwatch"]
    for _, config in made:
        assert config is not None
        assert (config.connect_timeout, config.read_timeout) == (3, 10)
        assert config.retries == {"total_max_attempts": 3, "mode": "standard"}


def test_timeouts_and_connection_drops_are_transient() -> None:
    assert is_transient(ReadTimeoutError(endpoint_url="https://monitoring.eu-west-1.amazonaws.com"))
    assert is_transient(ConnectTimeoutError(endpoint_url="https://monitoring.eu-west-1.amazonaws.com"))
    assert is_transient(ConnectionClosedError(endpoint_url="https://monitoring.eu-west-1.amazonaws.com"))
    assert is_transient(gate_common.DeadlineExceeded(25))
    assert not is_transient(RuntimeError("bug"))
    assert not is_transient(ClientError({"Error": {"Code": "ValidationError", "Message": "x"}}, "X"))


def test_read_each_returns_every_value_or_error_in_order() -> None:
    def fails() -> int:
        raise ValueError("unreadable")

    outcomes = gate_common.read_each([lambda: 1, fails, lambda: 3])

    assert [o.value for o in outcomes] == [1, None, 3]
    assert [type(o.error).__name__ if o.error else None for o in outcomes] == [None, "ValueError", None]
    assert gate_common.read_each([]) == []


def test_read_each_gives_up_on_a_read_still_running_at_the_deadline() -> None:
    """A hanging region answers DeadlineExceeded; the others are not held up by it."""
    release = threading.Event()

    def hangs() -> str:
        release.wait(30)
        return "too late"

    try:
        started = time.monotonic()
        outcomes = gate_common.read_each([hangs, lambda: "quick"], deadline=0.3)
        took = time.monotonic() - started
    finally:
        release.set()

    assert took < 5
    assert outcomes[1].value == "quick"
    assert outcomes[0].value is None
    assert isinstance(outcomes[0].error, gate_common.DeadlineExceeded)
    assert str(outcomes[0].error) == "no answer within 0.3 s"
    assert error_code(outcomes[0].error) == "DeadlineExceeded"


def test_the_read_deadline_leaves_room_in_the_60_second_lambda() -> None:
    """A bake reads alarms, then traffic, each within the deadline: both fit in one invocation."""
    assert 2 * gate_common.READ_DEADLINE_SECONDS < 60
