"""Names and shapes the library and the gate runtime must agree on, spelled once.

The library (``hands_off``) builds the gate and bake inputs, names the alarms, the alias and the
tooling-account alarm that watches the gates' metrics; the runtime (this package) reads those
inputs and emits those metrics. Both sides take the names from here, so they cannot drift apart.
This module imports nothing but ``typing``: the library can import it without loading any of the
runtime.

Example::

    from hands_off_gates.contract import HEALTH_ALARM_SUFFIX, AlarmCheck

    check: AlarmCheck = {"region": "us-east-1", "alarm_names": ["orders-prod" + HEALTH_ALARM_SUFFIX]}
"""

# No ``from __future__ import annotations`` here: on Python 3.11 a TypedDict with string
# annotations counts ``NotRequired`` keys as required at runtime (``__required_keys__``).
from typing import NotRequired, TypedDict

__all__ = [
    "ALIAS_NAME",
    "CHECK_FUNCTION_KEY",
    "CHECK_MODULES",
    "DEFAULT_OVERRIDE_MAX_HOURS",
    "GATES_NAMESPACE",
    "HEALTH_ALARM_SUFFIX",
    "HOTFIX_KIND",
    "OVERRIDE_KINDS",
    "OVERRIDE_MAX_HOURS_LIMIT",
    "OVERRIDE_USED_METRIC",
    "PIPELINE_DIMENSION",
    "READER_ROLE_PURPOSE",
    "STAGE_DIMENSION",
    "UNHEALTHY_COPIES_METRIC",
    "UNREADABLE_POLL_LIMIT",
    "WRITER_ROLE_PURPOSE",
    "AlarmCheck",
    "BakeInput",
    "BlackoutSpec",
    "GateInput",
    "HotfixGroup",
    "MetricDimension",
    "OverrideSpec",
    "TrafficInput",
    "TrafficTargetInput",
    "WindowInput",
    "WindowSpec",
    "hotfix_writer_role_arn",
]

# ------------------------------------------------------------------------------------ names

CHECK_MODULES = ("alarms", "time_window", "override", "decide", "bake", "execution")
"""The gate modules one Lambda function serves (``hands_off_gates.dispatch.handler``); ``hotfix``,
the only one that changes anything (CodeDeploy alarm rollback), has a function of its own."""

READER_ROLE_PURPOSE = "gate-reader"
"""The suffix of a target account's gate-reader role (``hands-off-<service>-gate-reader``): reads
alarms, request counts and the copies' deployment groups; the checks assume it."""

WRITER_ROLE_PURPOSE = "hotfix-writer"
"""The suffix of the same account's role that may update the copies' deployment groups
(``hands-off-<service>-hotfix-writer``); only the hotfix function's role may assume it."""


def hotfix_writer_role_arn(reader_role_arn: str | None) -> str | None:
    """The writer role beside a gate-reader role (same account and service), or None for a role
    not named as a gate-reader (the hotfix then updates through that role itself, which a
    gate-reader cannot: it fails closed). Derived, not carried: the inputs name each copy's
    reader role once, and the SHA-256 of the input covers it."""
    suffix = f"-{READER_ROLE_PURPOSE}"
    if reader_role_arn is None or not reader_role_arn.endswith(suffix) or ":role/" not in reader_role_arn:
        return None
    return reader_role_arn.removesuffix(suffix) + f"-{WRITER_ROLE_PURPOSE}"


CHECK_FUNCTION_KEY = "gate_function"
"""The event field naming which of :data:`CHECK_MODULES` the dispatching function runs; the state
machines set it in each task's payload, and the dispatcher removes it before the module sees it."""

GATES_NAMESPACE = "HandsOff/Gates"
"""CloudWatch namespace of the metrics the gates emit (as Embedded Metric Format log lines)."""

UNHEALTHY_COPIES_METRIC = "UnhealthyCopies"
"""How many of the service's copies a gate or bake saw in ``ALARM`` (dimension ``Pipeline``).

The tooling-account "observed health" alarm watches it, and the stage conditions watch that alarm.
"""

OVERRIDE_USED_METRIC = "OverrideUsed"
"""1 each time a gate passes only thanks to an override (dimensions ``Pipeline`` and ``Stage``)."""

PIPELINE_DIMENSION = "Pipeline"
"""Dimension naming the CodePipeline (e.g. ``orders-application``)."""

STAGE_DIMENSION = "Stage"
"""Dimension naming the pipeline stage a gate guards (e.g. ``Prod-1``)."""

ALIAS_NAME = "live"
"""The Lambda alias every caller (and CodeDeploy) uses; the bake counts its traffic."""

HEALTH_ALARM_SUFFIX = "-health"
"""Suffix of each copy's composite health alarm (``<copy>-health``), which gates and bakes read."""

UNREADABLE_POLL_LIMIT = 5
"""How many bake polls in a row may fail to read what the bake watches (a throttled or timed-out
read, a crashed or throttled Lambda) before the bake fails; a readable poll starts the count again.

The bake runtime counts its own unreadable reads, the bake state machine the polls whose Lambda
failed; both fail the bake at this count.
"""

HOTFIX_KIND = "hotfix"
"""The override kind that ships a fix through the copy's own firing alarms: the gate lifts them
(as ``alarms`` does) and turns off the alarm configuration of each copy's CodeDeploy deployment
group (``UpdateDeploymentGroup``), so CodeDeploy and the bake of that stage, in that one pipeline
execution, ignore them too; the bake turns it back on when it ends. Valid only in an override
bound to one execution (``execution_id``)."""

OVERRIDE_KINDS: tuple[str, ...] = ("alarms", "org-alarms", "window", "blackout", HOTFIX_KIND)
"""What an override can lift, each only when its ``scope`` names it.

``alarms``: the service's own alarms (including ones that could not be read); ``org-alarms``: the
organization-wide alarms; ``window``: being outside the deployment windows; ``blackout``: a
blackout; ``hotfix``: ``alarms``, and CodeDeploy and the bake ignore the copy's own alarms for
that execution (:data:`HOTFIX_KIND`). Any other name makes the whole override invalid.
"""

DEFAULT_OVERRIDE_MAX_HOURS = 24
"""How far ahead of now an override's ``expires_at`` may be, unless the gate input says otherwise."""

OVERRIDE_MAX_HOURS_LIMIT = 168
"""The most a gate input's ``override_max_hours`` may be (7 days)."""


# ------------------------------------------------------------------------------------ shapes


class AlarmCheck(TypedDict):
    """Alarms to read in one region, as the ``alarms`` gate and the bake read them.

    Attributes:
        region: the AWS region of the alarms, e.g. ``"us-east-1"``.
        role_arn: the role to assume to read them (the target account's gate-reader role).
            Default: absent, the function's own credentials.
        alarm_names: exact names; a missing one blocks. Default: ``[]``.
        alarm_name_prefixes: name prefixes; matching nothing is fine. Default: ``[]``.
            A check lists at least one name or prefix.
    """

    region: str
    role_arn: NotRequired[str]
    alarm_names: NotRequired[list[str]]
    alarm_name_prefixes: NotRequired[list[str]]


class HotfixGroup(TypedDict):
    """One copy's CodeDeploy deployment group, whose alarm configuration a hotfix turns off.

    Attributes:
        region: the copy's region.
        role_arn: the role to assume to read it (the gate-reader role: the bake reads whether
            its alarm configuration is off). The hotfix function updates it through the same
            account's writer role, :func:`hotfix_writer_role_arn` of this one. Default: absent,
            the function's own credentials.
        application: the CodeDeploy application, e.g. ``hands-off-lambda`` (shared per
            account and region).
        deployment_group: the deployment group, e.g. ``orders-prod`` (named after the copy).
        own_alarms: the copy's own alarms the bake ignores while the hotfix applies, e.g. its
            ``<copy>-health``.
    """

    region: str
    role_arn: NotRequired[str]
    application: str
    deployment_group: str
    own_alarms: list[str]


class WindowSpec(TypedDict):
    """A weekly deployment window, in the local time of ``timezone``.

    Attributes:
        days: day names the window starts on, e.g. ``["MON", "FRI"]``.
        start: 24-hour ``HH:MM`` local time; an ``end`` at or before it crosses midnight.
        end: 24-hour ``HH:MM`` local time.
        timezone: IANA zone name, e.g. ``"America/Los_Angeles"``.
    """

    days: list[str]
    start: str
    end: str
    timezone: str


class BlackoutSpec(TypedDict):
    """A half-open ``[start, end)`` period with no deployments.

    Attributes:
        start: ISO-8601 instant with a UTC offset.
        end: ISO-8601 instant with a UTC offset, after ``start``.
        reason: why deployments are frozen, shown when a gate blocks.
    """

    start: str
    end: str
    reason: str


class WindowInput(TypedDict):
    """The ``time_window`` gate's config.

    Attributes:
        windows: the allowed windows; ``[]`` allows any time (only blackouts apply).
        blackouts: frozen periods. Default: ``[]``.
    """

    windows: list[WindowSpec]
    blackouts: NotRequired[list[BlackoutSpec]]


class GateInput(TypedDict):
    """The input of the gate state machine, one per gated stage (stored in an SSM parameter).

    Attributes:
        pipeline: the CodePipeline's name (the ``Pipeline`` dimension).
        stage: the stage the gate guards (the ``Stage`` dimension).
        app_checks: the service's own alarms, one check per target.
        org_checks: organization-wide alarms, one check per target; ``[]`` for none.
        window: the deployment windows and blackouts.
        override_parameter: the SSM parameter a developer writes to override the gate.
        hotfix_groups: each copy's CodeDeploy deployment group: a gate proceeding under a hotfix
            turns its alarm configuration off, any other proceeding gate makes sure it is on.
            Default: absent, none (a hotfix then blocks: it could not reach CodeDeploy).
        override_max_hours: how far ahead of now an override may expire, whole hours from 1 to
            :data:`OVERRIDE_MAX_HOURS_LIMIT`. Default: :data:`DEFAULT_OVERRIDE_MAX_HOURS`.
        check_interval_seconds: how long a blocked gate waits before checking again.
        max_wait_seconds: how long a blocked gate waits in all before it fails the stage.
    """

    pipeline: str
    stage: str
    app_checks: list[AlarmCheck]
    org_checks: list[AlarmCheck]
    window: WindowInput
    override_parameter: str
    hotfix_groups: NotRequired[list[HotfixGroup]]
    override_max_hours: NotRequired[int]
    check_interval_seconds: int
    max_wait_seconds: int


class OverrideSpec(TypedDict):
    """The JSON a developer writes to the override parameter (``/hands-off/<pipeline>/override``).

    Attributes:
        who: who says they are overriding; recorded as ``claimed_who`` only (the audit names the
            AWS identity that wrote the parameter).
        why: why, e.g. ``"hotfix INC-1234"``.
        expires_at: ISO-8601 instant with a UTC offset, after now and at most the gate's
            ``override_max_hours`` ahead.
        stages: the stages (waves) it applies to, by exact name, e.g. ``["Prod-2"]``; at least one.
        scope: what it lifts, drawn from :data:`OVERRIDE_KINDS`; at least one.
        execution_id: the one pipeline execution it applies to. Default: absent, any execution.
    """

    who: str
    why: str
    expires_at: str
    stages: list[str]
    scope: list[str]
    execution_id: NotRequired[str]


class MetricDimension(TypedDict):
    """A CloudWatch dimension, spelled as the CloudWatch API spells it."""

    Name: str
    Value: str


class TrafficTargetInput(TypedDict):
    """One metric stream a bake counts requests of.

    Attributes:
        region: the AWS region of the metric.
        role_arn: the role to assume to read it. Default: absent, the function's own credentials.
        dimensions: the metric's dimensions, e.g. ``FunctionName`` and ``Resource``
            (``<function>:`` followed by :data:`ALIAS_NAME`). Default: ``[]``.
    """

    region: str
    role_arn: NotRequired[str]
    dimensions: NotRequired[list[MetricDimension]]


class TrafficInput(TypedDict):
    """The traffic a bake waits for: one metric, summed over its targets.

    Attributes:
        namespace: the metric's namespace, e.g. ``"AWS/Lambda"``.
        metric_name: the metric, e.g. ``"Invocations"``.
        targets: at least one stream to count.
    """

    namespace: str
    metric_name: str
    targets: list[TrafficTargetInput]


class BakeInput(TypedDict):
    """The input of the bake state machine, one per wave (stored in an SSM parameter).

    Attributes:
        pipeline: the CodePipeline's name (the ``Pipeline`` dimension of the health metric).
        stage: the wave's stage.
        checks: the alarms watched while baking; at least one (a bake that watches nothing fails).
        traffic: the requests to count; read only when ``min_requests`` is above 0.
        bake_seconds: the least time the bake lasts.
        min_requests: the least requests it must see; ``0`` turns the traffic condition off.
        poll_seconds: how long the bake waits between two looks.
        hotfix_groups: each copy's CodeDeploy deployment group. While the override (re-read at
            the bake's start) is a ``hotfix`` for this stage and execution and a copy's group has
            its alarm configuration off, the bake does not fail on that copy's own alarms; at its
            end it turns every group's alarm configuration back on. Default: absent, none.
        override_parameter: the override's SSM parameter (read again at the bake's start).
            Default: absent (no hotfix applies in the bake).
        override_max_hours: as the gate's. Default: :data:`DEFAULT_OVERRIDE_MAX_HOURS`.
    """

    pipeline: str
    stage: str
    checks: list[AlarmCheck]
    traffic: TrafficInput
    bake_seconds: int
    min_requests: int
    poll_seconds: int
    hotfix_groups: NotRequired[list[HotfixGroup]]
    override_parameter: NotRequired[str]
    override_max_hours: NotRequired[int]
