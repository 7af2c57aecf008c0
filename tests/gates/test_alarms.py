"""Alarm blocker gate (P14) against moto, plus fault injection with fake clients."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from gate_testing import json_lines, load_event

from hands_off_gates import alarms
from hands_off_gates.alarms import check_alarms


def moto_factory(region: str | None, role_arn: str | None) -> Any:
    return boto3.client("cloudwatch", region_name=region)


def put_alarm(name: str, state: str = "OK", region: str = "us-east-1", reason: str = "test") -> None:
    client = boto3.client("cloudwatch", region_name=region)
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
    client.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


def check(
    region: str = "us-east-1", names: list[str] | None = None, prefixes: list[str] | None = None
) -> Any:
    return {"region": region, "alarm_names": names or [], "alarm_name_prefixes": prefixes or []}


@pytest.mark.usefixtures("aws")
def test_all_ok_is_clear() -> None:
    put_alarm("orders-5xx")
    put_alarm("orders-latency")

    result = check_alarms([check(names=["orders-5xx", "orders-latency"])], moto_factory, label="app")

    assert result == {
        "clear": True,
        "label": "app",
        "reasons": [],
        "in_alarm": [],
        "checked": 2,
        "insufficient_data": [],
        "transient": [],
    }


@pytest.mark.usefixtures("aws")
def test_one_alarm_in_alarm_blocks_and_is_named() -> None:
    put_alarm("orders-5xx", "ALARM", reason="Threshold Crossed: 12 errors")
    put_alarm("orders-latency")

    result = check_alarms([check(names=["orders-5xx", "orders-latency"])], moto_factory, label="app")

    assert result["clear"] is False
    assert result["in_alarm"] == [
        {"name": "orders-5xx", "region": "us-east-1", "reason": "Threshold Crossed: 12 errors"}
    ]
    assert result["reasons"] == [
        "app alarm 'orders-5xx' is in ALARM in us-east-1: Threshold Crossed: 12 errors"
    ]


@pytest.mark.usefixtures("aws")
def test_org_prefix_match_in_alarm_blocks() -> None:
    put_alarm("org-critical-network", "ALARM", region="eu-west-1")
    put_alarm("org-critical-dns", region="eu-west-1")
    put_alarm("team-other", "ALARM", region="eu-west-1")  # not matched by the prefix

    result = check_alarms([check("eu-west-1", prefixes=["org-critical-"])], moto_factory, label="org")

    assert result["clear"] is False
    assert result["checked"] == 2
    assert [a["name"] for a in result["in_alarm"]] == ["org-critical-network"]
    assert "org alarm 'org-critical-network' is in ALARM in eu-west-1" in result["reasons"][0]


@pytest.mark.usefixtures("aws")
def test_missing_exact_name_blocks() -> None:
    put_alarm("orders-5xx", region="us-west-2")  # exists, but in another region

    result = check_alarms([check(names=["orders-5xx"])], moto_factory, label="app")

    assert result["clear"] is False
    assert result["reasons"] == [
        "app alarm 'orders-5xx' not found in us-east-1 — a gate cannot check what it cannot see "
        "(fix the name or create the alarm)"
    ]


@pytest.mark.usefixtures("aws")
def test_prefix_matching_nothing_is_clear() -> None:
    result = check_alarms([check(prefixes=["nothing-here-"])], moto_factory, label="org")

    assert result["clear"] is True
    assert result["checked"] == 0


@pytest.mark.usefixtures("aws")
def test_insufficient_data_is_clear_but_reported() -> None:
    put_alarm("orders-new", "INSUFFICIENT_DATA")

    result = check_alarms([check(names=["orders-new"])], moto_factory, label="app")

    assert result["clear"] is True
    assert result["insufficient_data"] == [{"name": "orders-new", "region": "us-east-1"}]


@pytest.mark.usefixtures("aws")
def test_alarm_matched_by_name_and_prefix_is_counted_once() -> None:
    put_alarm("orders-5xx", "ALARM")

    result = check_alarms([check(names=["orders-5xx"], prefixes=["orders-"])], moto_factory, label="app")

    assert result["checked"] == 1
    assert len(result["in_alarm"]) == 1


def test_empty_checks_is_clear() -> None:
    result = check_alarms([], moto_factory, label="org")

    assert result["clear"] is True
    assert result["checked"] == 0


@pytest.mark.parametrize(
    ("checks", "field"),
    [
        (None, "checks"),
        ([{"region": "us-east-1"}], "checks[0]"),
        (["us-east-1"], "checks[0]"),
        ([{"region": "us-est-1x", "alarm_names": ["a"]}], "checks[0].region"),
        ([{"region": "us-east-1", "alarm_names": "a"}], "checks[0].alarm_names"),
        ([{"region": "us-east-1", "alarm_name_prefixes": [""]}], "checks[0].alarm_name_prefixes[0]"),
        ([{"region": "us-east-1", "alarm_names": ["a"], "role_arn": "reader"}], "checks[0].role_arn"),
        ([{"region": "us-east-1", "alarm_names": ["a"], "alarms": ["b"]}], "checks[0].alarms"),
    ],
)
def test_malformed_checks_block(checks: Any, field: str) -> None:
    result = check_alarms(checks, moto_factory, label="app")

    assert result["clear"] is False
    assert result["reasons"][0].startswith(f"app alarm checks invalid: {field}: ")


# ------------------------------------------------------------------ fault injection


class FakeCloudWatch:
    """Returns the given pages in order, or raises the given error."""

    def __init__(self, pages: list[dict[str, Any]] | None = None, error: Exception | None = None) -> None:
        self.pages = list(pages or [])
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def describe_alarms(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        if self.error is not None:
            raise self.error
        return self.pages.pop(0) if self.pages else {"MetricAlarms": [], "CompositeAlarms": []}


def fake_factory(client: FakeCloudWatch) -> Callable[[str | None, str | None], Any]:
    return lambda region, role_arn: client


def client_error(code: str, message: str = "boom") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeAlarms")


@pytest.mark.parametrize("code", ["Throttling", "AccessDenied"])
def test_client_error_blocks_with_code_and_region(code: str) -> None:
    client = FakeCloudWatch(error=client_error(code, "Rate exceeded"))

    result = check_alarms([check("ap-southeast-2", names=["a"])], fake_factory(client), label="app")

    assert result["clear"] is False
    assert result["in_alarm"] == []
    assert len(result["reasons"]) == 1
    assert f"app alarms unreadable in ap-southeast-2 ({code})" in result["reasons"][0]
    assert "Rate exceeded" in result["reasons"][0]


def test_botocore_error_blocks() -> None:
    client = FakeCloudWatch(error=EndpointConnectionError(endpoint_url="https://monitoring.example"))

    result = check_alarms([check(names=["a"])], fake_factory(client), label="org")

    assert result["clear"] is False
    assert "(EndpointConnectionError)" in result["reasons"][0]


def test_client_factory_failure_blocks_and_names_account() -> None:
    def failing(region: str | None, role_arn: str | None) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    checks = [
        {
            "region": "eu-west-1",
            "role_arn": "arn:aws:iam::111111111111:role/reader",
            "alarm_names": ["a"],
        }
    ]
    result = check_alarms(checks, failing, label="org")

    assert result["clear"] is False
    assert "org alarms unreadable in eu-west-1 (account 111111111111) (AccessDenied)" in result["reasons"][0]


def test_one_failing_region_does_not_hide_another_regions_alarm() -> None:
    ok = FakeCloudWatch(pages=[{"MetricAlarms": [{"AlarmName": "a", "StateValue": "ALARM"}]}])
    broken = FakeCloudWatch(error=client_error("Throttling"))
    clients = {"us-east-1": broken, "us-west-2": ok}

    result = check_alarms(
        [check("us-east-1", names=["a"]), check("us-west-2", names=["a"])],
        lambda region, role: clients[region or ""],
        label="app",
    )

    assert result["clear"] is False
    assert len(result["reasons"]) == 2
    assert result["in_alarm"][0]["region"] == "us-west-2"


def test_a_read_timeout_in_one_region_blocks_naming_that_region() -> None:
    """A region that cannot be read says so ("unreadable in <region>") and blocks; the other
    regions are still read and reported."""
    timeout = ReadTimeoutError(endpoint_url="https://monitoring.eu-west-1.amazonaws.com")
    clients = {
        "eu-west-1": FakeCloudWatch(error=timeout),
        "us-east-1": FakeCloudWatch(pages=[{"MetricAlarms": [{"AlarmName": "a", "StateValue": "OK"}]}]),
    }

    result = check_alarms(
        [check("eu-west-1", names=["a"]), check("us-east-1", names=["a"])],
        lambda region, role: clients[region or ""],
        label="app",
    )

    assert result["clear"] is False
    assert result["checked"] == 1
    [reason] = result["reasons"]
    assert reason.startswith("app alarms unreadable in eu-west-1 (ReadTimeoutError): ")
    assert "Read timeout on endpoint URL" in reason
    assert reason.endswith("— blocking, a gate cannot pass on what it cannot see")
    assert result["transient"] == [reason]


class HangingCloudWatch:
    """Never answers until released (a region whose endpoint hangs)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def describe_alarms(self, **params: Any) -> dict[str, Any]:
        self.release.wait(30)
        return {"MetricAlarms": [{"AlarmName": "a", "StateValue": "OK"}]}


def test_a_hanging_region_is_unreadable_at_the_deadline_and_holds_up_no_other() -> None:
    hanging = HangingCloudWatch()
    alarm = FakeCloudWatch(pages=[{"MetricAlarms": [{"AlarmName": "a", "StateValue": "ALARM"}]}])
    clients: dict[str, Any] = {"ap-south-1": hanging, "us-west-2": alarm}
    try:
        started = time.monotonic()
        result = check_alarms(
            [check("ap-south-1", names=["a"]), check("us-west-2", names=["a"])],
            lambda region, role: clients[region or ""],
            label="app",
            deadline=0.3,
        )
        took = time.monotonic() - started
    finally:
        hanging.release.set()

    assert took < 5
    assert result["clear"] is False
    assert result["reasons"][0] == (
        "app alarms unreadable in ap-south-1 (DeadlineExceeded): DeadlineExceeded: no answer within "
        "0.3 s — blocking, a gate cannot pass on what it cannot see"
    )
    assert result["in_alarm"] == [{"name": "a", "region": "us-west-2", "reason": "no state reason"}]


@pytest.mark.parametrize(
    ("by_name", "by_prefix", "blocks"),
    [
        ("OK", "ALARM", True),
        ("ALARM", "OK", True),
        ("OK", "WEIRD", True),
        ("INSUFFICIENT_DATA", "ALARM", True),
        ("OK", "INSUFFICIENT_DATA", False),
    ],
)
def test_an_alarm_read_twice_keeps_its_worst_state(by_name: str, by_prefix: str, blocks: bool) -> None:
    """Read by name and again by prefix within one check (its state changed in between): the worse
    of the two states counts, whichever came first."""
    client = FakeCloudWatch(
        pages=[
            {"MetricAlarms": [{"AlarmName": "orders-5xx", "StateValue": by_name, "StateReason": "by name"}]},
            {
                "MetricAlarms": [
                    {"AlarmName": "orders-5xx", "StateValue": by_prefix, "StateReason": "by prefix"}
                ]
            },
        ]
    )

    result = check_alarms(
        [check(names=["orders-5xx"], prefixes=["orders-"])], fake_factory(client), label="app"
    )

    assert result["checked"] == 1
    assert result["clear"] is not blocks
    assert len(result["reasons"]) == (1 if blocks else 0)
    if "ALARM" in (by_name, by_prefix):
        worst = "by name" if by_name == "ALARM" else "by prefix"
        assert result["in_alarm"] == [{"name": "orders-5xx", "region": "us-east-1", "reason": worst}]
    if by_prefix == "INSUFFICIENT_DATA":
        assert result["insufficient_data"] == [{"name": "orders-5xx", "region": "us-east-1"}]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error("Throttling"), True),
        (ReadTimeoutError(endpoint_url="https://monitoring.us-east-1.amazonaws.com"), True),
        (client_error("AccessDenied"), False),
        (RuntimeError("bug"), False),
    ],
)
def test_transient_read_errors_are_listed_apart(error: Exception, transient: bool) -> None:
    """The bake keeps baking through a transient read error (within its budget) but fails on a
    lasting one: the result says which of its reasons are transient."""
    result = check_alarms([check(names=["a"])], fake_factory(FakeCloudWatch(error=error)), label="bake")

    assert result["clear"] is False
    assert result["transient"] == (result["reasons"] if transient else [])


def test_pagination_follows_next_token_and_reads_composite_alarms() -> None:
    # moto has no composite alarms (PutCompositeAlarm is not implemented): use a fake.
    client = FakeCloudWatch(
        pages=[
            {"MetricAlarms": [{"AlarmName": "p-1", "StateValue": "OK"}], "NextToken": "t1"},
            {"CompositeAlarms": [{"AlarmName": "p-2", "StateValue": "ALARM", "StateReason": "r"}]},
        ]
    )

    result = check_alarms([check(prefixes=["p-"])], fake_factory(client), label="org")

    assert result["checked"] == 2
    assert result["in_alarm"] == [{"name": "p-2", "region": "us-east-1", "reason": "r"}]
    assert client.calls[1]["NextToken"] == "t1"
    assert client.calls[0]["AlarmTypes"] == ["MetricAlarm", "CompositeAlarm"]


def test_a_next_token_that_never_ends_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    class Endless(FakeCloudWatch):
        def describe_alarms(self, **params: Any) -> dict[str, Any]:
            self.calls.append(params)
            return {"MetricAlarms": [], "NextToken": f"t{len(self.calls)}"}

    monkeypatch.setattr(alarms, "_MAX_PAGES", 3)
    client = Endless()

    result = check_alarms([check(prefixes=["p-"])], fake_factory(client), label="org")

    assert result["clear"] is False
    assert len(client.calls) == 3
    assert result["reasons"] == [
        "org alarms unreadable in us-east-1 (RuntimeError): RuntimeError: DescribeAlarms returned more "
        "than 3 pages — blocking, a gate cannot pass on what it cannot see"
    ]
    assert result["transient"] == []


def test_more_than_100_names_are_batched() -> None:
    names = [f"alarm-{i:03d}" for i in range(150)]
    pages = [
        {"MetricAlarms": [{"AlarmName": n, "StateValue": "OK"} for n in names[:100]]},
        {"MetricAlarms": [{"AlarmName": n, "StateValue": "OK"} for n in names[100:]]},
    ]
    client = FakeCloudWatch(pages=pages)

    result = check_alarms([check(names=names)], fake_factory(client), label="app")

    assert result["clear"] is True
    assert result["checked"] == 150
    assert [len(c["AlarmNames"]) for c in client.calls] == [100, 50]


def test_unexpected_state_blocks() -> None:
    client = FakeCloudWatch(pages=[{"MetricAlarms": [{"AlarmName": "a", "StateValue": "WEIRD"}]}])

    result = check_alarms([check(names=["a"])], fake_factory(client), label="app")

    assert result["clear"] is False
    assert "unexpected state 'WEIRD'" in result["reasons"][0]


# -------------------------------------------------------------------------- handler


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_with_sample_event_reads_through_assumed_role(capsys: pytest.CaptureFixture[str]) -> None:
    put_alarm("orders-api-5xx")
    put_alarm("orders-api-latency-p99")
    put_alarm("orders-canary-checkout", "ALARM", reason="canary failing")
    put_alarm("orders-api-5xx", region="eu-west-1")

    result = alarms.handler(load_event("alarms_app.json"), None)

    assert result["clear"] is False
    assert result["checked"] == 4
    assert result["in_alarm"] == [
        {"name": "orders-canary-checkout", "region": "us-east-1", "reason": "canary failing"}
    ]
    record = json_lines(capsys.readouterr().out)[-1]
    assert record["gate"] == "alarms"
    assert record["clear"] is False


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_all_clear() -> None:
    for name in ("orders-api-5xx", "orders-api-latency-p99"):
        put_alarm(name)
    put_alarm("orders-api-5xx", region="eu-west-1")

    result = alarms.handler(load_event("alarms_app.json"), None)

    assert result["clear"] is True
    assert result["label"] == "app"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (["not", "an", "object"], "alarms event invalid: event: expected a JSON object, got list"),
        ({}, "alarms alarm checks invalid: checks: expected a list of checks, got nothing"),
    ],
)
def test_handler_malformed_event_blocks(event: Any, reason: str) -> None:
    result = alarms.handler(event, None)

    assert result["clear"] is False
    assert result["reasons"] == [reason]


# ------------------------------------------- exact reasons and results (mutation testing)


@pytest.mark.parametrize(
    ("checks", "reason"),
    [
        (None, "checks: expected a list of checks, got nothing"),
        ({"region": "us-east-1"}, "checks: expected a list of checks, got dict"),
        (["us-east-1"], "checks[0]: expected an object, got str"),
        (
            [{"region": "us-east-1", "alarm_names": ["a"], "alarms": ["b"], "zone": 1}],
            "checks[0].alarms: unknown key; "
            "expected one of alarm_name_prefixes, alarm_names, region, role_arn",
        ),
        (
            [{"region": "us-est-1x", "alarm_names": ["a"]}],
            "checks[0].region: 'us-est-1x' is not an AWS region name such as 'us-east-1'",
        ),
        (
            [{"region": "us-east-1", "alarm_names": ["a"], "role_arn": "reader"}],
            "checks[0].role_arn: 'reader' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
        ),
        (
            [{"region": "us-east-1", "alarm_names": "a"}],
            "checks[0].alarm_names: expected a list of strings, got str",
        ),
        (
            [{"region": "us-east-1", "alarm_names": ["a"], "alarm_name_prefixes": ["p-", 3]}],
            "checks[0].alarm_name_prefixes[1]: expected a non-empty string, got 3",
        ),
        (
            [{"region": "us-east-1", "alarm_names": [], "alarm_name_prefixes": []}],
            "checks[0]: lists no alarm_names and no alarm_name_prefixes; nothing to check",
        ),
    ],
)
def test_malformed_checks_block_with_the_exact_reason(checks: Any, reason: str) -> None:
    result = check_alarms(checks, moto_factory, label="org")

    assert result == {
        "clear": False,
        "label": "org",
        "reasons": [f"org alarm checks invalid: {reason}"],
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    }


def test_the_default_label_is_alarms() -> None:
    result = check_alarms(None, moto_factory)

    assert result["label"] == "alarms"
    assert result["reasons"] == [
        "alarms alarm checks invalid: checks: expected a list of checks, got nothing"
    ]


def test_the_handlers_fail_closed_result_is_exact() -> None:
    result = alarms.handler("not an object", None)

    assert result == {
        "clear": False,
        "label": "alarms",
        "reasons": ["alarms event invalid: event: expected a JSON object, got str"],
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    }


@pytest.mark.parametrize(("state", "message"), [("OK", "app alarms clear"), ("ALARM", "app alarms blocking")])
def test_the_handler_logs_whether_the_alarms_are_clear(
    state: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = FakeCloudWatch(pages=[{"MetricAlarms": [{"AlarmName": "a", "StateValue": state}]}])
    event = {"label": "app", "checks": [check(names=["a"])]}

    result = alarms.handler(event, None, clients={"cloudwatch": fake_factory(client)})

    assert result["clear"] is (state == "OK")
    record = json_lines(capsys.readouterr().out)[-1]
    assert record["message"] == message
    assert record["level"] == ("INFO" if state == "OK" else "WARN")


def test_each_check_is_read_through_its_own_role() -> None:
    role = "arn:aws:iam::111111111111:role/reader"
    seen: list[tuple[str | None, str | None]] = []
    client = FakeCloudWatch()

    def factory(region: str | None, role_arn: str | None) -> Any:
        seen.append((region, role_arn))
        return client

    check_alarms(
        [
            {"region": "eu-west-1", "role_arn": role, "alarm_name_prefixes": ["p-"]},
            {"region": "us-east-1", "alarm_name_prefixes": ["p-"]},
        ],
        factory,
        label="org",
    )

    assert sorted(seen, key=str) == sorted([("eu-west-1", role), ("us-east-1", None)], key=str)


@pytest.mark.parametrize(
    ("length", "reported"),
    [
        (299, "r" * 299),
        (300, "r" * 300),
        (301, "r" * 299 + "…"),
        (1000, "r" * 299 + "…"),
    ],
)
def test_a_long_state_reason_is_cut_to_300_characters(length: int, reported: str) -> None:
    client = FakeCloudWatch(
        pages=[{"MetricAlarms": [{"AlarmName": "a", "StateValue": "ALARM", "StateReason": "r" * length}]}]
    )

    result = check_alarms([check(names=["a"])], fake_factory(client), label="app")

    assert result["in_alarm"] == [{"name": "a", "region": "us-east-1", "reason": reported}]
    assert result["reasons"] == [f"app alarm 'a' is in ALARM in us-east-1: {reported}"]
    assert len(reported) <= 300


def test_an_alarm_without_a_name_still_blocks_and_is_reported_nameless() -> None:
    client = FakeCloudWatch(pages=[{"MetricAlarms": [{"StateValue": "ALARM", "StateReason": "r"}]}])

    result = check_alarms([check(prefixes=["p-"])], fake_factory(client), label="org")

    assert result["clear"] is False
    assert result["in_alarm"] == [{"name": "", "region": "us-east-1", "reason": "r"}]
    assert result["reasons"] == ["org alarm '' is in ALARM in us-east-1: r"]


def test_of_two_equally_bad_reads_the_first_counts() -> None:
    """Read twice in the same state: the first read is reported (only a worse state replaces it)."""
    client = FakeCloudWatch(
        pages=[
            {"MetricAlarms": [{"AlarmName": "orders-5xx", "StateValue": "ALARM", "StateReason": "by name"}]},
            {
                "MetricAlarms": [
                    {"AlarmName": "orders-5xx", "StateValue": "ALARM", "StateReason": "by prefix"}
                ]
            },
        ]
    )

    result = check_alarms(
        [check(names=["orders-5xx"], prefixes=["orders-"])], fake_factory(client), label="app"
    )

    assert result["checked"] == 1
    assert result["in_alarm"] == [{"name": "orders-5xx", "region": "us-east-1", "reason": "by name"}]


# ------------------------------------------------------------------------------- lifted (hotfix)


@pytest.mark.usefixtures("aws")
def test_a_lifted_alarm_in_alarm_does_not_block_and_is_reported_as_lifted() -> None:
    put_alarm("orders-health", state="ALARM", reason="5xx")
    put_alarm("orders-latency", state="OK")
    checks = [{"region": "us-east-1", "alarm_names": ["orders-health", "orders-latency"]}]

    result = check_alarms(checks, moto_factory, label="bake", lifted={("us-east-1", None, "orders-health")})

    assert result == {
        "clear": True,
        "label": "bake",
        "reasons": [],
        "in_alarm": [],
        "checked": 2,
        "insufficient_data": [],
        "transient": [],
        "lifted": [{"name": "orders-health", "region": "us-east-1", "reason": "5xx"}],
    }


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    "lifted",
    [
        {("us-east-1", "arn:aws:iam::222222222222:role/reader", "orders-health")},  # another account
        {("us-west-2", None, "orders-health")},  # another region
        {("us-east-1", None, "orders-other")},  # another alarm
    ],
)
def test_only_the_exact_lifted_alarm_is_lifted(lifted: set[tuple[str, str | None, str]]) -> None:
    put_alarm("orders-health", state="ALARM", reason="5xx")

    result = check_alarms(
        [{"region": "us-east-1", "alarm_names": ["orders-health"]}], moto_factory, label="bake", lifted=lifted
    )

    assert (result["clear"], result["lifted"]) == (False, [])
    assert result["reasons"] == ["bake alarm 'orders-health' is in ALARM in us-east-1: 5xx"]


@pytest.mark.usefixtures("aws")
def test_a_lifted_alarm_that_is_ok_is_not_reported() -> None:
    put_alarm("orders-health", state="OK")

    result = check_alarms(
        [{"region": "us-east-1", "alarm_names": ["orders-health"]}],
        moto_factory,
        lifted={("us-east-1", None, "orders-health")},
    )

    assert (result["clear"], result["lifted"]) == (True, [])


@pytest.mark.usefixtures("aws")
def test_without_lifted_alarms_the_result_has_no_lifted_key() -> None:
    put_alarm("orders-health", state="ALARM")

    assert "lifted" not in check_alarms(
        [{"region": "us-east-1", "alarm_names": ["orders-health"]}], moto_factory
    )


# ------------------------------------------------------------------------------ capped


def _many(n: int) -> dict[str, Any]:
    in_alarm = [{"name": f"org-critical-{i}", "region": "us-east-1", "reason": "r"} for i in range(n)]
    return {
        "clear": False,
        "label": "org",
        "reasons": [f"org alarm 'org-critical-{i}' is in ALARM" for i in range(n)],
        "in_alarm": in_alarm,
        "checked": n,
        "insufficient_data": [],
        "transient": [],
    }


def test_a_result_within_the_cap_is_returned_as_it_is() -> None:
    from hands_off_gates.alarms import MAX_LISTED_ALARMS, capped

    result = _many(MAX_LISTED_ALARMS)
    assert capped(result) == result  # type: ignore[arg-type]


def test_a_long_result_lists_the_first_counts_all_and_still_blocks() -> None:
    from hands_off_gates.alarms import MAX_LISTED_ALARMS, capped

    result = capped(_many(MAX_LISTED_ALARMS + 7))  # type: ignore[arg-type]
    assert result["clear"] is False
    assert result["in_alarm"] == _many(MAX_LISTED_ALARMS)["in_alarm"]
    assert (result["in_alarm_total"], result["reasons_total"]) == (
        MAX_LISTED_ALARMS + 7,
        MAX_LISTED_ALARMS + 7,
    )
    assert result["reasons"][:-1] == _many(MAX_LISTED_ALARMS)["reasons"]
    assert result["reasons"][-1] == "and 7 more org alarm blockers"
    assert "insufficient_data_total" not in result
    assert result["checked"] == MAX_LISTED_ALARMS + 7


def test_decide_blocks_on_a_cut_org_result_as_on_the_whole_one() -> None:
    from hands_off_gates.alarms import capped
    from hands_off_gates.decide import decide

    now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    clear = {"clear": True, "label": "app", "reasons": [], "in_alarm": [], "checked": 1}
    common = {
        "app": clear,
        "window": {"open": True, "reason": "open"},
        "override": {"active": False, "reason": "no override"},
        "started_at": now.isoformat(),
        "now": now,
        "max_wait_seconds": 3600,
    }
    whole = decide(org=_many(300), **common)  # type: ignore[arg-type]
    cut = decide(org=capped(_many(300)), **common)  # type: ignore[arg-type]
    assert (whole["proceed"], cut["proceed"]) == (False, False)
    assert "org alarm 'org-critical-0' is in ALARM" in cut["reason"]
    assert "and 280 more org alarm blockers" in cut["reason"]
