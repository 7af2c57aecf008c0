"""Traffic-aware bake (P16, X5) against moto, with fault injection for the traffic read."""

from __future__ import annotations

import copy
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from codedeploy_fake import FakeCodeDeploy
from gate_testing import json_lines, load_event

from hands_off_gates import bake as bake_module
from hands_off_gates.bake import evaluate_bake
from hands_off_gates.contract import UNREADABLE_POLL_LIMIT
from hands_off_gates.gate_common import iso_utc

# moto keeps metric data wherever it is put, but recent timestamps keep the test honest.
START = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
FUNCTION = [{"Name": "FunctionName", "Value": "orders-api"}]
CHECKS = [{"region": "us-east-1", "alarm_names": ["orders-5xx"]}]


def traffic(*regions: str) -> dict[str, Any]:
    return {
        "namespace": "AWS/Lambda",
        "metric_name": "Invocations",
        "targets": [{"region": r, "dimensions": FUNCTION} for r in regions or ("us-east-1",)],
    }


def moto_factory(region: str | None, role_arn: str | None) -> Any:
    return boto3.client("cloudwatch", region_name=region)


def put_alarm(name: str = "orders-5xx", state: str = "OK") -> None:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    client.put_metric_alarm(
        AlarmName=name,
        Namespace="Orders",
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    client.set_alarm_state(AlarmName=name, StateValue=state, StateReason="errors during bake")


def put_invocations(
    count: float, minutes_after_start: int, region: str = "us-east-1", function: str = "orders-api"
) -> None:
    boto3.client("cloudwatch", region_name=region).put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Timestamp": START + timedelta(minutes=minutes_after_start),
                "Value": count,
                "Unit": "Count",
            }
        ],
    )


def run(elapsed_minutes: int, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "checks": CHECKS,
        "traffic": traffic(),
        "started_at": iso_utc(START),
        "now": START + timedelta(minutes=elapsed_minutes),
        "bake_seconds": 3600,
        "min_requests": 1000,
        "client_factory": moto_factory,
    }
    kwargs.update(overrides)
    return evaluate_bake(**kwargs)


@pytest.mark.usefixtures("aws")
def test_done_after_time_and_traffic() -> None:
    put_alarm()
    put_invocations(600, 10)
    put_invocations(500, 50)

    result = run(60)

    assert result["status"] == "DONE"
    assert result["requests_seen"] == 1100
    assert result["elapsed_seconds"] == 3600
    assert result["reason"] == "bake complete: baked 3600/3600 s, 1100/1000 requests, 1 alarm(s) clear"


@pytest.mark.usefixtures("aws")
def test_baking_while_time_remains() -> None:
    put_alarm()
    put_invocations(5000, 5)

    result = run(10)

    assert result["status"] == "BAKING"
    assert result["reason"] == "baked 600/3600 s, 5000/1000 requests, 1 alarm(s) clear"


@pytest.mark.usefixtures("aws")
def test_baking_until_enough_requests() -> None:
    put_alarm()
    put_invocations(120, 10)
    put_invocations(9999, 30, function="another-function")  # other dimensions do not count

    result = run(60)

    assert result["status"] == "BAKING"
    assert result["requests_seen"] == 120
    assert result["reason"].startswith("baked 3600/3600 s, 120/1000 requests")


@pytest.mark.usefixtures("aws")
def test_traffic_outside_the_bake_does_not_count() -> None:
    put_alarm()
    put_invocations(5000, -30)  # before the bake started
    put_invocations(10, 5)

    assert run(60)["requests_seen"] == 10


@pytest.mark.usefixtures("aws")
def test_requests_are_summed_across_targets() -> None:
    put_alarm()
    put_invocations(400, 10, region="us-east-1")
    put_invocations(700, 10, region="us-west-2")

    result = run(60, traffic=traffic("us-east-1", "us-west-2"))

    assert result["status"] == "DONE"
    assert result["requests_seen"] == 1100


@pytest.mark.usefixtures("aws")
def test_min_requests_zero_disables_traffic_condition() -> None:
    put_alarm()

    result = run(60, min_requests=0, traffic=None)

    assert result["status"] == "DONE"
    assert result["reason"] == "bake complete: baked 3600/3600 s, no traffic minimum, 1 alarm(s) clear"


@pytest.mark.usefixtures("aws")
def test_failed_when_alarm_fires() -> None:
    put_alarm(state="ALARM")
    put_invocations(5000, 10)

    result = run(60)

    assert result["status"] == "FAILED"
    assert (
        result["reason"]
        == "bake failed: bake alarm 'orders-5xx' is in ALARM in us-east-1: errors during bake"
    )
    assert result["in_alarm"][0]["name"] == "orders-5xx"


@pytest.mark.usefixtures("aws")
def test_failed_when_alarm_missing() -> None:
    result = run(60)

    assert result["status"] == "FAILED"
    assert "not found in us-east-1" in result["reason"]


def test_failed_when_alarms_unreadable() -> None:
    class Denied:
        def describe_alarms(self, **params: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeAlarms")

    result = run(60, client_factory=lambda region, role: Denied())

    assert result["status"] == "FAILED"
    assert "(AccessDenied)" in result["reason"]


def test_failed_when_bake_watches_no_alarms() -> None:
    result = run(60, checks=[])

    assert result["status"] == "FAILED"
    assert "watches no alarms" in result["reason"]


class TrafficFake:
    """Alarms all OK; GetMetricStatistics returns canned sums or raises."""

    def __init__(self, error: Exception | None = None, per_call: float = 0.0) -> None:
        self.error = error
        self.per_call = per_call
        self.calls: list[dict[str, Any]] = []

    def describe_alarms(self, **params: Any) -> Any:
        return {"MetricAlarms": [{"AlarmName": n, "StateValue": "OK"} for n in params.get("AlarmNames", [])]}

    def get_metric_statistics(self, **params: Any) -> Any:
        self.calls.append(params)
        if self.error is not None:
            raise self.error
        return {"Datapoints": [{"Sum": self.per_call}]}


@pytest.mark.parametrize(
    ("code", "status"),
    [("Throttling", "BAKING"), ("AccessDenied", "FAILED"), ("InvalidParameterCombination", "FAILED")],
)
def test_unreadable_traffic_never_completes(code: str, status: str) -> None:
    fake = TrafficFake(error=ClientError({"Error": {"Code": code, "Message": "x"}}, "GetMetricStatistics"))

    result = run(120, client_factory=lambda region, role: fake)

    assert result["status"] == status
    assert f"cannot read traffic metric in us-east-1 ({code})" in result["reason"]
    assert result["requests_seen"] == 0
    assert result["unreadable_polls"] == (1 if status == "BAKING" else 0)


# ------------------------------------------------------------ the unreadable-poll budget


def throttled(operation: str = "DescribeAlarms") -> ClientError:
    return ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, operation)


class AlarmsFake(TrafficFake):
    """Reads alarms per region: raises that region's error, or answers each name with its state."""

    def __init__(
        self, state: str = "OK", alarm_error: Exception | None = None, per_call: float = 1000
    ) -> None:
        super().__init__(per_call=per_call)
        self.state = state
        self.alarm_error = alarm_error

    def describe_alarms(self, **params: Any) -> Any:
        if self.alarm_error is not None:
            raise self.alarm_error
        return {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": self.state, "StateReason": "errors"}
                for n in params.get("AlarmNames", [])
            ]
        }


def test_a_transient_alarm_read_error_keeps_baking_and_counts_the_poll() -> None:
    """Throttling on the alarm read is no reason to roll back a healthy wave: keep baking, within
    the budget of unreadable polls in a row."""
    fake = AlarmsFake(alarm_error=throttled())

    result = run(120, client_factory=lambda region, role: fake)

    assert result["status"] == "BAKING"
    assert result["unreadable_polls"] == 1
    assert result["reason"].startswith(
        "cannot read what the bake watches (unreadable poll 1 of at most 5 in a row"
    )
    assert "bake alarms unreadable in us-east-1 (Throttling): Throttling: Rate exceeded" in result["reason"]
    assert fake.calls == []  # traffic is not read on a poll that cannot see the alarms
    assert UNREADABLE_POLL_LIMIT == 5


def test_the_bake_fails_after_its_budget_of_unreadable_polls() -> None:
    fake = AlarmsFake(alarm_error=throttled())

    result = run(120, client_factory=lambda region, role: fake, unreadable_polls=UNREADABLE_POLL_LIMIT - 1)

    assert result["status"] == "FAILED"
    assert result["unreadable_polls"] == UNREADABLE_POLL_LIMIT
    assert result["reason"].startswith(
        f"bake failed: could not read what it watches for {UNREADABLE_POLL_LIMIT} polls in a row: "
    )
    assert "bake alarms unreadable in us-east-1 (Throttling)" in result["reason"]


def test_a_readable_poll_resets_the_unreadable_count() -> None:
    fake = AlarmsFake()

    result = run(120, client_factory=lambda region, role: fake, unreadable_polls=UNREADABLE_POLL_LIMIT - 1)

    assert result["status"] == "DONE"
    assert result["unreadable_polls"] == 0


def test_an_alarm_still_fails_the_bake_at_once_while_another_region_is_unreadable() -> None:
    clients = {"us-east-1": AlarmsFake(alarm_error=throttled()), "us-west-2": AlarmsFake(state="ALARM")}
    checks = [{"region": r, "alarm_names": ["orders-5xx"]} for r in ("us-east-1", "us-west-2")]

    result = run(120, checks=checks, client_factory=lambda region, role: clients[region or ""])

    assert result["status"] == "FAILED"
    assert result["in_alarm"] == [{"name": "orders-5xx", "region": "us-west-2", "reason": "errors"}]
    assert result["reason"].startswith("bake failed: ")


def test_a_lasting_alarm_read_error_fails_at_once_even_with_another_transient_one() -> None:
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeAlarms")
    clients = {"us-east-1": AlarmsFake(alarm_error=throttled()), "us-west-2": AlarmsFake(alarm_error=denied)}
    checks = [{"region": r, "alarm_names": ["orders-5xx"]} for r in ("us-east-1", "us-west-2")]

    result = run(120, checks=checks, client_factory=lambda region, role: clients[region or ""])

    assert result["status"] == "FAILED"
    assert "bake alarms unreadable in us-west-2 (AccessDenied)" in result["reason"]
    assert result["unreadable_polls"] == 0


def test_a_transient_traffic_read_error_counts_toward_the_same_budget() -> None:
    fake = AlarmsFake()
    fake.error = throttled("GetMetricStatistics")

    baking = run(120, client_factory=lambda region, role: fake, unreadable_polls=1)
    failed = run(120, client_factory=lambda region, role: fake, unreadable_polls=UNREADABLE_POLL_LIMIT - 1)

    assert (baking["status"], baking["unreadable_polls"]) == ("BAKING", 2)
    assert "cannot read traffic metric in us-east-1 (Throttling)" in baking["reason"]
    assert (failed["status"], failed["unreadable_polls"]) == ("FAILED", UNREADABLE_POLL_LIMIT)


class HangingTraffic(AlarmsFake):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_metric_statistics(self, **params: Any) -> Any:
        self.release.wait(30)
        return {"Datapoints": [{"Sum": 5000.0}]}


def test_a_hanging_traffic_read_is_an_unreadable_poll() -> None:
    fake = HangingTraffic()
    try:
        result = run(120, client_factory=lambda region, role: fake, deadline=0.3)
    finally:
        fake.release.set()

    assert result["status"] == "BAKING"
    assert result["unreadable_polls"] == 1
    assert "cannot read traffic metric in us-east-1 (DeadlineExceeded)" in result["reason"]


@pytest.mark.parametrize("value", [-1, "2", True, 1.5, None])
def test_a_malformed_unreadable_count_fails(value: Any) -> None:
    result = run(120, client_factory=lambda region, role: AlarmsFake(), unreadable_polls=value)

    assert result["status"] == "FAILED"
    assert result["reason"].startswith(
        "bake event invalid: unreadable_polls: expected a non-negative integer"
    )


# ------------------------------------------------------- what the bake must not count


@pytest.mark.usefixtures("aws")
def test_a_bake_whose_checks_matched_no_alarm_fails() -> None:
    """A prefix matching nothing is fine for a gate, but a bake that watched nothing saw nothing."""
    put_invocations(5000, 10)

    result = run(60, checks=[{"region": "us-east-1", "alarm_name_prefixes": ["nothing-here-"]}])

    assert result["status"] == "FAILED"
    assert result["reason"] == (
        "bake failed: watched no alarm — its checks matched no alarm in us-east-1; "
        "a bake that cannot see the service's health must not pass (P16)"
    )


class DatapointsFake(AlarmsFake):
    def __init__(self, response: Any) -> None:
        super().__init__()
        self.response = response

    def get_metric_statistics(self, **params: Any) -> Any:
        return self.response


@pytest.mark.parametrize(
    "response",
    [
        {"Datapoints": [{"Sum": "5000"}]},
        {"Datapoints": [{"Sum": True}, {"Sum": 5000.0}]},
        {"Datapoints": [{"Sum": -5000.0}, {"Sum": 7000.0}]},
        {"Datapoints": [{"Sum": float("nan")}]},
        {"Datapoints": [{"Sum": float("inf")}]},
        {"Datapoints": [{"Sum": None}]},
        {"Datapoints": [{"Average": 5000.0}]},
        {"Datapoints": ["5000"]},
        {"Datapoints": "5000"},
    ],
)
def test_malformed_traffic_datapoints_are_unreadable_not_counted(response: Any) -> None:
    fake = DatapointsFake(response)

    result = run(120, client_factory=lambda region, role: fake, min_requests=1000)

    assert result["status"] == "BAKING"
    assert result["requests_seen"] == 0
    assert result["unreadable_polls"] == 1
    assert "cannot read traffic metric in us-east-1 (MalformedDatapoint)" in result["reason"]


def test_well_formed_integer_and_float_sums_are_counted() -> None:
    fake = DatapointsFake({"Datapoints": [{"Sum": 400}, {"Sum": 0.0}, {"Sum": 0}, {"Sum": 600.0}]})

    result = run(120, client_factory=lambda region, role: fake, min_requests=1000)

    assert result["status"] == "DONE"
    assert result["requests_seen"] == 1000


def test_long_bake_is_read_in_1440_datapoint_chunks() -> None:
    fake = TrafficFake(per_call=10)

    result = run(3 * 24 * 60 + 5, client_factory=lambda region, role: fake, bake_seconds=3 * 86400)

    assert [c["Period"] for c in fake.calls] == [60, 60, 60, 60]
    assert all(c["EndTime"] - c["StartTime"] <= timedelta(days=1) for c in fake.calls)
    assert fake.calls[0]["StartTime"] == START
    assert fake.calls[-1]["EndTime"] == START + timedelta(minutes=3 * 24 * 60 + 5)
    assert fake.calls[0]["Statistics"] == ["Sum"]
    assert result["requests_seen"] == 40
    assert result["status"] == "BAKING"


@pytest.mark.usefixtures("aws")
def test_first_poll_right_after_start_keeps_baking() -> None:
    """Found by executing the synthesized bake: the first poll comes within a second of the start,
    and CloudWatch rejects StartTime == EndTime; the window is widened to whole minutes."""
    put_alarm()
    started = datetime.now(UTC)
    started = started.replace(microsecond=max(started.microsecond, 1))
    result = run(0, started_at=iso_utc(started), now=started + timedelta(milliseconds=200), min_requests=10)

    assert result["status"] == "BAKING", result["reason"]
    assert result["requests_seen"] == 0


def test_now_before_start_counts_nothing() -> None:
    fake = TrafficFake(per_call=10)

    result = run(-5, client_factory=lambda region, role: fake)

    assert result["elapsed_seconds"] == 0
    assert fake.calls == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"bake_seconds": -1}, "bake_seconds"),
        ({"bake_seconds": "3600"}, "bake_seconds"),
        ({"min_requests": True}, "min_requests"),
        ({"started_at": "2026-11-26T09:00:00"}, "started_at"),
        ({"traffic": None}, "traffic"),
        (
            {"traffic": {"namespace": "AWS/Lambda", "metric_name": "Invocations", "targets": []}},
            "traffic.targets",
        ),
        ({"traffic": {"namespace": "", "metric_name": "Invocations", "targets": []}}, "traffic.namespace"),
        (
            {"traffic": {"namespace": "AWS/Lambda", "metric_name": "Invocations", "targets": ["us-east-1"]}},
            "traffic.targets[0]",
        ),
        (
            {
                "traffic": {
                    "namespace": "AWS/Lambda",
                    "metric_name": "Invocations",
                    "targets": [{"region": "us-east-1", "role_arn": 5}],
                }
            },
            "traffic.targets[0].role_arn",
        ),
        (
            {
                "traffic": {
                    "namespace": "AWS/Lambda",
                    "metric_name": "Invocations",
                    "targets": [{"region": "us-east-1", "dimensions": {"FunctionName": "orders"}}],
                }
            },
            "traffic.targets[0].dimensions",
        ),
        (
            {
                "traffic": {
                    "namespace": "AWS/Lambda",
                    "metric_name": "Invocations",
                    "targets": [{"region": "us-east-1", "dimensions": ["FunctionName=orders"]}],
                }
            },
            "traffic.targets[0].dimensions[0]",
        ),
        (
            {
                "traffic": {
                    "namespace": "AWS/Lambda",
                    "metric_name": "Invocations",
                    "targets": [
                        {"region": "us-east-1", "dimensions": [{"Name": "FunctionName", "Value": ""}]}
                    ],
                }
            },
            "traffic.targets[0].dimensions[0].Value",
        ),
        (
            {
                "traffic": {
                    "namespace": "AWS/Lambda",
                    "metric_name": "Invocations",
                    "targets": [{"region": "x"}],
                }
            },
            "traffic.targets[0].region",
        ),
    ],
)
def test_malformed_event_fails(overrides: dict[str, Any], field: str) -> None:
    result = run(60, client_factory=lambda region, role: TrafficFake(), **overrides)

    assert result["status"] == "FAILED"
    assert result["reason"].startswith(f"bake event invalid: {field}: ")


# -------------------------------------------------------------------------- handler


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_with_sample_event(capsys: pytest.CaptureFixture[str]) -> None:
    put_alarm("orders-api-5xx")
    event = copy.deepcopy(load_event("bake.json"))
    event["started_at"] = iso_utc(START)
    event["now"] = iso_utc(START + timedelta(minutes=61))
    put_invocations(1500, 30)

    result = bake_module.handler(event, None)

    assert result["status"] == "DONE"
    assert result["requests_seen"] == 1500
    assert result["elapsed_seconds"] == 3660
    record = json_lines(capsys.readouterr().out)[-1]
    assert record["gate"] == "bake"
    assert record["status"] == "DONE"


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_sample_event_without_alarms_fails() -> None:
    result = bake_module.handler(load_event("bake.json"), None)

    assert result["status"] == "FAILED"
    assert "orders-api-5xx" in result["reason"]


def test_handler_passes_the_unreadable_count_through() -> None:
    event = {
        **load_event("bake.json"),
        "started_at": iso_utc(START),
        "now": iso_utc(START + timedelta(minutes=61)),
        "unreadable_polls": UNREADABLE_POLL_LIMIT - 1,
    }
    fake = AlarmsFake(alarm_error=throttled())

    result = bake_module.handler(event, None, clients={"cloudwatch": lambda region, role: fake})

    assert result["status"] == "FAILED"
    assert result["unreadable_polls"] == UNREADABLE_POLL_LIMIT


def test_handler_malformed_now_fails() -> None:
    result = bake_module.handler({"now": "later"}, None)

    assert result["status"] == "FAILED"
    assert result["reason"].startswith("bake event invalid: now: ")


# ------------------------------------------- exact results of every branch (mutation testing)


def result_of(
    status: str,
    reason: str,
    requests: int = 0,
    elapsed: int = 0,
    in_alarm: list[Any] | None = None,
    unreadable_polls: int = 0,
) -> dict[str, Any]:
    return {
        "status": status,
        "reason": reason,
        "requests_seen": requests,
        "elapsed_seconds": elapsed,
        "in_alarm": in_alarm or [],
        "unreadable_polls": unreadable_polls,
    }


def traffic_target(**target: Any) -> dict[str, Any]:
    return {"namespace": "AWS/Lambda", "metric_name": "Invocations", "targets": [target]}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"traffic": None}, "traffic: expected {namespace, metric_name, targets}"),
        (
            {"traffic": {"namespace": "", "metric_name": "Invocations", "targets": []}},
            "traffic.namespace: expected a non-empty string, got ''",
        ),
        (
            {"traffic": {"namespace": "AWS/Lambda", "metric_name": 7, "targets": []}},
            "traffic.metric_name: expected a non-empty string, got 7",
        ),
        (
            {"traffic": {"namespace": "AWS/Lambda", "metric_name": "Invocations", "targets": []}},
            "traffic.targets: expected a non-empty list of {region, dimensions}",
        ),
        (
            {"traffic": {"namespace": "AWS/Lambda", "metric_name": "Invocations", "targets": ["us-east-1"]}},
            "traffic.targets[0]: expected an object",
        ),
        ({"traffic": traffic_target(region="x")}, "traffic.targets[0].region: 'x' is not an AWS region name"),
        (
            {"traffic": traffic_target(region="us-east-1", role_arn=5)},
            "traffic.targets[0].role_arn: expected a role ARN string",
        ),
        (
            {"traffic": traffic_target(region="us-east-1", dimensions={"FunctionName": "orders"})},
            "traffic.targets[0].dimensions: expected a list of {Name, Value}",
        ),
        (
            {"traffic": traffic_target(region="us-east-1", dimensions=["FunctionName=orders"])},
            "traffic.targets[0].dimensions[0]: expected {Name, Value}",
        ),
        (
            {"traffic": traffic_target(region="us-east-1", dimensions=[{"Value": "orders"}])},
            "traffic.targets[0].dimensions[0].Name: expected a non-empty string, got None",
        ),
        # one request is a traffic condition too: its traffic object is validated
        ({"traffic": None, "min_requests": 1}, "traffic: expected {namespace, metric_name, targets}"),
    ],
)
def test_a_malformed_event_fails_with_the_exact_reason_and_nothing_counted(
    overrides: dict[str, Any], reason: str
) -> None:
    result = run(60, client_factory=lambda region, role: AlarmsFake(), **overrides)

    assert result == result_of("FAILED", f"bake event invalid: {reason}")


def test_no_alarms_fails_with_the_exact_result() -> None:
    result = run(60, checks=[])

    assert result == result_of(
        "FAILED", "bake watches no alarms; list at least one alarm in checks (P16)", elapsed=3600
    )


def test_every_alarm_reason_is_named_and_nothing_counted_when_alarms_fire() -> None:
    checks = [{"region": r, "alarm_names": ["orders-5xx"]} for r in ("us-east-1", "us-west-2")]
    fake = AlarmsFake(state="ALARM", per_call=5000)

    result = run(60, checks=checks, client_factory=lambda region, role: fake)

    assert result == result_of(
        "FAILED",
        "bake failed: bake alarm 'orders-5xx' is in ALARM in us-east-1: errors; "
        "bake alarm 'orders-5xx' is in ALARM in us-west-2: errors",
        elapsed=3600,
        in_alarm=[
            {"name": "orders-5xx", "region": "us-east-1", "reason": "errors"},
            {"name": "orders-5xx", "region": "us-west-2", "reason": "errors"},
        ],
    )
    assert fake.calls == []  # a failed bake does not read the traffic


def test_checks_that_matched_no_alarm_name_every_region_once() -> None:
    class NoAlarms(AlarmsFake):
        def describe_alarms(self, **params: Any) -> Any:
            return {"MetricAlarms": []}

    checks = [
        {"region": r, "alarm_name_prefixes": [p]}
        for r, p in (("us-east-1", "a-"), ("eu-west-1", "b-"), ("us-east-1", "c-"))
    ]

    result = run(60, checks=checks, client_factory=lambda region, role: NoAlarms())

    assert result == result_of(
        "FAILED",
        "bake failed: watched no alarm — its checks matched no alarm in us-east-1, eu-west-1; "
        "a bake that cannot see the service's health must not pass (P16)",
        elapsed=3600,
    )


def test_a_lasting_traffic_error_fails_with_the_exact_result() -> None:
    fake = AlarmsFake()
    fake.error = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetMetricStatistics"
    )

    result = run(90, client_factory=lambda region, role: fake, unreadable_polls=2)

    assert result == result_of(
        "FAILED",
        "cannot read traffic metric in us-east-1 (AccessDenied): AccessDenied: not allowed "
        "— cannot confirm healthy traffic",
        elapsed=5400,
    )


def test_an_unreadable_poll_names_every_unreadable_read_and_counts_nothing() -> None:
    fake = AlarmsFake()
    fake.error = throttled("GetMetricStatistics")

    result = run(90, traffic=traffic("us-east-1", "us-west-2"), client_factory=lambda region, role: fake)

    seen = (
        "cannot read traffic metric in us-east-1 (Throttling): Throttling: Rate exceeded; "
        "cannot read traffic metric in us-west-2 (Throttling): Throttling: Rate exceeded"
    )
    assert result == result_of(
        "BAKING",
        f"cannot read what the bake watches (unreadable poll 1 of at most 5 in a row; will retry): {seen}",
        elapsed=5400,
        unreadable_polls=1,
    )

    failed = run(
        90,
        traffic=traffic("us-east-1", "us-west-2"),
        client_factory=lambda region, role: fake,
        unreadable_polls=UNREADABLE_POLL_LIMIT - 1,
    )

    assert failed == result_of(
        "FAILED",
        f"bake failed: could not read what it watches for 5 polls in a row: {seen}",
        elapsed=5400,
        unreadable_polls=UNREADABLE_POLL_LIMIT,
    )


@pytest.mark.parametrize(
    ("response", "why"),
    [
        ({"Datapoints": [{"Sum": "5000"}]}, "datapoint Sum '5000' is not a non-negative number; not counted"),
        ({"Datapoints": [{"Average": 1.0}]}, "datapoint Sum None is not a non-negative number; not counted"),
        ({"Datapoints": "5000"}, "expected a list of datapoints, got str"),
        (None, "expected a list of datapoints, got NoneType"),
        (["Datapoints"], "expected a list of datapoints, got NoneType"),
    ],
)
def test_a_malformed_traffic_response_is_an_unreadable_poll_naming_why(response: Any, why: str) -> None:
    fake = DatapointsFake(response)

    result = run(120, client_factory=lambda region, role: fake)

    assert result == result_of(
        "BAKING",
        "cannot read what the bake watches (unreadable poll 1 of at most 5 in a row; will retry): "
        f"cannot read traffic metric in us-east-1 (MalformedDatapoint): MalformedDatapoint: {why}",
        elapsed=7200,
        unreadable_polls=1,
    )


def test_a_response_without_datapoints_is_readable_and_counts_zero() -> None:
    """CloudWatch omits nothing, but an answer with no datapoints key is no traffic, not an error."""
    fake = DatapointsFake({})

    result = run(120, client_factory=lambda region, role: fake, unreadable_polls=3)

    assert result == result_of("BAKING", "baked 7200/3600 s, 0/1000 requests, 1 alarm(s) clear", elapsed=7200)


def test_a_single_request_minimum_reads_the_traffic() -> None:
    fake = TrafficFake(per_call=1)

    result = run(60, client_factory=lambda region, role: fake, min_requests=1)

    assert result == result_of(
        "DONE", "bake complete: baked 3600/3600 s, 1/1 requests, 1 alarm(s) clear", requests=1, elapsed=3600
    )
    assert len(fake.calls) == 1


def test_the_traffic_window_is_widened_to_whole_minutes() -> None:
    """Datapoints are stamped at minute starts: the start is floored and the end ceiled."""
    fake = TrafficFake(per_call=10)
    started = START + timedelta(seconds=30, microseconds=250_000)

    run(
        0,
        client_factory=lambda region, role: fake,
        started_at=iso_utc(started),
        now=START + timedelta(minutes=10, seconds=15, microseconds=500),
    )
    run(
        0,
        client_factory=lambda region, role: fake,
        started_at=iso_utc(started),
        now=START + timedelta(minutes=10, microseconds=500),
    )
    run(0, client_factory=lambda region, role: fake, now=START + timedelta(minutes=10))

    windows = [(c["StartTime"], c["EndTime"]) for c in fake.calls]
    assert windows == [
        (START, START + timedelta(minutes=11)),
        (START, START + timedelta(minutes=11)),
        (START, START + timedelta(minutes=10)),
    ]


def test_the_traffic_is_read_through_each_targets_role_with_its_dimensions() -> None:
    role = "arn:aws:iam::222222222222:role/metrics-reader"
    seen: list[tuple[str | None, str | None]] = []
    fake = TrafficFake(per_call=600)

    def factory(region: str | None, role_arn: str | None) -> Any:
        seen.append((region, role_arn))
        return fake

    spec = {
        "namespace": "AWS/Lambda",
        "metric_name": "Invocations",
        "targets": [
            {"region": "eu-west-1", "role_arn": role},
            {"region": "us-east-1", "dimensions": FUNCTION},
        ],
    }
    result = run(60, traffic=spec, client_factory=factory)

    assert result["status"] == "DONE"
    assert result["requests_seen"] == 1200
    assert ("eu-west-1", role) in seen
    assert ("us-east-1", None) in seen
    by_dimensions = sorted((c["Dimensions"], c["Namespace"], c["MetricName"]) for c in fake.calls)
    assert by_dimensions == [
        ([], "AWS/Lambda", "Invocations"),
        ([{"Name": "FunctionName", "Value": "orders-api"}], "AWS/Lambda", "Invocations"),
    ]


def test_the_alarm_read_keeps_the_bakes_deadline() -> None:
    class HangingAlarms(AlarmsFake):
        def __init__(self) -> None:
            super().__init__()
            self.release = threading.Event()

        def describe_alarms(self, **params: Any) -> Any:
            self.release.wait(30)
            return super().describe_alarms(**params)

    fake = HangingAlarms()
    try:
        result = run(60, client_factory=lambda region, role: fake, deadline=0.2)
    finally:
        fake.release.set()

    assert result == result_of(
        "BAKING",
        "cannot read what the bake watches (unreadable poll 1 of at most 5 in a row; will retry): "
        "bake alarms unreadable in us-east-1 (DeadlineExceeded): DeadlineExceeded: no answer within "
        "0.2 s — blocking, a gate cannot pass on what it cannot see",
        elapsed=3600,
        unreadable_polls=1,
    )


def test_the_handlers_fail_closed_result_is_exact() -> None:
    result = bake_module.handler({"now": "later"}, None)

    assert result == result_of("FAILED", result["reason"])
    assert result["reason"].startswith("bake event invalid: now: ")


def test_the_traffic_read_keeps_the_bakes_deadline() -> None:
    fake = HangingTraffic()
    try:
        started = time.monotonic()
        result = run(60, client_factory=lambda region, role: fake, deadline=0.2)
        took = time.monotonic() - started
    finally:
        fake.release.set()

    assert took < 5
    assert result == result_of(
        "BAKING",
        "cannot read what the bake watches (unreadable poll 1 of at most 5 in a row; will retry): "
        "cannot read traffic metric in us-east-1 (DeadlineExceeded): DeadlineExceeded: no answer "
        "within 0.2 s",
        elapsed=3600,
        unreadable_polls=1,
    )


# ------------------------------------------------------------------------------- hotfix (issue 8)
# The bake honours a hotfix iff the override (read at the bake's start) is a hotfix for its stage
# and execution AND the copy's CodeDeploy deployment group has its alarm configuration off.
# CodeDeploy is answered by codedeploy_fake (moto 5.2.5 has no UpdateDeploymentGroup).

HOTFIX = [
    {
        "region": "us-east-1",
        "application": "orders-api",
        "deployment_group": "orders-api",
        "own_alarms": ["orders-5xx"],
    }
]
WEST_HOTFIX = {**HOTFIX[0], "region": "us-west-2"}
READER = "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader"
NOW = START + timedelta(minutes=60)


def hotfix_override(**changes: Any) -> dict[str, Any]:
    """An active hotfix override result for Prod-2 and exec-1, as the override gate returns it."""
    result: dict[str, Any] = {
        "active": True,
        "author": "arn:aws:iam::111111111111:user/alice",
        "claimed_who": "alice",
        "why": "hotfix INC-1",
        "expires_at": iso_utc(NOW + timedelta(hours=2)),
        "stages": ["Prod-2"],
        "scope": ["hotfix"],
        "execution_id": "exec-1",
        "reason": "override written by alice",
    }
    result.update(changes)
    return result


@pytest.fixture
def cd() -> FakeCodeDeploy:
    """us-east-1's group with its alarm configuration off (the gate's hotfix turned it off)."""
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-api", "orders-api", enabled=False)
    return fake


def run_hotfix(cd: FakeCodeDeploy, **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "min_requests": 0,
        "hotfix_groups": HOTFIX,
        "stage": "Prod-2",
        "execution_id": "exec-1",
        "override": hotfix_override(),
        "codedeploy": cd.factory,
        **overrides,
    }
    return run(60, **params)


@pytest.mark.usefixtures("aws")
def test_a_hotfix_for_this_execution_does_not_fail_the_bake_on_the_copys_own_alarm(
    cd: FakeCodeDeploy,
) -> None:
    put_alarm(state="ALARM")

    result = run_hotfix(cd)

    assert result == {
        "status": "DONE",
        "reason": "bake complete: baked 3600/3600 s, no traffic minimum, 1 alarm(s) clear; hotfix for "
        "execution exec-1: alarm rollback off on orders-api/orders-api in us-east-1; hotfix ignores: "
        "'orders-5xx' in ALARM in us-east-1",
        "requests_seen": 0,
        "elapsed_seconds": 3600,
        "in_alarm": [],
        "unreadable_polls": 0,
        "lifted": [{"name": "orders-5xx", "region": "us-east-1", "reason": "errors during bake"}],
    }
    assert cd.updates() == []  # the bake only reads


@pytest.mark.usefixtures("aws")
def test_a_hotfix_still_fails_the_bake_on_an_org_alarm(cd: FakeCodeDeploy) -> None:
    put_alarm(state="ALARM")
    put_alarm("org-critical-db", state="ALARM")
    checks = [{"region": "us-east-1", "alarm_names": ["org-critical-db", "orders-5xx"]}]

    result = run_hotfix(cd, checks=checks)

    assert result["status"] == "FAILED"
    assert result["reason"] == (
        "bake failed: bake alarm 'org-critical-db' is in ALARM in us-east-1: errors during bake"
    )
    assert [a["name"] for a in result["in_alarm"]] == ["org-critical-db"]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    "override",
    [
        hotfix_override(execution_id="exec-0"),  # for another execution
        hotfix_override(stages=["Prod-1"]),  # for another stage
        hotfix_override(scope=["alarms"]),  # not a hotfix
        hotfix_override(execution_id=None),  # not bound to an execution: malformed
        hotfix_override(expires_at=iso_utc(NOW - timedelta(seconds=1))),  # expired
        hotfix_override(expires_at=iso_utc(NOW + timedelta(hours=25))),  # beyond the lifetime
        {"active": False, "reason": "no override"},
        None,  # the bake machine could not read it
    ],
)
def test_an_override_that_is_not_a_hotfix_for_this_stage_and_execution_lifts_nothing(
    cd: FakeCodeDeploy, override: Any
) -> None:
    put_alarm(state="ALARM")

    result = run_hotfix(cd, override=override)

    assert result["status"] == "FAILED"
    assert (
        result["reason"]
        == "bake failed: bake alarm 'orders-5xx' is in ALARM in us-east-1: errors during bake"
    )
    assert "lifted" not in result
    assert cd.calls == []  # no group is even read


@pytest.mark.usefixtures("aws")
def test_a_group_whose_alarm_configuration_is_on_lifts_nothing(cd: FakeCodeDeploy) -> None:
    put_alarm(state="ALARM")
    cd.add_group("us-east-1", "orders-api", "orders-api", enabled=True)  # re-enabled meanwhile

    result = run_hotfix(cd)

    assert result["status"] == "FAILED"
    assert "lifted" not in result


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("missing", ["stage", "execution_id", "codedeploy"])
def test_a_bake_that_does_not_know_its_stage_execution_or_codedeploy_lifts_nothing(
    cd: FakeCodeDeploy, missing: str
) -> None:
    put_alarm(state="ALARM")

    result = run_hotfix(cd, **{missing: None})

    assert result["status"] == "FAILED"
    assert cd.calls == []


@pytest.mark.usefixtures("aws")
def test_a_missing_group_lifts_nothing_and_is_not_unreadable(cd: FakeCodeDeploy) -> None:
    put_alarm(state="ALARM")

    result = run_hotfix(
        cd, hotfix_groups=[WEST_HOTFIX], checks=[{"region": "us-west-2", "alarm_names": ["orders-5xx"]}]
    )

    assert result["status"] == "FAILED"
    assert "unreadable" not in result["reason"]


@pytest.mark.usefixtures("aws")
def test_an_unreadable_group_lifts_nothing_and_says_so(cd: FakeCodeDeploy) -> None:
    put_alarm()
    cd.fail[("us-east-1", "GetDeploymentGroup")] = "AccessDeniedException"

    result = run_hotfix(cd)

    assert result["status"] == "DONE"
    assert result["reason"].endswith(
        "; deployment group orders-api/orders-api in us-east-1 unreadable (AccessDeniedException), its "
        "copy's own alarms are watched"
    )
    assert "lifted" not in result


@pytest.mark.usefixtures("aws")
def test_an_unreadable_group_does_not_hide_another_regions_hotfix(cd: FakeCodeDeploy) -> None:
    for region in ("us-east-1", "us-west-2"):
        boto3.client("cloudwatch", region_name=region).put_metric_alarm(
            AlarmName="orders-5xx",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    boto3.client("cloudwatch", region_name="us-west-2").set_alarm_state(
        AlarmName="orders-5xx", StateValue="ALARM", StateReason="errors during bake"
    )
    cd.add_group("us-west-2", "orders-api", "orders-api", enabled=False)
    cd.fail[("us-east-1", "GetDeploymentGroup")] = "AccessDeniedException"
    checks = [{"region": r, "alarm_names": ["orders-5xx"]} for r in ("us-east-1", "us-west-2")]

    result = run_hotfix(cd, checks=checks, hotfix_groups=[HOTFIX[0], WEST_HOTFIX])

    assert result["status"] == "DONE"
    assert [a["region"] for a in result["lifted"]] == ["us-west-2"]
    assert result["reason"] == (
        "bake complete: baked 3600/3600 s, no traffic minimum, 2 alarm(s) clear; deployment group "
        "orders-api/orders-api in us-east-1 unreadable (AccessDeniedException), its copy's own alarms are "
        "watched; hotfix for execution exec-1: alarm rollback off on orders-api/orders-api in us-west-2; "
        "hotfix ignores: 'orders-5xx' in ALARM in us-west-2"
    )


@pytest.mark.usefixtures("aws")
def test_every_lifted_alarm_is_named(cd: FakeCodeDeploy) -> None:
    for region in ("us-east-1", "us-west-2"):
        client = boto3.client("cloudwatch", region_name=region)
        client.put_metric_alarm(
            AlarmName="orders-5xx",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        client.set_alarm_state(AlarmName="orders-5xx", StateValue="ALARM", StateReason="errors during bake")
    cd.add_group("us-west-2", "orders-api", "orders-api", enabled=False)
    checks = [{"region": r, "alarm_names": ["orders-5xx"]} for r in ("us-east-1", "us-west-2")]

    result = run_hotfix(cd, checks=checks, hotfix_groups=[HOTFIX[0], WEST_HOTFIX])

    assert result["reason"].endswith(
        "; hotfix ignores: 'orders-5xx' in ALARM in us-east-1, 'orders-5xx' in ALARM in us-west-2"
    )


@pytest.mark.usefixtures("aws")
def test_the_override_lifetime_of_the_bake_input_applies(cd: FakeCodeDeploy) -> None:
    put_alarm(state="ALARM")

    result = run_hotfix(cd, override_max_hours=1)  # the override expires in 2 h

    assert result["status"] == "FAILED"
    assert "lifted" not in result


@pytest.mark.usefixtures("aws")
def test_the_group_is_read_through_its_region_and_role(cd: FakeCodeDeploy) -> None:
    put_alarm()

    run_hotfix(cd, hotfix_groups=[{**HOTFIX[0], "role_arn": READER}])

    assert cd.calls == [
        (
            "us-east-1",
            READER,
            "GetDeploymentGroup",
            {"applicationName": "orders-api", "deploymentGroupName": "orders-api"},
        )
    ]


@pytest.mark.usefixtures("aws")
def test_a_hanging_group_read_lifts_nothing_by_the_deadline(cd: FakeCodeDeploy) -> None:
    put_alarm(state="ALARM")
    cd.hang = 3.0

    result = run_hotfix(cd, deadline=0.5)

    assert result["status"] == "FAILED"
    assert "lifted" not in result


@pytest.mark.usefixtures("aws")
def test_malformed_hotfix_groups_fail_the_bake(cd: FakeCodeDeploy) -> None:
    result = run_hotfix(cd, hotfix_groups="orders-api")

    assert result["status"] == "FAILED"
    assert (
        result["reason"] == "bake event invalid: hotfix_groups: expected a list of deployment groups, got str"
    )


@pytest.mark.usefixtures("aws")
def test_the_handler_passes_the_hotfix_through_and_mirrors_lifted_alarms_as_unhealthy(
    cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    put_alarm(state="ALARM")
    monkeypatch.setitem(bake_module.handler.clients, "cloudwatch", moto_factory)
    monkeypatch.setitem(bake_module.handler.clients, "codedeploy", cd.factory)
    event = {
        "checks": CHECKS,
        "traffic": traffic(),
        "started_at": iso_utc(START),
        "now": iso_utc(NOW),
        "bake_seconds": 3600,
        "min_requests": 0,
        "pipeline": "orders",
        "hotfix_groups": HOTFIX,
        "stage": "Prod-2",
        "execution_id": "exec-1",
        "override": hotfix_override(),
        "override_max_hours": 24,
    }

    result = bake_module.handler(event, None)

    assert result["status"] == "DONE"
    [emf] = [r for r in json_lines(capsys.readouterr().out) if "_aws" in r]
    assert emf["UnhealthyCopies"] == 1  # a lifted alarm is still an unhealthy copy


def test_a_result_lists_at_most_twenty_alarms_and_a_bounded_reason() -> None:
    # F1 (payload): hundreds of alarms in ALARM must not push a Watch result past the 256 KiB a
    # Step Functions state may return (States.DataLimitExceeded is caught by no catch)
    alarms = [{"name": f"a-{i}", "region": "us-east-1", "reason": "r" * 1000} for i in range(300)]
    result: Any = {
        "status": "FAILED",
        "reason": "bake failed: " + "x" * 50_000,
        "requests_seen": 0,
        "elapsed_seconds": 0,
        "in_alarm": alarms,
        "unreadable_polls": 0,
        "lifted": alarms[:21],
    }
    out = bake_module.capped(result)
    assert out["in_alarm"] == alarms[: bake_module.MAX_LISTED_ALARMS]
    assert (out["in_alarm_total"], out["lifted_total"]) == (300, 21)
    assert len(out["lifted"]) == bake_module.MAX_LISTED_ALARMS == 20
    assert len(out["reason"]) == bake_module.MAX_REASON_CHARS
    assert out["reason"].endswith("(cut: 50,013 characters)")
    assert result["in_alarm"] is alarms  # the input is not changed
    # a small result is returned as it is
    small = {**result, "reason": "ok", "in_alarm": alarms[:20], "lifted": []}
    assert bake_module.capped(small) == small
