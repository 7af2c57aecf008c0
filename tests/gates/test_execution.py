"""Rollback executions pass the gates; anything unreadable is checked as usual (fail closed)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from hands_off_gates.execution import classify


class FakeCodePipeline:
    def __init__(self, response: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.response, self.error, self.calls = response, error, []  # type: ignore[var-annotated]

    def get_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        assert self.response is not None
        return self.response


def _rollback(trigger: str | None) -> dict[str, Any]:
    execution: dict[str, Any] = {"executionType": "ROLLBACK"}
    if trigger is not None:
        execution["trigger"] = {"triggerType": trigger}
    return {"pipelineExecution": execution}


def test_rollback_execution_is_let_through() -> None:
    """OnFailure: ROLLBACK starts an AutomatedRollback: the alarm that caused it must not block it."""
    client = FakeCodePipeline(_rollback("AutomatedRollback"))
    result = classify("orders-application", "abc-123", client)
    assert result["rollback"] is True
    assert client.calls == [{"pipelineName": "orders-application", "pipelineExecutionId": "abc-123"}]


def test_standard_execution_is_checked() -> None:
    result = classify(
        "orders-application", "abc", FakeCodePipeline({"pipelineExecution": {"executionType": "STANDARD"}})
    )
    assert result == {"rollback": False, "execution_type": "STANDARD", "reason": "execution abc is STANDARD"}


def test_unreadable_execution_is_checked_as_usual() -> None:
    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetPipelineExecution")
    result = classify("orders-application", "abc", FakeCodePipeline(error=error))
    assert result["rollback"] is False
    assert "AccessDenied" in result["reason"]


def test_unresolved_or_missing_execution_id_is_checked_as_usual() -> None:
    client = FakeCodePipeline({"pipelineExecution": {"executionType": "ROLLBACK"}})
    assert classify("orders-application", "#{codepipeline.PipelineExecutionId}", client)["rollback"] is False
    assert classify("orders-application", None, client)["rollback"] is False
    assert classify(None, "abc", client)["rollback"] is False
    assert client.calls == []


def test_a_manual_rollback_is_checked_like_any_deployment() -> None:
    """Anyone with codepipeline:RollbackStage may roll a stage back to ANY earlier successful
    execution: that ships old code and must pass the gate (or an audited override), not skip it."""
    result = classify("orders-application", "abc-123", FakeCodePipeline(_rollback("ManualRollback")))
    assert result["rollback"] is False
    assert "manual rollback" in result["reason"]


def test_a_rollback_that_does_not_say_what_triggered_it_is_checked() -> None:
    result = classify("orders-application", "abc-123", FakeCodePipeline(_rollback(None)))
    assert result["rollback"] is False
