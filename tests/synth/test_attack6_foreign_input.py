"""Attack (shared gate roles): the machines' role now may read every pipeline's gate inputs in the
tooling account and region, so a pipeline's action that names ANOTHER pipeline's input (with its
correct digest: the other pipeline's template is no secret) must not get that input used.

Before the own-input check, the orders machines ran catalog's input as if it were theirs (its
alarms, window and hotfix groups): moto does not enforce IAM, and with the shared role neither
would AWS. These tests failed then.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Template

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the gate execution harness
import test_gate_execution as tge
from test_gate_execution import local_aws, pipeline_template  # noqa: F401  (fixtures)

from hands_off_gates.contract import CHECK_MODULES  # noqa: F401  (the harness's handlers)


@pytest.fixture(scope="module")
def catalog_template(fleet: Any) -> dict[str, Any]:
    return dict(Template.from_stack(fleet.pipeline("catalog")).to_json())


def _states_entered(execution_arn: str) -> set[str]:
    history = boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
    return {e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(("kind", "machine"), [("Gate", "Gate"), ("Bake", "Gate"), ("Bake", "Bake")])
def test_a_machine_refuses_another_pipelines_input_even_with_its_digest(
    pipeline_template: dict[str, Any],  # noqa: F811
    catalog_template: dict[str, Any],
    kind: str,
    machine: str,
) -> None:
    """Orders' gate (or bake) machine started with catalog's Prod-2 input, stored where catalog's
    pipeline stores it, with the digest that matches it: fails closed (paged error), and no
    check, watch or hotfix runs on it."""
    foreign = tge.action_input(catalog_template, "Prod-2", f"Prod-2-{kind}")
    assert foreign["pipeline"] == "catalog-application"
    tge.create_alarms(foreign.get("app_checks", foreign.get("checks", [])))
    changes: dict[str, Any] = {"window": tge.ALWAYS_OPEN} if kind == "Gate" else {"bake_seconds": 1}
    pointer = tge.store(tge.fast(foreign, **changes))
    assert pointer["config_parameter"] == f"/hands-off/catalog-application/gates/Prod-2-{kind}"

    result = tge.run(tge.machine(pipeline_template, machine), {}, pointer=pointer)

    assert result["status"] == "FAILED", result
    assert result["error"] == "GateInputTampered"
    assert "not one of the inputs of pipeline orders-application" in result["cause"]
    entered = _states_entered(result["executionArn"])
    assert f"{machine}InputNotOwn" in entered
    assert not entered & {f"{machine}LoadConfig", "CheckAll", "Watch", "ArmHotfix", f"{machine}Start"}


@pytest.mark.usefixtures("local_aws")
def test_restore_refuses_another_pipelines_input(
    pipeline_template: dict[str, Any],  # noqa: F811
    catalog_template: dict[str, Any],
) -> None:
    """Orders' Restore started with the ended-early event of an execution whose input is
    catalog's: acts on nothing (catalog's groups stay as they are) and fails with a paged error."""
    foreign = tge.action_input(catalog_template, "Prod-2", "Prod-2-Gate")
    groups = foreign["hotfix_groups"]
    tge.create_groups(groups, enabled=False)
    pointer = tge.store(foreign)
    event = {
        "detail": {
            "input": json.dumps(pointer),
            "executionArn": "arn:aws:states:us-east-1:111111111111:execution:hands-off-gate:x",
        }
    }
    calls = len(tge.CODEDEPLOY.calls)

    result = tge.run(tge.machine(pipeline_template, "Restore"), {}, pointer=event)

    assert result["status"] == "FAILED", result
    assert result["error"] == "GateInputUnverified"
    assert "not one of the inputs of pipeline orders-application" in result["cause"]
    assert tge.CODEDEPLOY.calls[calls:] == []
    assert tge.groups_enabled(groups) == [False] * len(groups)


@pytest.mark.usefixtures("local_aws")
def test_its_own_input_still_runs(pipeline_template: dict[str, Any]) -> None:  # noqa: F811
    """The check lets the pipeline's own inputs through (the gate runs and succeeds)."""
    own = tge.action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
    tge.create_alarms(own["app_checks"])
    result = tge.run(tge.machine(pipeline_template, "Gate"), tge.fast(own, window=tge.ALWAYS_OPEN))
    assert result["status"] == "SUCCEEDED", result
    assert "GateOwnInput?" in _states_entered(result["executionArn"])
