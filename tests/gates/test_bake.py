"""Traffic-aware bake (P16, X5) against moto, with fault injection for the traffic read."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_testing import json_lines, load_event

from hands_off_gates import bake as bake_module
from hands_off_gates.bake import evaluate_bake
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
    assert f"cannot read traffic metric ({code})" in result["reason"]
    assert result["requests_seen"] == 0


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


def test_handler_malformed_now_fails() -> None:
    result = bake_module.handler({"now": "later"}, None)

    assert result["status"] == "FAILED"
    assert result["reason"].startswith("bake event invalid: now: ")
