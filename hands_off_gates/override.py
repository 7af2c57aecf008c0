"""Blocker override (P14): a developer may override the gates to ship a fix — audited, expiring.

The override is an SSM String parameter (``/hands-off/<pipeline>/override``)
holding JSON::

    {"who": "alice", "why": "hotfix for INC-1234",
     "expires_at": "2026-11-27T18:00:00Z", "scope": ["alarms"]}

``scope`` defaults to ``["alarms", "window"]``. Rules (fail closed — an override
that cannot be read or trusted lets nothing through):

- parameter missing -> inactive, reason "no override";
- unreadable (any other AWS error) -> inactive, reason names the error;
- malformed JSON, unknown keys, missing who/why, naive or unparsable
  ``expires_at``, bad scope, or an expiry more than 7 days after now ->
  inactive, "override ignored: ...";
- expired -> inactive, "override expired at ...".

Using an active override is audited by ``decide`` (log line + EMF metric).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NotRequired, TypedDict

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
    "MAX_OVERRIDE_LIFETIME",
    "SCOPES",
    "OverrideResult",
    "evaluate_override",
    "handler",
    "read_override",
]

SCOPES: tuple[str, ...] = ("alarms", "window")
"""What an override can bypass; the default scope is all of them."""

MAX_OVERRIDE_LIFETIME = timedelta(days=7)
"""An override expiring later than this after now is ignored (overrides are for fixes)."""

_KEYS = frozenset({"who", "why", "expires_at", "scope"})
_NOT_FOUND_CODES = frozenset({"ParameterNotFound"})


class OverrideResult(TypedDict):
    """What the override check returns; ``who`` … ``scope`` only when active.

    Attributes:
        active: True iff an override is in force now.
        reason: what was found, or why the parameter was ignored.
        who: who set it.
        why: why.
        expires_at: when it ends, ISO-8601 UTC.
        scope: what it bypasses, drawn from ``SCOPES``.
    """

    active: bool
    reason: str
    who: NotRequired[str]
    why: NotRequired[str]
    expires_at: NotRequired[str]
    scope: NotRequired[list[str]]


def evaluate_override(raw: str | None, now: datetime) -> OverrideResult:
    """Decide whether the override parameter's value is active at ``now``. Pure; never raises.

    Args:
        raw: the parameter's value; None when the parameter does not exist.
        now: the instant to judge.

    >>> from datetime import UTC
    >>> evaluate_override(None, datetime(2026, 11, 26, tzinfo=UTC))
    {'active': False, 'reason': 'no override'}
    """
    if raw is None:
        return {"active": False, "reason": "no override"}
    try:
        who, why, expires_at, scope = _parse(raw, now)
    except GateConfigError as exc:
        return {"active": False, "reason": f"override ignored: {exc}"}
    if expires_at <= now:
        return {
            "active": False,
            "reason": f"override expired at {iso_utc(expires_at)} (set by {who}: {why})",
        }
    return {
        "active": True,
        "who": who,
        "why": why,
        "expires_at": iso_utc(expires_at),
        "scope": scope,
        "reason": f"override by {who} until {iso_utc(expires_at)} (scope: {', '.join(scope)}): {why}",
    }


def _parse(raw: str, now: datetime) -> tuple[str, str, datetime, list[str]]:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise GateConfigError(
            "value", f'not valid JSON ({exc}); expected {{"who", "why", "expires_at"}}'
        ) from None
    if not isinstance(data, Mapping):
        raise GateConfigError("value", f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise GateConfigError(unknown[0], f"unknown key; expected one of {', '.join(sorted(_KEYS))}")
    who = _text(data.get("who"), "who", "who is overriding (e.g. 'alice')")
    why = _text(data.get("why"), "why", "why (e.g. 'hotfix for INC-1234')")
    expires_at = parse_instant(data.get("expires_at"), "expires_at")
    if expires_at - now > MAX_OVERRIDE_LIFETIME:
        raise GateConfigError(
            "expires_at",
            f"{iso_utc(expires_at)} is more than {MAX_OVERRIDE_LIFETIME.days} days after "
            f"now ({iso_utc(now)}); overrides are for shipping a fix, set an earlier expiry",
        )
    return who, why, expires_at, _scope(data.get("scope", list(SCOPES)))


def _text(value: object, field: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GateConfigError(field, f"missing or empty; say {what}")
    return value.strip()


def _scope(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise GateConfigError(
            "scope", f"expected a non-empty list drawn from {', '.join(SCOPES)}, got {value!r}"
        )
    for i, item in enumerate(value):
        if item not in SCOPES:
            raise GateConfigError(f"scope[{i}]", f"{item!r} is not one of {', '.join(SCOPES)}")
    return [s for s in SCOPES if s in value]


def read_override(parameter_name: str, ssm: Any, now: datetime) -> OverrideResult:
    """Read the SSM parameter and evaluate it; unreadable fails closed (inactive).

    Args:
        parameter_name: the parameter, e.g. ``/hands-off/orders-application/override``.
        ssm: an SSM client.
        now: the instant to judge.
    """
    try:
        response = ssm.get_parameter(Name=parameter_name, WithDecryption=True)
        raw = response["Parameter"]["Value"]
    except Exception as exc:  # fail closed: an unreadable override lets nothing through
        if error_code(exc) in _NOT_FOUND_CODES:
            return evaluate_override(None, now)
        return {
            "active": False,
            "reason": f"override unreadable ({error_code(exc)}): {describe_error(exc)} — "
            f"ignoring it; fix read access to {parameter_name}",
        }
    if not isinstance(raw, str):
        return {"active": False, "reason": "override ignored: parameter value is not a string"}
    return evaluate_override(raw, now)


def _inactive(reason: str) -> OverrideResult:
    """The fail-closed result: no override in force."""
    return {"active": False, "reason": reason}


@gate_handler(
    "override", on_error=_inactive, clients=("ssm",), log_fields=("parameter_name", "pipeline", "stage")
)
def handler(event: Mapping[str, Any], *, now: datetime, ssm: ClientFactory) -> OverrideResult:
    """Lambda entry point.

    Event ``{"parameter_name": "/hands-off/<pipeline>/override", "pipeline",
    "stage", "now": optional ISO}`` -> ``OverrideResult``.
    """
    name = event.get("parameter_name")
    if not isinstance(name, str) or not name.startswith("/"):
        raise GateConfigError(
            "parameter_name",
            f"expected an SSM parameter name like '/hands-off/<pipeline>/override', got {name!r}",
        )
    try:
        client = ssm(None, None)
    except Exception as exc:  # fail closed: an override that cannot be read lets nothing through
        return {"active": False, "reason": f"override unreadable: {describe_error(exc)}"}
    return read_override(name, client, now)
