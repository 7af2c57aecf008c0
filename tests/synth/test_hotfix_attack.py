# ruff: noqa: F811  (the fixtures of test_gate_execution are imported by name)
"""Security review of the hotfix override (issue 8), against the synthesized machines.

The gate and bake machines are rendered from the pipeline template and run by moto with the real
handlers, exactly as ``test_gate_execution.py`` does (its helpers and fixtures are reused).
Every test asserts the SAFE behaviour: one that fails today demonstrates a finding (see its
docstring); the others are regression tests for attacks that held.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_gate_execution as tge
from test_gate_execution import local_aws, pipeline_template  # noqa: F401  (fixtures)
from test_safety_paging import sns_body_filter_matches

from tests.iam_permissions import identity_statements

EXECUTION = "test-execution"  # what tge.store passes as the pipeline execution id


class _AutomatedRollback:
    """CodePipeline answering that every execution is the stage's OnFailure rollback."""

    def get_pipeline_execution(self, **_: Any) -> dict[str, Any]:
        return {
            "pipelineExecution": {
                "executionType": "ROLLBACK",
                "trigger": {"triggerType": "AutomatedRollback"},
            }
        }


def _as_rollback(monkeypatch: pytest.MonkeyPatch) -> None:
    execution = importlib.import_module("hands_off_gates.execution")
    monkeypatch.setitem(execution.handler.clients, "codepipeline", lambda region, role: _AutomatedRollback())


def _gate(template: dict[str, Any], stage: str = "Prod-2") -> dict[str, Any]:
    return tge.fast(tge.action_input(template, stage, f"{stage}-Gate"), window=tge.ALWAYS_OPEN)


def _bake(template: dict[str, Any], stage: str = "Prod-2", **changes: Any) -> dict[str, Any]:
    return {
        **tge.action_input(template, stage, f"{stage}-Bake"),
        "bake_seconds": 1,
        "poll_seconds": 1,
        **changes,
    }


def _transformed(transformer: dict[str, Any], event: dict[str, Any]) -> str:
    """What EventBridge makes of ``event`` with an input transformer: a placeholder outside any
    JSON string becomes the JSON of its value; one inside a string, the value's text."""
    values = {}
    for name, path in transformer["InputPathsMap"].items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        values[name] = value
    template: str = transformer["InputTemplate"]
    out, in_string, i = [], False, 0
    while i < len(template):
        found = re.match(r"<([A-Za-z0-9_.-]+)>", template[i:])
        if found and found.group(1) in values:
            value = values[found.group(1)]
            out.append(str(value) if in_string else json.dumps(value))
            i += found.end()
            continue
        char = template[i]
        if char == "\\":  # an escaped character never ends a string
            out.append(template[i : i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        i += 1
    return "".join(out)


class _EventBridge:
    """EventBridge for the status-change events of the synthesized machines (moto's Step
    Functions sends none): each of the template's ``aws.states`` rules, its pattern matched with
    moto's own matcher, delivers an event to its targets: a state machine target starts the
    machine with the whole event, a topic target records the message its input transformer makes
    (the template's JSON, each placeholder replaced by the JSON of its value)."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.machines: dict[str, str] = {}  # logical id -> moto ARN
        self.pages: list[tuple[Any, dict[str, Any]]] = []  # (topic ARN, message)
        self.started: list[str] = []  # execution ARNs the rules started
        for name in ("Gate", "Bake", "Restore"):
            self.machine(name)

    def machine(self, name: str) -> str:
        [logical_id] = [
            k
            for k, r in self.template["Resources"].items()
            if r["Type"] == "AWS::StepFunctions::StateMachine" and k.startswith(f"Gates{name}")
        ]
        if logical_id not in self.machines:
            self.machines[logical_id] = tge.machine(self.template, name)
        return self.machines[logical_id]

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in self.machines:
            return self.machines[value["Ref"]]
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        return value

    def rules(self) -> dict[str, dict[str, Any]]:
        return {
            k: r["Properties"]
            for k, r in self.template["Resources"].items()
            if r["Type"] == "AWS::Events::Rule"
            and r["Properties"].get("EventPattern", {}).get("source") == ["aws.states"]
        }

    def matching(self, event: dict[str, Any]) -> list[str]:
        """The logical ids of the rules ``event`` matches."""
        from moto.events.models import EventPattern

        return [
            k
            for k, rule in self.rules().items()
            if EventPattern.load(json.dumps(self._resolve(rule["EventPattern"]))).matches_event(event)
        ]

    def deliver(self, event: dict[str, Any]) -> list[str]:
        """Deliver ``event`` to the targets of every rule it matches; return those rules."""
        matched = self.matching(event)
        for logical_id in matched:
            for target in self.rules()[logical_id]["Targets"]:
                arn = self._resolve(target["Arn"])
                assert "Input" not in target
                assert "InputPath" not in target
                body = json.dumps(event)
                if "InputTransformer" in target:
                    body = _transformed(target["InputTransformer"], event)
                if isinstance(arn, str) and ":stateMachine:" in arn:
                    self.started.append(
                        boto3.client("stepfunctions").start_execution(
                            stateMachineArn=arn, name=f"r-{uuid.uuid4().hex[:12]}", input=body
                        )["executionArn"]
                    )
                else:
                    assert "InputTransformer" in target, target
                    self.pages.append((target["Arn"], json.loads(body)))
        return matched

    def rule(self, construct_id: str) -> str:
        """The logical id of the rule ``Gates/<construct_id>``."""
        [logical_id] = [k for k in self.rules() if re.fullmatch(f"Gates{construct_id}[0-9A-F]{{8}}", k)]
        return logical_id

    def status_event(self, execution_arn: str, status: str | None = None) -> dict[str, Any]:
        """The "Step Functions Execution Status Change" event Step Functions sends for the
        execution as it is now (``status`` in place of its own, e.g. TIMED_OUT)."""
        described = boto3.client("stepfunctions").describe_execution(executionArn=execution_arn)
        return {
            "version": "0",
            "id": "7bd5f5c8-0000-0000-0000-000000000000",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": execution_arn.split(":")[4],
            "region": tge.TOOLING_REGION,
            "time": "2026-11-27T05:00:00Z",
            "resources": [execution_arn],
            "detail": {
                "executionArn": execution_arn,
                "stateMachineArn": described["stateMachineArn"],
                "name": described.get("name") or execution_arn.rsplit(":", 1)[-1],
                "status": status or described["status"],
                "startDate": 1_796_000_000_000,
                "stopDate": 1_796_000_060_000,
                "input": described["input"],
                "inputDetails": {"included": True},
                "output": None,
                "outputDetails": None,
                "error": described.get("error"),
                "cause": described.get("cause"),
            },
        }

    def finish(self, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
        """Wait for a started execution to end; return it described."""
        sfn = boto3.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while (result := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "execution still running"
            time.sleep(0.2)
        return dict(result)

    def subscription_filters(self, topic_arn: Any) -> list[dict[str, Any]]:
        """The filter policies of this pipeline's subscriptions of ``topic_arn``."""
        return [
            r["Properties"]["FilterPolicy"]
            for r in self.template["Resources"].values()
            if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["TopicArn"] == topic_arn
        ]


def _own_alarms(bake_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The bake's checks narrowed to the copies' own alarms, the ones a hotfix lifts (the bake
    also watches the org alarms, which fail it whatever the override says)."""
    return [
        {
            **c,
            "alarm_names": [n for n in c["alarm_names"] if n.endswith("-health")],
            "alarm_name_prefixes": [],
        }
        for c in bake_input["checks"]
    ]


def _stopped_bake(
    template: dict[str, Any], bridge: _EventBridge, **changes: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Start Prod-2's bake (long, its copies' alarms firing: lifted by the armed hotfix), make
    sure it is baking, stop it; return its execution ARN, input and pointer."""
    bake_input = _bake(template, bake_seconds=3600, **changes)
    tge.create_alarms(_own_alarms(bake_input), state="ALARM")
    pointer = tge.store(bake_input)
    execution_arn = tge.start(bridge.machine("Bake"), bake_input, pointer)
    sfn = boto3.client("stepfunctions")
    _until_waiting(sfn, execution_arn)
    sfn.stop_execution(executionArn=execution_arn)
    ended = bridge.finish(execution_arn)
    assert ended["status"] == "ABORTED", ended
    return execution_arn, bake_input, pointer


def _until_waiting(sfn: Any, execution_arn: str, timeout: float = 60) -> None:
    """Return once the running bake has polled and sits in a ``Wait`` state before its next poll.

    Stopped there, as an operator would stop it between polls. moto runs the execution in a
    thread that a stop does not interrupt: stopped in the middle of a Lambda task (under load),
    the thread went on, its task failed inside moto, and the execution did not end ABORTED."""
    deadline = time.monotonic() + timeout
    while True:
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        assert status == "RUNNING", status
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]  # moto: all, in order
        if events and events[-1]["type"] == "WaitStateEntered":
            return
        assert time.monotonic() < deadline, "the bake never waited between polls"
        time.sleep(0.1)


class _ThrottledSsm:
    """SSM answering every read of the override with ``ThrottlingException``."""

    def __getattr__(self, name: str) -> Any:
        def throttled(**_: Any) -> Any:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)

        return throttled


def _throttle_override_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    override = importlib.import_module("hands_off_gates.override")
    monkeypatch.setitem(override.handler.clients, "ssm", lambda region, role: _ThrottledSsm())


def _arm(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Run Prod-2's gate under a hotfix for this execution; return the groups it turned off."""
    gate_input = _gate(template)
    groups = gate_input["hotfix_groups"]
    tge.create_alarms(gate_input["app_checks"], state="ALARM")
    tge.create_groups(groups)
    tge.write_override(gate_input, scope=["hotfix"], execution_id=EXECUTION)
    gate = tge.run(tge.machine(template, "Gate"), gate_input)
    assert gate["status"] == "SUCCEEDED", gate
    assert tge.groups_enabled(groups) == [False] * len(groups)
    return groups


# ------------------------------------------------------------------- FINDINGS (fail today)


@pytest.mark.usefixtures("local_aws")
class TestLeftOff:
    """Ways the hotfix's "alarm rollback off" outlives the hotfix."""

    def test_a_rollback_execution_bake_restores_alarm_rollback(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """FINDING (medium): the gate armed a hotfix; then the deploy action fails (a hook, the
        CloudFormation update, CodeDeploy itself) or the bake is aborted/times out, so the bake's
        restore never runs. The production stage's OnFailure: ROLLBACK starts an
        AutomatedRollback execution whose gate AND bake stop at ``RollbackAllowed`` before any
        hotfix state: the rollback deploys with alarm rollback off and leaves it off afterwards,
        until a later standard execution reaches this stage's gate. Fix: in both machines run
        ``disarm``/``restore`` on the rollback path too (``RollbackAllowed`` → restore → Succeed;
        a failure to restore must not block the rollback, but should page)."""
        groups = _arm(pipeline_template)
        _as_rollback(monkeypatch)
        bake_input = _bake(pipeline_template)
        tge.create_alarms(bake_input["checks"], state="ALARM")

        bake = tge.run(tge.machine(pipeline_template, "Bake"), bake_input)

        assert bake["status"] == "SUCCEEDED", bake
        assert json.loads(bake["output"])["rollback"] is True
        assert tge.groups_enabled(groups) == [True] * len(groups), (
            "the rollback execution's bake left CodeDeploy alarm rollback off"
        )

    def test_a_rollback_execution_gate_turns_a_leftover_back_on(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """FINDING (medium, same root cause): a leftover disabled group (failed deploy after an
        armed gate, half-armed stage, aborted bake) is not turned back on by the rollback's gate,
        so the rollback deployment itself runs without CodeDeploy alarm rollback."""
        gate_input = _gate(pipeline_template)
        groups = gate_input["hotfix_groups"]
        tge.create_groups(groups, enabled=False)  # left over
        tge.create_alarms(gate_input["app_checks"], state="ALARM")
        _as_rollback(monkeypatch)

        gate = tge.run(tge.machine(pipeline_template, "Gate"), gate_input)

        assert gate["status"] == "SUCCEEDED", gate
        assert tge.groups_enabled(groups) == [True] * len(groups), (
            "the rollback execution's gate deployed with CodeDeploy alarm rollback off"
        )

    @pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT"])
    def test_an_aborted_bake_does_not_leave_alarm_rollback_off(
        self, pipeline_template: dict[str, Any], status: str
    ) -> None:
        """FINDING (medium, fixed): a bake stopped mid-way (StopExecution, the machine's 2-day
        timeout, a pipeline execution stopped/abandoned) never reaches ``RestoreHotfix``: the
        groups stayed off, and nothing paged (``page_failures`` matches status FAILED only, not
        ABORTED or TIMED_OUT). Now an EventBridge rule on the bake machine's ABORTED/TIMED_OUT
        status starts the ``Restore`` machine with the event, which turns the groups back on from
        the bake's verified input, and another pages the pipeline's subscription."""
        groups = _arm(pipeline_template)  # the gate turned them off
        bridge = _EventBridge(pipeline_template)
        execution_arn, _, _ = _stopped_bake(pipeline_template, bridge)
        assert tge.groups_enabled(groups) == [False] * len(groups)  # the bake never restored them

        matched = bridge.deliver(bridge.status_event(execution_arn, status))

        assert sorted(matched) == sorted([bridge.rule("RestoreEnded"), bridge.rule("PageEndedEarly")])
        assert len(bridge.started) == 1
        restore = bridge.finish(bridge.started[0])
        assert restore["status"] == "SUCCEEDED", restore
        assert json.loads(restore["output"])["ok"] is True
        assert tge.groups_enabled(groups) == [True] * len(groups), (
            "an aborted bake left CodeDeploy alarm rollback off"
        )
        # ... and the abort paged the pipeline's own subscription of the paging topic
        [(topic, message)] = bridge.pages
        assert message["Error"] == status
        assert message["NewStateValue"] == "ALARM"
        assert message["Execution"] == execution_arn.rsplit(":", 1)[-1]
        filters = bridge.subscription_filters(topic)
        assert filters
        assert all(sns_body_filter_matches(f, message) for f in filters)
        # the Restore execution's own success pages nothing more
        assert bridge.deliver(bridge.status_event(bridge.started[0])) == []

    @pytest.mark.parametrize("revoked", ["deleted", "another execution", "unreadable"])
    def test_a_hotfix_revoked_mid_bake_stops_lifting(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch, revoked: str
    ) -> None:
        """FINDING (low, fixed): the bake read the override once, at its start; every later poll
        re-checked that stale copy (expiry, stage, execution) but never re-read the parameter.
        Deleting or narrowing the override mid-bake (an on-call engineer revoking a bad hotfix)
        did not stop the bake ignoring the copy's alarm until the override's own expiry (up to
        ``override_max_hours``). Now the override is read again before every poll
        (``KeepBaking`` → ``BakeOverride`` → ``Watch``): deleted, rewritten for another execution
        or unreadable (throttled), it lifts nothing from the next poll on."""
        groups = _arm(pipeline_template)
        bake_input = _bake(pipeline_template, bake_seconds=6)
        tge.create_alarms(_own_alarms(bake_input), state="ALARM")
        execution_arn = tge.start(tge.machine(pipeline_template, "Bake"), bake_input)
        time.sleep(1.5)
        sfn = boto3.client("stepfunctions")
        # the own alarm fires: only the hotfix, lifting it, keeps the bake going (not vacuous)
        assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"

        if revoked == "deleted":
            boto3.client("ssm").delete_parameter(Name=bake_input["override_parameter"])
        elif revoked == "another execution":
            tge.write_override(bake_input, scope=["hotfix"], execution_id="another-execution")
        else:
            _throttle_override_reads(monkeypatch)

        deadline = time.monotonic() + 60
        while (result := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert (result["status"], result.get("error")) == ("FAILED", "BakeFailed"), (
            "the bake kept ignoring the copy's alarm after the hotfix was revoked"
        )
        assert "-health" in result["cause"]  # failed on the copy's own alarm, no longer lifted
        assert tge.groups_enabled(groups) == [True] * len(groups)


@pytest.mark.usefixtures("local_aws")
class TestEndedEarly:
    """The ``Restore`` machine trusts only the bake's input verified against its digest."""

    @pytest.mark.parametrize(
        ("tamper", "error"),
        [("rewritten", "GateInputTampered"), ("deleted", "HotfixNotRestored")],
    )
    def test_a_tampered_gate_input_is_not_acted_on_and_pages(
        self, pipeline_template: dict[str, Any], tamper: str, error: str
    ) -> None:
        # GIVEN an armed hotfix, a bake stopped mid-way, and its parameter rewritten to name
        # other groups (or deleted) before the restore runs
        groups = _arm(pipeline_template)
        bridge = _EventBridge(pipeline_template)
        execution_arn, bake_input, pointer = _stopped_bake(pipeline_template, bridge)
        decoy = [{**g, "deployment_group": f"{g['deployment_group']}-decoy"} for g in groups]
        tge.create_groups(decoy, enabled=False)
        if tamper == "rewritten":
            tge.rewrite(pointer, json.dumps({**bake_input, "hotfix_groups": decoy}))
        else:
            boto3.client("ssm").delete_parameter(Name=pointer["config_parameter"])
        updates = len(tge.CODEDEPLOY.updates())

        bridge.deliver(bridge.status_event(execution_arn))
        restore = bridge.finish(bridge.started[0])

        # THEN the restore fails closed and touches no group (the rewritten input is not used)
        assert (restore["status"], restore["error"]) == ("FAILED", error), restore
        assert "NOT restored" in restore["cause"]
        assert len(tge.CODEDEPLOY.updates()) == updates
        assert tge.groups_enabled(decoy) == [False] * len(decoy)
        # AND its failure pages the pipeline's subscription, as a gate's would (page_failures)
        assert bridge.deliver(bridge.status_event(bridge.started[0])) == [bridge.rule("PageFailures")]
        [_, (topic, page)] = bridge.pages  # the abort's page, then the restore's
        assert (page["Error"], page["Cause"]) == (error, restore["cause"])
        filters = bridge.subscription_filters(topic)
        assert filters
        assert all(sns_body_filter_matches(f, page) for f in filters)

    def test_an_input_without_a_digest_is_not_acted_on(self, pipeline_template: dict[str, Any]) -> None:
        # GIVEN someone starts the bake by hand without a digest and stops it
        groups = _arm(pipeline_template)
        bridge = _EventBridge(pipeline_template)
        bake_input = _bake(pipeline_template, bake_seconds=3600)
        pointer = {k: v for k, v in tge.store(bake_input).items() if k != "config_sha256"}
        execution_arn = tge.start(bridge.machine("Bake"), bake_input, pointer)
        bridge.finish(execution_arn)  # GateInputUnverified at once; relabelled as stopped below
        updates = len(tge.CODEDEPLOY.updates())

        bridge.deliver(bridge.status_event(execution_arn, "ABORTED"))
        restore = bridge.finish(bridge.started[0])

        assert (restore["status"], restore["error"]) == ("FAILED", "GateInputUnverified"), restore
        assert len(tge.CODEDEPLOY.updates()) == updates
        assert tge.groups_enabled(groups) == [False] * len(groups)

    def test_a_restore_started_without_a_bake_event_fails_closed(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        bridge = _EventBridge(pipeline_template)
        sfn = boto3.client("stepfunctions")
        for event in ({}, {"detail": {"input": "[]", "executionArn": "x"}}, {"detail": {"input": 1}}):
            execution = sfn.start_execution(
                stateMachineArn=bridge.machine("Restore"),
                name=f"r-{uuid.uuid4().hex[:12]}",
                input=json.dumps(event),
            )
            restore = bridge.finish(execution["executionArn"])
            assert (restore["status"], restore["error"]) == ("FAILED", "GateInputUnverified"), event
        assert tge.CODEDEPLOY.updates() == []

    @pytest.mark.parametrize(
        ("machine", "status", "error", "restores"),
        [
            ("Bake", "ABORTED", None, True),
            ("Bake", "TIMED_OUT", None, True),
            ("Bake", "FAILED", "BakeFailed", True),  # its own RestoreHotfix ran: a harmless 2nd try
            ("Bake", "FAILED", "States.Runtime", True),  # past the history limit: it did not
            ("Bake", "SUCCEEDED", None, False),
            ("Gate", "ABORTED", None, True),  # maybe stopped while its ArmHotfix ran
            ("Gate", "TIMED_OUT", None, True),
            ("Gate", "FAILED", "HotfixAlarmsUnset", True),  # maybe half armed
            ("Gate", "FAILED", "DeploymentBlocked", False),  # never armed
            ("Gate", "SUCCEEDED", None, False),
            ("Restore", "ABORTED", None, False),  # pages instead (no Restore of a Restore)
            ("Restore", "FAILED", "States.Runtime", False),
        ],
    )
    def test_only_this_pipelines_gates_and_bakes_that_ended_early_are_restored(
        self, pipeline_template: dict[str, Any], machine: str, status: str, error: str | None, restores: bool
    ) -> None:
        bridge = _EventBridge(pipeline_template)
        arn = bridge.machine(machine)
        execution = f"{arn.replace(':stateMachine:', ':execution:')}:e-1"
        event = {
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "detail": {
                "executionArn": execution,
                "stateMachineArn": arn,
                "name": "e-1",
                "status": status,
                "input": "{}",
                "error": error,
                "cause": None if error is None else "x",
            },
        }
        ended_early = bridge.rule("RestoreEnded")
        assert (ended_early in bridge.matching(event)) is restores
        # another pipeline's gate or bake (same name, another ARN) is never this pipeline's to restore
        other = {**event, "detail": {**event["detail"], "stateMachineArn": arn + "-catalog"}}
        assert bridge.matching(other) == []


@pytest.mark.usefixtures("local_aws")
def test_a_hotfix_bake_still_fails_on_an_org_alarm(pipeline_template: dict[str, Any]) -> None:
    """FINDING (medium; fail-open against the documented model): README says of the hotfix bake
    "Org alarms still fail the bake", but the bake input watches only each copy's own
    ``<copy>-health`` alarm (``blueprint._bake``: no org names or prefixes), and that is exactly
    what a hotfix lifts. Under a hotfix the bake therefore watches nothing that can fail it: an
    ``org-critical-*`` alarm firing during the bake (gate checks it, bake does not) lets the
    stage complete and the fix travel on. Fix: give the bake the gate's org names/prefixes
    (``health=None`` checks as the gate builds them) so that only the own alarm is lifted; and
    fail a hotfix bake whose every watched alarm is lifted."""
    _arm(pipeline_template)
    gate_input = _gate(pipeline_template)
    assert gate_input["org_checks"], "the example fleet's gate watches org-critical-* alarms"
    tge.create_alarms(gate_input["org_checks"], state="ALARM")  # an org-wide alarm fires
    bake_input = _bake(pipeline_template)
    tge.create_alarms(bake_input["checks"], state="ALARM")  # the copy's own (lifted by the hotfix)

    bake = tge.run(tge.machine(pipeline_template, "Bake"), bake_input)

    assert (bake["status"], bake.get("error")) == ("FAILED", "BakeFailed"), (
        "an org-wide alarm fired through the whole hotfix bake and the bake passed: " + bake.get("output", "")
    )


def test_only_the_hotfix_function_can_update_deployment_groups(
    pipeline_template: dict[str, Any], fleet: Any
) -> None:
    """FINDING (medium, least privilege): all seven gate functions (alarms, time_window,
    override, decide, bake, execution, hotfix) run as the one checker role, which may assume
    every target account's gate-reader role, and that role holds
    ``codedeploy:UpdateDeploymentGroup`` next to its read permissions. So every gate function —
    not only ``hotfix`` — can change any field of the copies' deployment groups: turn
    ``autoRollbackConfiguration`` off, switch ``deploymentConfigName`` to AllAtOnce, empty the
    alarm list (after which ``restore`` sees "no alarm to turn on" and leaves it), retarget EC2
    tag filters, or rename the group. Fix: give the hotfix function its own execution role and
    each account its own ``hotfix`` role (trusting only that role) with Get/UpdateDeploymentGroup;
    leave the gate-reader role read-only; alert (EventBridge on CloudTrail UpdateDeploymentGroup)
    on any call that changes more than ``alarmConfiguration.enabled``."""
    roles = {
        logical_id: r["Properties"]["Role"]
        for logical_id, r in pipeline_template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and "Gates" in logical_id
    }
    hotfix_roles = {json.dumps(v, sort_keys=True) for k, v in roles.items() if "Hotfix" in k}
    other_roles = {json.dumps(v, sort_keys=True) for k, v in roles.items() if "Hotfix" not in k}
    assert hotfix_roles
    assert other_roles
    shared = hotfix_roles & other_roles
    # the target accounts' roles: a policy granting UpdateDeploymentGroup must not also read alarms
    writers = []
    for path in sorted(Path(fleet.outdir).rglob("*.template.json")):
        template = json.loads(path.read_text())
        if "Resources" not in template:
            continue
        by_holder: dict[str, set[str]] = {}  # a role's inline policies and each policy resource
        for logical_id, statement in identity_statements(template):
            found = statement.get("Action", [])
            by_holder.setdefault(logical_id, set()).update([found] if isinstance(found, str) else found)
        for logical_id, actions in by_holder.items():
            if "codedeploy:UpdateDeploymentGroup" in actions and "cloudwatch:DescribeAlarms" in actions:
                writers.append(f"{path.name}/{logical_id}")
    assert not shared, f"the gate functions {sorted(roles)} share one role with the hotfix function"
    assert not writers, f"these policies let the alarm readers update deployment groups: {writers}"


# ------------------------------------------------------------------- attempts that held


@pytest.mark.usefixtures("local_aws")
class TestHeld:
    def test_a_hotfix_for_prod_2_arms_nothing_at_prod_3(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = _gate(pipeline_template, "Prod-3")
        tge.create_alarms(gate_input["app_checks"], state="ALARM")
        tge.create_groups(gate_input["hotfix_groups"])
        tge.write_override(gate_input, scope=["hotfix"], execution_id=EXECUTION, stages=["Prod-2"])

        gate = tge.run(tge.machine(pipeline_template, "Gate"), gate_input)

        assert (gate["status"], gate["error"]) == ("FAILED", "DeploymentBlocked")
        assert tge.CODEDEPLOY.updates() == []

    def test_a_hotfix_override_rewritten_for_another_execution_mid_pipeline_stops_the_bake_lifting(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        groups = _arm(pipeline_template)
        bake_input = _bake(pipeline_template)
        tge.create_alarms(bake_input["checks"], state="ALARM")
        tge.write_override(bake_input, scope=["hotfix"], execution_id="another-execution")

        bake = tge.run(tge.machine(pipeline_template, "Bake"), bake_input)

        assert (bake["status"], bake["error"]) == ("FAILED", "BakeFailed")
        assert tge.groups_enabled(groups) == [True] * len(groups)

    def test_a_failed_bake_under_a_hotfix_restores(self, pipeline_template: dict[str, Any]) -> None:
        groups = _arm(pipeline_template)
        bake_input = _bake(pipeline_template)
        tge.create_alarms(bake_input["checks"], state="ALARM")
        boto3.client("ssm").delete_parameter(Name=bake_input["override_parameter"])

        bake = tge.run(tge.machine(pipeline_template, "Bake"), bake_input)

        assert (bake["status"], bake["error"]) == ("FAILED", "BakeFailed")
        assert tge.groups_enabled(groups) == [True] * len(groups)

    def test_a_throttled_bake_restore_fails_closed_with_hotfix_not_restored(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        groups = _arm(pipeline_template)
        bake_input = _bake(pipeline_template)
        tge.create_alarms(bake_input["checks"])
        tge.CODEDEPLOY.fail[(groups[0]["region"], "UpdateDeploymentGroup")] = "ThrottlingException"

        bake = tge.run(tge.machine(pipeline_template, "Bake"), bake_input)

        assert (bake["status"], bake["error"]) == ("FAILED", "HotfixNotRestored")

    def test_a_throttled_arm_fails_the_gate_before_the_deployment(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = _gate(pipeline_template)
        tge.create_alarms(gate_input["app_checks"], state="ALARM")
        tge.create_groups(gate_input["hotfix_groups"])
        tge.write_override(gate_input, scope=["hotfix"], execution_id=EXECUTION)
        tge.CODEDEPLOY.fail[(gate_input["hotfix_groups"][0]["region"], "GetDeploymentGroup")] = (
            "ThrottlingException"
        )

        gate = tge.run(tge.machine(pipeline_template, "Gate"), gate_input)

        assert (gate["status"], gate["error"]) == ("FAILED", "HotfixAlarmsUnset")


def test_no_two_executions_share_a_stage(pipeline_template: dict[str, Any]) -> None:
    """V2 pipelines default to SUPERSEDED (one execution per stage at a time). PARALLEL would let
    one execution's hotfix arm groups another execution deploys through (and another's disarm or
    restore cut a hotfix short)."""
    [pipeline] = [
        r for r in pipeline_template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    assert pipeline["Properties"].get("ExecutionMode", "SUPERSEDED") in ("SUPERSEDED", "QUEUED")
    assert pipeline["Properties"]["PipelineType"] == "V2"
