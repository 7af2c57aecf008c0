"""Traffic-aware bake (P16, X5): a wave bakes until enough time AND enough healthy traffic passed.

Event::

    {"checks": [<same as alarms.py>],
     "traffic": {"namespace": "AWS/Lambda", "metric_name": "Invocations",
                 "targets": [{"region": "us-east-1", "role_arn": optional,
                              "dimensions": [{"Name": "FunctionName", "Value": "orders"}]}]},
     "started_at": "2026-11-26T09:00:00Z", "now": optional ISO,
     "bake_seconds": 3600, "min_requests": 1000, "pipeline": optional,
     "unreadable_polls": optional, the previous poll's count (default 0),
     "hotfix_groups", "stage", "execution_id", "override", "override_max_hours": optional (hotfix)}

Result ``{"status": "BAKING" | "DONE" | "FAILED", "reason", "requests_seen",
"elapsed_seconds", "in_alarm", "unreadable_polls"}``, capped so that it stays far below the
256 KiB a Step Functions state may return (past it the task fails ``States.DataLimitExceeded``,
which no catch catches): ``in_alarm`` and ``lifted`` list the first :data:`MAX_LISTED_ALARMS`
(``in_alarm_total`` / ``lifted_total`` then count them all), ``reason`` is cut at
:data:`MAX_REASON_CHARS` characters:

- FAILED at once if any watched alarm is in ALARM, or an alarm cannot be read for a lasting
  reason (AccessDenied, a missing alarm), or the bake watches no alarms or its checks matched
  no alarm at all, or the event is malformed (a bake that cannot see must not pass), or the
  traffic metric cannot be read for a lasting reason (e.g. AccessDenied).
- An *unreadable poll* is one that could not see what it watches for a transient reason:
  throttling, a timeout, a dropped connection (on the alarms or the traffic), or traffic
  datapoints that are not non-negative finite numbers. It keeps BAKING, and counts: after
  :data:`~.contract.UNREADABLE_POLL_LIMIT` unreadable polls in a row the bake FAILS, naming why.
  The state machine passes ``unreadable_polls`` back in (and counts the polls whose Lambda
  failed the same way); a readable poll starts the count again.
- DONE iff elapsed >= bake_seconds and requests_seen >= min_requests, where
  requests_seen is the Sum of the metric over [started_at, now] (period 60 s)
  across all targets. ``min_requests`` 0 disables the traffic condition (and
  the metric is then not read).
- BAKING otherwise.
- Hotfix: with ``hotfix_groups``, ``stage``, ``execution_id`` and ``override`` (the override
  result the bake machine read at its start), a poll honours a hotfix iff the override,
  re-checked as the gate re-checks it (``decide.hotfix_override``: active, not expired, naming
  ``hotfix``, this stage and this execution), is one AND the copy's CodeDeploy deployment group
  has its alarm configuration off (``GetDeploymentGroup``; the gate turned it off). Such a copy
  does not fail the bake on its own alarms (``own_alarms``, reported in ``lifted``); org alarms
  still do. A group that cannot be read, or is on, lifts nothing. Deployment failures are not the
  bake's: they still roll back.

The regions are read side by side, each within a deadline (``gate_common.read_each``): a hanging
region makes an unreadable poll instead of timing out the Lambda.

With a ``pipeline``, each look also mirrors how many watched alarms are in ``ALARM`` as the
``HandsOff/Gates UnhealthyCopies`` metric (see ``gate_common.emit_health``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NotRequired, TypedDict

from .alarms import InAlarm, check_alarms
from .contract import DEFAULT_OVERRIDE_MAX_HOURS, UNREADABLE_POLL_LIMIT
from .decide import hotfix_override
from .gate_common import (
    READ_DEADLINE_SECONDS,
    ClientFactory,
    GateConfigError,
    describe_error,
    emit_health,
    error_code,
    is_transient,
    parse_instant,
    read_each,
)
from .handler import gate_handler
from .hotfix import HotfixTarget, alarm_rollback_off, parse_hotfix_groups

__all__ = [
    "MAX_LISTED_ALARMS",
    "MAX_REASON_CHARS",
    "BakeResult",
    "MalformedDatapoint",
    "TrafficTarget",
    "evaluate_bake",
    "handler",
    "parse_traffic",
]

MAX_LISTED_ALARMS = 20
"""Most alarms a bake result lists in ``in_alarm`` (and in ``lifted``): an org-wide incident (or
whoever may create alarms under a watched prefix) can put hundreds in ALARM."""

MAX_REASON_CHARS = 8_000
"""Longest ``reason`` a bake result carries (it is also a failed bake's ``Cause``, at most 32,768)."""

_PERIOD = 60
_MAX_SPAN = timedelta(seconds=_PERIOD * 1440)  # GetMetricStatistics: <= 1440 datapoints
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")

Status = Literal["BAKING", "DONE", "FAILED"]


class BakeResult(TypedDict):
    """What the bake returns (see the module docstring).

    Attributes:
        status: ``"BAKING"``, ``"DONE"`` or ``"FAILED"``.
        reason: one sentence: progress, or why it failed.
        requests_seen: requests counted since the bake started.
        elapsed_seconds: time since the bake started.
        in_alarm: the watched alarms in ``ALARM``.
        unreadable_polls: unreadable polls in a row, this one included (0 after a readable one).
        lifted: the copies' own alarms in ALARM that a hotfix lifted. Present only when a hotfix
            applies to this stage and execution.
        in_alarm_total, lifted_total: how many there were, present only when the list was cut at
            :data:`MAX_LISTED_ALARMS`.
    """

    status: Status
    reason: str
    requests_seen: int
    elapsed_seconds: int
    in_alarm: list[InAlarm]
    unreadable_polls: int
    lifted: NotRequired[list[InAlarm]]
    in_alarm_total: NotRequired[int]
    lifted_total: NotRequired[int]


class MalformedDatapoint(ValueError):
    """A traffic datapoint whose ``Sum`` is not a non-negative finite number: not counted."""


@dataclass(frozen=True, kw_only=True)
class TrafficTarget:
    """One metric stream to count; the parsed form of a :class:`~.contract.TrafficTargetInput`.

    Attributes:
        namespace: the metric's namespace, e.g. ``"AWS/Lambda"``.
        metric_name: the metric, e.g. ``"Invocations"``.
        region: the metric's region.
        role_arn: the role to assume to read it. Default: None, the function's own credentials.
        dimensions: ``(Name, Value)`` pairs. Default: none.
    """

    namespace: str
    metric_name: str
    region: str
    role_arn: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()


def parse_traffic(raw: object) -> list[TrafficTarget]:
    """Validate the ``traffic`` object.

    Raises:
        GateConfigError: naming the offending field, e.g. ``traffic.targets[0].region``.
    """
    if not isinstance(raw, Mapping):
        raise GateConfigError("traffic", "expected {namespace, metric_name, targets}")
    namespace = _text(raw.get("namespace"), "traffic.namespace")
    metric = _text(raw.get("metric_name"), "traffic.metric_name")
    targets = raw.get("targets")
    if not isinstance(targets, list) or not targets:
        raise GateConfigError("traffic.targets", "expected a non-empty list of {region, dimensions}")
    parsed: list[TrafficTarget] = []
    for i, target in enumerate(targets):
        field = f"traffic.targets[{i}]"
        if not isinstance(target, Mapping):
            raise GateConfigError(field, "expected an object")
        region = target.get("region")
        if not isinstance(region, str) or not _REGION.match(region):
            raise GateConfigError(f"{field}.region", f"{region!r} is not an AWS region name")
        role_arn = target.get("role_arn")
        if role_arn is not None and not isinstance(role_arn, str):
            raise GateConfigError(f"{field}.role_arn", "expected a role ARN string")
        dims = target.get("dimensions", [])
        if not isinstance(dims, list):
            raise GateConfigError(f"{field}.dimensions", "expected a list of {Name, Value}")
        pairs: list[tuple[str, str]] = []
        for j, dim in enumerate(dims):
            if not isinstance(dim, Mapping):
                raise GateConfigError(f"{field}.dimensions[{j}]", "expected {Name, Value}")
            pairs.append(
                (
                    _text(dim.get("Name"), f"{field}.dimensions[{j}].Name"),
                    _text(dim.get("Value"), f"{field}.dimensions[{j}].Value"),
                )
            )
        parsed.append(
            TrafficTarget(
                namespace=namespace,
                metric_name=metric,
                region=region,
                role_arn=role_arn,
                dimensions=tuple(pairs),
            )
        )
    return parsed


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise GateConfigError(field, f"expected a non-empty string, got {value!r}")
    return value


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GateConfigError(field, f"expected a non-negative integer, got {value!r}")
    return value


def evaluate_bake(
    *,
    checks: object,
    traffic: object,
    started_at: object,
    now: datetime,
    bake_seconds: object,
    min_requests: object,
    client_factory: ClientFactory,
    unreadable_polls: object = 0,
    deadline: float = READ_DEADLINE_SECONDS,
    hotfix_groups: object = None,
    stage: object = None,
    execution_id: object = None,
    override: object = None,
    override_max_hours: object = DEFAULT_OVERRIDE_MAX_HOURS,
    codedeploy: ClientFactory | None = None,
) -> BakeResult:
    """Decide whether the bake is still running, done, or failed. Never raises.

    Args:
        checks: the raw alarm checks (:class:`~.contract.AlarmCheck`); none fails the bake.
        traffic: the raw traffic object (:class:`~.contract.TrafficInput`).
        started_at: when the bake started, an ISO-8601 instant with an offset.
        now: the instant to judge.
        bake_seconds: the least time the bake lasts.
        min_requests: the least requests it must see (``0``: no traffic condition).
        client_factory: returns a CloudWatch client for ``(region, role_arn)``.
        unreadable_polls: how many polls in a row before this one were unreadable. Default: 0.
        deadline: seconds to wait for the alarm reads, and again for the traffic reads. Default:
            :data:`~.gate_common.READ_DEADLINE_SECONDS`.
        hotfix_groups: the raw ``hotfix_groups`` (:class:`~.contract.HotfixGroup`). Default:
            None, no hotfix.
        stage: the bake's stage; a hotfix for another stage lifts nothing. Default: None.
        execution_id: the pipeline execution; a hotfix for another lifts nothing.
            Default: None (no hotfix lifts anything).
        override: the ``override`` result read at the bake's start. Default: None, no hotfix.
        override_max_hours: how far ahead of now an override may expire. Default: 24.
        codedeploy: returns a CodeDeploy client for ``(region, role_arn)``, to read the
            deployment groups. Default: None (no hotfix lifts anything).
    """
    try:
        start = parse_instant(started_at, "started_at")
        bake = _count(bake_seconds, "bake_seconds")
        minimum = _count(min_requests, "min_requests")
        previous = _count(unreadable_polls, "unreadable_polls")
        targets = parse_traffic(traffic) if minimum > 0 else []
        hotfixes = parse_hotfix_groups(hotfix_groups) if hotfix_groups is not None else []
    except GateConfigError as exc:
        return _result("FAILED", f"bake event invalid: {exc}", 0, 0)
    elapsed = max(0, int((now - start).total_seconds()))

    if isinstance(checks, list) and not checks:
        return _result(
            "FAILED",
            "bake watches no alarms; list at least one alarm in checks (P16)",
            0,
            elapsed,
        )
    applies = hotfix_override(
        override, now=now, stage=stage, execution_id=execution_id, override_max_hours=override_max_hours
    )
    lifted, hotfix_notes = (
        _hotfix_lifts(hotfixes, str(execution_id), codedeploy, deadline)
        if applies is not None and codedeploy is not None
        else (frozenset(), [])
    )
    alarms = check_alarms(checks, client_factory, label="bake", deadline=deadline, lifted=lifted)
    lasting = [reason for reason in alarms["reasons"] if reason not in alarms["transient"]]
    if alarms["in_alarm"] or lasting:  # an alarm, or what retrying cannot fix, fails at once
        return _result(
            "FAILED",
            "bake failed: " + "; ".join(alarms["reasons"]),
            0,
            elapsed,
            alarms["in_alarm"],
        )
    unreadable = list(alarms["transient"])
    if not unreadable and alarms["checked"] == 0:
        listed = checks if isinstance(checks, list) else []
        regions = ", ".join(dict.fromkeys(str(c.get("region")) for c in listed if isinstance(c, Mapping)))
        return _result(
            "FAILED",
            f"bake failed: watched no alarm — its checks matched no alarm in {regions}; "
            "a bake that cannot see the service's health must not pass (P16)",
            0,
            elapsed,
        )

    requests = 0
    if minimum > 0 and not unreadable:
        outcomes = read_each(
            [functools.partial(_sum_metric, t, start, now, client_factory) for t in targets],
            deadline=deadline,
        )
        for target, outcome in zip(targets, outcomes, strict=True):
            try:
                requests += outcome.get()
            except Exception as failure:
                reason = (
                    f"cannot read traffic metric in {target.region} ({error_code(failure)}): "
                    f"{describe_error(failure)}"
                )
                if not (is_transient(failure) or isinstance(failure, MalformedDatapoint)):
                    # fail closed: unseen traffic never completes a bake
                    return _result("FAILED", f"{reason} — cannot confirm healthy traffic", 0, elapsed)
                unreadable.append(reason)

    if unreadable:
        polls = previous + 1
        seen = "; ".join(unreadable)
        if polls >= UNREADABLE_POLL_LIMIT:
            return _result(
                "FAILED",
                f"bake failed: could not read what it watches for {polls} polls in a row: {seen}",
                0,
                elapsed,
                unreadable_polls=polls,
            )
        return _result(
            "BAKING",
            f"cannot read what the bake watches (unreadable poll {polls} of at most "
            f"{UNREADABLE_POLL_LIMIT} in a row; will retry): {seen}",
            0,
            elapsed,
            unreadable_polls=polls,
        )

    progress = f"baked {elapsed}/{bake} s, " + (
        f"{requests}/{minimum} requests" if minimum > 0 else "no traffic minimum"
    )
    progress += f", {alarms['checked']} alarm(s) clear"
    progress += "".join(f"; {note}" for note in hotfix_notes)
    ignored = alarms.get("lifted", [])
    if ignored:
        progress += "; hotfix ignores: " + ", ".join(
            f"{a['name']!r} in ALARM in {a['region']}" for a in ignored
        )
    status: Status = "DONE" if elapsed >= bake and requests >= minimum else "BAKING"
    result = _result(
        status, f"bake complete: {progress}" if status == "DONE" else progress, requests, elapsed
    )
    if lifted:
        result["lifted"] = ignored
    return result


def _hotfix_lifts(
    hotfixes: list[HotfixTarget], execution_id: str, codedeploy: ClientFactory, deadline: float
) -> tuple[frozenset[tuple[str, str | None, str]], list[str]]:
    """The own alarms a hotfix lifts (copies whose deployment group has its alarm configuration
    off), as ``(region, role_arn, name)``, and one note per such or unreadable group. The caller
    has checked that the override is a hotfix for this stage and execution. Unreadable lifts
    nothing."""
    outcomes = read_each(
        [functools.partial(alarm_rollback_off, t, codedeploy) for t in hotfixes], deadline=deadline
    )
    lifted: set[tuple[str, str | None, str]] = set()
    notes: list[str] = []
    for target, outcome in zip(hotfixes, outcomes, strict=True):
        try:
            off = outcome.get()
        except Exception as failure:  # fail closed: an unreadable group lifts nothing
            notes.append(
                f"deployment group {target.where} unreadable ({error_code(failure)}), its copy's own "
                "alarms are watched"
            )
            continue
        if off:
            lifted.update((target.region, target.role_arn, name) for name in target.own_alarms)
            notes.append(f"hotfix for execution {execution_id}: alarm rollback off on {target.where}")
    return frozenset(lifted), notes


def _sum_metric(target: TrafficTarget, start: datetime, end: datetime, client_factory: ClientFactory) -> int:
    """Sum of the metric over [start, end), in 60 s periods, chunked by 1440 datapoints.

    The window is widened to whole minutes (datapoints are stamped at minute starts): otherwise a
    poll right after the bake starts asks for StartTime == EndTime at the API's 1 s resolution,
    which CloudWatch rejects (InvalidParameterValue) and would fail the bake.

    Raises:
        MalformedDatapoint: a datapoint's ``Sum`` is missing or not a non-negative finite number
            (a string, a bool, NaN...): what cannot be read is not counted.
    """
    start = start.replace(second=0, microsecond=0)
    whole_minute = end.replace(second=0, microsecond=0)
    end = whole_minute if whole_minute == end else whole_minute + timedelta(minutes=1)
    client = client_factory(target.region, target.role_arn)
    total = 0.0
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(end, chunk_start + _MAX_SPAN)
        response = client.get_metric_statistics(
            Namespace=target.namespace,
            MetricName=target.metric_name,
            Dimensions=[{"Name": n, "Value": v} for n, v in target.dimensions],
            StartTime=chunk_start,
            EndTime=chunk_end,
            Period=_PERIOD,
            Statistics=["Sum"],
        )
        total += sum(_datapoint_sum(point) for point in _datapoints(response))
        chunk_start = chunk_end
    return int(total)


def _datapoints(response: object) -> list[object]:
    points = response.get("Datapoints", []) if isinstance(response, Mapping) else None
    if not isinstance(points, list):
        raise MalformedDatapoint(f"expected a list of datapoints, got {type(points).__name__}")
    return points


def _datapoint_sum(point: object) -> float:
    value = point.get("Sum") if isinstance(point, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise MalformedDatapoint(f"datapoint Sum {value!r} is not a non-negative number; not counted")
    return float(value)


def _result(
    status: Status,
    reason: str,
    requests: int,
    elapsed: int,
    in_alarm: list[InAlarm] | None = None,
    *,
    unreadable_polls: int = 0,
) -> BakeResult:
    return {
        "status": status,
        "reason": reason,
        "requests_seen": requests,
        "elapsed_seconds": elapsed,
        "in_alarm": in_alarm or [],
        "unreadable_polls": unreadable_polls,
    }


def _failed(reason: str) -> BakeResult:
    """The bake's fail-closed result."""
    return _result("FAILED", reason, 0, 0)


@gate_handler(
    "bake",
    on_error=_failed,
    clients=("cloudwatch", "codedeploy"),
    level=lambda result: "ERROR" if result["status"] == "FAILED" else "INFO",
)
def handler(
    event: Mapping[str, Any], *, now: datetime, cloudwatch: ClientFactory, codedeploy: ClientFactory
) -> BakeResult:
    """Lambda entry point: see the module docstring for the event.

    Mirrors how many watched alarms it saw in ``ALARM`` as the ``UnhealthyCopies`` metric when
    the event names its pipeline.
    """
    result = evaluate_bake(
        checks=event.get("checks"),
        traffic=event.get("traffic"),
        started_at=event.get("started_at"),
        now=now,
        bake_seconds=event.get("bake_seconds"),
        min_requests=event.get("min_requests"),
        client_factory=cloudwatch,
        unreadable_polls=event.get("unreadable_polls", 0),
        hotfix_groups=event.get("hotfix_groups"),
        stage=event.get("stage"),
        execution_id=event.get("execution_id"),
        override=event.get("override"),
        override_max_hours=event.get("override_max_hours", DEFAULT_OVERRIDE_MAX_HOURS),
        codedeploy=codedeploy,
    )
    # A lifted alarm is still an unhealthy copy: the next stage's entry condition sees it.
    emit_health(event, len(result["in_alarm"]) + len(result.get("lifted", [])))
    return capped(result)


def capped(result: BakeResult) -> BakeResult:
    """``result`` with at most :data:`MAX_LISTED_ALARMS` alarms in each list (the total beside
    it) and a ``reason`` of at most :data:`MAX_REASON_CHARS` characters."""
    out: BakeResult = {**result}
    for key, total in (("in_alarm", "in_alarm_total"), ("lifted", "lifted_total")):
        listed = result.get(key)
        if isinstance(listed, list) and len(listed) > MAX_LISTED_ALARMS:
            out[key] = listed[:MAX_LISTED_ALARMS]  # type: ignore[literal-required]
            out[total] = len(listed)  # type: ignore[literal-required]
    reason = result["reason"]
    if len(reason) > MAX_REASON_CHARS:
        cut = f" … (cut: {len(reason):,} characters)"
        out["reason"] = reason[: MAX_REASON_CHARS - len(cut)] + cut
    return out
