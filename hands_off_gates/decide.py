"""Blocker decision (P14, P15): combine alarm, window and override results into go / wait / give up.

Event::

    {"app": <alarms result>, "org": <alarms result>, "window": <time_window result>,
     "override": <override result>, "started_at": "2026-11-26T09:00:00Z",
     "now": optional ISO, "max_wait_seconds": 3600, "pipeline": "orders", "stage": "prod-1"}

proceed iff (app clear and org clear, or an active override with "alarms" in
scope) and (window open, or an active override with "window" in scope), and
every sub-result is well formed (a missing or malformed one blocks and cannot be
overridden: it is a bug in the pipeline, not a state of the service).

When the gate passes only thanks to an override, ``override_used`` is true and
the handler writes an AUDIT log line plus a CloudWatch Embedded Metric Format
line (namespace ``HandsOff/Gates``, metric ``OverrideUsed``, dimensions
Pipeline and Stage), so an alarm on overrides needs no extra IAM.

When blocked, ``give_up`` is true once ``now - started_at >= max_wait_seconds``
(or when the timing inputs are malformed: waiting on a broken clock could last
forever), and ``reason`` lists every blocker on one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from .contract import GATES_NAMESPACE, OVERRIDE_USED_METRIC, PIPELINE_DIMENSION, STAGE_DIMENSION
from .gate_common import GateConfigError, iso_utc, log, parse_instant
from .handler import gate_handler

__all__ = [
    "DecideResult",
    "decide",
    "handler",
    "override_audit_emf",
]

_SCOPES = frozenset({"alarms", "window"})


class DecideResult(TypedDict):
    """What the decision returns.

    Attributes:
        proceed: True iff the deployment may go ahead now.
        give_up: True iff it is blocked and has waited long enough (the stage fails).
        reason: every blocker (or what was bypassed) on one line.
        override_used: True iff it proceeds only thanks to an override.
        blockers: the blockers, one sentence each.
        bypassed: what an override let through.
    """

    proceed: bool
    give_up: bool
    reason: str
    override_used: bool
    blockers: list[str]
    bypassed: list[str]


@dataclass
class _Findings:
    hard: list[str] = field(default_factory=list)  # malformed input: never overridable
    alarms: list[str] = field(default_factory=list)
    window: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def decide(
    *,
    app: object,
    org: object,
    window: object,
    override: object,
    started_at: object,
    now: datetime,
    max_wait_seconds: object,
) -> DecideResult:
    """Combine the gate results. Pure and total: malformed input blocks, never raises.

    Args:
        app: the app ``alarms`` result.
        org: the org ``alarms`` result.
        window: the ``time_window`` result.
        override: the ``override`` result.
        started_at: when the gate started, an aware datetime or an ISO-8601 string with offset.
        now: the instant to judge.
        max_wait_seconds: how long a blocked gate waits before it gives up.
    """
    found = _Findings()
    for label, result in (("app", app), ("org", org)):
        _alarm_findings(label, result, found)
    _window_findings(window, found)
    active_scope, override_text = _override(override, now, found)

    elapsed, max_wait = _timing(started_at, now, max_wait_seconds, found)

    alarms_ok = not found.alarms or "alarms" in active_scope
    window_ok = not found.window or "window" in active_scope
    proceed = not found.hard and alarms_ok and window_ok

    if proceed:
        bypassed = [*found.alarms, *found.window]
        if bypassed:
            reason = f"proceeding under {override_text} — bypassing: {'; '.join(bypassed)}"
        else:
            reason = "all gates clear: app alarms clear; org alarms clear; " + (
                _window_reason(window) or "window open"
            )
        return {
            "proceed": True,
            "give_up": False,
            "reason": reason,
            "override_used": bool(bypassed),
            "blockers": [],
            "bypassed": bypassed,
        }

    blockers = [*found.hard]
    blockers += found.alarms if "alarms" not in active_scope else []
    blockers += found.window if "window" not in active_scope else []
    if active_scope:
        uncovered = [
            scope
            for scope, blocking in (("alarms", found.alarms), ("window", found.window))
            if blocking and scope not in active_scope
        ]
        if uncovered:
            found.notes.append(f"{override_text} does not cover {' or '.join(uncovered)}")
    give_up = elapsed is None or max_wait is None or elapsed >= max_wait
    if elapsed is not None and max_wait is not None:
        wait = f"waited {elapsed} s of {max_wait} s"
    else:
        wait = "cannot tell how long it waited"
    wait += " — giving up" if give_up else " — will re-check"
    reason = "blocked: " + "; ".join([*blockers, *found.notes, wait])
    return {
        "proceed": False,
        "give_up": give_up,
        "reason": reason,
        "override_used": False,
        "blockers": blockers,
        "bypassed": [],
    }


def _alarm_findings(label: str, result: object, found: _Findings) -> None:
    if (
        not isinstance(result, Mapping)
        or not isinstance(result.get("clear"), bool)
        or not isinstance(result.get("reasons", []), list)
    ):
        found.hard.append(f"{label} alarm result missing or malformed — blocking (fail closed)")
        return
    if result["clear"]:
        return
    reasons = [str(r) for r in result.get("reasons", []) if str(r)]
    found.alarms += reasons or [f"{label} alarms not clear (no reason given)"]


def _window_findings(window: object, found: _Findings) -> None:
    if not isinstance(window, Mapping) or not isinstance(window.get("open"), bool):
        found.hard.append("time-window result missing or malformed — blocking (fail closed)")
        return
    if not window["open"]:
        found.window.append(_window_reason(window) or "outside deployment window")


def _window_reason(window: object) -> str:
    if isinstance(window, Mapping) and isinstance(window.get("reason"), str):
        return str(window["reason"])
    return ""


def _override(override: object, now: datetime, found: _Findings) -> tuple[frozenset[str], str]:
    """The active override's scope (empty if none) and a description of it."""
    if not isinstance(override, Mapping) or not isinstance(override.get("active"), bool):
        found.hard.append("override result missing or malformed — blocking (fail closed)")
        return frozenset(), ""
    reason = str(override.get("reason") or "")
    if not override["active"]:
        if reason and reason != "no override":
            found.notes.append(reason)
        return frozenset(), ""
    scope = override.get("scope")
    who, why = override.get("who"), override.get("why")
    if (
        not isinstance(scope, list)
        or not scope
        or not set(scope) <= _SCOPES
        or not isinstance(who, str)
        or not isinstance(why, str)
    ):
        found.hard.append("override result malformed (active without who/why/scope) — blocking")
        return frozenset(), ""
    try:
        expires_at = parse_instant(override.get("expires_at"), "override.expires_at")
    except GateConfigError as exc:
        found.hard.append(f"override result malformed ({exc}) — blocking")
        return frozenset(), ""
    if expires_at <= now:  # the override may have expired since it was read
        found.notes.append(f"override expired at {iso_utc(expires_at)}")
        return frozenset(), ""
    text = f"override by {who} until {iso_utc(expires_at)} (scope: {', '.join(scope)}): {why}"
    return frozenset(scope), text


def _timing(
    started_at: object, now: datetime, max_wait_seconds: object, found: _Findings
) -> tuple[int | None, int | None]:
    start: datetime | None
    try:
        start = started_at if isinstance(started_at, datetime) else parse_instant(started_at, "started_at")
        if start.tzinfo is None:
            raise GateConfigError("started_at", "naive datetime; pass an aware one")
    except GateConfigError as exc:
        found.hard.append(f"decide event invalid: {exc}")
        start = None
    max_wait: int | None = None
    if isinstance(max_wait_seconds, int) and not isinstance(max_wait_seconds, bool) and max_wait_seconds >= 0:
        max_wait = max_wait_seconds
    else:
        found.hard.append(
            f"decide event invalid: max_wait_seconds: expected a non-negative integer, "
            f"got {max_wait_seconds!r}"
        )
    elapsed = None if start is None else max(0, int((now - start).total_seconds()))
    return elapsed, max_wait


def override_audit_emf(
    *, pipeline: str, stage: str, result: DecideResult, override: object, at: datetime
) -> dict[str, Any]:
    """The Embedded Metric Format record for one override use (``OverrideUsed``). Pure.

    Args:
        pipeline: the ``Pipeline`` dimension.
        stage: the ``Stage`` dimension.
        result: the decision that used the override.
        override: the ``override`` result (who, why, until when).
        at: the metric's timestamp.
    """
    details = override if isinstance(override, Mapping) else {}
    return {
        "_aws": {
            "Timestamp": int(at.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": GATES_NAMESPACE,
                    "Dimensions": [[PIPELINE_DIMENSION, STAGE_DIMENSION]],
                    "Metrics": [{"Name": OVERRIDE_USED_METRIC, "Unit": "Count"}],
                }
            ],
        },
        PIPELINE_DIMENSION: pipeline,
        STAGE_DIMENSION: stage,
        OVERRIDE_USED_METRIC: 1,
        "who": details.get("who"),
        "why": details.get("why"),
        "expires_at": details.get("expires_at"),
        "bypassed": result["bypassed"],
    }


def _invalid(problem: str) -> DecideResult:
    """The decision's fail-closed result: blocked, and giving up (retrying cannot fix a bad input)."""
    return {
        "proceed": False,
        "give_up": True,
        "reason": f"blocked: {problem} — giving up",
        "override_used": False,
        "blockers": [problem],
        "bypassed": [],
    }


@gate_handler("decide", on_error=_invalid, level=lambda result: "INFO" if result["proceed"] else "WARN")
def handler(event: Mapping[str, Any], *, now: datetime) -> DecideResult:
    """Lambda entry point: see the module docstring for the event.

    A decision that passes only thanks to an override is audited: an ``AUDIT`` log line and an
    ``OverrideUsed`` metric (stamped with the wall clock, not the event's ``now``).
    """
    result = decide(
        app=event.get("app"),
        org=event.get("org"),
        window=event.get("window"),
        override=event.get("override"),
        started_at=event.get("started_at"),
        now=now,
        max_wait_seconds=event.get("max_wait_seconds"),
    )
    if result["override_used"]:
        _audit(event, result)
    return result


def _audit(event: Mapping[str, Any], result: DecideResult) -> None:
    pipeline = _dimension(event.get("pipeline"))
    stage = _dimension(event.get("stage"))
    override = event.get("override")
    details = override if isinstance(override, Mapping) else {}
    log(
        "AUDIT",
        f"deployment gate overridden for {pipeline}/{stage}",
        gate="decide",
        event="override_used",
        pipeline=pipeline,
        stage=stage,
        who=details.get("who"),
        why=details.get("why"),
        expires_at=details.get("expires_at"),
        scope=details.get("scope"),
        bypassed=result["bypassed"],
    )
    emf = override_audit_emf(
        pipeline=pipeline, stage=stage, result=result, override=override, at=datetime.now(UTC)
    )
    print(json.dumps(emf, default=str), flush=True)


def _dimension(value: object) -> str:
    return value if isinstance(value, str) and value else "unknown"
