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


def test_rollback_execution_is_let_through() -> None:
    client = FakeCodePipeline({"pipelineExecution": {"executionType": "ROLLBACK"}})
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
