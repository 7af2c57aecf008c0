"""The one Lambda handler behind the six gate checks (:data:`~.contract.CHECK_MODULES`).

The gate and bake machines invoke one function for ``alarms``, ``time_window``, ``override``,
``decide``, ``bake`` and ``execution`` (they share a role, a package and their settings: one
function and one log group instead of six). Each task's payload names its module in
:data:`~.contract.CHECK_FUNCTION_KEY`; :func:`handler` removes that field and calls the module's
own handler, which fails closed as it always did (:mod:`.handler`). ``hotfix`` is not served here:
it is the one that changes CodeDeploy deployment groups, and has a function of its own.

A function named ``hands-off-<service>-gates`` runs as the tooling account and region's shared
checker role (``hands_off.stacks.GateRoles``), which may read every pipeline's override and
executions: it serves only its own pipeline's (``<service>-application``) and raises
:class:`ForeignGateEvent` for an event naming another pipeline or another pipeline's override
parameter (:func:`foreign_fields`), before any module runs. The state machines only ever send their
own pipeline's: this stops a direct invocation from reading another team's override.

An event that names no module, or one this function does not serve, raises
:class:`UnknownGateFunction`: Lambda reports the error, no retry helps (it is not one of the
retried Lambda errors), and the state machine's catch turns it into a blocked check or an
unreadable bake poll, as any failed check is. The module is imported on first use (a cold start
loads only the module it runs) and looked up on every call, as Lambda would load it.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from typing import Any

from .contract import CHECK_FUNCTION_KEY, CHECK_MODULES

__all__ = ["ForeignGateEvent", "UnknownGateFunction", "foreign_fields", "handler"]

_SHARED_ROLE_FUNCTION = re.compile(r"hands-off-(?P<service>[a-z0-9][a-z0-9-]*)-gates")
"""The name of a pipeline's checks function that runs as the shared checker role."""


class UnknownGateFunction(ValueError):
    """The event does not name one of the gate modules this function serves."""


class ForeignGateEvent(ValueError):
    """The event names another pipeline (or its override) than this function's own."""


def foreign_fields(event: Mapping[str, Any], function_name: str | None) -> list[str]:
    """The fields of ``event`` that name another pipeline than the function's own, when the
    function is ``hands-off-<service>-gates`` (its pipeline is ``<service>-application``, its
    override ``/hands-off/<service>-application/override``); else none."""
    match = _SHARED_ROLE_FUNCTION.fullmatch(function_name or "")
    if match is None:
        return []
    pipeline = f"{match['service']}-application"
    own = {"pipeline": pipeline, "parameter_name": f"/hands-off/{pipeline}/override"}
    return [f"{key} {event[key]!r}" for key, value in own.items() if key in event and event[key] != value]


def handler(event: Any, context: object) -> Any:
    """Run the gate module the event names in :data:`~.contract.CHECK_FUNCTION_KEY` on the rest of
    the event.

    Raises:
        UnknownGateFunction: the event is not a JSON object, or names no module of
            :data:`~.contract.CHECK_MODULES`.
        ForeignGateEvent: the event names another pipeline or its override (see
            :func:`foreign_fields`).
    """
    name = event.get(CHECK_FUNCTION_KEY) if isinstance(event, Mapping) else None
    if name not in CHECK_MODULES:
        raise UnknownGateFunction(
            f"gate event field {CHECK_FUNCTION_KEY!r} is {name!r}: expected one of "
            f"{', '.join(CHECK_MODULES)} (the state machine names the check it runs); failing closed"
        )
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    foreign = foreign_fields(event, function_name)
    if foreign:
        raise ForeignGateEvent(
            f"{function_name} serves its own pipeline only; the event names {', '.join(foreign)}: "
            "failing closed"
        )
    module = importlib.import_module(f"{__package__}.{name}")
    return module.handler({k: v for k, v in event.items() if k != CHECK_FUNCTION_KEY}, context)
