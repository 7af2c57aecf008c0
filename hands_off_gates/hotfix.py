"""Hotfix (issue 8): let a fix through the copy's own firing alarms for one execution.

CodeDeploy watches each copy's metric rollback alarms through its deployment group's alarm
configuration. A hotfix turns that configuration off for one pipeline execution with the
documented ``UpdateDeploymentGroup`` (``alarmConfiguration.enabled = false``, the alarm list and
``ignorePollAlarmFailure`` kept as read with ``GetDeploymentGroup``), and turns it back on
afterwards. Every call goes through the gate-reader role of the copy's account, whose
``codedeploy:GetDeploymentGroup``/``UpdateDeploymentGroup`` are scoped to the service's groups.

- ``arm``: the gate proceeds under a ``hotfix`` override for this stage and execution → the
  function reads that override itself (:func:`~.override.read_override` on the event's
  ``override_parameter``, which must be ``/hands-off/<pipeline>/override``; a
  ``hands-off-<service>-hotfix`` function arms ``<service>-application`` only) and, only when it
  is active, names ``hotfix`` and is bound to the event's stage and execution, turns every
  copy's deployment group's alarm configuration off; an ``AUDIT`` line naming the override's
  author, the parameter's audited writer (``LastModifiedUser``). Anything else (invoked directly
  without one) changes nothing and fails closed naming what was missing. A group that does not
  exist fails closed (the hotfix could not reach it). All or nothing: when any group cannot be
  turned off, every group this call did turn off is turned back on (best effort, one ``AUDIT``
  line each; one that cannot be is named in the reason and logged at ``ERROR``), so a gate that
  fails closed leaves no group half-armed.
- ``disarm``: the gate proceeds without one (no override needed: like ``restore``, it only turns
  rollback on) → every group's alarm configuration is made sure to be on before the deployment,
  so a hotfix never leaks into a later execution (an ``AUDIT`` line when it had to turn one back
  on). A group that does not exist yet (the copy's first deployment
  to a region) has nothing to turn on: CloudFormation creates it with the template's
  ``Enabled: true``.
- ``restore``: the bake ended (done or failed) → every group's alarm configuration on again; an
  ``AUDIT`` line.

Event: ``{"action": "arm" | "disarm" | "restore", "groups": [HotfixGroup], "pipeline", "stage",
"execution_id", "override_parameter" (``arm``), "override_max_hours": optional (``arm``, default
24), "override": optional, the gate's override result (not trusted: ignored)}`` →
``{"ok", "action", "groups", "changed", "reason", "author"?}``. Fail closed: ``ok`` is false,
naming each group that could not be read or updated and why (the gate then fails instead of
deploying, the bake with ``HotfixNotRestored``); arming with no group to arm is not ok either.

:func:`alarm_rollback_off` tells the bake which copies' groups have their alarm configuration off.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from .contract import DEFAULT_OVERRIDE_MAX_HOURS, HOTFIX_KIND, READER_ROLE_PURPOSE, hotfix_writer_role_arn
from .gate_common import (
    READ_DEADLINE_SECONDS,
    ClientFactory,
    GateConfigError,
    describe_error,
    error_code,
    log,
    read_each,
)
from .handler import gate_handler
from .override import OverrideResult, read_override

__all__ = [
    "HotfixResult",
    "HotfixTarget",
    "alarm_rollback_off",
    "foreign_groups",
    "handler",
    "parse_hotfix_groups",
    "set_hotfix",
]

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_KEYS = frozenset({"region", "role_arn", "application", "deployment_group", "own_alarms"})
MISSING_GROUP_CODES = frozenset({"DeploymentGroupDoesNotExistException", "ApplicationDoesNotExistException"})
"""CodeDeploy's answers for a group (or its application) that does not exist."""

Action = Literal["arm", "disarm", "restore"]
_ACTIONS: tuple[Action, ...] = ("arm", "disarm", "restore")


class HotfixResult(TypedDict):
    """What setting the deployment groups' alarm configuration gave.

    Attributes:
        ok: True iff every group now has the alarm configuration the action asked for (off for
            ``arm``, on otherwise; a missing group counts as on).
        action: ``"arm"``, ``"disarm"`` or ``"restore"`` (``"invalid"`` for a malformed event).
        groups: the groups, ``<application>/<group> in <region>``.
        changed: the groups this call actually updated (a failed ``arm``: those it turned off
            and could not turn back on, i.e. left off).
        reason: one sentence: what was set, or what could not be and why.
        author: the override's author (``arm`` only), logged with the AUDIT line.
    """

    ok: bool
    action: str
    groups: list[str]
    changed: list[str]
    reason: str
    author: NotRequired[str]


@dataclass(frozen=True, kw_only=True)
class HotfixTarget:
    """One copy's deployment group (the parsed :class:`~.contract.HotfixGroup`).

    Attributes:
        region: the copy's region.
        application: its CodeDeploy application.
        deployment_group: its deployment group.
        own_alarms: the copy's own alarms a hotfix lifts in the bake.
        role_arn: the role to assume to read the group (the bake): the account's gate-reader
            role. Default: None, the function's own credentials.
    """

    region: str
    application: str
    deployment_group: str
    own_alarms: tuple[str, ...]
    role_arn: str | None = None

    @property
    def writer_role_arn(self) -> str | None:
        """The role :func:`set_hotfix` reads and updates the group with: the same account's
        writer role beside the gate-reader (:func:`~.contract.hotfix_writer_role_arn`), else
        ``role_arn`` itself."""
        return hotfix_writer_role_arn(self.role_arn) or self.role_arn

    @property
    def where(self) -> str:
        """``<application>/<group> in <region>``."""
        return f"{self.application}/{self.deployment_group} in {self.region}"


def parse_hotfix_groups(raw: object) -> list[HotfixTarget]:
    """Validate the ``hotfix_groups`` list.

    Raises:
        GateConfigError: naming the offending field, e.g. ``hotfix_groups[0].application``.
    """
    if not isinstance(raw, list):
        raise GateConfigError("hotfix_groups", f"expected a list of deployment groups, got {_kind(raw)}")
    return [_parse_one(item, f"hotfix_groups[{i}]") for i, item in enumerate(raw)]


def _parse_one(raw: object, field: str) -> HotfixTarget:
    if not isinstance(raw, Mapping):
        raise GateConfigError(field, f"expected an object, got {_kind(raw)}")
    unknown = sorted(str(k) for k in raw if k not in _KEYS)
    if unknown:
        raise GateConfigError(
            f"{field}.{unknown[0]}", f"unknown key; expected one of {', '.join(sorted(_KEYS))}"
        )
    region = raw.get("region")
    if not isinstance(region, str) or not _REGION.match(region):
        raise GateConfigError(f"{field}.region", f"{region!r} is not an AWS region name such as 'us-east-1'")
    names = {}
    for key, what in (("application", "CodeDeploy application"), ("deployment_group", "deployment group")):
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            raise GateConfigError(f"{field}.{key}", f"expected the copy's {what} name, got {value!r}")
        names[key] = value
    role_arn = raw.get("role_arn")
    if role_arn is not None and (not isinstance(role_arn, str) or not role_arn.startswith("arn:")):
        raise GateConfigError(f"{field}.role_arn", f"expected an IAM role ARN, got {role_arn!r}")
    own = raw.get("own_alarms")
    if not isinstance(own, list) or not all(isinstance(a, str) and a for a in own):
        raise GateConfigError(f"{field}.own_alarms", f"expected a list of alarm names, got {own!r}")
    return HotfixTarget(
        region=region,
        application=names["application"],
        deployment_group=names["deployment_group"],
        own_alarms=tuple(own),
        role_arn=role_arn,
    )


def _kind(raw: object) -> str:
    return "nothing" if raw is None else type(raw).__name__


def set_hotfix(
    action: object,
    groups: object,
    client_factory: ClientFactory,
    *,
    pipeline: str,
    stage: str,
    execution_id: str,
    author: str = "unknown",
    why: str = "",
    deadline: float = READ_DEADLINE_SECONDS,
) -> HotfixResult:
    """Turn every group's alarm configuration off (``arm``) or on (``disarm``, ``restore``).
    Never raises.

    Args:
        action: ``"arm"``, ``"disarm"`` or ``"restore"``.
        groups: the raw ``hotfix_groups`` list.
        client_factory: returns a CodeDeploy client for ``(region, role_arn)``.
        pipeline: the pipeline, named in the reason.
        stage: the stage, named likewise.
        execution_id: the pipeline execution, named likewise.
        author: who wrote the hotfix override (its audited AWS identity). Default: "unknown".
        why: the override's why. Default: empty.
        deadline: seconds to wait for all the groups, set side by side. Default:
            :data:`~.gate_common.READ_DEADLINE_SECONDS`.
    """
    if action not in _ACTIONS:
        return _invalid(f"hotfix event invalid: action: expected one of arm, disarm, restore, got {action!r}")
    try:
        targets = parse_hotfix_groups(groups)
    except GateConfigError as exc:
        return _invalid(f"hotfix event invalid: {exc}", action=str(action))
    if action == "arm" and not targets:
        return {
            "ok": False,
            "action": "arm",
            "groups": [],
            "changed": [],
            "reason": f"cannot apply a hotfix at {stage}: no CodeDeploy deployment group is configured, so "
            "CodeDeploy would still roll back on the copies' own alarms — blocking",
        }
    enabled = action != "arm"
    outcomes = read_each(
        [functools.partial(_set, t, enabled, client_factory) for t in targets], deadline=deadline
    )
    names = [t.where for t in targets]
    changed: list[str] = []
    failures = []
    for target, outcome in zip(targets, outcomes, strict=True):
        try:
            updated = outcome.get()
        except Exception as failure:  # fail closed: a group left as it was stops the gate or bake
            if enabled and error_code(failure) in MISSING_GROUP_CODES:
                continue  # not created yet (first deployment to its region): nothing to turn on
            state = "on" if enabled else "off"
            failures.append(
                f"deployment group {target.where}: alarm rollback could not be turned {state} "
                f"({error_code(failure)}): {describe_error(failure)}"
            )
            continue
        if updated:
            changed.append(target.where)
    if failures and action == "arm" and changed:
        # Fail closed, all or nothing: the gate does not deploy, so no group may stay off.
        changed, undone = _undo_arm(
            [t for t in targets if t.where in changed],
            client_factory,
            deadline=deadline,
            audit={"pipeline": pipeline, "stage": stage, "execution_id": execution_id, "author": author},
        )
        reason = "; ".join(failures) + undone
    elif failures:
        reason = "; ".join(failures)
    elif action == "arm":
        reason = (
            f"hotfix by {author} for {pipeline} {stage}, execution {execution_id}: CodeDeploy alarm "
            f"rollback off on {len(names)} deployment group(s)" + (f" ({why})" if why else "")
        )
    elif changed:
        how = "after the bake" if action == "restore" else "left over from an earlier hotfix"
        reason = (
            f"CodeDeploy alarm rollback turned back on ({how}) at {stage}, execution {execution_id}: "
            + ", ".join(changed)
        )
    else:
        reason = (
            f"CodeDeploy alarm rollback on at {stage}, execution {execution_id} ({action}): "
            f"{len(names)} deployment group(s), none changed"
        )
    result: HotfixResult = {
        "ok": not failures,
        "action": str(action),
        "groups": names,
        "changed": changed,
        "reason": reason,
    }
    if action == "arm":
        result["author"] = author
    return result


def _undo_arm(
    turned_off: list[HotfixTarget],
    client_factory: ClientFactory,
    *,
    deadline: float,
    audit: Mapping[str, str],
) -> tuple[list[str], str]:
    """Turn back on the groups a failed ``arm`` turned off (best effort, side by side), one
    ``AUDIT`` line per group turned back on, one ``ERROR`` line per group that could not be.

    Returns:
        The groups still off (could not be turned back on), and the sentence the failure reason
        ends with.
    """
    outcomes = read_each(
        [functools.partial(_set, t, True, client_factory) for t in turned_off], deadline=deadline
    )
    restored: list[str] = []
    left_off: list[str] = []
    problems: list[str] = []
    for target, outcome in zip(turned_off, outcomes, strict=True):
        try:
            outcome.get()
        except Exception as failure:
            left_off.append(target.where)
            problem = f"{target.where} ({error_code(failure)}): {describe_error(failure)}"
            problems.append(problem)
            log(
                "ERROR",
                f"hotfix not applied: CodeDeploy alarm rollback could NOT be turned back on for {problem}",
                gate="hotfix",
                action="arm",
                group=target.where,
                **audit,
            )
            continue
        restored.append(target.where)
        log(
            "AUDIT",
            f"hotfix not applied: CodeDeploy alarm rollback turned back on for {target.where}",
            gate="hotfix",
            action="arm",
            group=target.where,
            **audit,
        )
    parts = []
    if restored:
        parts.append(
            " — hotfix not applied: CodeDeploy alarm rollback turned back on for the group(s) this "
            "call had turned off: " + ", ".join(restored)
        )
    if problems:
        parts.append(
            " — and CodeDeploy alarm rollback could NOT be turned back on (still off) for: "
            + "; ".join(problems)
        )
    return left_off, "".join(parts)


def _set(target: HotfixTarget, enabled: bool, client_factory: ClientFactory) -> bool:
    """Make the group's alarm configuration ``enabled``; True iff it had to be updated."""
    client = client_factory(target.region, target.writer_role_arn)
    info = client.get_deployment_group(
        applicationName=target.application, deploymentGroupName=target.deployment_group
    )["deploymentGroupInfo"]
    config = info.get("alarmConfiguration") or {}
    alarms = [{"name": a["name"]} for a in config.get("alarms") or [] if a.get("name")]
    if config.get("enabled", False) is enabled or (enabled and not alarms):
        return False  # already so, or no alarm to turn on (CodeDeploy watches none either way)
    # Only alarmConfiguration is sent: UpdateDeploymentGroup changes what it is given. The alarm
    # list and ignorePollAlarmFailure are sent back as read (the structure is replaced whole).
    client.update_deployment_group(
        applicationName=target.application,
        currentDeploymentGroupName=target.deployment_group,
        alarmConfiguration={
            "enabled": enabled,
            "ignorePollAlarmFailure": bool(config.get("ignorePollAlarmFailure", False)),
            "alarms": alarms,
        },
    )
    return True


def alarm_rollback_off(target: HotfixTarget, client_factory: ClientFactory) -> bool:
    """True iff the group exists and its alarm configuration is off (read with
    ``GetDeploymentGroup``). A missing group is False; any other error raises."""
    client = client_factory(target.region, target.role_arn)
    try:
        info = client.get_deployment_group(
            applicationName=target.application, deploymentGroupName=target.deployment_group
        )["deploymentGroupInfo"]
    except Exception as failure:
        if error_code(failure) in MISSING_GROUP_CODES:
            return False
        raise
    config = info.get("alarmConfiguration") or {}
    return config.get("enabled") is False


def _invalid(reason: str, action: str = "invalid") -> HotfixResult:
    """The fail-closed result."""
    return {"ok": False, "action": action, "groups": [], "changed": [], "reason": reason}


def _text(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise GateConfigError(key, f"expected a non-empty string, got {value!r}")
    return value


OVERRIDE_PARAMETER = "/hands-off/{pipeline}/override"
"""The only override parameter ``arm`` reads: the event's pipeline's own."""

_SHARED_ROLE_FUNCTION = re.compile(r"hands-off-(?P<service>[a-z0-9][a-z0-9-]*)-hotfix")
"""The name of a pipeline's hotfix function that runs as the tooling account and region's shared
hotfix role (``hands_off.stacks.GateRoles``): ``hands-off-<service>-hotfix``."""


def foreign_groups(groups: object, function_name: str | None) -> list[str]:
    """The role ARNs in ``groups`` (the event's raw ``groups``) that are not this service's
    gate-reader, when the function is ``hands-off-<service>-hotfix`` (shared roles); else none.

    Every pipeline's hotfix function runs as the one shared role, and each target account's
    writer role trusts only its own service's function session: a group of another service
    would fail at its ``AssumeRole`` anyway. Refusing it here, before any call, makes the
    function fail closed with the reason instead (and holds if a trust policy were ever wider).
    """
    match = _SHARED_ROLE_FUNCTION.fullmatch(function_name or "")
    if match is None or not isinstance(groups, list):
        return []
    own = f":role/hands-off-{match['service']}-{READER_ROLE_PURPOSE}"
    found = []
    for group in groups:
        role_arn = group.get("role_arn") if isinstance(group, Mapping) else None
        if not isinstance(role_arn, str) or not role_arn.endswith(own):
            found.append(str(role_arn))
    return found


def _level(result: HotfixResult) -> str:
    if not result["ok"]:
        return "ERROR"
    if result["action"] == "disarm" and not result["changed"]:
        return "INFO"
    return "AUDIT"  # arming, restoring, and turning a leftover hotfix off


@gate_handler(
    "hotfix",
    on_error=_invalid,
    clients=("codedeploy", "ssm"),
    # Anyone allowed to invoke it could send an old "now" and revive an expired override.
    event_now=False,
    level=_level,
    log_fields=("pipeline", "stage", "execution_id", "action"),
)
def handler(
    event: Mapping[str, Any], *, now: datetime, codedeploy: ClientFactory, ssm: ClientFactory
) -> HotfixResult:
    """Lambda entry point: see the module docstring for the event. Arming, restoring and turning
    a leftover hotfix off log at ``AUDIT`` level (with the override's author when arming)."""
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    action = event.get("action")
    foreign = foreign_groups(event.get("groups"), function_name)
    if foreign:
        return _invalid(
            f"{function_name} may change only its own service's deployment groups; refusing groups "
            f"reached through {', '.join(foreign)}: nothing changed",
            action if isinstance(action, str) else "invalid",
        )
    pipeline, stage = _text(event, "pipeline"), _text(event, "stage")
    execution_id = _text(event, "execution_id")
    author, why = "unknown", ""
    if action == "arm":
        override = _hotfix_override(
            event, function_name, ssm, now, pipeline=pipeline, stage=stage, execution_id=execution_id
        )
        if isinstance(override, str):
            where = f"{pipeline} {stage}, execution {execution_id}"
            return _invalid(f"hotfix not applied at {where}: {override}: nothing changed", "arm")
        author, why = override["author"], override.get("why", "")
    return set_hotfix(
        action,
        event.get("groups"),
        codedeploy,
        pipeline=pipeline,
        stage=stage,
        execution_id=execution_id,
        author=author,
        why=why,
    )


def _hotfix_override(
    event: Mapping[str, Any],
    function_name: str | None,
    ssm: ClientFactory,
    now: datetime,
    *,
    pipeline: str,
    stage: str,
    execution_id: str,
) -> OverrideResult | str:
    """The active ``hotfix`` override for this stage and execution, read from the pipeline's
    override parameter (:func:`~.override.read_override`: its author is the parameter's audited
    writer), or why there is none. The event's own ``override`` is never trusted: a direct
    invocation could make one up."""
    expected = OVERRIDE_PARAMETER.format(pipeline=pipeline)
    parameter = event.get("override_parameter")
    if parameter != expected:
        return f"override_parameter: expected the pipeline's own {expected!r}, got {parameter!r}"
    match = _SHARED_ROLE_FUNCTION.fullmatch(function_name or "")
    if match is not None and pipeline != f"{match['service']}-application":
        return f"{function_name} may arm only {match['service']}-application, not {pipeline}"
    override = read_override(
        parameter,
        ssm(None, None),
        now,
        stage=stage,
        execution_id=execution_id,
        max_hours=event.get("override_max_hours", DEFAULT_OVERRIDE_MAX_HOURS),
    )
    if not override["active"]:
        return f"no active hotfix override in {parameter} ({override['reason']})"
    if HOTFIX_KIND not in override.get("scope", []):
        return f"{parameter} is not a {HOTFIX_KIND!r} override ({override['reason']})"
    if override.get("execution_id") != execution_id:
        return f"{parameter} is not bound to execution {execution_id} ({override['reason']})"
    return override
