# ruff: noqa: F811  (the fixtures of test_gate_execution are imported by name)
"""Attack review of the ``Restore`` machine (a hotfix's CodeDeploy alarm rollback turned back
on when a bake or gate ends without doing it), against the synthesized machines run by moto with
the real handlers and the template's EventBridge rules (every rule, matched with moto's
EventPattern). Every test asserts the SAFE behaviour: F1..F4 are the review's findings."""

from __future__ import annotations

import collections
import hashlib
import importlib
import importlib.util
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_gate_execution as tge
from test_gate_execution import local_aws, pipeline_template  # noqa: F401  (fixtures)

from hands_off.model.gates import (
    BAKE_EVENTS_PER_POLL,
    BAKE_TIMEOUT_SECONDS,
    HISTORY_EVENT_LIMIT,
    MAX_BAKE_POLLS,
)
from hands_off_gates.contract import UNREADABLE_POLL_LIMIT

# tests/gates has a test_hotfix_attack too: this directory's, by its path (its helpers reused)
_spec = importlib.util.spec_from_file_location(
    "synth_test_hotfix_attack", Path(__file__).with_name("test_hotfix_attack.py")
)
assert _spec is not None
assert _spec.loader is not None
tha = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tha)

SHORTEST_POLL = 109  # what GatePolicy accepts with bake_min_requests (README)


class _AllRules(tha._EventBridge):
    """The repo's EventBridge harness, but every rule of the template (not only aws.states)."""

    def rules(self) -> dict[str, dict[str, Any]]:
        return {
            k: r["Properties"]
            for k, r in self.template["Resources"].items()
            if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
        }


# ---------------------------------------------------------------- F1: FAILED by Step Functions itself
@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            "States.DataLimitExceeded",
            "The state/task 'Watch' returned a result with a size exceeding the maximum number of bytes "
            "service limit.",
        ),
        ("States.Runtime", "The execution reached the maximum number of history events (25000)."),
    ],
)
def test_a_bake_failed_by_step_functions_itself_restores_and_pages(
    pipeline_template: dict[str, Any], error: str, cause: str
) -> None:
    """F1: a bake FAILED by Step Functions itself (history limit; a result over 256 KiB, which
    States.ALL does not catch) never reaches RestoreHotfix: it must restore and page."""
    groups = tha._arm(pipeline_template)
    bridge = _AllRules(pipeline_template)
    execution_arn, _, _ = tha._stopped_bake(pipeline_template, bridge)  # a real bake mid-hotfix
    event = bridge.status_event(execution_arn, "FAILED")
    event["detail"]["error"], event["detail"]["cause"] = error, cause

    matched = bridge.deliver(event)
    for started in bridge.started:
        assert bridge.finish(started)["status"] == "SUCCEEDED"

    assert bridge.pages, f"a bake that FAILED with {error} paged nobody (rules matched: {matched})"
    [(_, page)] = bridge.pages
    assert (page["Error"], page["Cause"]) == (error, cause)
    assert tge.groups_enabled(groups) == [True] * len(groups), (
        f"a bake that FAILED with {error} left CodeDeploy alarm rollback off"
    )


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(("error", "pages"), [("BakeFailed", False), ("HotfixNotRestored", True)])
def test_a_failed_bake_is_restored_again_and_pages_once_at_most(
    pipeline_template: dict[str, Any], error: str, pages: bool
) -> None:
    """The bake's own failures: restored again (idempotent); BakeFailed pages through the
    copies' alarms (not here), a PAGED_ERRORS error pages once (PageFailures), not twice."""
    groups = tha._arm(pipeline_template)
    bridge = _AllRules(pipeline_template)
    execution_arn, _, _ = tha._stopped_bake(pipeline_template, bridge)
    event = bridge.status_event(execution_arn, "FAILED")
    event["detail"]["error"], event["detail"]["cause"] = error, "x"

    bridge.deliver(event)
    [restore] = bridge.started
    assert bridge.finish(restore)["status"] == "SUCCEEDED"
    assert tge.groups_enabled(groups) == [True] * len(groups)
    assert len(bridge.pages) == int(pages)


@pytest.mark.usefixtures("local_aws")
def test_a_bake_watch_result_stays_under_the_step_functions_payload_limit(
    pipeline_template: dict[str, Any],
) -> None:
    """The trigger for States.DataLimitExceeded: enough ``org-critical-*`` alarms in ALARM make
    the Watch result exceed the 256 KiB a state may return (F1 then restores and pages)."""
    bake_input = tha._bake(pipeline_template)
    [check] = bake_input["checks"]
    cloudwatch = tge.cloudwatch_as(check["role_arn"], check["region"])
    for i in range(300):
        tge.put_alarm(cloudwatch, f"org-critical-{i:03d}-" + "x" * 230, "ALARM", reason="r" * 1000)
    tge.create_alarms([{**check, "alarm_name_prefixes": []}])
    bake = importlib.import_module("hands_off_gates.bake")
    keys = ("checks", "traffic", "bake_seconds", "min_requests", "pipeline")
    result = bake.handler(
        {**{k: bake_input[k] for k in keys}, "started_at": "2026-11-27T00:00:00Z", "unreadable_polls": 0},
        None,
    )
    assert result["status"] == "FAILED"
    size = len(json.dumps(result).encode())
    assert size <= 256 * 1024, f"the Watch result is {size} bytes: States.DataLimitExceeded, uncatchable"
    # the first alarms, and how many there were
    assert (len(result["in_alarm"]), result["in_alarm_total"]) == (bake.MAX_LISTED_ALARMS, 300)
    assert result["reason"].startswith("bake failed: ")
    assert result["reason"].endswith("characters)")


@pytest.mark.usefixtures("local_aws")
def test_a_gate_alarm_check_result_stays_under_the_step_functions_payload_limit(
    pipeline_template: dict[str, Any],
) -> None:
    """The gate's twin of the bake's cap: hundreds of ``org-critical-*`` alarms in ALARM made the
    org check's result (and the gate's Parallel output holding the app and org results) exceed
    the 256 KiB a state may return: States.DataLimitExceeded, which no catch catches, failed the
    gate instead of blocking it. The result lists the first alarms and counts them all, and still
    blocks."""
    gate_input = tha._gate(pipeline_template)
    [check, *_] = gate_input["org_checks"]
    cloudwatch = tge.cloudwatch_as(check["role_arn"], check["region"])
    for i in range(300):
        tge.put_alarm(cloudwatch, f"org-critical-{i:03d}-" + "x" * 230, "ALARM", reason="r" * 1000)
    alarms = importlib.import_module("hands_off_gates.alarms")
    result = alarms.handler({"label": "org", "checks": gate_input["org_checks"]}, None)
    assert result["clear"] is False
    size = len(json.dumps(result).encode())
    assert size <= 64 * 1024, f"the org alarms result is {size} bytes: two of them pass 256 KiB"
    assert (len(result["in_alarm"]), result["in_alarm_total"]) == (alarms.MAX_LISTED_ALARMS, 300)
    assert len(result["reasons"]) == alarms.MAX_LISTED_ALARMS + 1
    assert result["reasons"][-1] == f"and {300 - alarms.MAX_LISTED_ALARMS} more org alarm blockers"
    assert result["reasons_total"] == 300


# ---------------------------------------------------------------- F2: stopped after arm, before the bake
def _succeeded_gate(bridge: tha._EventBridge) -> str:
    sfn = boto3.client("stepfunctions")
    [gate_arn] = [
        e["executionArn"]
        for e in sfn.list_executions(stateMachineArn=bridge.machine("Gate"))["executions"]
        if e["status"] == "SUCCEEDED"
    ]
    return gate_arn


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED"])
def test_a_gate_that_ended_after_arming_is_restored(pipeline_template: dict[str, Any], status: str) -> None:
    """F2: a gate stopped while its ArmHotfix Lambda runs (the invocation completes after
    StopExecution) ends ABORTED with the groups off; no bake follows. The gate's own ending
    starts Restore with the gate's input (same verification)."""
    groups = tha._arm(pipeline_template)
    bridge = _AllRules(pipeline_template)
    event = bridge.status_event(_succeeded_gate(bridge), status)
    if status == "FAILED":
        event["detail"]["error"], event["detail"]["cause"] = "States.Runtime", "x"

    bridge.deliver(event)
    [restore] = bridge.started
    assert bridge.finish(restore)["status"] == "SUCCEEDED"
    assert tge.groups_enabled(groups) == [True] * len(groups), f"gate {status}: alarm rollback left off"
    # an operator's stop of a gate does not page (the Restore pages if it cannot restore);
    # a gate that timed out or failed unexpectedly does
    assert len(bridge.pages) == (0 if status == "ABORTED" else 1)


@pytest.mark.usefixtures("local_aws")
def test_a_blocked_gate_starts_no_restore(pipeline_template: dict[str, Any]) -> None:
    bridge = _AllRules(pipeline_template)
    event = {
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": {
            "executionArn": "x",
            "stateMachineArn": bridge.machine("Gate"),
            "name": "e-1",
            "status": "FAILED",
            "input": "{}",
            "error": "DeploymentBlocked",
            "cause": "blocked",
        },
    }
    assert bridge.matching(event) == []


def _stage_event(state: str, stage: str = "Prod-2", pipeline: str = "orders-application") -> dict[str, Any]:
    """CodePipeline's event for ``stage`` of an execution of ``pipeline`` that changed to ``state``."""
    return {
        "version": "0",
        "source": "aws.codepipeline",
        "detail-type": "CodePipeline Stage Execution State Change",
        "detail": {"pipeline": pipeline, "execution-id": tha.EXECUTION, "stage": stage, "state": state},
    }


def _deploy_gate_parameters(template: dict[str, Any]) -> None:
    """The pipeline stack's gate and bake input parameters, as deploying it writes them."""
    ssm = boto3.client("ssm")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::SSM::Parameter" and "/gates/" in resource["Properties"]["Name"]:
            properties = resource["Properties"]
            ssm.put_parameter(
                Name=properties["Name"], Value=properties["Value"], Type="String", Overwrite=True
            )


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize("state", ["STOPPED", "FAILED", "CANCELED"])
def test_a_hotfix_armed_whose_pipeline_was_stopped_before_the_bake_is_restored_or_pages(
    pipeline_template: dict[str, Any], state: str
) -> None:
    """F2 (stage-stop part): the gate armed and SUCCEEDED; the pipeline execution is stopped
    during the deploy actions: no bake, no Step Functions ending to start a Restore. The
    stage's own ending starts one for that stage, from the stage gate's deployed input."""
    groups = tha._arm(pipeline_template)
    # The gates ran with their inputs (waits shortened) stored where the pipeline stores them;
    # the deployed values, which the stage-ended Restore's pointers name, are written after.
    _deploy_gate_parameters(pipeline_template)
    bridge = _AllRules(pipeline_template)
    for event in (bridge.status_event(_succeeded_gate(bridge)), _stage_event(state)):
        bridge.deliver(event)
    [started] = bridge.started  # Prod-2's only
    assert bridge.finish(started)["status"] == "SUCCEEDED"

    assert tge.groups_enabled(groups) == [True] * len(groups)


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(
    "event",
    [
        _stage_event("SUCCEEDED"),
        _stage_event("STARTED"),
        _stage_event("STOPPING"),
        _stage_event("STOPPED", stage="Build"),  # no gate there
        _stage_event("STOPPED", pipeline="catalog-application"),
        {**_stage_event("STOPPED"), "detail-type": "CodePipeline Pipeline Execution State Change"},
    ],
)
def test_a_succeeded_running_ungated_or_other_pipelines_stage_starts_no_restore(
    pipeline_template: dict[str, Any], event: dict[str, Any]
) -> None:
    bridge = _AllRules(pipeline_template)
    assert [r for r in bridge.matching(event) if "RestoreStageEnded" in r] == []


GATED_STAGES = ["Gamma", "Prod-1", "Prod-2", "Prod-3", "Prod-4"]


def _stage_rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"]["EventPattern"].get("source") == ["aws.codepipeline"]
    }


@pytest.mark.usefixtures("local_aws")
def test_one_rule_matches_every_gated_stage_and_no_other(pipeline_template: dict[str, Any]) -> None:
    """One rule per pipeline (not one per gated stage), on the gated stages only."""
    [(logical_id, rule)] = _stage_rules(pipeline_template).items()
    assert re.fullmatch(r"GatesRestoreStageEnded[0-9A-F]{8}", logical_id)
    assert rule["EventPattern"]["detail"]["stage"] == GATED_STAGES
    bridge = _AllRules(pipeline_template)
    for stage in GATED_STAGES:
        assert [
            r for r in bridge.matching(_stage_event("FAILED", stage=stage)) if "RestoreStageEnded" in r
        ] == [logical_id]
    assert [
        r for r in bridge.matching(_stage_event("FAILED", stage="Build")) if "RestoreStageEnded" in r
    ] == []


def _arm_stage(template: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    """Run ``stage``'s gate under a hotfix for this execution; return the groups it turned off."""
    gate_input = tha._gate(template, stage)
    groups: list[dict[str, Any]] = gate_input["hotfix_groups"]
    tge.create_alarms(gate_input["app_checks"], state="ALARM")
    tge.create_groups(groups)
    tge.write_override(gate_input, scope=["hotfix"], execution_id=tha.EXECUTION)
    gate = tge.run(tge.machine(template, "Gate"), gate_input)
    assert gate["status"] == "SUCCEEDED", gate
    assert tge.groups_enabled(groups) == [False] * len(groups)
    return groups


def _updated_groups(since: int) -> set[tuple[str, str, str]]:
    """The ``(region, application, group)`` of each UpdateDeploymentGroup call after ``since``."""
    return {
        (region, params["applicationName"], params["currentDeploymentGroupName"])
        for region, _, operation, params in tge.CODEDEPLOY.calls[since:]
        if operation == "UpdateDeploymentGroup"
    }


@pytest.mark.usefixtures("local_aws")
def test_a_stage_that_ended_restores_with_its_own_pointer_and_no_other_stages(
    pipeline_template: dict[str, Any],
) -> None:
    """Two stages left with alarm rollback off (each gate armed a hotfix): Prod-2's ending, through
    the one rule, restores Prod-2's groups from Prod-2's gate input, and touches no Prod-1 group."""
    prod1 = _arm_stage(pipeline_template, "Prod-1")
    prod2 = _arm_stage(pipeline_template, "Prod-2")
    # The gates ran with their inputs (waits shortened) stored where the pipeline stores them;
    # the deployed values, which the stage-ended Restore's pointers name, are written after.
    _deploy_gate_parameters(pipeline_template)
    keys = {(g["region"], g["application"], g["deployment_group"]) for g in prod1 + prod2}
    assert len(keys) == len(prod1) + len(prod2)  # no group in both stages
    bridge = _AllRules(pipeline_template)
    calls = len(tge.CODEDEPLOY.calls)

    bridge.deliver(_stage_event("STOPPED", stage="Prod-2"))
    [started] = bridge.started
    assert bridge.finish(started)["status"] == "SUCCEEDED"

    assert tge.groups_enabled(prod2) == [True] * len(prod2)
    assert tge.groups_enabled(prod1) == [False] * len(prod1)  # untouched
    assert _updated_groups(calls) <= {(g["region"], g["application"], g["deployment_group"]) for g in prod2}
    [prod2_gate] = [
        r["Properties"]
        for k, r in pipeline_template["Resources"].items()
        if re.fullmatch(r"Prod2GateConfig[0-9A-F]{8}", k)
    ]
    history = boto3.client("stepfunctions").get_execution_history(executionArn=started)["events"]
    [loaded] = [
        json.loads(e["stateEnteredEventDetails"]["input"])
        for e in history
        if e.get("stateEnteredEventDetails", {}).get("name") == "RestoreLoadConfig"
    ]
    assert loaded["config_parameter"] == prod2_gate["Name"]
    assert loaded["config_sha256"] == hashlib.sha256(prod2_gate["Value"].encode()).hexdigest()
    assert loaded["pipeline_execution_id"] == tha.EXECUTION
    assert loaded["ended"] == {
        "execution": f"pipeline orders-application execution {tha.EXECUTION} stage Prod-2 STOPPED"
    }

    # AND Prod-1's own ending restores Prod-1's
    bridge.deliver(_stage_event("FAILED", stage="Prod-1"))
    assert bridge.finish(bridge.started[-1])["status"] == "SUCCEEDED"
    assert tge.groups_enabled(prod1) == [True] * len(prod1)


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize("stage", ["Build", "prod-2", "Prod-2 ", "Prod-9", "", "Prod-1,Prod-2"])
def test_a_restore_started_for_a_stage_not_gated_acts_on_nothing_and_fails_paged(
    pipeline_template: dict[str, Any], stage: str
) -> None:
    """A stage-ended input naming a stage that is not gated (the rule never sends one: only a
    forged StartExecution can) has no gate input: Restore fails closed with an error that pages,
    and touches no group."""
    groups = tha._arm(pipeline_template)
    # The gates ran with their inputs (waits shortened) stored where the pipeline stores them;
    # the deployed values, which the stage-ended Restore's pointers name, are written after.
    _deploy_gate_parameters(pipeline_template)
    bridge = _AllRules(pipeline_template)
    calls = len(tge.CODEDEPLOY.calls)
    forged = {"stage_ended": {"stage": stage, "execution_id": tha.EXECUTION, "state": "STOPPED"}}
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=bridge.machine("Restore"), name=f"r-{uuid.uuid4().hex[:12]}", input=json.dumps(forged)
    )["executionArn"]
    restore = bridge.finish(execution)

    assert (restore["status"], restore["error"]) == ("FAILED", "GateInputUnverified"), restore
    assert "NOT restored" in restore["cause"]
    assert tge.CODEDEPLOY.calls[calls:] == []
    assert tge.groups_enabled(groups) == [False] * len(groups)
    assert bridge.deliver(bridge.status_event(execution)) == [bridge.rule("PageFailures")]
    [(_, page)] = bridge.pages
    assert page["Error"] == "GateInputUnverified"


@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(
    "forged",
    [
        {"stage_ended": {"stage": "Prod-2", "execution_id": tha.EXECUTION}},
        {"stage_ended": {"stage": "Prod-2", "execution_id": 1, "state": "STOPPED"}},
        {"stage_ended": {"stage": ["Prod-2"], "execution_id": tha.EXECUTION, "state": "STOPPED"}},
        {"stage_ended": "Prod-2"},
    ],
)
def test_a_malformed_stage_ended_input_acts_on_nothing_and_fails_closed(
    pipeline_template: dict[str, Any], forged: dict[str, Any]
) -> None:
    groups = tha._arm(pipeline_template)
    bridge = _AllRules(pipeline_template)
    calls = len(tge.CODEDEPLOY.calls)
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=bridge.machine("Restore"), name=f"r-{uuid.uuid4().hex[:12]}", input=json.dumps(forged)
    )["executionArn"]
    restore = bridge.finish(execution)
    assert (restore["status"], restore["error"]) == ("FAILED", "GateInputUnverified"), restore
    assert tge.CODEDEPLOY.calls[calls:] == []
    assert tge.groups_enabled(groups) == [False] * len(groups)


@pytest.mark.usefixtures("local_aws")
def test_a_stage_ended_restore_of_a_rewritten_input_acts_on_nothing_and_fails_paged(
    pipeline_template: dict[str, Any],
) -> None:
    """The stage-ended Restore verifies the parameter as every Restore does: a rewritten gate
    input is not used (the groups stay as they are) and the Restore fails with a paged error."""
    groups = tha._arm(pipeline_template)
    # The gates ran with their inputs (waits shortened) stored where the pipeline stores them;
    # the deployed values, which the stage-ended Restore's pointers name, are written after.
    _deploy_gate_parameters(pipeline_template)
    ssm = boto3.client("ssm")
    [prod2] = [
        r["Properties"]
        for k, r in pipeline_template["Resources"].items()
        if re.fullmatch(r"Prod2GateConfig[0-9A-F]{8}", k)
    ]
    rewritten = json.loads(prod2["Value"])
    rewritten["hotfix_groups"] = []
    ssm.put_parameter(Name=prod2["Name"], Value=json.dumps(rewritten), Type="String", Overwrite=True)
    bridge = _AllRules(pipeline_template)
    bridge.deliver(_stage_event("STOPPED"))

    [result] = [bridge.finish(started) for started in bridge.started]
    assert (result["status"], result["error"]) == ("FAILED", "GateInputTampered")
    assert prod2["Name"] in result["cause"]
    assert tge.groups_enabled(groups) == [False] * len(groups)  # Prod-2's were not touched


# ---------------------------------------------------------------- F3: the Restore itself ends early
@pytest.mark.usefixtures("local_aws")
@pytest.mark.parametrize(
    ("status", "error"), [("ABORTED", None), ("TIMED_OUT", None), ("FAILED", "States.Runtime")]
)
def test_a_restore_that_ends_early_pages(
    pipeline_template: dict[str, Any], status: str, error: str | None
) -> None:
    """F3: a Restore stopped (by an operator, a clean-up) or timed out, or failed by Step
    Functions itself, pages: the groups may still be off."""
    groups = tha._arm(pipeline_template)
    bridge = _AllRules(pipeline_template)
    execution_arn, _, _ = tha._stopped_bake(pipeline_template, bridge)
    bridge.deliver(bridge.status_event(execution_arn))  # starts Restore, pages once
    [restore_arn] = bridge.started
    pages_before = len(bridge.pages)
    bridge.finish(restore_arn)  # (relabelled below as stopped before it ran its task)
    for g in groups:
        tge.CODEDEPLOY.add_group(g["region"], g["application"], g["deployment_group"], enabled=False)
    event = bridge.status_event(restore_arn, status)
    if error:
        event["detail"]["error"], event["detail"]["cause"] = error, "x"

    bridge.deliver(event)

    assert len(bridge.pages) == pages_before + 1, f"a Restore that ended {status} paged nobody"
    assert bridge.started == [restore_arn], "a Restore's ending must not start another Restore"


# ---------------------------------------------------------------- F4: the bake's history budget
def _history(arn: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]


class _OverrideFunctionBroken(Exception):
    """The override function failing at every invocation with an error the task does not retry."""


@pytest.mark.usefixtures("local_aws")
def test_a_starved_bake_fits_the_history_at_the_shortest_valid_poll(
    pipeline_template: dict[str, Any],
) -> None:
    """A healthy poll costs what the limits budget (BAKE_EVENTS_PER_POLL), so a bake polling
    for 48 h at the shortest accepted poll fits the 25,000 events."""
    bake_input = tha._bake(pipeline_template, bake_seconds=5)
    tge.create_alarms(bake_input["checks"])
    arn = tge.start(tge.machine(pipeline_template, "Bake"), bake_input)
    assert tha._EventBridge.finish(None, arn)["status"] == "SUCCEEDED"  # type: ignore[arg-type]
    events = _history(arn)
    entered = [i for i, e in enumerate(events) if e["type"] == "WaitStateEntered"]
    per_poll = (entered[-1] - entered[0]) / (len(entered) - 1)
    assert per_poll <= BAKE_EVENTS_PER_POLL
    polls = BAKE_TIMEOUT_SECONDS // SHORTEST_POLL + 1
    assert polls <= MAX_BAKE_POLLS
    assert polls * per_poll + 40 <= HISTORY_EVENT_LIMIT


@pytest.mark.usefixtures("local_aws")
def test_a_bake_whose_override_function_keeps_failing_fails_within_its_budget(
    pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """F4: BakeOverride's catch had no budget: an override function that keeps failing cost
    extra events at every poll, silently, and a starved bake overran 25,000 events at ~47 h
    (then F1). Its failures now count: past UNREADABLE_POLL_LIMIT the bake restores alarm
    rollback and fails with an error that pages."""
    override = importlib.import_module("hands_off_gates.override")

    def broken(event: Any, context: Any) -> Any:
        raise _OverrideFunctionBroken("The function is currently in the following state: Failed")

    groups = tha._arm(pipeline_template)
    monkeypatch.setattr(override, "handler", broken)
    bake_input = tha._bake(pipeline_template, bake_seconds=3600)
    tge.create_alarms(bake_input["checks"])
    bridge = _AllRules(pipeline_template)
    arn = tge.start(bridge.machine("Bake"), bake_input)
    finished = bridge.finish(arn)

    assert (finished["status"], finished["error"]) == ("FAILED", "BakeOverrideUnreadable"), finished
    assert f"{UNREADABLE_POLL_LIMIT} times" in finished["cause"]
    assert tge.groups_enabled(groups) == [True] * len(groups)
    failures = collections.Counter(e["type"] for e in _history(arn))["LambdaFunctionFailed"]
    assert failures == UNREADABLE_POLL_LIMIT
    bridge.deliver(bridge.status_event(arn))
    assert len(bridge.pages) == 1
