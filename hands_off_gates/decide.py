"""Blocker decision (P14, P15): combine alarm, window and override results into go / wait / give up.

Event::

    {"app": <alarms result>, "org": <alarms result>, "window": <time_window result>,
     "override": <override result>, "started_at": "2026-11-26T09:00:00Z",
     "now": optional ISO, "max_wait_seconds": 3600, "override_max_hours": optional (default 24),
     "pipeline": "orders", "stage": "Prod-1", "execution_id": optional}

Each kind of blocker is lifted only by an active override whose ``scope`` names it
(:data:`~.contract.OVERRIDE_KINDS`): the app alarms by ``alarms``, the org alarms by
``org-alarms``, a closed window by every kind its ``closed_by`` lists (``window``, ``blackout``;
a closed result that does not say needs both). proceed iff every blocker is lifted and every
sub-result is well formed: a missing or malformed one (including an alarms result that says
``clear`` yet lists alarms) blocks and cannot be overridden — it is a bug in the pipeline, not a
state of the service.

decide does not trust ``active: true``: it re-checks the override result when it decides — well
formed (author, stages, known kinds), not expired (``expires_at <= now`` is expired), at most
``override_max_hours`` ahead, naming this ``stage`` and, when bound, this ``execution_id``.

An active override naming ``hotfix`` (bound to this execution, which the override parser already
requires) lifts the app alarms as ``alarms`` does and, when the gate proceeds, sets ``hotfix``:
the gate machine then turns off the alarm configuration of each copy's CodeDeploy deployment
group, so CodeDeploy and the bake of this stage ignore the copy's own alarms in this execution;
without it the machine makes sure it is on. The bake re-checks the override with
:func:`hotfix_override`.

When the gate passes only thanks to an override, or arms a hotfix, ``override_used`` is true and
the handler writes an AUDIT log line plus a CloudWatch Embedded Metric Format line (namespace
``HandsOff/Gates``, metric ``OverrideUsed``, dimensions Pipeline and Stage; the writer's AWS
identity, the claimed who, why, scope and stages as properties), so an alarm on overrides needs no
extra IAM.

When blocked, ``give_up`` is true once ``now - started_at >= max_wait_seconds`` (0 gives up at
the first blocked check and lets a clear gate through), or when the timing inputs are malformed
(waiting on a broken clock could last forever); ``reason`` lists every blocker on one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from .contract import (
    DEFAULT_OVERRIDE_MAX_HOURS,
    GATES_NAMESPACE,
    HOTFIX_KIND,
    OVERRIDE_KINDS,
    OVERRIDE_USED_METRIC,
    PIPELINE_DIMENSION,
    STAGE_DIMENSION,
)
from .gate_common import GateConfigError, log, parse_instant
from .handler import gate_handler
from .override import HOTFIX_UNBOUND, describe_override, max_lifetime, not_applicable

__all__ = [
    "DecideResult",
    "decide",
    "handler",
    "hotfix_override",
    "override_audit_emf",
]

_WINDOW_KINDS = ("window", "blackout")
"""The override kinds a closed window can need, in the order reasons name them."""


class DecideResult(TypedDict):
    """What the decision returns.

    Attributes:
        proceed: True iff the deployment may go ahead now.
        give_up: True iff it is blocked and has waited long enough (the stage fails).
        reason: every blocker (or what was bypassed) on one line.
        override_used: True iff it proceeds only thanks to an override, or arms a hotfix.
        blockers: the blockers, one sentence each.
        bypassed: what an override let through.
        hotfix: True iff it proceeds under a ``hotfix`` override for this stage and execution
            (the gate machine then turns the copies' CodeDeploy alarm rollback off, else on).
    """

    proceed: bool
    give_up: bool
    reason: str
    override_used: bool
    blockers: list[str]
    bypassed: list[str]
    hotfix: bool


@dataclass
class _Findings:
    hard: list[str] = field(default_factory=list)  # malformed input: never overridable
    app: list[str] = field(default_factory=list)
    org: list[str] = field(default_factory=list)
    window: list[str] = field(default_factory=list)
    window_kinds: tuple[str, ...] = ()  # the override kinds that lift the closed window
    window_untold: bool = False  # the window result did not say what closes it
    notes: list[str] = field(default_factory=list)

    def groups(self) -> list[tuple[tuple[str, ...], list[str]]]:
        """Each kind of blocker with the override kinds that lift it."""
        return [(("alarms",), self.app), (("org-alarms",), self.org), (self.window_kinds, self.window)]


def decide(
    *,
    app: object,
    org: object,
    window: object,
    override: object,
    started_at: object,
    now: datetime,
    max_wait_seconds: object,
    stage: object = None,
    execution_id: object = None,
    override_max_hours: object = DEFAULT_OVERRIDE_MAX_HOURS,
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
        stage: the stage the gate guards. Default: None, unknown (no override applies).
        execution_id: the pipeline execution the gate runs for. Default: None, unknown (no
            override bound to an execution applies).
        override_max_hours: how far ahead of now an override may expire. Default: 24.
    """
    found = _Findings()
    found.app = _alarm_findings("app", app, found)
    found.org = _alarm_findings("org", org, found)
    _window_findings(window, found)
    scope, override_text = _override(
        override,
        now,
        stage=_text_or_none(stage),
        execution_id=_text_or_none(execution_id),
        lifetime=_lifetime(override_max_hours, found),
        found=found,
    )
    elapsed, max_wait = _timing(started_at, now, max_wait_seconds, found)
    hotfix = HOTFIX_KIND in scope
    if hotfix:  # a hotfix lifts the copy's own alarms at the gate too
        scope = scope | {"alarms"}

    groups = found.groups()
    blocking = [reasons for kinds, reasons in groups if reasons and not set(kinds) <= scope]

    if not found.hard and not blocking:
        bypassed = [reason for _, reasons in groups for reason in reasons]  # all lifted
        if hotfix:
            reason = (
                f"proceeding under {override_text} — hotfix: CodeDeploy and the bake of {stage} "
                f"ignore the copy's own alarms in execution {execution_id}"
            ) + (f" — bypassing: {'; '.join(bypassed)}" if bypassed else "")
        elif bypassed:
            reason = f"proceeding under {override_text} — bypassing: {'; '.join(bypassed)}"
        else:
            reason = "all gates clear: app alarms clear; org alarms clear; " + (
                _window_reason(window) or "window open"
            )
        return {
            "proceed": True,
            "give_up": False,
            "reason": reason,
            "override_used": bool(bypassed) or hotfix,
            "blockers": [],
            "bypassed": bypassed,
            "hotfix": hotfix,
        }

    blockers = [*found.hard, *(reason for reasons in blocking for reason in reasons)]
    if scope:
        needed = {kind for kinds, reasons in groups if reasons for kind in kinds}
        uncovered = [kind for kind in OVERRIDE_KINDS if kind in needed and kind not in scope]
        if uncovered:
            found.notes.append(f"{override_text} does not cover {' or '.join(uncovered)}")
        if found.window_untold and found.window and not set(found.window_kinds) <= scope:
            found.notes.append(
                "the time-window result does not say whether the window or a blackout closes it, "
                "so only an override naming both lifts it"
            )
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
        "hotfix": False,
    }


def _alarm_findings(label: str, result: object, found: _Findings) -> list[str]:
    """The blockers of one alarms result; a malformed or self-contradicting one is a hard blocker."""
    if (
        not isinstance(result, Mapping)
        or not isinstance(result.get("clear"), bool)
        or not isinstance(result.get("reasons", []), list)
        or not isinstance(result.get("in_alarm", []), list)
    ):
        found.hard.append(f"{label} alarm result missing or malformed — blocking (fail closed)")
        return []
    if result["clear"]:
        if result.get("reasons") or result.get("in_alarm"):
            found.hard.append(
                f"{label} alarm result malformed (clear, yet it lists alarms) — blocking (fail closed)"
            )
        return []
    reasons = [str(r) for r in result.get("reasons", []) if str(r)]
    return reasons or [f"{label} alarms not clear (no reason given)"]


def _window_findings(window: object, found: _Findings) -> None:
    if not isinstance(window, Mapping) or not isinstance(window.get("open"), bool):
        found.hard.append("time-window result missing or malformed — blocking (fail closed)")
        return
    closed_by = window.get("closed_by")
    if closed_by is not None and (
        not isinstance(closed_by, list) or not all(kind in _WINDOW_KINDS for kind in closed_by)
    ):
        found.hard.append(
            f"time-window result malformed (closed_by: {closed_by!r}, expected a list drawn from "
            f"{', '.join(_WINDOW_KINDS)}) — blocking (fail closed)"
        )
        return
    if window["open"]:
        return
    found.window.append(_window_reason(window) or "outside deployment window")
    found.window_kinds = tuple(kind for kind in _WINDOW_KINDS if kind in (closed_by or ()))
    if not found.window_kinds:  # cannot tell what closes it: only an override naming both lifts it
        found.window_kinds = _WINDOW_KINDS
        found.window_untold = True


def _window_reason(window: object) -> str:
    if isinstance(window, Mapping) and isinstance(window.get("reason"), str):
        return str(window["reason"])
    return ""


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _lifetime(override_max_hours: object, found: _Findings) -> timedelta | None:
    try:
        return max_lifetime(override_max_hours)
    except GateConfigError as exc:
        found.hard.append(f"decide event invalid: {exc}")
        return None


def _override(
    override: object,
    now: datetime,
    *,
    stage: str | None,
    execution_id: str | None,
    lifetime: timedelta | None,
    found: _Findings,
) -> tuple[frozenset[str], str]:
    """The kinds the override lifts here and now (empty if none) and a description of it.

    Re-checks the result rather than trusting ``active``: shape, expiry, lifetime, stage, execution.
    """
    if not isinstance(override, Mapping) or not isinstance(override.get("active"), bool):
        found.hard.append("override result missing or malformed — blocking (fail closed)")
        return frozenset(), ""
    reason = str(override.get("reason") or "")
    if not override["active"]:
        if reason and reason != "no override":
            found.notes.append(reason)
        return frozenset(), ""
    try:
        expires_at = _check_active(override)
    except GateConfigError as exc:
        found.hard.append(f"override result malformed ({exc}) — blocking")
        return frozenset(), ""
    if lifetime is None:  # already a hard blocker
        return frozenset(), ""
    bound = override.get("execution_id")
    problem = not_applicable(
        expires_at=expires_at,
        stages=override["stages"],
        bound_execution=bound,
        now=now,
        stage=stage,
        execution_id=execution_id,
        lifetime=lifetime,
    )
    if problem is not None:  # it may have expired since it was read, or be for another stage
        found.notes.append(problem)
        return frozenset(), ""
    text = describe_override(
        author=override["author"],
        claimed_who=override["claimed_who"],
        why=override["why"],
        expires_at=override["expires_at"],
        stages=override["stages"],
        scope=override["scope"],
        execution_id=bound,
    )
    return frozenset(override["scope"]), text


def hotfix_override(
    override: object,
    *,
    now: datetime,
    stage: object,
    execution_id: object,
    override_max_hours: object = DEFAULT_OVERRIDE_MAX_HOURS,
) -> str | None:
    """Whether ``override`` (an ``override`` result) is a ``hotfix`` for ``stage`` and
    ``execution_id`` now, re-checked exactly as :func:`decide` re-checks it (shape, expiry,
    lifetime, stage, execution). Pure.

    Returns:
        The override's description when it is such a hotfix; None otherwise (malformed, inactive,
        expired, for another stage or execution, or not naming ``hotfix``).
    """
    found = _Findings()
    scope, text = _override(
        override,
        now,
        stage=_text_or_none(stage),
        execution_id=_text_or_none(execution_id),
        lifetime=_lifetime(override_max_hours, found),
        found=found,
    )
    if found.hard or HOTFIX_KIND not in scope or _text_or_none(execution_id) is None:
        return None
    return text


def _check_active(override: Mapping[str, Any]) -> datetime:
    """Check an active override result's shape; return its expiry.

    Raises:
        GateConfigError: naming the first field that is missing or wrong.
    """
    for key in ("author", "claimed_who", "why"):
        value = override.get(key)
        if not isinstance(value, str) or not value:
            raise GateConfigError(key, f"expected a non-empty string, got {value!r}")
    scope = override.get("scope")
    if not isinstance(scope, list) or not scope or not all(kind in OVERRIDE_KINDS for kind in scope):
        raise GateConfigError("scope", f"expected a non-empty list drawn from {', '.join(OVERRIDE_KINDS)}")
    stages = override.get("stages")
    if not isinstance(stages, list) or not stages or not all(isinstance(s, str) and s for s in stages):
        raise GateConfigError("stages", f"expected a non-empty list of stage names, got {stages!r}")
    bound = override.get("execution_id")
    if bound is not None and (not isinstance(bound, str) or not bound):
        raise GateConfigError("execution_id", f"expected a pipeline execution id, got {bound!r}")
    if HOTFIX_KIND in scope and bound is None:
        raise GateConfigError("scope", HOTFIX_UNBOUND)
    return parse_instant(override.get("expires_at"), "expires_at")


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

    Properties besides the metric: ``who`` and ``author`` (the AWS identity that wrote the
    override), ``claimed_who`` (what it typed), ``why``, ``expires_at``, ``scope``, ``stages``,
    ``execution_id`` (None when unbound) and ``bypassed``.

    Args:
        pipeline: the ``Pipeline`` dimension.
        stage: the ``Stage`` dimension.
        result: the decision that used the override.
        override: the ``override`` result (author, claimed who, why, until when, where).
        at: the metric's timestamp (sent in epoch milliseconds, as EMF requires).
    """
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
        **_audit_fields(override),
        "bypassed": result["bypassed"],
    }


def _audit_fields(override: object) -> dict[str, Any]:
    """Who used which override, for the audit line and the EMF record."""
    details = override if isinstance(override, Mapping) else {}
    return {
        "who": details.get("author"),
        "author": details.get("author"),
        "claimed_who": details.get("claimed_who"),
        "why": details.get("why"),
        "expires_at": details.get("expires_at"),
        "scope": details.get("scope"),
        "stages": details.get("stages"),
        "execution_id": details.get("execution_id"),
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
        "hotfix": False,
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
        stage=event.get("stage"),
        execution_id=event.get("execution_id"),
        override_max_hours=event.get("override_max_hours", DEFAULT_OVERRIDE_MAX_HOURS),
    )
    if result["override_used"]:
        _audit(event, result)
    return result


def _audit(event: Mapping[str, Any], result: DecideResult) -> None:
    pipeline = _dimension(event.get("pipeline"))
    stage = _dimension(event.get("stage"))
    override = event.get("override")
    log(
        "AUDIT",
        f"deployment gate overridden for {pipeline}/{stage}",
        gate="decide",
        event="override_used",
        pipeline=pipeline,
        stage=stage,
        **_audit_fields(override),
        bypassed=result["bypassed"],
    )
    emf = override_audit_emf(
        pipeline=pipeline, stage=stage, result=result, override=override, at=datetime.now(UTC)
    )
    print(json.dumps(emf, default=str), flush=True)


def _dimension(value: object) -> str:
    return value if isinstance(value, str) and value else "unknown"
