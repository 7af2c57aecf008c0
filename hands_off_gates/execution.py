"""Is this pipeline execution a rollback? (P13 with X4's ``OnFailure: ROLLBACK``.)

A stage rollback re-runs the stage's actions with the last good artifacts, gate and bake
included. The alarm that caused the rollback is usually still firing, so a gate would block the
very rollback meant to clear it. The gate and bake state machines ask this first and let a
rollback through. Anything unreadable counts as *not* a rollback, so the normal checks apply
(fail closed).

Event: ``{"pipeline": str, "execution_id": str}`` ->
``{"rollback": bool, "execution_type": str, "reason": str}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict

from .gate_common import ClientFactory, describe_error
from .handler import gate_handler

__all__ = ["ExecutionResult", "classify", "handler"]


class ExecutionResult(TypedDict):
    """What the execution check returns.

    Attributes:
        rollback: True iff the execution is a rollback (the gate and bake then let it through).
        execution_type: CodePipeline's ``executionType`` (``"STANDARD"``, ``"ROLLBACK"``), or
            ``"UNKNOWN"`` when it could not be read.
        reason: one sentence saying what was found.
    """

    rollback: bool
    execution_type: str
    reason: str


def classify(pipeline: object, execution_id: object, client: Any) -> ExecutionResult:
    """Ask CodePipeline what kind of execution ``execution_id`` is (pure but for ``client``).

    Args:
        pipeline: the pipeline's name.
        execution_id: the pipeline execution's id; an unresolved ``#{...}`` variable counts as none.
        client: a CodePipeline client.

    Returns:
        The result; anything unreadable is not a rollback.
    """
    if not isinstance(pipeline, str) or not pipeline or not isinstance(execution_id, str):
        return {"rollback": False, "execution_type": "UNKNOWN", "reason": "no pipeline execution given"}
    if not execution_id or execution_id.startswith("#{"):
        return {"rollback": False, "execution_type": "UNKNOWN", "reason": "execution id not resolved"}
    try:
        execution = client.get_pipeline_execution(pipelineName=pipeline, pipelineExecutionId=execution_id)
    except Exception as exc:  # fail closed: unknown means the normal checks apply
        return {
            "rollback": False,
            "execution_type": "UNKNOWN",
            "reason": f"cannot read execution {execution_id} ({describe_error(exc)}); checking as usual",
        }
    details = execution.get("pipelineExecution", {}) if isinstance(execution, dict) else {}
    details = details if isinstance(details, dict) else {}
    kind = str(details.get("executionType", "STANDARD"))
    trigger = details.get("trigger")
    trigger_type = trigger.get("triggerType") if isinstance(trigger, dict) else None
    if kind == "ROLLBACK" and trigger_type == "AutomatedRollback":
        return {
            "rollback": True,
            "execution_type": kind,
            "reason": f"execution {execution_id} is the stage's automatic rollback (OnFailure): "
            "never blocked",
        }
    if kind == "ROLLBACK":
        # RollbackStage may target ANY earlier successful execution: old code ships like new code,
        # through the gate (or an audited override), never around it.
        how = "a manual rollback" if trigger_type == "ManualRollback" else f"a rollback ({trigger_type})"
        return {
            "rollback": False,
            "execution_type": kind,
            "reason": f"execution {execution_id} is {how}: checked like any deployment",
        }
    return {"rollback": False, "execution_type": kind, "reason": f"execution {execution_id} is {kind}"}


def _unknown(reason: str) -> ExecutionResult:
    """The fail-closed result: not a rollback, so the normal checks apply."""
    return {"rollback": False, "execution_type": "UNKNOWN", "reason": reason}


@gate_handler(
    "execution",
    on_error=_unknown,
    clients=("codepipeline",),
    level=lambda result: "AUDIT" if result["rollback"] else "INFO",
)
def handler(event: Mapping[str, Any], *, now: datetime, codepipeline: ClientFactory) -> ExecutionResult:
    """Lambda entry point: ``{"pipeline", "execution_id"}`` -> ``ExecutionResult``."""
    return classify(event.get("pipeline"), event.get("execution_id"), codepipeline(None, None))
