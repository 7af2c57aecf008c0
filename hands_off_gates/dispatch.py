"""The one Lambda handler behind the six gate checks (:data:`~.contract.CHECK_MODULES`).

The gate and bake machines invoke one function for ``alarms``, ``time_window``, ``override``,
``decide``, ``bake`` and ``execution`` (they share a role, a package and their settings: one
function and one log group instead of six). Each task's payload names its module in
:data:`~.contract.CHECK_FUNCTION_KEY`; :func:`handler` removes that field and calls the module's
own handler, which fails closed as it always did (:mod:`.handler`). ``hotfix`` is not served here:
it is the one that changes CodeDeploy deployment groups, and has a function of its own.

An event that names no module, or one this function does not serve, raises
:class:`UnknownGateFunction`: Lambda reports the error, no retry helps (it is not one of the
retried Lambda errors), and the state machine's catch turns it into a blocked check or an
unreadable bake poll, as any failed check is. The module is imported on first use (a cold start
loads only the module it runs) and looked up on every call, as Lambda would load it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .contract import CHECK_FUNCTION_KEY, CHECK_MODULES

__all__ = ["UnknownGateFunction", "handler"]


class UnknownGateFunction(ValueError):
    """The event does not name one of the gate modules this function serves."""


def handler(event: Any, context: object) -> Any:
    """Run the gate module the event names in :data:`~.contract.CHECK_FUNCTION_KEY` on the rest of
    the event.

    Raises:
        UnknownGateFunction: the event is not a JSON object, or names no module of
            :data:`~.contract.CHECK_MODULES`.
    """
    name = event.get(CHECK_FUNCTION_KEY) if isinstance(event, Mapping) else None
    if name not in CHECK_MODULES:
        raise UnknownGateFunction(
            f"gate event field {CHECK_FUNCTION_KEY!r} is {name!r}: expected one of "
            f"{', '.join(CHECK_MODULES)} (the state machine names the check it runs); failing closed"
        )
    module = importlib.import_module(f"{__package__}.{name}")
    return module.handler({k: v for k, v in event.items() if k != CHECK_FUNCTION_KEY}, context)
