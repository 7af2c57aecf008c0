"""Blocker override (P14): lift named blockers at named stages to ship a fix — attributed, expiring.

The override is an SSM String parameter (``/hands-off/<pipeline>/override``, in the tooling
account and the pipeline's region) holding JSON (:class:`~.contract.OverrideSpec`)::

    {"who": "alice", "why": "hotfix INC-1234",
     "expires_at": "2026-11-27T18:00:00Z",
     "stages": ["Prod-2"], "scope": ["alarms"],
     "execution_id": "0b6f1ac2-7c7a-4f3e-9d55-3f4c2f4f2a10"}

- ``stages`` (required): the stages (waves) it applies to, by exact name; at any other stage it
  lifts nothing.
- ``scope`` (required): what it lifts, each only when named (:data:`~.contract.OVERRIDE_KINDS`):
  ``alarms`` (the service's own alarms, including ones that could not be read), ``org-alarms``
  (the organization-wide alarms), ``window`` (being outside the deployment windows),
  ``blackout`` (a blackout), ``hotfix`` (``alarms``, and CodeDeploy and the bake of the named
  stages ignore the copy's own alarms in that one execution). An unknown name invalidates the
  whole override.
- ``expires_at`` (required): after now, and at most the gate's ``override_max_hours`` (default
  24, at most 168) ahead.
- ``execution_id`` (optional; required with ``hotfix``): the one pipeline execution it applies
  to; a gate that does not pass its execution id gets nothing from a bound override.
- ``who`` and ``why`` (required): ``who`` is recorded as ``claimed_who`` only. The author in
  the result, the audit line and the ``OverrideUsed`` metric is the AWS identity that wrote the
  version read (``LastModifiedUser`` in the parameter's history, ``ssm:GetParameterHistory``).

Fail closed — an override that cannot be read, parsed, attributed or matched lifts nothing,
and the reason says why:

- parameter missing -> inactive, reason "no override";
- unreadable (any other error) -> "override unreadable (...)";
- malformed JSON, unknown keys, a missing or invalid field, an unknown kind, a naive or
  unparsable ``expires_at``, or one too far ahead -> "override ignored: <field>: ...";
- expired (``expires_at <= now``) -> "override expired at ...";
- another stage, another execution, or a gate that did not say which -> "override lifts
  nothing ...";
- its writer cannot be read from the history -> "override lifts nothing: who wrote it could not
  be read (...)".

``decide`` re-checks an active result (expiry, lifetime, stage, execution, kinds) when it
decides, and audits every use (log line + EMF metric).

Example::

    result = read_override("/hands-off/orders/override", ssm, now, stage="Prod-2",
                           execution_id="0b6f1ac2-...", max_hours=24)
    if result["active"]:
        print(result["author"], result["scope"])
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict

from .contract import DEFAULT_OVERRIDE_MAX_HOURS, HOTFIX_KIND, OVERRIDE_KINDS, OVERRIDE_MAX_HOURS_LIMIT
from .gate_common import (
    ClientFactory,
    GateConfigError,
    describe_error,
    error_code,
    iso_utc,
    parse_instant,
)
from .handler import gate_handler

__all__ = [
    "HOTFIX_UNBOUND",
    "OverrideResult",
    "ParsedOverride",
    "describe_override",
    "evaluate_override",
    "handler",
    "max_lifetime",
    "not_applicable",
    "parse_override",
    "read_override",
]

_KEYS = frozenset({"who", "why", "expires_at", "stages", "scope", "execution_id"})
_NOT_FOUND_CODES = frozenset({"ParameterNotFound"})
_HISTORY_PAGE_SIZE = 50  # the most GetParameterHistory returns at once
_HISTORY_MAX_PAGES = 5  # SSM keeps the last 100 versions: 2 pages; more means something is off


class OverrideResult(TypedDict):
    """What the override check returns; ``author`` … ``execution_id`` only when active.

    Attributes:
        active: True iff an override is in force now, at this stage, for this execution.
        reason: what was found, or why it lifts nothing.
        author: the AWS identity (ARN) that wrote the parameter version read.
        claimed_who: the ``who`` the writer typed (not verified).
        why: why.
        expires_at: when it ends, ISO-8601 UTC.
        stages: the stages it applies to.
        scope: what it lifts, in the order of :data:`~.contract.OVERRIDE_KINDS`.
        execution_id: the one pipeline execution it is bound to. Default: absent, any execution.
    """

    active: bool
    reason: str
    author: NotRequired[str]
    claimed_who: NotRequired[str]
    why: NotRequired[str]
    expires_at: NotRequired[str]
    stages: NotRequired[list[str]]
    scope: NotRequired[list[str]]
    execution_id: NotRequired[str]


class ParsedOverride(TypedDict):
    """A well-formed override value (not yet judged against a stage, execution or instant).

    Attributes:
        claimed_who: the typed ``who``.
        why: why.
        expires_at: when it ends.
        stages: the stages it applies to, deduplicated.
        scope: the kinds it lifts, in the order of :data:`~.contract.OVERRIDE_KINDS`.
        execution_id: the execution it is bound to, or None.
    """

    claimed_who: str
    why: str
    expires_at: datetime
    stages: list[str]
    scope: list[str]
    execution_id: str | None


def max_lifetime(hours: object) -> timedelta:
    """The gate's ``override_max_hours`` as a duration.

    Raises:
        GateConfigError: ``hours`` is not a whole number from 1 to
            :data:`~.contract.OVERRIDE_MAX_HOURS_LIMIT`.

    >>> max_lifetime(24)
    datetime.timedelta(days=1)
    """
    if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= OVERRIDE_MAX_HOURS_LIMIT:
        raise GateConfigError(
            "override_max_hours",
            f"expected whole hours from 1 to {OVERRIDE_MAX_HOURS_LIMIT}, got {hours!r}",
        )
    return timedelta(hours=hours)


def parse_override(raw: str) -> ParsedOverride:
    """Parse an override value (see the module docstring for the format).

    Raises:
        GateConfigError: naming the field and the fix.
    """
    try:
        data = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise GateConfigError(
            "value", f'not valid JSON ({exc}); expected {{"who", "why", "expires_at", "stages", "scope"}}'
        ) from None
    if not isinstance(data, Mapping):
        raise GateConfigError("value", f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise GateConfigError(unknown[0], f"unknown key; expected one of {', '.join(sorted(_KEYS))}")
    parsed: ParsedOverride = {
        "claimed_who": _text(data.get("who"), "who", "who is overriding (e.g. 'alice')"),
        "why": _text(data.get("why"), "why", "why (e.g. 'hotfix for INC-1234')"),
        "expires_at": parse_instant(data.get("expires_at"), "expires_at"),
        "stages": _stages(data.get("stages")),
        "scope": _scope(data.get("scope")),
        "execution_id": _execution_id(data.get("execution_id")),
    }
    if HOTFIX_KIND in parsed["scope"] and parsed["execution_id"] is None:
        raise GateConfigError("scope", HOTFIX_UNBOUND)
    return parsed


HOTFIX_UNBOUND = (
    "'hotfix' needs an execution_id: a hotfix applies to one pipeline execution; "
    'add "execution_id": "<the execution shipping the fix>"'
)
"""Why an override with ``hotfix`` and no ``execution_id`` lifts nothing (shared with decide)."""


def _text(value: object, field: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GateConfigError(field, f"missing or empty; say {what}")
    return value.strip()


def _stages(value: object) -> list[str]:
    if value is None:
        raise GateConfigError("stages", 'missing; name the stages it applies to, e.g. ["Prod-2"]')
    if not isinstance(value, list) or not value:
        raise GateConfigError(
            "stages", f'expected a non-empty list of stage names, e.g. ["Prod-2"], got {value!r}'
        )
    stages: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise GateConfigError(f"stages[{i}]", f"expected a stage name, e.g. 'Prod-2', got {item!r}")
        if item.strip() not in stages:
            stages.append(item.strip())
    return stages


def _scope(value: object) -> list[str]:
    kinds = ", ".join(OVERRIDE_KINDS)
    if value is None:
        raise GateConfigError("scope", f"missing; name what it lifts, drawn from {kinds}")
    if not isinstance(value, list) or not value:
        raise GateConfigError("scope", f"expected a non-empty list drawn from {kinds}, got {value!r}")
    for i, item in enumerate(value):
        if item not in OVERRIDE_KINDS:
            raise GateConfigError(f"scope[{i}]", f"{item!r} is not one of {kinds}")
    return [kind for kind in OVERRIDE_KINDS if kind in value]


def _execution_id(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise GateConfigError(
            "execution_id", f"expected a pipeline execution id, or leave it out; got {value!r}"
        )
    return value.strip()


def not_applicable(
    *,
    expires_at: datetime,
    stages: Sequence[str],
    bound_execution: str | None,
    now: datetime,
    stage: str | None,
    execution_id: str | None,
    lifetime: timedelta,
) -> str | None:
    """Why a well-formed override lifts nothing here and now, or None when it applies. Pure.

    Shared by the override gate and ``decide`` (which re-checks when it decides).

    Args:
        expires_at: when the override ends; at ``expires_at`` itself it has expired.
        stages: the stages it names.
        bound_execution: the execution it is bound to, or None for any.
        now: the instant to judge.
        stage: the stage the gate guards; None when the gate did not say (nothing applies).
        execution_id: the pipeline execution the gate runs for; None when it did not say.
        lifetime: how far ahead of ``now`` an expiry may be.
    """
    if expires_at <= now:
        return f"override expired at {iso_utc(expires_at)}"
    if expires_at - now > lifetime:
        hours = int(lifetime.total_seconds()) // 3600
        return (
            f"override ignored: expires_at: {iso_utc(expires_at)} is more than {hours} hours after now "
            f"({iso_utc(now)}), the pipeline's override_max_hours; set an earlier expiry"
        )
    if stage is None:
        return "override lifts nothing: the gate did not say which stage it guards"
    if stage not in stages:
        return f"override lifts nothing at {stage}: it names stages {', '.join(stages)}"
    if bound_execution is not None and execution_id is None:
        return (
            f"override lifts nothing: it is bound to pipeline execution {bound_execution} "
            "and the gate passed no execution id"
        )
    if bound_execution is not None and execution_id != bound_execution:
        return (
            f"override lifts nothing: it is bound to pipeline execution {bound_execution}, not {execution_id}"
        )
    return None


def describe_override(
    *,
    author: str,
    claimed_who: str,
    why: str,
    expires_at: str,
    stages: Sequence[str],
    scope: Sequence[str],
    execution_id: str | None,
) -> str:
    """One line naming an override: who wrote it, until when, where, what it lifts, why."""
    where = ", ".join(stages) + (f", execution {execution_id}" if execution_id is not None else "")
    return (
        f"override written by {author} (says: {claimed_who}) until {expires_at} "
        f"for {where} (scope: {', '.join(scope)}): {why}"
    )


def evaluate_override(
    raw: str | None,
    now: datetime,
    *,
    stage: str | None,
    author: str | None,
    execution_id: str | None = None,
    max_hours: object = DEFAULT_OVERRIDE_MAX_HOURS,
    author_problem: str = "no writer given",
) -> OverrideResult:
    """Decide whether the override parameter's value is in force. Pure; never raises.

    Args:
        raw: the parameter's value; None when the parameter does not exist.
        now: the instant to judge.
        stage: the stage the gate guards; None lifts nothing.
        author: the AWS identity that wrote ``raw``; None when it could not be read (lifts
            nothing).
        execution_id: the pipeline execution the gate runs for. Default: None, unknown (a bound
            override lifts nothing).
        max_hours: the gate's ``override_max_hours``. Default: 24.
        author_problem: why ``author`` is None, for the reason.

    >>> from datetime import UTC
    >>> evaluate_override(None, datetime(2026, 11, 26, tzinfo=UTC), stage="Prod-1", author=None)
    {'active': False, 'reason': 'no override'}
    """
    if raw is None:
        return {"active": False, "reason": "no override"}
    try:
        lifetime = max_lifetime(max_hours)
        parsed = parse_override(raw)
    except GateConfigError as exc:
        return {"active": False, "reason": f"override ignored: {exc}"}
    problem = not_applicable(
        expires_at=parsed["expires_at"],
        stages=parsed["stages"],
        bound_execution=parsed["execution_id"],
        now=now,
        stage=stage,
        execution_id=execution_id,
        lifetime=lifetime,
    )
    if problem is not None:
        writer = author if author is not None else "an identity that could not be read"
        return {
            "active": False,
            "reason": f"{problem} (written by {writer}, says {parsed['claimed_who']}: {parsed['why']})",
        }
    if author is None:
        return {
            "active": False,
            "reason": f"override lifts nothing: who wrote it could not be read ({author_problem}); "
            f"an override is trusted only with its writer's AWS identity (claimed: {parsed['claimed_who']})",
        }
    result: OverrideResult = {
        "active": True,
        "author": author,
        "claimed_who": parsed["claimed_who"],
        "why": parsed["why"],
        "expires_at": iso_utc(parsed["expires_at"]),
        "stages": parsed["stages"],
        "scope": parsed["scope"],
        "reason": "",
    }
    if parsed["execution_id"] is not None:
        result["execution_id"] = parsed["execution_id"]
    result["reason"] = describe_override(
        author=author,
        claimed_who=parsed["claimed_who"],
        why=parsed["why"],
        expires_at=result["expires_at"],
        stages=parsed["stages"],
        scope=parsed["scope"],
        execution_id=parsed["execution_id"],
    )
    return result


def read_override(
    parameter_name: str,
    ssm: Any,
    now: datetime,
    *,
    stage: str | None,
    execution_id: str | None = None,
    max_hours: object = DEFAULT_OVERRIDE_MAX_HOURS,
) -> OverrideResult:
    """Read the SSM parameter and who wrote it, and evaluate it; unreadable fails closed (inactive).

    Args:
        parameter_name: the parameter, e.g. ``/hands-off/orders-application/override``.
        ssm: an SSM client (``ssm:GetParameter`` and ``ssm:GetParameterHistory`` on it).
        now: the instant to judge.
        stage: the stage the gate guards; None lifts nothing.
        execution_id: the pipeline execution the gate runs for. Default: None, unknown.
        max_hours: the gate's ``override_max_hours``. Default: 24.
    """
    try:
        parameter = ssm.get_parameter(Name=parameter_name, WithDecryption=True)["Parameter"]
        raw = parameter["Value"]
        version = parameter.get("Version")
    except Exception as exc:  # fail closed: an unreadable override lets nothing through
        if error_code(exc) in _NOT_FOUND_CODES:
            return {"active": False, "reason": "no override"}
        return {
            "active": False,
            "reason": f"override unreadable ({error_code(exc)}): {describe_error(exc)} — "
            f"ignoring it; fix read access to {parameter_name}",
        }
    if not isinstance(raw, str):
        return {"active": False, "reason": "override ignored: parameter value is not a string"}
    author: str | None = None
    problem = ""
    try:
        author = _writer(parameter_name, ssm, version, raw)
    except Exception as exc:  # fail closed: an override nobody can be held to lifts nothing
        problem = exc.message if isinstance(exc, GateConfigError) else describe_error(exc)
    return evaluate_override(
        raw,
        now,
        stage=stage,
        author=author,
        execution_id=execution_id,
        max_hours=max_hours,
        author_problem=problem,
    )


def _writer(parameter_name: str, ssm: Any, version: object, raw: str) -> str:
    """The ``LastModifiedUser`` of ``version`` in the parameter's history, provided that entry
    holds the value read (``raw``): a parameter deleted and written again restarts at version 1.

    Raises:
        GateConfigError: the version is unknown or not in the history, has no writer, or holds
            another value than the one read.
    """
    if isinstance(version, bool) or not isinstance(version, int):
        raise GateConfigError("Version", f"GetParameter returned no version of {parameter_name}")
    params: dict[str, Any] = {
        "Name": parameter_name,
        "WithDecryption": False,
        "MaxResults": _HISTORY_PAGE_SIZE,
    }
    for _ in range(_HISTORY_MAX_PAGES):
        response = ssm.get_parameter_history(**params)
        for entry in response.get("Parameters", []):
            if entry.get("Version") == version:
                if "Value" in entry and entry["Value"] != raw:
                    raise GateConfigError(
                        "Value",
                        f"{parameter_name} changed between reading it and reading its history "
                        f"(version {version} now holds another value); not attributing it",
                    )
                user = entry.get("LastModifiedUser")
                if not isinstance(user, str) or not user.strip():
                    raise GateConfigError(
                        "LastModifiedUser", f"version {version} of {parameter_name} has no LastModifiedUser"
                    )
                return user.strip()
        token = response.get("NextToken")
        if not token:
            break
        params["NextToken"] = token
    raise GateConfigError("Version", f"version {version} of {parameter_name} is not in its history")


def _inactive(reason: str) -> OverrideResult:
    """The fail-closed result: no override in force."""
    return {"active": False, "reason": reason}


@gate_handler(
    "override",
    on_error=_inactive,
    clients=("ssm",),
    log_fields=("parameter_name", "pipeline", "stage", "execution_id"),
)
def handler(event: Mapping[str, Any], *, now: datetime, ssm: ClientFactory) -> OverrideResult:
    """Lambda entry point.

    Event ``{"parameter_name": "/hands-off/<pipeline>/override", "pipeline", "stage",
    "execution_id": optional, "override_max_hours": optional (default 24), "now": optional ISO}``
    -> ``OverrideResult``. Without ``stage`` (or, for a bound override, ``execution_id``) an
    override lifts nothing.
    """
    name = event.get("parameter_name")
    if not isinstance(name, str) or not name.startswith("/"):
        raise GateConfigError(
            "parameter_name",
            f"expected an SSM parameter name like '/hands-off/<pipeline>/override', got {name!r}",
        )
    stage = _optional_text(event, "stage", "the stage the gate guards, e.g. 'Prod-2'")
    execution_id = _optional_text(event, "execution_id", "the pipeline execution id")
    max_hours = event.get("override_max_hours", DEFAULT_OVERRIDE_MAX_HOURS)
    max_lifetime(max_hours)  # an invalid gate input is the gate's error, not the override's
    try:
        client = ssm(None, None)
    except Exception as exc:  # fail closed: an override that cannot be read lets nothing through
        return {"active": False, "reason": f"override unreadable: {describe_error(exc)}"}
    return read_override(name, client, now, stage=stage, execution_id=execution_id, max_hours=max_hours)


def _optional_text(event: Mapping[str, Any], key: str, what: str) -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise GateConfigError(key, f"expected {what}, got {value!r}")
    return value
