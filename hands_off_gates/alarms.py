"""Alarm blocker gate (P14): open app-specific or organization-wide alarms stop a deployment.

Event::

    {"label": "app",
     "checks": [{"region": "us-east-1",
                 "role_arn": "arn:aws:iam::111111111111:role/hands-off-alarm-reader",
                 "alarm_names": ["orders-api-5xx"],
                 "alarm_name_prefixes": ["org-critical-"]}]}

Rules (fail closed):

- Metric and composite alarms are read with DescribeAlarms (paginated), by exact
  name (batches of 100) and by each name prefix.
- An exact name that does not exist blocks: a gate cannot check what it cannot see.
  A prefix matching nothing is fine (that is what prefixes are for).
- ``ALARM`` blocks. ``INSUFFICIENT_DATA`` is treated as clear but reported in
  ``insufficient_data`` (a new or idle alarm must not block every deployment).
- Any error reading a region (throttling, AccessDenied, STS failure, a timeout) blocks,
  naming the error code and region ("unreadable in <region>"). The checks are read side by
  side, each region within a deadline (``gate_common.read_each``): a hanging region is
  reported unreadable instead of timing out the Lambda, and holds up no other region.
- An alarm read twice in one check (by name and again by prefix, its state changing in
  between) counts with the worse of its states.
- A malformed ``checks`` list blocks. An empty list is clear (nothing configured).
- ``lifted`` alarms (a bake under a hotfix: the copy's own alarms) in ``ALARM`` do not
  block; they are reported in ``lifted`` instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from .gate_common import (
    READ_DEADLINE_SECONDS,
    ClientFactory,
    GateConfigError,
    describe_error,
    emit_health,
    error_code,
    is_transient,
    read_each,
)
from .handler import gate_handler

__all__ = [
    "MAX_LISTED_ALARMS",
    "AlarmCheck",
    "AlarmRef",
    "AlarmsResult",
    "InAlarm",
    "capped",
    "check_alarms",
    "handler",
    "parse_checks",
]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")
_CHECK_KEYS = frozenset({"region", "role_arn", "alarm_names", "alarm_name_prefixes"})
_NAMES_PER_CALL = 100  # DescribeAlarms AlarmNames limit
_MAX_PAGES = 1000  # guards against a NextToken that never ends
_MAX_REASON = 300
MAX_LISTED_ALARMS = 20
"""Most entries an alarms result lists per list (``reasons``, ``in_alarm``, ``insufficient_data``,
``transient``, ``lifted``): an org-wide incident can put hundreds of alarms in ALARM, and a gate's
two alarm results must stay well under the 256 KiB a Step Functions state may return
(``States.DataLimitExceeded`` is caught by no catch: it would fail the gate instead of blocking it).
A cut list has ``<list>_total`` beside it; a cut ``reasons`` ends with how many more there were."""
_ALARM_TYPES = ["MetricAlarm", "CompositeAlarm"]
# How bad each state is, to keep the worse one of an alarm read twice; any other state ranks 2.
_SEVERITY = {"OK": 0, "INSUFFICIENT_DATA": 1, "ALARM": 3}
_UNKNOWN_STATE_SEVERITY = 2


@dataclass(frozen=True, kw_only=True)
class AlarmCheck:
    """Alarms to read in one region (optionally through a role in another account).

    The parsed form of a :class:`~.contract.AlarmCheck`; build it with :func:`parse_checks`.

    Attributes:
        region: the AWS region of the alarms.
        role_arn: the role to assume to read them. Default: None, the function's own credentials.
        alarm_names: exact names. Default: none.
        alarm_name_prefixes: name prefixes. Default: none. A check lists at least one name or
            prefix.
    """

    region: str
    role_arn: str | None = None
    alarm_names: tuple[str, ...] = ()
    alarm_name_prefixes: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        """The region, and the account when read through a role: ``eu-west-1 (account 1111…)``."""
        account = self.role_arn.split(":")[4] if self.role_arn else None
        return f"{self.region} (account {account})" if account else self.region


class InAlarm(TypedDict):
    """An alarm found in ``ALARM``, with its state reason (shortened)."""

    name: str
    region: str
    reason: str


class AlarmRef(TypedDict):
    """An alarm, by name and region."""

    name: str
    region: str


class AlarmsResult(TypedDict):
    """What the alarms gate returns.

    Attributes:
        clear: True iff nothing blocks.
        label: ``"app"`` or ``"org"`` (or ``"alarms"``, ``"bake"``), used in the reasons.
        reasons: one sentence per blocker, naming the alarm, region and error.
        in_alarm: the alarms in ``ALARM``.
        checked: how many distinct alarms were read.
        insufficient_data: alarms in ``INSUFFICIENT_DATA`` (treated as clear).
        transient: the reasons (among ``reasons``) that are transient read errors (throttling,
            timeouts, dropped connections): reading again later may succeed.
        lifted: the lifted alarms found in ``ALARM`` (not blocking). Present only when
            :func:`check_alarms` was given alarms to lift.
        reasons_total, in_alarm_total, insufficient_data_total, transient_total, lifted_total:
            how many entries the list had, present only when :func:`capped` cut it at
            :data:`MAX_LISTED_ALARMS`.
    """

    clear: bool
    label: str
    reasons: list[str]
    in_alarm: list[InAlarm]
    checked: int
    insufficient_data: list[AlarmRef]
    transient: list[str]
    lifted: NotRequired[list[InAlarm]]
    reasons_total: NotRequired[int]
    in_alarm_total: NotRequired[int]
    insufficient_data_total: NotRequired[int]
    transient_total: NotRequired[int]
    lifted_total: NotRequired[int]


def parse_checks(raw: object) -> list[AlarmCheck]:
    """Validate the ``checks`` list.

    Raises:
        GateConfigError: naming the offending field, e.g. ``checks[0].region``.
    """
    if not isinstance(raw, list):
        raise GateConfigError("checks", f"expected a list of checks, got {_kind(raw)}")
    return [_parse_check(item, f"checks[{i}]") for i, item in enumerate(raw)]


def _parse_check(raw: object, field: str) -> AlarmCheck:
    if not isinstance(raw, Mapping):
        raise GateConfigError(field, f"expected an object, got {_kind(raw)}")
    unknown = sorted(str(k) for k in raw if k not in _CHECK_KEYS)
    if unknown:
        raise GateConfigError(
            f"{field}.{unknown[0]}",
            f"unknown key; expected one of {', '.join(sorted(_CHECK_KEYS))}",
        )
    region = raw.get("region")
    if not isinstance(region, str) or not _REGION.match(region):
        raise GateConfigError(f"{field}.region", f"{region!r} is not an AWS region name such as 'us-east-1'")
    role_arn = raw.get("role_arn")
    if role_arn is not None and (not isinstance(role_arn, str) or not _ROLE_ARN.match(role_arn)):
        raise GateConfigError(
            f"{field}.role_arn",
            f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
        )
    names = _strings(raw.get("alarm_names", []), f"{field}.alarm_names")
    prefixes = _strings(raw.get("alarm_name_prefixes", []), f"{field}.alarm_name_prefixes")
    if not names and not prefixes:
        raise GateConfigError(field, "lists no alarm_names and no alarm_name_prefixes; nothing to check")
    return AlarmCheck(
        region=region,
        role_arn=role_arn,
        alarm_names=tuple(dict.fromkeys(names)),
        alarm_name_prefixes=tuple(dict.fromkeys(prefixes)),
    )


def _strings(raw: object, field: str) -> list[str]:
    if not isinstance(raw, list):
        raise GateConfigError(field, f"expected a list of strings, got {_kind(raw)}")
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item:
            raise GateConfigError(f"{field}[{i}]", f"expected a non-empty string, got {item!r}")
    return list(raw)


def _kind(raw: object) -> str:
    return "nothing" if raw is None else type(raw).__name__


def check_alarms(
    checks: object,
    client_factory: ClientFactory,
    *,
    label: str = "alarms",
    deadline: float = READ_DEADLINE_SECONDS,
    lifted: Collection[tuple[str, str | None, str]] = (),
) -> AlarmsResult:
    """Read every alarm the checks name and decide whether they are clear. Never raises.

    Args:
        checks: the raw list from the event (validated here: malformed blocks).
        client_factory: returns a CloudWatch client for ``(region, role_arn)``.
        label: names the alarms in the reasons, e.g. ``"app"``. Default: ``"alarms"``.
        deadline: seconds to wait for all the checks, read side by side; a check still unread
            then is unreadable. Default: :data:`~.gate_common.READ_DEADLINE_SECONDS`.
        lifted: ``(region, role_arn, alarm name)`` of alarms whose ``ALARM`` does not block
            (reported in the result's ``lifted``). Default: none.

    Returns:
        The result; any read error or missing exact name blocks.
    """
    result: AlarmsResult = {
        "clear": False,
        "label": label,
        "reasons": [],
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    }
    if lifted:
        result["lifted"] = []
    try:
        parsed = parse_checks(checks)
    except GateConfigError as exc:
        result["reasons"].append(f"{label} alarm checks invalid: {exc}")
        return result

    outcomes = read_each(
        [functools.partial(_read, check, client_factory) for check in parsed], deadline=deadline
    )
    worst: dict[tuple[str, str | None, str], tuple[AlarmCheck, Mapping[str, Any]]] = {}
    for check, outcome in zip(parsed, outcomes, strict=True):
        try:
            alarms, missing = outcome.get()
        except Exception as failure:  # fail closed: any read error blocks
            reason = (
                f"{label} alarms unreadable in {check.where} ({error_code(failure)}): "
                f"{_short(describe_error(failure))} — blocking, a gate cannot pass on what "
                "it cannot see"
            )
            result["reasons"].append(reason)
            if is_transient(failure):
                result["transient"].append(reason)
            continue
        for name in missing:
            result["reasons"].append(
                f"{label} alarm {name!r} not found in {check.where} — a gate cannot "
                "check what it cannot see (fix the name or create the alarm)"
            )
        for alarm in alarms:
            key = (check.region, check.role_arn, str(alarm.get("AlarmName", "")))
            seen = worst.get(key)
            if seen is None or _severity(alarm) > _severity(seen[1]):
                worst[key] = (check, alarm)

    for (_, _, name), (check, alarm) in worst.items():
        result["checked"] += 1
        state = alarm.get("StateValue")
        if state == "ALARM":
            why = _short(str(alarm.get("StateReason") or "no state reason"))
            if (check.region, check.role_arn, name) in lifted:
                result["lifted"].append({"name": name, "region": check.region, "reason": why})
                continue
            result["in_alarm"].append({"name": name, "region": check.region, "reason": why})
            result["reasons"].append(f"{label} alarm {name!r} is in ALARM in {check.where}: {why}")
        elif state == "INSUFFICIENT_DATA":
            result["insufficient_data"].append({"name": name, "region": check.region})
        elif state != "OK":
            result["reasons"].append(
                f"{label} alarm {name!r} in {check.where} has unexpected state {state!r} — blocking"
            )
    result["clear"] = not result["reasons"]
    return result


def _severity(alarm: Mapping[str, Any]) -> int:
    return _SEVERITY.get(str(alarm.get("StateValue")), _UNKNOWN_STATE_SEVERITY)


def _read(check: AlarmCheck, client_factory: ClientFactory) -> tuple[list[Mapping[str, Any]], list[str]]:
    """All alarms matched by the check, and the exact names that do not exist."""
    client = client_factory(check.region, check.role_arn)
    alarms: list[Mapping[str, Any]] = []
    names = list(check.alarm_names)
    for start in range(0, len(names), _NAMES_PER_CALL):
        alarms += _describe(client, AlarmNames=names[start : start + _NAMES_PER_CALL])
    found = {str(a.get("AlarmName")) for a in alarms}
    missing = [name for name in names if name not in found]
    for prefix in check.alarm_name_prefixes:
        alarms += _describe(client, AlarmNamePrefix=prefix)
    return alarms, missing


def _describe(client: Any, **params: Any) -> list[Mapping[str, Any]]:
    alarms: list[Mapping[str, Any]] = []
    token: str | None = None
    for _ in range(_MAX_PAGES):
        call = {**params, "AlarmTypes": _ALARM_TYPES}
        if token:
            call["NextToken"] = token
        page = client.describe_alarms(**call)
        alarms += page.get("MetricAlarms") or []
        alarms += page.get("CompositeAlarms") or []
        token = page.get("NextToken")
        if not token:
            return alarms
    raise RuntimeError(f"DescribeAlarms returned more than {_MAX_PAGES} pages")


def _short(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"


def _blocked(reason: str) -> AlarmsResult:
    """The alarms gate's fail-closed result."""
    return {
        "clear": False,
        "label": "alarms",
        "reasons": [reason],
        "in_alarm": [],
        "checked": 0,
        "insufficient_data": [],
        "transient": [],
    }


def _summary(result: AlarmsResult) -> str:
    return f"{result['label']} alarms {'clear' if result['clear'] else 'blocking'}"


@gate_handler(
    "alarms",
    on_error=_blocked,
    clients=("cloudwatch",),
    level=lambda result: "INFO" if result["clear"] else "WARN",
    message=_summary,
)
def handler(event: Mapping[str, Any], *, now: datetime, cloudwatch: ClientFactory) -> AlarmsResult:
    """Lambda entry point: ``{"checks": [...], "label": "app"|"org", "pipeline"}`` -> ``AlarmsResult``.

    The app check mirrors how many copies it saw in ``ALARM`` as the ``UnhealthyCopies`` metric
    when the event names its pipeline.
    """
    raw_label = event.get("label")
    label = raw_label if isinstance(raw_label, str) and raw_label else "alarms"
    result = check_alarms(event.get("checks"), cloudwatch, label=label)
    if label == "app":
        emit_health(event, len(result["in_alarm"]))
    return capped(result)


def capped(result: AlarmsResult) -> AlarmsResult:
    """``result`` with at most :data:`MAX_LISTED_ALARMS` entries per list, each cut list's total
    beside it (``reasons_total``, ``in_alarm_total``...) and a last reason saying how many more
    blockers there were. ``clear`` is unchanged: a cut result blocks exactly as the whole one."""
    out: dict[str, Any] = dict(result)
    for key in ("reasons", "in_alarm", "insufficient_data", "transient", "lifted"):
        listed = result.get(key)
        if isinstance(listed, list) and len(listed) > MAX_LISTED_ALARMS:
            out[key] = listed[:MAX_LISTED_ALARMS]
            out[f"{key}_total"] = len(listed)
    if "reasons_total" in out:
        more = out["reasons_total"] - MAX_LISTED_ALARMS
        out["reasons"] = [*out["reasons"], f"and {more} more {result['label']} alarm blockers"]
    return out  # type: ignore[return-value]
