"""Shared gate helpers: instants, errors, logging, and the client factory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


# ------------------------------------------------ exact records and boundaries (issue 13)


def test_health_emf_has_the_exact_shape() -> None:
    record = gate_common.health_emf("orders", 3, at("2026-11-26T18:00:00.123456Z"))

    assert record == {
        "_aws": {
            "Timestamp": 1795716000123,  # epoch milliseconds, as EMF requires
            "CloudWatchMetrics": [
                {
                    "Namespace": "HandsOff/Gates",
                    "Dimensions": [["Pipeline"]],
                    "Metrics": [{"Name": "UnhealthyCopies", "Unit": "Count"}],
                }
            ],
        },
        "Pipeline": "orders",
        "UnhealthyCopies": 3,
    }


@pytest.mark.parametrize("pipeline", ["", 5, None])
def test_emit_health_needs_a_pipeline_name(pipeline: Any, capsys: pytest.CaptureFixture[str]) -> None:
    gate_common.emit_health({"pipeline": pipeline}, 1)

    assert capsys.readouterr().out == ""


def test_emit_health_stamps_the_wall_clock(capsys: pytest.CaptureFixture[str]) -> None:
    before = time.time() * 1000
    gate_common.emit_health({"pipeline": "orders"}, 0)
    after = time.time() * 1000

    [record] = json_lines(capsys.readouterr().out)
    assert before - 1000 <= record["_aws"]["Timestamp"] <= after + 1000
    assert record["UnhealthyCopies"] == 0


def test_log_record_starts_with_level_message_timestamp_service(capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    log("WARN", "careful", gate="decide", alpha=1)
    after = datetime.now(UTC) + timedelta(seconds=1)

    line = capsys.readouterr().out
    record = json.loads(line)
    assert list(record) == ["level", "message", "timestamp", "service", "gate", "alpha"]  # not sorted
    assert record["timestamp"].endswith("Z")
    assert before <= parse_instant(record["timestamp"], "timestamp") <= after


@pytest.fixture
def new_york_local_time(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The machine's local time zone is not UTC (a laptop, not a Lambda)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york_local_time")
def test_iso_utc_is_utc_whatever_the_local_time_zone() -> None:
    assert iso_utc(at("2026-11-26T13:00:00+01:00")) == "2026-11-26T12:00:00Z"
    assert iso_utc(at("2026-07-01T12:00:00Z")) == "2026-07-01T12:00:00Z"


def test_describe_error_falls_back_to_the_exception_text() -> None:
    no_message = ClientError({"Error": {"Code": "AccessDenied"}}, "GetMetricData")
    empty_message = ClientError({"Error": {"Code": "AccessDenied", "Message": ""}}, "GetMetricData")

    assert describe_error(no_message) == f"AccessDenied: {no_message}"
    assert describe_error(empty_message) == f"AccessDenied: {empty_message}"
    assert describe_error(ValueError("bad value")) == "ValueError: bad value"
    assert describe_error(ValueError()) == "ValueError"  # nothing to add after the code


@pytest.mark.parametrize("code", ["", 5, None])
def test_error_code_without_a_usable_code_is_the_class_name(code: Any) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "m"}}, "X")

    assert error_code(error) == "ClientError"


def test_any_connection_or_timeout_error_is_transient() -> None:
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    assert is_transient(BotocoreConnectionError(error="reset"))
    assert is_transient(ConnectionError("reset"))
    assert is_transient(TimeoutError("slow"))
    assert not is_transient(OSError("disk"))


def test_deadline_exceeded_keeps_its_deadline() -> None:
    error = gate_common.DeadlineExceeded(0.5)

    assert error.seconds == 0.5
    assert str(error) == "no answer within 0.5 s"


def test_read_each_runs_up_to_16_reads_side_by_side() -> None:
    """15 hanging regions and one answering: the answering one is not queued behind them."""
    release = threading.Event()

    def hangs() -> str:
        release.wait(30)
        return "too late"

    try:
        outcomes = gate_common.read_each([*[hangs] * 15, lambda: "quick"], deadline=0.5)
    finally:
        release.set()

    assert outcomes[-1].value == "quick"
    assert [o.error.seconds for o in outcomes[:-1] if isinstance(o.error, gate_common.DeadlineExceeded)] == [
        0.5
    ] * 15


class _RecordingBoto3:
    """Stands in for ``boto3.client``: records each client's service and arguments."""

    def __init__(self, expiration: Any = None) -> None:
        self.made: list[tuple[str, dict[str, Any]]] = []
        self.expiration = expiration

    def client(self, service: str, **kwargs: Any) -> Any:
        self.made.append((service, kwargs))
        if service != "sts":
            return object()
        recorder = self

        class Sts:
            def assume_role(self, **_: Any) -> Any:
                credentials = {"AccessKeyId": "AKIA", "SecretAccessKey": "secret", "SessionToken": "token"}
                if recorder.expiration is not None:
                    credentials["Expiration"] = recorder.expiration
                return {"Credentials": credentials}

        return Sts()


@pytest.fixture
def boto3_clients(monkeypatch: pytest.MonkeyPatch) -> _RecordingBoto3:
    import boto3

    recorder = _RecordingBoto3()
    monkeypatch.setattr(boto3, "client", recorder.client)
    return recorder


def test_assumed_role_clients_use_the_region_and_all_three_credentials(
    boto3_clients: _RecordingBoto3,
) -> None:
    default_client_factory("cloudwatch")("eu-west-1", "arn:aws:iam::123456789012:role/reader")

    [(sts, sts_args), (service, args)] = boto3_clients.made
    assert (sts, sts_args["region_name"]) == ("sts", "eu-west-1")  # the regional STS endpoint
    assert service == "cloudwatch"
    assert {k: v for k, v in args.items() if k != "config"} == {
        "region_name": "eu-west-1",
        "aws_access_key_id": "AKIA",
        "aws_secret_access_key": "secret",
        "aws_session_token": "token",
    }


def test_no_region_means_the_lambdas_own_region(
    boto3_clients: _RecordingBoto3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    default_client_factory("cloudwatch")(None, None)
    default_client_factory("cloudwatch")(None, "arn:aws:iam::123456789012:role/reader")

    assert [(service, args["region_name"]) for service, args in boto3_clients.made] == [
        ("cloudwatch", "eu-central-1"),
        ("sts", "eu-central-1"),
        ("cloudwatch", "eu-central-1"),
    ]


def test_assumed_credentials_are_refreshed_exactly_5_minutes_before_they_expire(
    boto3_clients: _RecordingBoto3,
) -> None:
    boto3_clients.expiration = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    clock = {"now": datetime(2026, 11, 26, 12, 54, 59, tzinfo=UTC)}
    factory = default_client_factory("cloudwatch", clock=lambda: clock["now"])
    role = "arn:aws:iam::123456789012:role/reader"

    first = factory("us-east-1", role)
    assert factory("us-east-1", role) is first
    clock["now"] = datetime(2026, 11, 26, 12, 55, tzinfo=UTC)
    assert factory("us-east-1", role) is not first


def test_credentials_without_an_expiry_are_refreshed_exactly_10_minutes_after_they_were_assumed(
    boto3_clients: _RecordingBoto3,
) -> None:
    clock = {"now": datetime(2026, 11, 26, 12, 0, tzinfo=UTC)}
    factory = default_client_factory("cloudwatch", clock=lambda: clock["now"])
    role = "arn:aws:iam::123456789012:role/reader"

    first = factory("us-east-1", role)
    clock["now"] += timedelta(minutes=10)  # assumed for 15 minutes, refreshed 5 minutes before
    assert factory("us-east-1", role) is not first


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("gate_common.log('ERROR', 'last words', gate='bake')", {"message": "last words", "gate": "bake"}),
        ("gate_common.emit_health({'pipeline': 'orders'}, 2)", {"Pipeline": "orders", "UnhealthyCopies": 2}),
    ],
)
def test_a_line_written_just_before_the_process_is_killed_is_not_lost(
    call: str, expected: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """stdout is a pipe in Lambda (block-buffered): a line still in the buffer when the runtime
    kills the process at its timeout would never reach CloudWatch, so each line is flushed."""
    code = f"import os\nfrom hands_off_gates import gate_common\n{call}\nos._exit(0)\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a buffered pipe
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)

    [record] = json_lines(done.stdout)
    assert expected.items() <= record.items()
    eval(call, {"gate_common": gate_common})  # the same line in this process: the same record
    [here] = json_lines(capsys.readouterr().out)
    assert list(here) == list(record)
