"""Is this pipeline execution a rollback? (P13 with X4's ``OnFailure: ROLLBACK``.)

A stage rollback re-runs the stage's actions with the last good artifacts, gate and bake
included. The alarm that caused the rollback is usually still firing, so a gate would block the
very rollback meant to clear it. The gate and bake state machines ask this first and let a
rollback through. Anything unreadable counts as *not* a rollback, so the normal checks apply
(fail closed).

Event: ``{"pipeline": str, "execution_id": str}`` -> ``{"rollback": bool, "reason": str}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from .gate_common import describe_error, log

_CODEPIPELINE: Any = None


class ExecutionResult(TypedDict):
    rollback: bool
    execution_type: str
    reason: str


def classify(pipeline: object, execution_id: object, client: Any) -> ExecutionResult:
    """Ask CodePipeline what kind of execution ``execution_id`` is (pure but for ``client``)."""
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
    kind = str(execution.get("pipelineExecution", {}).get("executionType", "STANDARD"))
    if kind == "ROLLBACK":
        return {
            "rollback": True,
            "execution_type": kind,
            "reason": f"execution {execution_id} is a rollback to the last good version: never blocked",
        }
    return {"rollback": False, "execution_type": kind, "reason": f"execution {execution_id} is {kind}"}


def handler(event: Any, context: object) -> ExecutionResult:
    """Lambda entry point."""
    global _CODEPIPELINE
    if _CODEPIPELINE is None:
        import boto3

        _CODEPIPELINE = boto3.client("codepipeline")
    event = event if isinstance(event, Mapping) else {}
    result = classify(event.get("pipeline"), event.get("execution_id"), _CODEPIPELINE)
    log("AUDIT" if result["rollback"] else "INFO", result["reason"], gate="execution", **result)
    return result
