"""Every production copy rolls back on its own alarms (P11-P13), starts with a one-box step (P9)
and runs only signed code (P3).

Each check is a pure function of one production :class:`Copy` (a stack a production stage
deploys, with its wave): ``hands-off check`` runs it over every copy of a pipeline, the cdk-nag
pack over the copy that holds the resource it is judging. Each also flags, on its
``AWS::CloudFormation::Stack`` resource, every nested stack of the copy that holds compute or a
deployment group: no rule reads across nested stacks, so their resources are not judged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from hands_off.assembly import Stack
from hands_off.check.rule import CheckRule, Finding, Level, Location
from hands_off.check.rules._view import Copy

__all__ = [
    "ALARMS_COVER",
    "CODE_SIGNING",
    "ONE_BOX_FIRST",
    "ROLLS_BACK_ON_ALARMS",
    "alarm_kinds",
    "alarms_cover",
    "code_signing",
    "one_box_first",
    "rolls_back",
]

ROLLS_BACK_ON_ALARMS = CheckRule(
    id="HO-W4",
    practice="P13",
    level=Level.ERROR,
    info="Every production copy rolls back by itself when its alarms fire.",
    fix="Deploy through a CodeDeploy deployment group with alarms and DEPLOYMENT_STOP_ON_ALARM "
    "auto-rollback (or ECS deployment alarms with Rollback: true).",
)
ALARMS_COVER = CheckRule(
    id="HO-W5",
    practice="P11",
    level=Level.ERROR,
    info="A copy's rollback alarms cover faults, latency and a drop in traffic.",
    fix="Add the missing rollback alarms: fault rate, p99 latency, and a traffic anomaly "
    "(ANOMALY_DETECTION_BAND, lower bound) or LessThanThreshold alarm on the request count.",
)
ONE_BOX_FIRST = CheckRule(
    id="HO-W6",
    practice="P9",
    level=Level.WARNING,
    info="The first two production waves shift at most 10% of traffic first (one-box/canary).",
    fix="Use a canary or linear deployment config of at most 10% (e.g. LambdaCanary10Percent10Minutes) "
    "in the first waves.",
)
CODE_SIGNING = CheckRule(
    id="HO-W12",
    practice="P3",
    level=Level.ERROR,
    info="Every production Lambda function runs only signed code (a CodeSigningConfig in Enforce mode).",
    fix="Give each function a CodeSigningConfig with UntrustedArtifactOnDeployment: Enforce "
    "trusting your Signer profile.",
)

_FAULT = re.compile(r"error|fault|5xx|exception|fail", re.IGNORECASE)
_LATENCY = re.compile(r"duration|latency|responsetime|response_time", re.IGNORECASE)
_REQUESTS = re.compile(r"invocation|request|count|success|traffic", re.IGNORECASE)
_DROP_OPERATORS = {"LessThanThreshold", "LessThanOrEqualToThreshold"}
_BAND_OPERATORS = {"LessThanLowerThreshold", "LessThanLowerOrGreaterThanUpperThreshold"}
_KINDS = ("faults", "latency", "traffic drop")
_FIRST_WAVES = 2


def _where(copy: Copy, logical_id: str = "") -> Location:
    return Location(
        pipeline=copy.pipeline,
        stage=copy.stage.name,
        stack=copy.stack.stack_name,
        logical_id=logical_id or (copy.compute or copy.nested)[0],
    )


def _not_judged(rule: CheckRule, copy: Copy) -> Iterator[Finding]:
    """A finding of ``rule`` on each nested stack of ``copy`` that holds its compute or deployment
    group (see :attr:`Copy.nested`). A copy whose compute is all nested gets only these."""
    for logical_id in copy.nested:
        yield rule.finding(
            _where(copy, logical_id),
            f"{_copy_name(copy)} has compute or a deployment group inside NestedStack {logical_id}: "
            "not judged; move it out of the NestedStack into the stack",
        )


def _copy_name(copy: Copy) -> str:
    return f"{copy.stack.stack_name} ({copy.stack.region})"


def alarm_kinds(props: Mapping[str, Any]) -> set[str]:
    """What one ``AWS::CloudWatch::Alarm`` watches: ``faults``, ``latency``, ``traffic drop``.

    From its metric names and expressions: errors/faults/5xx → faults; duration/latency →
    latency; an anomaly band with a lower threshold, or ``LessThan(OrEqualTo)Threshold`` on a
    request metric → traffic drop.
    """
    metrics = props.get("Metrics")
    names = [str(props.get("MetricName", ""))]
    expressions: list[str] = []
    for metric in metrics if isinstance(metrics, list) else []:
        if not isinstance(metric, Mapping):
            continue
        expressions.append(str(metric.get("Expression", "")))
        stat = metric.get("MetricStat")
        inner = stat.get("Metric") if isinstance(stat, Mapping) else None
        if isinstance(inner, Mapping):
            names.append(str(inner.get("MetricName", "")))
    text = " ".join(names + expressions)
    operator = props.get("ComparisonOperator")
    kinds: set[str] = set()
    if _FAULT.search(text):
        kinds.add("faults")
    if _LATENCY.search(text) or props.get("ExtendedStatistic"):
        kinds.add("latency")
    band = any("ANOMALY_DETECTION_BAND" in e for e in expressions)
    if (band and operator in _BAND_OPERATORS) or (operator in _DROP_OPERATORS and _REQUESTS.search(text)):
        kinds.add("traffic drop")
    return kinds


def _rollback_alarms(stack: Stack) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            alarm for config in stack.rollback_configs() if config.on_alarm for alarm in config.alarms
        )
    )


def rolls_back(copy: Copy) -> Iterator[Finding]:
    """Flag a production copy without an alarm-triggered automatic rollback (on its first
    deployment group or ECS service, else on its first compute resource)."""
    yield from _not_judged(ROLLS_BACK_ON_ALARMS, copy)
    if not copy.compute:  # all of it nested: reported as not judged
        return
    configs = copy.stack.rollback_configs()
    if any(config.on_alarm and config.alarms for config in configs):
        return
    if configs:
        config = configs[0]
        what = f"{config.kind} {config.logical_id} does not roll back on alarms (none, or no stop on alarm)"
        where = _where(copy, config.logical_id)
    else:
        what = "deploys with no CodeDeploy group or ECS deployment alarms: nothing rolls it back"
        where = _where(copy)
    yield ROLLS_BACK_ON_ALARMS.finding(where, f"{_copy_name(copy)} {what}")


def alarms_cover(copy: Copy) -> Iterator[Finding]:
    """Flag a production copy whose rollback alarms miss faults, latency or a traffic drop (on its
    first compute resource)."""
    yield from _not_judged(ALARMS_COVER, copy)
    if not copy.compute:  # all of it nested: reported as not judged
        return
    covered: set[str] = set()
    for alarm in _rollback_alarms(copy.stack):
        covered |= alarm_kinds(copy.stack.properties(alarm))
    missing = [kind for kind in _KINDS if kind not in covered]
    if missing:
        yield ALARMS_COVER.finding(
            _where(copy), f"{_copy_name(copy)} has no rollback alarm on {', '.join(missing)}"
        )


def one_box_first(copy: Copy) -> Iterator[Finding]:
    """Flag a copy of the first two waves whose first traffic step is above 10% (on the deployment
    group), or that takes all traffic at once (on its first compute resource)."""
    if copy.wave is None or copy.wave >= _FIRST_WAVES:
        return
    yield from _not_judged(ONE_BOX_FIRST, copy)
    if not copy.compute:  # all of it nested: reported as not judged
        return
    configs = copy.stack.rollback_configs()
    if not configs:
        yield ONE_BOX_FIRST.finding(
            _where(copy), f"{_copy_name(copy)} takes all traffic at once (no CodeDeploy traffic shifting)"
        )
    for config in configs:
        shift = config.traffic_shift
        if shift is not None and shift.percent > 10:
            yield ONE_BOX_FIRST.finding(
                _where(copy, config.logical_id), f"{_copy_name(copy)} shifts {shift.percent}% first ({shift})"
            )


def _enforced(stack: Stack, reference: Any) -> bool | None:
    """Whether the code signing config a function names enforces (``None``: not readable here)."""
    if isinstance(reference, str):
        return None
    text = json.dumps(reference)
    match = re.search(r'"(?:Ref|Fn::GetAtt)": (?:\["|")([^"]+)"', text)
    if match is None:
        return None
    policies = stack.properties(match[1]).get("CodeSigningPolicies")
    return isinstance(policies, Mapping) and policies.get("UntrustedArtifactOnDeployment") == "Enforce"


def code_signing(copy: Copy) -> Iterator[Finding]:
    """Flag every Lambda function of a production copy without an enforcing code signing config
    (on the function; a literal config ARN from outside the stack is trusted: it cannot be read
    here)."""
    yield from _not_judged(CODE_SIGNING, copy)
    for logical_id, resource in copy.stack.resources_of_type("AWS::Lambda::Function"):
        props = resource.get("Properties", {})
        reference = props.get("CodeSigningConfigArn") if isinstance(props, Mapping) else None
        if reference is None:
            what = "has no CodeSigningConfig: unsigned code can be deployed"
        elif _enforced(copy.stack, reference) is False:
            what = "has a CodeSigningConfig that only warns (UntrustedArtifactOnDeployment is not Enforce)"
        else:
            continue
        yield CODE_SIGNING.finding(
            _where(copy, logical_id), f"function {logical_id} in {_copy_name(copy)} {what}"
        )
