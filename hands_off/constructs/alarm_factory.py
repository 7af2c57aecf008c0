"""One factory for a service's alarms; every consumer (CodeDeploy rollback, gates, stage
conditions, dashboards) reuses the :class:`ServiceAlarms` it returns."""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import jsii
from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from hands_off.constructs import _once
from hands_off.constructs._stack_imports import import_into
from hands_off.model import AlarmPolicy, ConfigError
from hands_off.naming import PAGING_TOPIC_NAME, AlarmKind, alarm_name

__all__ = [
    "PAGING_FILTER_FIELD",
    "UNSUBSCRIBED_PAGING_WARNING",
    "AlarmFactory",
    "AlarmNameFilteredSubscription",
    "LambdaAliasMetrics",
    "PagingSubscriptions",
    "ServiceAlarms",
    "ServiceMetrics",
    "account_paging_topic",
    "imports_account_paging_topic",
    "is_account_paging_topic",
    "new_paging_topic",
    "paging_filter_policy",
    "subscribe_paging",
]

UNSUBSCRIBED_PAGING_WARNING = "hands-off:paging-unsubscribed"
"""Id of the synth warning on paging nobody subscribes to (a copy's or a pipeline's alarms that
page nobody): see :func:`subscribe_paging`."""

PAGING_FILTER_FIELD = "AlarmName"
"""The field of a paging message (a CloudWatch alarm notification's JSON body, or the gates'
failure message) the subscriptions of the shared paging topic filter on."""

_ACCOUNT_TOPIC_ID = "HandsOffPagingTopic"


def account_paging_topic(scope: Construct) -> sns.ITopic:
    """The paging topic of the account and region of ``scope``'s stack (:data:`PAGING_TOPIC_NAME`,
    created once per account and region by ``hands_off.stacks.AccountBaseline``), imported by an
    ARN built from its name: no cross-stack export, no key or topic in the importing stack. One
    import per stack, however often it is asked for.

    Example::

        topic = account_paging_topic(stack)  # arn:<partition>:sns:<region>:<account>:hands-off-paging
    """
    stack = scope if isinstance(scope, Stack) else Stack.of(scope)
    known = _STACK_TOPICS.get(stack)
    if known is not None:
        return known
    arn = stack.format_arn(service="sns", resource=PAGING_TOPIC_NAME)
    topic: sns.ITopic = import_into(
        stack, _ACCOUNT_TOPIC_ID, lambda: sns.Topic.from_topic_arn(stack, _ACCOUNT_TOPIC_ID, arn)
    )
    _STACK_TOPICS[stack] = topic
    _SHARED_TOPICS.add(topic)
    _TOPIC_ARNS[topic] = arn
    _TOPIC_STACKS[topic] = stack
    return topic


# What account_paging_topic made, so asking again, or whether a topic is the shared one, needs no
# call into the CDK's runtime (jsii). Weak: an app's constructs go with it.
_STACK_TOPICS: weakref.WeakKeyDictionary[Stack, sns.ITopic] = weakref.WeakKeyDictionary()
_SHARED_TOPICS: weakref.WeakSet[sns.ITopic] = weakref.WeakSet()
_TOPIC_ARNS: weakref.WeakKeyDictionary[sns.ITopic, str] = weakref.WeakKeyDictionary()
_TOPIC_STACKS: weakref.WeakKeyDictionary[sns.ITopic, Stack] = weakref.WeakKeyDictionary()


def is_account_paging_topic(topic: sns.ITopic) -> bool:
    """Whether ``topic`` is the shared topic :func:`account_paging_topic` imports."""
    return topic in _SHARED_TOPICS or topic.node.id == _ACCOUNT_TOPIC_ID


def imports_account_paging_topic(stack: Stack) -> bool:
    """Whether ``stack`` pages its account and region's shared topic (:func:`account_paging_topic`),
    so that account and region needs its ``AccountBaseline``."""
    # A stack account_paging_topic imported into holds the import: no round trip to ask.
    return stack in _STACK_TOPICS or stack.node.try_find_child(_ACCOUNT_TOPIC_ID) is not None


def paging_filter_policy(alarm_prefix: str) -> dict[str, sns.FilterOrPolicy]:
    """The message-body filter that lets a subscription of the shared topic receive only the
    messages whose :data:`PAGING_FILTER_FIELD` starts with ``alarm_prefix``."""
    return {
        PAGING_FILTER_FIELD: sns.FilterOrPolicy.filter(
            sns.SubscriptionFilter.string_filter(match_prefixes=[alarm_prefix])
        )
    }


@jsii.implements(sns.ITopicSubscription)
class AlarmNameFilteredSubscription:
    """A subscription of the shared paging topic that receives one owner's messages only: those
    whose ``AlarmName`` starts with ``alarm_prefix`` (``<copy>-``, or ``<pipeline>-``). Everything
    else the wrapped subscription says (endpoint, protocol, dead-letter queue...) is kept.

    Example::

        oncall = EmailSubscription("oncall@example.com")
        topic.add_subscription(AlarmNameFilteredSubscription(oncall, alarm_prefix="orders-prod-"))

    Args:
        subscription: the subscription to filter.
        alarm_prefix: what the alarm names it receives start with.

    Raises:
        ConfigError: at bind, if the wrapped subscription filters on message attributes (alarm
            notifications have none) or on ``AlarmName`` itself.
    """

    def __init__(self, subscription: sns.ITopicSubscription, *, alarm_prefix: str) -> None:
        self.subscription = subscription
        self.alarm_prefix = alarm_prefix

    def bind(self, topic: sns.ITopic) -> sns.TopicSubscriptionConfig:
        """The wrapped subscription's config plus the ``AlarmName`` prefix filter."""
        config = self.subscription.bind(topic)
        body = dict(config.filter_policy_with_message_body or {})
        if config.filter_policy or PAGING_FILTER_FIELD in body:
            raise ConfigError(
                "ServicePipeline.paging_subscriptions()",
                f"a subscription of the shared paging topic ({config.endpoint}) already has a filter "
                f"policy on message attributes or on {PAGING_FILTER_FIELD}; hands-off filters each "
                f"subscription on {PAGING_FILTER_FIELD} (prefix {self.alarm_prefix!r}): drop that "
                "filter, or filter on other fields of the message body",
            )
        body.update(paging_filter_policy(self.alarm_prefix))
        return sns.TopicSubscriptionConfig(
            endpoint=config.endpoint,
            protocol=config.protocol,
            subscriber_id=config.subscriber_id,
            dead_letter_queue=config.dead_letter_queue,
            delivery_policy=config.delivery_policy,
            filter_policy_with_message_body=body,
            raw_message_delivery=config.raw_message_delivery,
            region=config.region,
            subscription_role_arn=config.subscription_role_arn,
            subscriber_scope=config.subscriber_scope,
            subscription_dependency=config.subscription_dependency,
        )


@dataclass
class _Subscribed:
    """A subscription of a shared paging topic, and whose alarms it receives."""

    resource: sns.CfnSubscription
    prefixes: list[str]
    pipeline: str | None
    owner: str
    other_filters: dict[str, object]
    settings: tuple[object, ...] | None = None
    """What else it says (:func:`_settings`), read when a second owner shares it."""


class PagingSubscriptions:
    """The subscriptions of the shared paging topics made in one app, one per topic, protocol and
    endpoint.

    SNS keeps one subscription per topic, protocol and endpoint: a second ``Subscribe`` with other
    attributes (another ``AlarmName`` filter) fails ("Subscription already exists with different
    attributes"), and one with the same attributes returns the first, so deleting either stack
    would unsubscribe both. So when copies of one pipeline in the same account and region (Alpha,
    Beta and Gamma in a pre-production account) page the same endpoint, :func:`subscribe_paging`
    makes one subscription, in the first of them to deploy (the pipeline's own stack, then the
    copies in pipeline order), whose filter lists every one of their alarm-name prefixes. Two
    *pipelines* cannot share one (each deploys its own stacks, and neither may own the other's
    paging), nor can a subscription made outside a pipeline: their same endpoint in the same
    account and region is a synth error. An endpoint given as a token (an export, a dynamic
    reference) is compared by what it resolves to.

    ``render`` closes a pipeline once its stages are added to its waves (CDK Pipelines has then
    synthesized them): a later subscription of that pipeline is a synth error, not a filter
    widened in no template.
    """

    def __init__(self) -> None:
        self._made: dict[tuple[str, str, str], _Subscribed] = {}
        self._closed: set[str] = set()

    @classmethod
    def of(cls, scope: IConstruct) -> PagingSubscriptions:
        """The registry of ``scope``'s app (made on first use)."""
        root = scope.node.root
        registry = _REGISTRIES.get(root)
        if registry is None:
            registry = _REGISTRIES[root] = cls()
        return registry

    def close(self, pipeline: str) -> None:
        """No more subscriptions for ``pipeline``: its stages are synthesized."""
        self._closed.add(pipeline)

    def subscribe(
        self,
        topic: sns.ITopic,
        subscription: sns.ITopicSubscription,
        *,
        alarm_prefix: str,
        owner: str,
        pipeline: str | None,
    ) -> sns.CfnSubscription:
        """Subscribe ``subscription`` to the shared ``topic`` for ``owner``'s alarms (those whose
        name starts with ``alarm_prefix``), or widen the filter of the subscription ``pipeline``
        already made for the same topic, protocol and endpoint.

        Returns:
            the subscription resource that receives ``owner``'s alarms.

        Raises:
            ConfigError: another pipeline (or a subscription made outside any) subscribed the same
                endpoint to ``topic``; this pipeline did with other settings (another filter, raw
                delivery, retries...); ``owner`` named the endpoint twice; the subscription is
                made in another stack than the topic's; ``pipeline`` is closed.
        """
        if pipeline is not None and pipeline in self._closed:
            raise ConfigError(
                "ServicePipeline.paging_subscriptions()",
                f"a paging subscription for {owner} after the {pipeline} pipeline's stages were "
                "synthesized would be in no template: subscribe from the copy's stage before it is "
                "added to its wave (the paging hook), not later",
            )
        try:
            added = topic.add_subscription(subscription)
        except RuntimeError as error:  # jsii: a construct of that id (endpoint) is there already
            if "SubscriptionAlreadyExists" not in str(error):
                raise
            raise ConfigError(
                "ServicePipeline.paging_subscriptions()",
                f"{owner} names the same paging endpoint twice for one topic ({error}); return it once",
            ) from None
        node = added.node
        # A Lambda or SQS subscription is made in its subscriber's scope: the topic's stack only.
        # (One made in the topic's scope is in the topic's stack: one question covers both.)
        if Stack.of(added) is not (_TOPIC_STACKS.get(topic) or Stack.of(topic)):
            raise ConfigError(
                "ServicePipeline.paging_subscriptions()",
                f"the paging subscription for {owner} is made in the stack of its subscriber "
                f"({node.path}), not in the stack that imports the shared topic: subscribe a "
                "queue or function of the copy's own stack, or an email or HTTPS endpoint",
            )
        resource = cast(sns.CfnSubscription, node.default_child)
        protocol, endpoint = resource.protocol, _endpoint_key(resource)
        topic_arn = _TOPIC_ARNS.get(topic) or topic.topic_arn
        key = (topic_arn, protocol, endpoint)
        first = self._made.get(key)
        if first is None:
            other_filters = _filter_on_alarm_names(resource, [alarm_prefix])
            self._made[key] = _Subscribed(resource, [alarm_prefix], pipeline, owner, other_filters)
            return resource
        where = f"{endpoint} ({protocol}) on {_topic_name(topic_arn)}"
        if first.pipeline is None or first.pipeline != pipeline:
            raise ConfigError(
                "ServicePipeline.paging_subscriptions()",
                f"{where} is subscribed twice, for {_whose(first.owner, first.pipeline)} and for "
                f"{_whose(owner, pipeline)}; SNS keeps one subscription per topic, protocol and "
                "endpoint, so the second fails to deploy: give each pipeline its own endpoint "
                "there (e.g. the incident tool's per-service integration URL, or a per-service address)",
            )
        other_filters = _other_filters(resource, alarm_prefix)
        if first.settings is None:
            first.settings = _settings(first.resource)  # read once, however many copies share it
        if other_filters != first.other_filters or _settings(resource) != first.settings:
            raise ConfigError(
                "ServicePipeline.paging_subscriptions()",
                f"{where} is subscribed for {first.owner} and {owner} with different settings (filter "
                "or delivery); SNS keeps one subscription per topic, protocol and endpoint, shared by "
                "the copies of one account and region: return the same subscription for both",
            )
        cast(IConstruct, node.scope).node.try_remove_child(node.id)
        if alarm_prefix not in first.prefixes:
            first.prefixes.append(alarm_prefix)
            _filter_on_alarm_names(first.resource, first.prefixes, first.other_filters)
        return first.resource


# One registry per app (the root construct); weak: an app's constructs go with it.
_REGISTRIES: weakref.WeakKeyDictionary[IConstruct, PagingSubscriptions] = weakref.WeakKeyDictionary()


def _endpoint_key(resource: sns.CfnSubscription) -> str:
    """What ``resource``'s endpoint is, to compare with another's: a literal as is; a token as
    what it resolves to (a new token at every call stands for the same export or dynamic
    reference), and a reference to a resource of the stack as that stack's resource."""
    endpoint = str(resource.endpoint)
    if "${Token[" not in endpoint:
        return endpoint
    stack = Stack.of(resource)
    resolved = json.dumps(stack.resolve(resource.endpoint), sort_keys=True)
    if '"Ref"' in resolved or '"Fn::GetAtt"' in resolved:
        return f"{stack.node.path}:{resolved}"  # this stack's own queue or function
    return resolved


def _topic_name(topic_arn: str) -> str:
    """``hands-off-paging in <account>/<region>`` for the ARN :func:`account_paging_topic` built."""
    parts = topic_arn.split(":")
    return f"{parts[-1]} in {parts[-2]}/{parts[-3]}" if len(parts) == 6 else topic_arn


def _whose(owner: str, pipeline: str | None) -> str:
    """Who subscribed, for an error: the owner, and its pipeline when the owner is a copy."""
    if pipeline is None:
        return f"{owner} (outside any pipeline)"
    return owner if pipeline in owner else f"{owner} (pipeline {pipeline})"


def subscribe_paging(
    topic: sns.ITopic,
    subscriptions: Sequence[sns.ITopicSubscription],
    *,
    alarm_prefix: str,
    owner: str,
    pipeline: str | None = None,
    registry: PagingSubscriptions | None = None,
) -> None:
    """Subscribe ``subscriptions`` to ``topic`` for one owner (a copy, or a pipeline): on the
    shared account topic each receives only the alarms whose names start with ``alarm_prefix``
    (:class:`AlarmNameFilteredSubscription`); another topic is subscribed as is. Without any
    subscription, synth warns (:data:`UNSUBSCRIBED_PAGING_WARNING`) on ``topic``: alarms that page
    nobody are found at the incident, not before.

    On the shared topic there is one subscription per protocol and endpoint in the app
    (:class:`PagingSubscriptions`): the owners of one ``pipeline`` share it, and anyone else
    subscribing that endpoint there is a synth error (a second would fail to deploy).

    Args:
        topic: where the owner's alarms page.
        subscriptions: whom they page (``ServicePipeline.paging_subscriptions()``).
        alarm_prefix: what the owner's alarm names start with (``naming.alarm_name_prefix``).
        owner: what the warning names, e.g. ``"orders-prod (us-east-1)"``.
        pipeline: the pipeline deploying the owner's stack. Default: none (a subscription of its
            own, which no other may share).
        registry: the app's subscriptions. Default: ``PagingSubscriptions.of(topic)``.
    """
    if not subscriptions:
        Annotations.of(topic).add_warning_v2(
            UNSUBSCRIBED_PAGING_WARNING,
            f"the alarms of {owner} have no paging subscription, so they page nobody: return "
            "subscriptions (email, the HTTPS endpoint of an incident tool, Chatbot) from "
            "ServicePipeline.paging_subscriptions(), or subscribe the topic yourself",
        )
    if not is_account_paging_topic(topic):
        for subscription in subscriptions:
            topic.add_subscription(subscription)
        return
    known = registry or PagingSubscriptions.of(topic)
    for subscription in subscriptions:
        known.subscribe(topic, subscription, alarm_prefix=alarm_prefix, owner=owner, pipeline=pipeline)


def _other_filters(resource: sns.CfnSubscription, alarm_prefix: str) -> dict[str, object]:
    """The message-body filter ``resource`` was made with, which must not name ``AlarmName``."""
    policy = resource.filter_policy
    if policy is None:
        return {}
    if resource.filter_policy_scope != "MessageBody" or PAGING_FILTER_FIELD in policy:
        raise ConfigError(
            "ServicePipeline.paging_subscriptions()",
            f"a subscription of the shared paging topic ({resource.endpoint}) already has a filter "
            f"policy on message attributes or on {PAGING_FILTER_FIELD}; hands-off filters each "
            f"subscription on {PAGING_FILTER_FIELD} (prefix {alarm_prefix!r}): drop that "
            "filter, or filter on other fields of the message body",
        )
    return dict(policy)


def _settings(resource: sns.CfnSubscription) -> tuple[object, ...]:
    """What else a subscription says besides its topic, endpoint and filter."""
    return (
        resource.raw_message_delivery,
        resource.delivery_policy,
        resource.redrive_policy,
        resource.subscription_role_arn,
        resource.region,
    )


def _filter_on_alarm_names(
    resource: sns.CfnSubscription,
    alarm_prefixes: Sequence[str],
    other_filters: dict[str, object] | None = None,
) -> dict[str, object]:
    """What :class:`AlarmNameFilteredSubscription` does, on a subscription already made: the same
    resource and properties in a few calls instead of one per field of the subscription's config;
    several prefixes for one subscription shared by the copies of an account and region.

    Returns:
        the other fields of the message-body filter it was made with.
    """
    if other_filters is None:
        other_filters = _other_filters(resource, alarm_prefixes[0])
    resource.filter_policy = {**other_filters, PAGING_FILTER_FIELD: [{"prefix": p} for p in alarm_prefixes]}
    resource.filter_policy_scope = "MessageBody"
    return other_filters


def new_paging_topic(scope: Construct, *, name: str, id_prefix: str = "Paging") -> sns.Topic:
    """An SNS topic of your own for alarm notifications, encrypted with its own rotated KMS key that
    CloudWatch may use, publishing over TLS only. hands-off's alarms page the shared topic of their
    account and region instead (:func:`account_paging_topic`): use this for a topic of your own,
    e.g. ``AlarmFactory(..., paging_topic=new_paging_topic(stack, name="orders"))``, and subscribe
    it yourself (:func:`subscribe_paging` warns at synth when given no subscription).

    Args:
        scope: where the key (``<id_prefix>Key``) and topic (``<id_prefix>Topic``) go.
        name: what it pages for, e.g. ``"orders-prod"`` (its display name is ``"<name> paging"``).
        id_prefix: construct id prefix. Default: ``"Paging"``.
    """
    key = kms.Key(
        scope,
        f"{id_prefix}Key",
        description=f"Encrypts the {name} paging topic",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
    )
    # CloudWatch publishes alarm notifications to the encrypted topic.
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )
    return sns.Topic(
        scope, f"{id_prefix}Topic", display_name=f"{name} paging", master_key=key, enforce_ssl=True
    )


class ServiceMetrics(Protocol):
    """Where one copy's signals come from: the metric source behind :class:`AlarmFactory`.

    A Lambda alias (:class:`LambdaAliasMetrics`) is the first source; an ALB target group (ECS,
    EC2) is another. The factory decides the alarm shapes and names; the source only says which
    metric means requests, fault rate and latency.
    """

    def requests(self, period: Duration) -> cloudwatch.IMetric:
        """Requests per ``period`` (a sum): the traffic-anomaly alarm watches it."""
        ...

    def fault_rate(self, period: Duration) -> cloudwatch.IMetric:
        """Faulted requests in percent of all requests."""
        ...

    def latency_p99(self, period: Duration) -> cloudwatch.IMetric:
        """p99 response time in milliseconds."""
        ...


def _once_per_period(
    source: object, period: Duration, make: Callable[[], cloudwatch.IMetric]
) -> cloudwatch.IMetric:
    """``make()``, or what it made for ``source`` and the same ``period`` object last time: the
    requests metric is read twice (the fault rate's divisor, the traffic alarm), and a metric is
    immutable."""
    cached = source.__dict__.get("_requests")
    if cached is not None and cached[0] is period:
        return cast(cloudwatch.IMetric, cached[1])
    metric = make()
    object.__setattr__(source, "_requests", (period, metric))
    return metric


@dataclass(frozen=True)
class LambdaAliasMetrics:
    """The metrics of a Lambda alias: invocations, errors / invocations, duration.

    Args:
        alias: the alias callers use (``live``).
    """

    alias: lambda_.IAlias

    def requests(self, period: Duration) -> cloudwatch.IMetric:
        """Invocations of the alias."""
        return _once_per_period(
            self, period, lambda: self.alias.metric_invocations(period=period, statistic="Sum")
        )

    def fault_rate(self, period: Duration) -> cloudwatch.IMetric:
        """``100 * errors / invocations`` (0 without invocations)."""
        return cloudwatch.MathExpression(
            expression="IF(invocations > 0, 100 * errors / invocations, 0)",
            using_metrics={
                "invocations": self.requests(period),
                "errors": self.alias.metric_errors(period=period, statistic="Sum"),
            },
            label="Fault rate (%)",
            period=period,
        )

    def latency_p99(self, period: Duration) -> cloudwatch.IMetric:
        """p99 duration of the alias's invocations."""
        return self.alias.metric_duration(period=period, statistic="p99")


@dataclass(frozen=True)
class ServiceAlarms:
    """The alarms of one deployed copy of a service (one target).

    ``rollback`` are the metric alarms that stop a deployment (what CodeDeploy or ECS watches);
    ``health`` is the composite alarm the deployment gates and stage conditions watch;
    ``paging_topic`` receives every state change (by default the account and region's shared
    topic, :func:`account_paging_topic`). A hotfix does not change which alarms a
    deployment watches: it turns the CodeDeploy deployment group's alarm configuration off for
    one execution (see ``hands_off_gates.hotfix``).
    """

    fault_rate: cloudwatch.IAlarm
    latency_p99: cloudwatch.IAlarm
    traffic_anomaly: cloudwatch.IAlarm | None
    health: cloudwatch.CompositeAlarm
    paging_topic: sns.ITopic

    @property
    def rollback(self) -> tuple[cloudwatch.IAlarm, ...]:
        """The alarms that stop and roll back a deployment (P11, P12)."""
        alarms = (self.fault_rate, self.latency_p99, self.traffic_anomaly)
        return tuple(a for a in alarms if a is not None)

    @property
    def deployment_rollback(self) -> tuple[cloudwatch.IAlarm, ...]:
        """What CodeDeploy (or ECS) watches to stop and roll back a deployment: the metric
        :attr:`rollback` alarms (kept for callers of the earlier hotfix design)."""
        return self.rollback


class AlarmFactory(Construct):
    """Makes the standard alarms of a Lambda service behind an alias (P11, P12).

    Example::

        factory = AlarmFactory(stack, "Alarms", name_prefix="orders-prod", policy=AlarmPolicy())
        alarms = factory.lambda_alarms(alias)

    Args:
        name_prefix: prefix of every alarm name; unique per account and region (the gates find
            alarms by name).
        policy: thresholds and evaluation windows. Default: ``AlarmPolicy()``.
        paging_topic: where alarm actions go. Default: the shared topic of the stack's account
            and region (:func:`account_paging_topic`; ``hands_off.stacks.AccountBaseline``
            creates it, encrypted, once per account and region). Name the alarms of a copy
            ``<copy>-...`` (``name_prefix``): the pipeline subscribes the copy's
            ``paging_subscriptions()`` to the names starting so.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        policy: AlarmPolicy | None = None,
        paging_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name_prefix = name_prefix
        self.policy = policy or AlarmPolicy()
        self.paging_topic: sns.ITopic = paging_topic or account_paging_topic(scope)
        self._action = cw_actions.SnsAction(self.paging_topic)

    def _period(self) -> Duration:
        # Made once per process (shared with the pipeline's own alarms): one round trip each.
        return _once.minutes(self.policy.period_minutes)

    def _wire(self, alarm: cloudwatch.AlarmBase) -> None:
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)

    def lambda_alarms(self, alias: lambda_.IAlias, *, watch_traffic: bool = True) -> ServiceAlarms:
        """:meth:`service_alarms` of a Lambda alias (:class:`LambdaAliasMetrics`)."""
        return self.service_alarms(LambdaAliasMetrics(alias), watch_traffic=watch_traffic)

    def service_alarms(self, metrics: ServiceMetrics, *, watch_traffic: bool = True) -> ServiceAlarms:
        """Fault rate, p99 latency and traffic anomaly of one copy, plus their composite.

        Args:
            metrics: the copy's metric source.
            watch_traffic: add the traffic-anomaly alarm. Only meaningful where traffic is
                continuous (production, or a copy receiving canary traffic, P18): elsewhere "no
                data" is normal and the alarm would sit in ALARM and roll back every deployment.
                Default: True.
        """
        fault_rate, latency, traffic = self._alarms(metrics, watch_traffic=watch_traffic)
        watched = [a for a in (fault_rate, latency, traffic) if a is not None]
        health = cloudwatch.CompositeAlarm(
            self,
            "Health",
            composite_alarm_name=alarm_name(self.name_prefix, AlarmKind.HEALTH),
            alarm_description="Any rollback alarm of this copy (watched by gates and stage conditions)",
            # An alarm is the rule ALARM("<its ARN>") itself: one call, not one per alarm.
            alarm_rule=cloudwatch.AlarmRule.any_of(*watched),
        )
        self._wire(health)
        return ServiceAlarms(
            fault_rate=fault_rate,
            latency_p99=latency,
            traffic_anomaly=traffic,
            health=health,
            paging_topic=self.paging_topic,
        )

    def _alarms(
        self, metrics: ServiceMetrics, *, watch_traffic: bool
    ) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm, cloudwatch.AnomalyDetectionAlarm | None]:
        period = self._period()
        fault_rate = cloudwatch.Alarm(
            self,
            "FaultRate",
            alarm_name=alarm_name(self.name_prefix, AlarmKind.FAULT_RATE),
            alarm_description=f"Faults above {self.policy.fault_rate_percent}% of requests (P11)",
            metric=metrics.fault_rate(period),
            threshold=self.policy.fault_rate_percent,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            evaluation_periods=self.policy.evaluation_periods,
            datapoints_to_alarm=self.policy.datapoints_to_alarm,
        )
        latency = cloudwatch.Alarm(
            self,
            "LatencyP99",
            alarm_name=alarm_name(self.name_prefix, AlarmKind.LATENCY_P99),
            alarm_description=f"p99 latency above {self.policy.p99_latency_ms} ms (P11)",
            metric=metrics.latency_p99(period),
            threshold=self.policy.p99_latency_ms,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            evaluation_periods=self.policy.evaluation_periods,
            datapoints_to_alarm=self.policy.datapoints_to_alarm,
        )
        traffic: cloudwatch.AnomalyDetectionAlarm | None = None
        if watch_traffic:
            # Missing Invocations data means no traffic at all: that is the drop we must catch (P12).
            traffic = cloudwatch.AnomalyDetectionAlarm(
                self,
                "TrafficAnomaly",
                alarm_name=alarm_name(self.name_prefix, AlarmKind.TRAFFIC_ANOMALY),
                alarm_description="Requests far below the expected band, e.g. suddenly at zero (P12)",
                metric=metrics.requests(period),
                std_devs=self.policy.anomaly_band_width,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                evaluation_periods=self.policy.evaluation_periods,
                datapoints_to_alarm=self.policy.datapoints_to_alarm,
            )
        for alarm in (fault_rate, latency, traffic):
            if alarm is not None:
                self._wire(alarm)
        return fault_rate, latency, traffic
