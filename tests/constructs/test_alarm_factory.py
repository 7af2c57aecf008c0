"""AlarmFactory alone: the alarms of one copy over a fake metric source, then over a Lambda alias."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Duration, Environment, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Capture, Match, Matcher, Template

from hands_off.constructs.alarm_factory import (
    UNSUBSCRIBED_PAGING_WARNING,
    AlarmFactory,
    PagingSubscriptions,
    ServiceAlarms,
    account_paging_topic,
    is_account_paging_topic,
    new_paging_topic,
    subscribe_paging,
)
from hands_off.model import AlarmPolicy, ConfigError
from hands_off.naming import ROLLBACK_ALARMS, AlarmKind, alarm_name
from tests.constructs.conftest import ACCOUNT, REGION, flatten
from tests.round_trips import round_trips

PREFIX = "orders-test"
POLICY = AlarmPolicy(
    period_minutes=2,
    evaluation_periods=5,
    datapoints_to_alarm=4,
    fault_rate_percent=0.5,
    p99_latency_ms=800,
    anomaly_band_width=3.0,
)
"""Every threshold differs from the defaults, so a test proves it comes from the policy."""


class FakeMetrics:
    """A ``ServiceMetrics`` that is not a Lambda: each metric is named after the method that made it,
    and every period asked for is recorded."""

    def __init__(self) -> None:
        self.periods: list[Duration] = []

    def _metric(self, name: str, statistic: str, period: Duration) -> cloudwatch.IMetric:
        self.periods.append(period)
        return cloudwatch.Metric(
            namespace="Fake/Service",
            metric_name=name,
            statistic=statistic,
            period=period,
            dimensions_map={"Copy": PREFIX},
        )

    def requests(self, period: Duration) -> cloudwatch.IMetric:
        return self._metric("Requests", "Sum", period)

    def fault_rate(self, period: Duration) -> cloudwatch.IMetric:
        return self._metric("FaultRate", "Average", period)

    def latency_p99(self, period: Duration) -> cloudwatch.IMetric:
        return self._metric("LatencyP99", "p99", period)


@dataclass
class Built:
    template: Template
    alarms: ServiceAlarms
    factory: AlarmFactory
    metrics: FakeMetrics
    stack: Stack


def build(bare_stack: Callable[..., Stack], *, watch_traffic: bool) -> Built:
    stack = bare_stack()
    metrics = FakeMetrics()
    factory = AlarmFactory(stack, "Alarms", name_prefix=PREFIX, policy=POLICY)
    alarms = factory.service_alarms(metrics, watch_traffic=watch_traffic)
    return Built(Template.from_stack(stack), alarms, factory, metrics, stack)


@pytest.fixture(scope="module")
def watched(bare_stack: Callable[..., Stack]) -> Built:
    return build(bare_stack, watch_traffic=True)


@pytest.fixture(scope="module")
def unwatched(bare_stack: Callable[..., Stack]) -> Built:
    return build(bare_stack, watch_traffic=False)


def alarm_ids_by_name(template: Template) -> dict[str, str]:
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    return {r["Properties"]["AlarmName"]: logical_id for logical_id, r in alarms.items()}


def alarms_in_rule(template: Template, flat: Callable[[Any], Any]) -> list[str]:
    """Logical ids of the alarms the composite alarm's rule reads, in rule order."""
    rule = Capture()
    template.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmRule": rule})
    text = flat(rule.as_object())
    assert " OR " in text or text.count("ALARM(") == 1, text
    return re.findall(r'ALARM\("\$\{(\w+)\.Arn\}"\)', text)


# ------------------------------------------------------------------------------------- counts


def test_watching_traffic_makes_three_alarms_and_one_composite(watched: Built) -> None:
    watched.template.resource_count_is("AWS::CloudWatch::Alarm", 3)
    watched.template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 1)
    assert set(alarm_ids_by_name(watched.template)) == {
        f"{PREFIX}-fault-rate",
        f"{PREFIX}-latency-p99",
        f"{PREFIX}-traffic-anomaly",
    }


def test_without_watch_traffic_there_is_no_anomaly_alarm(unwatched: Built) -> None:
    unwatched.template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    unwatched.template.resource_count_is("AWS::CloudWatch::CompositeAlarm", 1)
    assert set(alarm_ids_by_name(unwatched.template)) == {f"{PREFIX}-fault-rate", f"{PREFIX}-latency-p99"}
    assert unwatched.alarms.traffic_anomaly is None


def test_names_come_from_hands_off_naming(watched: Built) -> None:
    expected = {alarm_name(PREFIX, kind) for kind in ROLLBACK_ALARMS}
    assert set(alarm_ids_by_name(watched.template)) == expected
    watched.template.has_resource_properties(
        "AWS::CloudWatch::CompositeAlarm", {"AlarmName": alarm_name(PREFIX, AlarmKind.HEALTH)}
    )
    assert alarm_name(PREFIX, AlarmKind.HEALTH) == "orders-test-health"


# --------------------------------------------------------------------------------- thresholds


def test_every_alarm_reads_the_policy_period(watched: Built) -> None:
    # GIVEN a policy with 2-minute periods WHEN the factory asks the source for its metrics
    # THEN it asks for each metric once, with that period
    assert [p.to_minutes() for p in watched.metrics.periods] == [2, 2, 2]


def test_fault_rate_alarm_uses_the_policy_threshold(watched: Built) -> None:
    watched.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-fault-rate",
            "MetricName": "FaultRate",
            "Namespace": "Fake/Service",
            "Period": 120,
            "Threshold": 0.5,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 4,
        },
    )


def test_latency_alarm_uses_the_policy_threshold(watched: Built) -> None:
    watched.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-latency-p99",
            "MetricName": "LatencyP99",
            "ExtendedStatistic": "p99",
            "Period": 120,
            "Threshold": 800,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 4,
        },
    )


def test_traffic_anomaly_alarm_fires_below_the_band_and_on_missing_data(watched: Built) -> None:
    # Missing request data means no traffic at all: that is the drop the alarm exists for (P12).
    watched.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-traffic-anomaly",
            "ComparisonOperator": "LessThanLowerThreshold",
            "TreatMissingData": "breaching",
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 4,
            "ThresholdMetricId": Match.any_value(),
            "Threshold": Match.absent(),
            "Metrics": Match.array_with(
                [
                    Match.object_like(
                        {"Expression": Match.string_like_regexp(r"^ANOMALY_DETECTION_BAND\(\w+, 3\)$")}
                    ),
                    Match.object_like(
                        {
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": Match.object_like({"MetricName": "Requests"}),
                                    "Period": 120,
                                    "Stat": "Sum",
                                }
                            )
                        }
                    ),
                ]
            ),
        },
    )


# ---------------------------------------------------------------------------- composite rule


def test_health_rule_covers_exactly_the_rollback_alarms(watched: Built, flat: Callable[[Any], Any]) -> None:
    ids = alarm_ids_by_name(watched.template)
    in_rule = alarms_in_rule(watched.template, flat)
    assert sorted(in_rule) == sorted(ids[alarm_name(PREFIX, kind)] for kind in ROLLBACK_ALARMS)
    assert len(watched.alarms.rollback) == 3


def test_health_rule_without_traffic_covers_the_two_remaining_alarms(
    unwatched: Built, flat: Callable[[Any], Any]
) -> None:
    ids = alarm_ids_by_name(unwatched.template)
    assert sorted(alarms_in_rule(unwatched.template, flat)) == sorted(ids.values())
    assert unwatched.alarms.rollback == (unwatched.alarms.fault_rate, unwatched.alarms.latency_p99)


def test_result_object_is_what_every_consumer_reuses(watched: Built) -> None:
    alarms = watched.alarms
    assert alarms.rollback == (alarms.fault_rate, alarms.latency_p99, alarms.traffic_anomaly)
    assert alarms.health not in alarms.rollback
    assert alarms.paging_topic is watched.factory.paging_topic


# ----------------------------------------------------------------------------------- paging


SHARED_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:hands-off-paging"


def test_alarms_page_the_shared_account_topic_and_the_copy_makes_no_key_or_topic(watched: Built) -> None:
    # Issue 9: every copy made its own KMS key and topic (15 keys per added service); the topic and
    # its key are now the account-region baseline's, imported by an ARN built from the name.
    t = watched.template
    t.resource_count_is("AWS::SNS::Topic", 0)
    t.resource_count_is("AWS::KMS::Key", 0)
    t.resource_count_is("AWS::SNS::TopicPolicy", 0)
    assert flatten(watched.stack.resolve(watched.factory.paging_topic.topic_arn)) == SHARED_TOPIC
    assert is_account_paging_topic(watched.factory.paging_topic)


def test_every_alarm_pages_on_alarm_and_on_ok(watched: Built) -> None:
    alarms = [
        a["Properties"]
        for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
        for a in watched.template.find_resources(kind).values()
    ]
    assert len(alarms) == 4
    for alarm in alarms:
        assert flatten(alarm["AlarmActions"]) == [SHARED_TOPIC]
        assert flatten(alarm["OKActions"]) == [SHARED_TOPIC]


def test_the_shared_topic_is_imported_once_per_stack(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    first = AlarmFactory(stack, "One", name_prefix="orders-one").paging_topic
    second = AlarmFactory(stack, "Two", name_prefix="orders-two").paging_topic
    assert first.node.path == second.node.path == "Test/HandsOffPagingTopic"
    assert account_paging_topic(stack).node.path == first.node.path


def test_a_topic_imported_under_the_shared_id_before_is_the_one_returned(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:hands-off-paging"
    before = sns.Topic.from_topic_arn(stack, "HandsOffPagingTopic", arn)  # not by account_paging_topic

    topic = account_paging_topic(stack)

    assert topic.node.path == before.node.path
    assert is_account_paging_topic(topic)


def test_importing_the_shared_topic_costs_two_round_trips_then_none(bare_stack: Callable[..., Stack]) -> None:
    # The ARN and the import; no lookup of an earlier import first (issue 9: every jsii round trip
    # is paid once per copy of every service).
    stack = bare_stack()
    with round_trips() as first:
        topic = account_paging_topic(stack)
    with round_trips() as again:
        assert account_paging_topic(stack) is topic

    assert (first[0], again[0]) == (2, 0)


def test_a_given_paging_topic_is_used_and_no_key_is_made(bare_stack: Callable[..., Stack]) -> None:
    # GIVEN an existing topic
    stack = bare_stack()
    topic = sns.Topic(stack, "OrgPaging")
    # WHEN the factory gets it
    AlarmFactory(stack, "Alarms", name_prefix=PREFIX, paging_topic=topic).service_alarms(
        FakeMetrics(), watch_traffic=False
    )
    # THEN it makes no topic or key of its own, and every alarm pages the given topic
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::SNS::Topic", 1)
    t.resource_count_is("AWS::KMS::Key", 0)
    topic_id = stack.get_logical_id(topic.node.default_child)  # type: ignore[arg-type]
    assert (
        len(t.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"AlarmActions": [{"Ref": topic_id}]}}))
        == 2
    )


def paging_warnings(stack: Stack) -> list[str]:
    """Paths of the constructs carrying the unsubscribed-paging warning after synth."""
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(".*"))
    return [m.id for m in found if UNSUBSCRIBED_PAGING_WARNING in str(m.entry.data)]


def test_paging_nobody_subscribes_to_warns_at_synth(bare_stack: Callable[..., Stack]) -> None:
    # GIVEN a copy's alarms and no subscription (issue 8: 26 topics paged nobody)
    stack = bare_stack()
    factory = AlarmFactory(stack, "Alarms", name_prefix=PREFIX)
    factory.service_alarms(FakeMetrics(), watch_traffic=False)
    subscribe_paging(factory.paging_topic, [], alarm_prefix=f"{PREFIX}-", owner=PREFIX)
    # THEN synth warns once, on the topic, and says how to fix it
    assert paging_warnings(stack) == ["/Test/HandsOffPagingTopic"]
    [warning] = [
        m
        for m in Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(".*"))
        if UNSUBSCRIBED_PAGING_WARNING in str(m.entry.data)
    ]
    assert "paging_subscriptions()" in str(warning.entry.data)
    assert PREFIX in str(warning.entry.data)


def test_a_subscription_of_the_shared_topic_receives_its_own_alarms_only(
    bare_stack: Callable[..., Stack],
) -> None:
    # GIVEN subscriptions made for one copy (as the pipeline does)
    stack = bare_stack()
    alarms = AlarmFactory(stack, "Alarms", name_prefix=PREFIX).service_alarms(
        FakeMetrics(), watch_traffic=False
    )
    subscribe_paging(
        alarms.paging_topic,
        [
            subscriptions.EmailSubscription("oncall@example.com"),
            subscriptions.SqsSubscription(sqs.Queue(stack, "Q")),
        ],
        alarm_prefix=f"{PREFIX}-",
        owner=PREFIX,
    )
    # THEN no warning, and each subscription filters the message body on the copy's alarm names
    assert paging_warnings(stack) == []
    found = Template.from_stack(stack).find_resources("AWS::SNS::Subscription")
    assert sorted(s["Properties"]["Protocol"] for s in found.values()) == ["email", "sqs"]
    for subscription in found.values():
        props = subscription["Properties"]
        assert flatten(props["TopicArn"]) == SHARED_TOPIC
        assert props["FilterPolicyScope"] == "MessageBody"
        assert props["FilterPolicy"] == {"AlarmName": [{"prefix": f"{PREFIX}-"}]}
    assert (
        found[next(k for k, v in found.items() if v["Properties"]["Protocol"] == "email")]["Properties"][
            "Endpoint"
        ]
        == "oncall@example.com"
    )


def test_a_subscription_of_a_topic_of_ones_own_is_not_filtered(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    topic = new_paging_topic(stack, name="tooling", id_prefix="Tooling")
    subscribe_paging(topic, [subscriptions.EmailSubscription("a@example.com")], alarm_prefix="x-", owner="x")
    [props] = [
        s["Properties"] for s in Template.from_stack(stack).find_resources("AWS::SNS::Subscription").values()
    ]
    assert "FilterPolicy" not in props
    assert paging_warnings(stack) == []


def test_a_subscription_with_its_own_attribute_filter_is_refused(bare_stack: Callable[..., Stack]) -> None:
    # CloudWatch alarm notifications carry no message attributes: such a filter would page nobody.
    stack = bare_stack()
    topic = account_paging_topic(stack)
    filtered = subscriptions.EmailSubscription(
        "a@example.com", filter_policy={"severity": sns.SubscriptionFilter.string_filter(allowlist=["high"])}
    )
    with pytest.raises(Exception, match="already has a filter policy"):
        subscribe_paging(topic, [filtered], alarm_prefix="x-", owner="x")


# What SNS does with a message-body filter policy of string prefixes and exact strings (the parts
# hands-off uses): each key of the policy must be in the message, with a value one of the rules
# matches. A sketch of https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html.
def sns_body_filter_matches(policy: dict[str, Any], message: dict[str, Any]) -> bool:
    for key, rules in policy.items():
        if key not in message:
            return False
        value = message[key]
        if not any(
            (isinstance(rule, dict) and isinstance(value, str) and value.startswith(rule["prefix"]))
            or rule == value
            for rule in rules
        ):
            return False
    return True


def cloudwatch_notification(alarm: str) -> dict[str, Any]:
    """The JSON body CloudWatch publishes to SNS on a state change (the fields that matter)."""
    return {
        "AlarmName": alarm,
        "AlarmDescription": "Faults above 1% of requests (P11)",
        "AWSAccountId": ACCOUNT,
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed",
        "StateChangeTime": "2026-01-01T00:00:00.000+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}",
        "OldStateValue": "OK",
        "Trigger": {},
    }


def test_the_filter_lets_a_copys_alarms_through_and_no_other_services(
    bare_stack: Callable[..., Stack],
) -> None:
    stack = bare_stack()
    subscribe_paging(
        account_paging_topic(stack),
        [subscriptions.EmailSubscription("oncall@example.com")],
        alarm_prefix="orders-prod-",
        owner="orders-prod",
    )
    [props] = [
        s["Properties"] for s in Template.from_stack(stack).find_resources("AWS::SNS::Subscription").values()
    ]
    policy = props["FilterPolicy"]
    for kind in AlarmKind:
        assert sns_body_filter_matches(policy, cloudwatch_notification(alarm_name("orders-prod", kind)))
    for other in ("catalog-prod-fault-rate", "orders-gamma-fault-rate", "orders-application-override-used"):
        assert not sns_body_filter_matches(policy, cloudwatch_notification(other))


def two_stacks_in_one_account_region() -> tuple[Stack, Stack]:
    """Two stacks of one app in one account and region (two copies, e.g. Alpha and Beta)."""
    app = App()
    env = Environment(account=ACCOUNT, region=REGION)
    return Stack(app, "Alpha", env=env), Stack(app, "Beta", env=env)


def subscriptions_in(stack: Stack) -> list[dict[str, Any]]:
    return [
        s["Properties"] for s in Template.from_stack(stack).find_resources("AWS::SNS::Subscription").values()
    ]


def test_copies_of_one_pipeline_share_one_subscription_per_endpoint() -> None:
    # SNS keeps one subscription per topic, protocol and endpoint: a second one with another filter
    # fails to deploy. The first copy's stack holds it, filtered to both copies' alarms.
    alpha, beta = two_stacks_in_one_account_region()
    for stack, prefix in ((alpha, "orders-alpha-"), (beta, "orders-beta-")):
        subscribe_paging(
            account_paging_topic(stack),
            [
                subscriptions.EmailSubscription("team@example.com"),
                subscriptions.EmailSubscription(f"{prefix}x@example.com"),
            ],
            alarm_prefix=prefix,
            owner=prefix,
            pipeline="orders-application",
        )
    held = {s["Endpoint"]: s["FilterPolicy"] for s in subscriptions_in(alpha)}
    assert held == {
        "team@example.com": {"AlarmName": [{"prefix": "orders-alpha-"}, {"prefix": "orders-beta-"}]},
        "orders-alpha-x@example.com": {"AlarmName": [{"prefix": "orders-alpha-"}]},
    }
    assert {s["Endpoint"]: s["FilterPolicy"] for s in subscriptions_in(beta)} == {
        "orders-beta-x@example.com": {"AlarmName": [{"prefix": "orders-beta-"}]}
    }
    policy = held["team@example.com"]
    assert sns_body_filter_matches(policy, cloudwatch_notification("orders-beta-fault-rate"))
    assert not sns_body_filter_matches(policy, cloudwatch_notification("orders-gamma-fault-rate"))


def page_from(stack: Stack, subscription: sns.ITopicSubscription, copy: str, pipeline: str) -> None:
    """Subscribe ``subscription`` for the copy ``copy`` (its alarm prefix ``<copy>-``) of ``pipeline``."""
    subscribe_paging(
        account_paging_topic(stack), [subscription], alarm_prefix=f"{copy}-", owner=copy, pipeline=pipeline
    )


def test_two_pipelines_subscribing_one_endpoint_in_one_account_region_is_a_synth_error() -> None:
    alpha, other = two_stacks_in_one_account_region()
    hook = "https://incidents.example.com/hook"
    page_from(alpha, subscriptions.UrlSubscription(hook), "orders-prod", "orders-application")
    with pytest.raises(ConfigError, match=rf"{hook} .*catalog-application.*own endpoint"):
        page_from(other, subscriptions.UrlSubscription(hook), "catalog-prod", "catalog-application")


def test_one_endpoint_with_other_settings_for_two_copies_is_a_synth_error() -> None:
    # One subscription cannot deliver raw to one copy and wrapped to the other.
    alpha, beta = two_stacks_in_one_account_region()
    hook = "https://hook.example.com"
    page_from(
        alpha,
        subscriptions.UrlSubscription(hook, raw_message_delivery=True),
        "orders-alpha",
        "orders-application",
    )
    with pytest.raises(ConfigError, match="different settings"):
        page_from(beta, subscriptions.UrlSubscription(hook), "orders-beta", "orders-application")


def test_one_endpoint_given_as_a_token_is_one_subscription() -> None:
    # Attack F1: an incident URL kept out of the code (an export, a dynamic reference) is a new
    # token at every call of the hook; every template resolves it to the same value.
    alpha, beta = two_stacks_in_one_account_region()
    for stack, copy in ((alpha, "orders-alpha"), (beta, "orders-beta")):
        page_from(
            stack,
            subscriptions.UrlSubscription(
                Fn.import_value("incident-url"), protocol=sns.SubscriptionProtocol.HTTPS
            ),
            copy,
            "orders-application",
        )
    assert [s["FilterPolicy"]["AlarmName"] for s in subscriptions_in(alpha)] == [
        [{"prefix": "orders-alpha-"}, {"prefix": "orders-beta-"}]
    ]
    assert subscriptions_in(beta) == []
    with pytest.raises(ConfigError, match="catalog-application"):
        page_from(
            beta,
            subscriptions.UrlSubscription(
                Fn.import_value("incident-url"), protocol=sns.SubscriptionProtocol.HTTPS
            ),
            "catalog",
            "catalog-application",
        )


def test_subscribing_without_a_pipeline_an_endpoint_a_pipeline_holds_is_a_synth_error() -> None:
    # Attack F2: a stack of one's own in a copy's account-region, paging the same address.
    alpha, mine = two_stacks_in_one_account_region()
    page_from(
        alpha, subscriptions.EmailSubscription("team@example.com"), "orders-alpha", "orders-application"
    )
    with pytest.raises(ConfigError, match=r"team@example\.com .*outside any pipeline"):
        subscribe_paging(
            account_paging_topic(mine),
            [subscriptions.EmailSubscription("team@example.com")],
            alarm_prefix="orders-reports-",
            owner="orders-reports",
        )


def test_widening_a_subscription_after_its_pipeline_was_rendered_is_a_synth_error() -> None:
    # Attack F2: CDK Pipelines synthesized the holder's stage when it was added to its wave; a
    # prefix added later would be in no template (its alarms would page nobody).
    alpha, late = two_stacks_in_one_account_region()
    page_from(
        alpha, subscriptions.EmailSubscription("team@example.com"), "orders-alpha", "orders-application"
    )
    PagingSubscriptions.of(alpha).close("orders-application")
    with pytest.raises(ConfigError, match="after"):
        page_from(
            late, subscriptions.EmailSubscription("team@example.com"), "orders-late", "orders-application"
        )


def test_one_endpoint_twice_for_one_owner_is_a_one_line_error() -> None:
    # Attack F5: was a jsii traceback (SubscriptionAlreadyExistsUnder).
    alpha, _ = two_stacks_in_one_account_region()
    with pytest.raises(ConfigError, match="twice"):
        subscribe_paging(
            account_paging_topic(alpha),
            [
                subscriptions.EmailSubscription("team@example.com"),
                subscriptions.EmailSubscription("team@example.com"),
            ],
            alarm_prefix="orders-alpha-",
            owner="orders-alpha",
            pipeline="orders-application",
        )


def test_a_subscription_made_in_another_stack_than_the_topics_is_a_synth_error() -> None:
    # Attack F4: a queue or function of another stack (the hook has no scope: the pipeline's)
    # would hold the subscription of a topic in another account or region.
    alpha, other = two_stacks_in_one_account_region()
    queue = sqs.Queue(other, "Pages")
    with pytest.raises(ConfigError, match="stack"):
        page_from(alpha, subscriptions.SqsSubscription(queue), "orders-alpha", "orders-application")


def test_new_paging_topic_is_encrypted_and_tls_only(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    new_paging_topic(stack, name="orders-application pipeline", id_prefix="Paging")
    t = Template.from_stack(stack)
    [key_id] = t.find_resources("AWS::KMS::Key")
    t.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
            "DisplayName": "orders-application pipeline paging",
        },
    )
    t.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    t.resource_count_is("AWS::SNS::TopicPolicy", 1)


def test_default_policy_thresholds(bare_stack: Callable[..., Stack]) -> None:
    # GIVEN no policy WHEN alarms are made THEN the AlarmPolicy() defaults apply (1%, 2000 ms, 3 of 3)
    stack = bare_stack()
    AlarmFactory(stack, "Alarms", name_prefix=PREFIX).service_alarms(FakeMetrics(), watch_traffic=False)
    t = Template.from_stack(stack)
    defaults = AlarmPolicy()
    common = {
        "EvaluationPeriods": defaults.evaluation_periods,
        "DatapointsToAlarm": defaults.datapoints_to_alarm,
    }
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-fault-rate",
            "Threshold": defaults.fault_rate_percent,
            "Period": 60,
            **common,
        },
    )
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"AlarmName": f"{PREFIX}-latency-p99", "Threshold": defaults.p99_latency_ms, "Period": 60, **common},
    )


# ------------------------------------------------------------------------------ Lambda alias


@pytest.fixture(scope="module")
def lambda_template(bare_stack: Callable[..., Stack]) -> tuple[Template, str]:
    stack = bare_stack()
    function = lambda_.Function(
        stack,
        "Function",
        function_name=PREFIX,
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_14,
    )
    alias = lambda_.Alias(stack, "Alias", alias_name="live", version=function.current_version)
    AlarmFactory(stack, "Alarms", name_prefix=PREFIX, policy=POLICY).lambda_alarms(alias)
    function_id = stack.get_logical_id(function.node.default_child)  # type: ignore[arg-type]
    return Template.from_stack(stack), function_id


def _alias_metric(name: str, stat: str, function_id: str) -> Matcher:
    return Match.object_like(
        {
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": name,
                    "Dimensions": [
                        {"Name": "FunctionName", "Value": {"Ref": function_id}},
                        {"Name": "Resource", "Value": {"Fn::Join": ["", [{"Ref": function_id}, ":live"]]}},
                    ],
                },
                "Period": 120,
                "Stat": stat,
            }
        }
    )


def test_lambda_alarms_watch_the_alias_fault_rate(lambda_template: tuple[Template, str]) -> None:
    template, function_id = lambda_template
    template.resource_count_is("AWS::CloudWatch::Alarm", 3)  # watch_traffic defaults to True
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-fault-rate",
            "Threshold": 0.5,
            "Metrics": Match.array_with(
                [
                    Match.object_like({"Expression": "IF(invocations > 0, 100 * errors / invocations, 0)"}),
                    _alias_metric("Invocations", "Sum", function_id),
                    _alias_metric("Errors", "Sum", function_id),
                ]
            ),
        },
    )


def test_lambda_alarms_watch_the_alias_duration_and_invocations(
    lambda_template: tuple[Template, str],
) -> None:
    template, function_id = lambda_template
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-latency-p99",
            "Namespace": "AWS/Lambda",
            "MetricName": "Duration",
            "ExtendedStatistic": "p99",
            "Dimensions": Match.array_with([{"Name": "FunctionName", "Value": {"Ref": function_id}}]),
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"{PREFIX}-traffic-anomaly",
            "Metrics": Match.array_with([_alias_metric("Invocations", "Sum", function_id)]),
        },
    )


# ------------------------------------------------------------------------------- hotfix (issue 8)


def test_no_hotfix_alarm_and_no_deployment_rollback_composite(watched: Built) -> None:
    """A hotfix turns the CodeDeploy group's alarm configuration off at runtime: the factory makes
    no hotfix alarm and no composite for CodeDeploy (whether CodeDeploy evaluates a composite is
    undocumented)."""
    names = {
        r["Properties"]["AlarmName"]
        for r in watched.template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert f"{PREFIX}-hotfix" not in names
    composites = watched.template.find_resources("AWS::CloudWatch::CompositeAlarm")
    assert [c["Properties"]["AlarmName"] for c in composites.values()] == [f"{PREFIX}-health"]


@pytest.mark.parametrize("fixture", ["watched", "unwatched"])
def test_deployment_rollback_is_the_metric_rollback_alarms(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    built: Built = request.getfixturevalue(fixture)
    assert built.alarms.deployment_rollback == built.alarms.rollback
    assert all(isinstance(a, cloudwatch.Alarm) for a in built.alarms.deployment_rollback)
