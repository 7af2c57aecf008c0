"""The synthesized gate and bake state machines, executed locally end to end.

moto 5 runs the ASL from the pipeline template (rendered from its ``Fn::Join`` to plain JSON);
each Lambda task runs the real handler from ``hands_off_gates`` in-process, whose CloudWatch, SSM
and STS calls hit moto too (alarms live in the target accounts, reached through the gate-reader
roles the pipeline names). The inputs are the ones the pipeline's Step Functions actions pass,
with only the waits shortened (and, where a case needs it, the window or blackouts replaced); each
is stored, as the pipeline stores it, with its digest in the action input. A handler that raises
fails its invocation the way a real Lambda does (``FunctionError``, with its ``errorType``).
CodeDeploy (the hotfix's deployment groups) is ``tests/gates/codedeploy_fake.py``: moto 5.2.5 has
no ``UpdateDeploymentGroup``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Template

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gates"))  # the gate tests' helpers
from codedeploy_fake import FakeCodeDeploy

from hands_off_gates.contract import CHECK_FUNCTION_KEY, CHECK_MODULES

TOOLING_REGION = "us-east-1"
CODEDEPLOY = FakeCodeDeploy()
"""The target accounts' CodeDeploy in the current test (replaced by ``local_aws``)."""


def render(value: Any, functions: dict[str, str], account: str) -> Any:
    """Resolve the intrinsics CDK leaves in a state machine definition into plain ASL."""
    if isinstance(value, dict) and len(value) == 1:
        [(key, arg)] = value.items()
        if key == "Fn::Join":
            return arg[0].join(str(render(v, functions, account)) for v in arg[1])
        if key == "Fn::GetAtt":
            return f"arn:aws:lambda:{TOOLING_REGION}:{account}:function:{functions[arg[0]]}"
        if key == "Ref":
            return {"AWS::Partition": "aws", "AWS::Region": TOOLING_REGION, "AWS::AccountId": account}[arg]
    if isinstance(value, list):
        return [render(v, functions, account) for v in value]
    return value


@pytest.fixture(scope="module")
def pipeline_template(fleet: Any) -> dict[str, Any]:
    return dict(Template.from_stack(fleet.pipeline("orders")).to_json())


def action_input(template: dict[str, Any], stage: str, action: str) -> dict[str, Any]:
    """The input the pipeline configured for ``action``: its SSM parameter's value."""
    [pipeline] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    [found] = [
        a
        for s in pipeline["Properties"]["Stages"]
        if s["Name"] == stage
        for a in s["Actions"]
        if a["Name"] == action
    ]
    name = json.loads(found["Configuration"]["Input"])["config_parameter"]
    [value] = [
        r["Properties"]["Value"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SSM::Parameter" and r["Properties"]["Name"] == name
    ]
    return json.loads(value)  # type: ignore[no-any-return]


@pytest.fixture
def local_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto with ASL execution on; Lambda invocations dispatched to the real gate handlers."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": TOOLING_REGION,
        "AWS_REGION": TOOLING_REGION,
    }.items():
        monkeypatch.setenv(name, value)
    from moto import mock_aws
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        module = importlib.import_module(f"hands_off_gates.{function_name.rsplit(':', 1)[-1]}")
        event = json.loads(body) if body else {}
        # the checks function (dispatch) runs the module its event names: that one's clients
        served = event.get(CHECK_FUNCTION_KEY) if isinstance(event, dict) else None
        runs = importlib.import_module(f"hands_off_gates.{served}") if served in CHECK_MODULES else module
        if "codedeploy" in getattr(runs.handler, "services", ()):
            runs.handler.clients["codedeploy"] = CODEDEPLOY.factory
        try:
            return json.dumps(module.handler(event, None)).encode()
        except Exception as exc:  # as Lambda answers an unhandled error
            # Where it was raised, in the test's captured output (Lambda logs it too): an error the
            # handler does not raise itself (e.g. one that only happens under load) is found here.
            traceback.print_exc()
            response_headers["x-amz-function-error"] = "Unhandled"
            error_type = getattr(exc, "error_type", type(exc).__name__)
            return json.dumps({"errorType": error_type, "errorMessage": str(exc)}).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    # moto runs each execution in a thread of its own, whose handlers make clients from boto3's
    # default session while the test thread makes its own: the session is not thread-safe (a
    # client made concurrently failed once under load with "'dict' object has no attribute
    # 'region'"). A Lambda runs one invocation at a time; here, one client is made at a time.
    made_one_at_a_time = threading.Lock()
    new_client = boto3.client

    def client(*args: Any, **kwargs: Any) -> Any:
        with made_one_at_a_time:
            return new_client(*args, **kwargs)

    monkeypatch.setattr(boto3, "client", client)
    monkeypatch.setattr(sys.modules[__name__], "CODEDEPLOY", FakeCodeDeploy())
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        for module in (
            "alarms",
            "bake",
            "override",
            "decide",
            "time_window",
            "execution",
            "hotfix",
            "dispatch",
            "handler",
            "gate_common",
            "contract",
        ):
            # fresh handlers, whose client factories cache clients, inside this mock
            sys.modules.pop(f"hands_off_gates.{module}", None)
        yield


def machine(template: dict[str, Any], name: str) -> str:
    """Create the synthesized state machine ``name`` ("Gate" or "Bake") in moto; return its ARN."""
    functions = {
        logical_id: r["Properties"]["Handler"].split(".")[-2]  # hands_off_gates.<dispatch|hotfix>.handler
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and "Gates" in logical_id
    }
    account = boto3.client("sts").get_caller_identity()["Account"]
    [resource] = [
        r
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and k.startswith(f"Gates{name}")
    ]
    definition = render(resource["Properties"]["DefinitionString"], functions, account)
    json.loads(definition)  # plain ASL now
    sfn = boto3.client("stepfunctions")
    return sfn.create_state_machine(  # type: ignore[no-any-return]
        name=f"hands-off-{name.lower()}",
        definition=definition,
        roleArn=f"arn:aws:iam::{account}:role/sfn",
    )["stateMachineArn"]


def store(config: dict[str, Any]) -> dict[str, Any]:
    """Store ``config`` as the pipeline does (an SSM parameter, the one of the config's stage and
    kind: the machines use their own pipeline's inputs only); return the action input that
    points at it: the parameter's name, the digest of its exact value, the execution id."""
    kind = "Bake" if "bake_seconds" in config else "Gate"
    name = f"/hands-off/{config.get('pipeline', 'orders-application')}/gates/{config.get('stage')}-{kind}"
    value = json.dumps(config, separators=(",", ":"))
    boto3.client("ssm").put_parameter(Name=name, Type="String", Value=value, Overwrite=True)
    return {
        "config_parameter": name,
        "config_sha256": hashlib.sha256(value.encode()).hexdigest(),
        "pipeline_execution_id": "test-execution",
    }


def start(arn: str, config: dict[str, Any], pointer: dict[str, Any] | None = None) -> str:
    """Start the machine like the CodePipeline action does, with ``pointer`` (default: ``config``
    stored by :func:`store`); return the execution ARN."""
    execution = boto3.client("stepfunctions").start_execution(
        stateMachineArn=arn,
        name=f"t-{uuid.uuid4().hex[:12]}",
        input=json.dumps(pointer if pointer is not None else store(config)),
    )
    return str(execution["executionArn"])


def run(
    arn: str, state_input: dict[str, Any], timeout: float = 60, pointer: dict[str, Any] | None = None
) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    execution = {"executionArn": start(arn, state_input, pointer)}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.2)
    raise AssertionError(f"execution still running after {timeout}s")


def cloudwatch_as(role_arn: str, region: str) -> Any:
    """A CloudWatch client in the target account, reached like the gates reach it."""
    creds = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"]
    return boto3.client(
        "cloudwatch",
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def put_alarm(cloudwatch: Any, name: str, state: str, reason: str = "test") -> None:
    """Create one alarm (a Lambda errors metric) and set its state."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


def create_alarms(checks: list[dict[str, Any]], state: str = "OK", extra: str | None = None) -> None:
    """Create each check's alarms (exact names, or the name a prefix stands for) in its account."""
    for check in checks:
        cloudwatch = cloudwatch_as(check["role_arn"], check["region"])
        for name in [*check["alarm_names"], *check["alarm_name_prefixes"], *([extra] if extra else [])]:
            put_alarm(cloudwatch, name, state)


def create_groups(hotfix_groups: list[dict[str, Any]], *, enabled: bool = True) -> None:
    """Each copy's CodeDeploy deployment group, as its stack creates it (alarm rollback on), with
    its alarm configuration ``enabled``."""
    for group in hotfix_groups:
        CODEDEPLOY.add_group(
            group["region"], group["application"], group["deployment_group"], enabled=enabled
        )


def groups_enabled(hotfix_groups: list[dict[str, Any]]) -> list[bool]:
    """Whether each copy's deployment group has its alarm configuration on."""
    return [CODEDEPLOY.enabled(g["region"], g["application"], g["deployment_group"]) for g in hotfix_groups]


def write_override(gate_input: dict[str, Any], **fields: Any) -> None:
    value = {
        "who": "alice",
        "why": "hotfix INC-1",
        "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "stages": [gate_input["stage"]],
        **fields,
    }
    boto3.client("ssm").put_parameter(
        Name=gate_input["override_parameter"], Type="String", Value=json.dumps(value), Overwrite=True
    )


def fast(state_input: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The synthesized input with short waits, so Wait states (which really sleep) take ~1 s."""
    return {**state_input, "check_interval_seconds": 1, "max_wait_seconds": 3, **changes}


ALWAYS_OPEN: dict[str, Any] = {"windows": [], "blackouts": []}


@pytest.mark.usefixtures("local_aws")
class TestGate:
    def test_clear_succeeds(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"])
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
        assert result["status"] == "SUCCEEDED", result

    def test_app_alarm_blocks_then_fails_naming_it(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"], state="ALARM")
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
        assert result["status"] == "FAILED"
        assert "orders-prod-health" in result["cause"]
        assert "us-east-1" in result["cause"]

    def test_org_alarm_by_prefix_blocks(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = action_input(pipeline_template, "Prod-1", "Prod-1-Gate")
        assert gate_input["org_checks"][0]["alarm_name_prefixes"] == ["org-critical-"]
        create_alarms(gate_input["app_checks"])
        create_alarms(
            [{**c, "alarm_name_prefixes": []} for c in gate_input["org_checks"]],
            state="ALARM",
            extra="org-critical-payments",
        )
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
        assert result["status"] == "FAILED"
        assert "org-critical-payments" in result["cause"]

    def test_first_deployment_to_a_region_is_not_blocked_by_its_own_missing_alarm(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = action_input(pipeline_template, "Prod-1", "Prod-1-Gate")
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
        assert result["status"] == "SUCCEEDED", result

    def test_missing_org_alarm_named_exactly_blocks(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = action_input(pipeline_template, "Prod-1", "Prod-1-Gate")
        org = [{**c, "alarm_names": ["org-critical-database"]} for c in gate_input["org_checks"]]
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN, org_checks=org))
        assert result["status"] == "FAILED"
        assert "not found" in result["cause"]

    def test_override_lets_a_fix_through_an_alarm(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"], state="ALARM")
        expires = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        boto3.client("ssm").put_parameter(
            Name=gate_input["override_parameter"],
            Type="String",
            Value=json.dumps(
                {
                    "who": "alice",
                    "why": "hotfix INC-1",
                    "expires_at": expires,
                    "stages": ["Prod-2"],
                    "scope": ["alarms"],
                }
            ),
        )
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
        assert result["status"] == "SUCCEEDED", result

    @pytest.mark.parametrize(("bound_to", "status"), [("test-execution", "SUCCEEDED"), ("another", "FAILED")])
    def test_an_override_bound_to_one_execution_lifts_nothing_in_another(
        self, pipeline_template: dict[str, Any], bound_to: str, status: str
    ) -> None:
        """The machine passes the pipeline execution id to the override and decide Lambdas."""
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"], state="ALARM")
        override = {
            "who": "alice",
            "why": "hotfix INC-1",
            "expires_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
            "stages": ["Prod-2"],
            "scope": ["alarms"],
            "execution_id": bound_to,
        }
        boto3.client("ssm").put_parameter(
            Name=gate_input["override_parameter"], Type="String", Value=json.dumps(override)
        )
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
        assert result["status"] == status, result

    def test_closed_window_waits_then_fails_with_next_opening(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"])
        now = datetime.now(UTC)
        freeze = {
            "windows": [],
            "blackouts": [
                {
                    "start": (now - timedelta(hours=1)).isoformat(),
                    "end": (now + timedelta(hours=1)).isoformat(),
                    "reason": "test freeze",
                }
            ],
        }
        started = time.monotonic()
        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=freeze))
        assert result["status"] == "FAILED"
        assert time.monotonic() - started >= 1, "the gate must wait and re-check before giving up"
        assert "test freeze" in result["cause"]


@pytest.mark.usefixtures("local_aws")
class TestBake:
    def bake_input(self, template: dict[str, Any]) -> dict[str, Any]:
        state_input = action_input(template, "Prod-2", "Prod-2-Bake")
        assert state_input["bake_seconds"] == 3600
        return {**state_input, "bake_seconds": 1, "poll_seconds": 1}

    def test_healthy_bake_succeeds_after_its_time(self, pipeline_template: dict[str, Any]) -> None:
        bake_input = self.bake_input(pipeline_template)
        create_alarms(bake_input["checks"])
        result = run(machine(pipeline_template, "Bake"), bake_input)
        assert result["status"] == "SUCCEEDED", result

    def test_alarm_during_bake_fails(self, pipeline_template: dict[str, Any]) -> None:
        bake_input = self.bake_input(pipeline_template)
        create_alarms(bake_input["checks"], state="ALARM")
        result = run(machine(pipeline_template, "Bake"), bake_input)
        assert result["status"] == "FAILED"
        assert result["error"] == "BakeFailed"
        assert "orders-prod-health" in result["cause"]

    def test_bake_waits_for_traffic(self, pipeline_template: dict[str, Any]) -> None:
        bake_input = {**self.bake_input(pipeline_template), "min_requests": 10}
        create_alarms(bake_input["checks"])
        arn = machine(pipeline_template, "Bake")
        sfn = boto3.client("stepfunctions")
        execution_arn = start(arn, bake_input)
        time.sleep(3)
        described = sfn.describe_execution(executionArn=execution_arn)
        assert described["status"] == "RUNNING", "no requests seen: the bake must keep watching"
        sfn.stop_execution(executionArn=execution_arn)


class _RollbackExecutions:
    """Stands in for CodePipeline: every execution is a rollback."""

    def get_pipeline_execution(self, **_: Any) -> dict[str, Any]:
        return {
            "pipelineExecution": {
                "executionType": "ROLLBACK",
                "trigger": {"triggerType": "AutomatedRollback"},
            }
        }


@pytest.mark.usefixtures("local_aws")
def test_a_stage_rollback_is_not_blocked_by_the_alarm_that_caused_it(
    pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OnFailure: ROLLBACK re-runs the stage's gate and bake while the alarm still fires."""
    execution = importlib.import_module("hands_off_gates.execution")
    monkeypatch.setitem(execution.handler.clients, "codepipeline", lambda region, role: _RollbackExecutions())
    gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
    create_alarms(gate_input["app_checks"], state="ALARM")
    gate = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))
    assert gate["status"] == "SUCCEEDED", gate
    assert json.loads(gate["output"])["rollback"] is True
    bake_input = {
        **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
        "bake_seconds": 1,
        "poll_seconds": 1,
    }
    bake = run(machine(pipeline_template, "Bake"), bake_input)
    assert bake["status"] == "SUCCEEDED", bake


# ------------------------------------------------------------------------- tamper evidence


def rewrite(pointer: dict[str, Any], value: str) -> None:
    """Someone with ssm:PutParameter rewrites the gate input after the pipeline was deployed."""
    boto3.client("ssm").put_parameter(
        Name=pointer["config_parameter"], Value=value, Type="String", Overwrite=True
    )


@pytest.mark.usefixtures("local_aws")
class TestTamperEvidence:
    def test_a_rewritten_gate_input_fails_closed_naming_its_parameter(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        # GIVEN the service's alarm fires, and someone rewrites the gate input to check nothing
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        create_alarms(gate_input["app_checks"], state="ALARM")
        pointer = store(gate_input)
        rewrite(pointer, json.dumps({**gate_input, "app_checks": [], "org_checks": []}))
        # WHEN the gate runs
        result = run(machine(pipeline_template, "Gate"), gate_input, pointer=pointer)
        # THEN it fails closed, before any check, and says which parameter and why
        assert result["status"] == "FAILED"
        assert result["error"] == "GateInputTampered"
        assert result["cause"].startswith(
            f"gate input {pointer['config_parameter']} was changed outside the pipeline"
        )
        assert pointer["config_sha256"] in result["cause"]

    def test_a_rewritten_bake_input_fails_closed(self, pipeline_template: dict[str, Any]) -> None:
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        create_alarms(bake_input["checks"], state="ALARM")
        pointer = store(bake_input)
        rewrite(
            pointer,
            json.dumps({**bake_input, "checks": [{"region": "us-east-1", "alarm_name_prefixes": ["x"]}]}),
        )

        result = run(machine(pipeline_template, "Bake"), bake_input, pointer=pointer)

        assert result["status"] == "FAILED"
        assert result["error"] == "GateInputTampered"
        assert pointer["config_parameter"] in result["cause"]

    def test_an_input_rewritten_to_anything_else_fails_the_same_way(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        pointer = store(gate_input)
        rewrite(pointer, "not json at all")

        result = run(machine(pipeline_template, "Gate"), gate_input, pointer=pointer)

        assert (result["status"], result["error"]) == ("FAILED", "GateInputTampered")

    def test_the_digest_is_lower_case_hex_as_states_hash_returns_it(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        create_alarms(gate_input["app_checks"])
        pointer = store(gate_input)

        upper = run(
            machine(pipeline_template, "Gate"),
            gate_input,
            pointer={**pointer, "config_sha256": pointer["config_sha256"].upper()},
        )
        lower = run(machine(pipeline_template, "Gate"), gate_input, pointer=pointer)

        assert (upper["status"], upper["error"]) == ("FAILED", "GateInputTampered")
        assert lower["status"] == "SUCCEEDED", lower

    def test_an_action_without_a_digest_fails_closed(self, pipeline_template: dict[str, Any]) -> None:
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        create_alarms(gate_input["app_checks"])
        pointer = store(gate_input)
        del pointer["config_sha256"]

        result = run(machine(pipeline_template, "Gate"), gate_input, pointer=pointer)

        assert (result["status"], result["error"]) == ("FAILED", "GateInputUnverified")
        assert pointer["config_parameter"] in result["cause"]

    def test_a_rollback_passes_even_with_its_gate_parameter_deleted(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The rollback check comes first and needs nothing from the parameter."""
        execution = importlib.import_module("hands_off_gates.execution")
        monkeypatch.setitem(
            execution.handler.clients, "codepipeline", lambda region, role: _RollbackExecutions()
        )
        for name, machine_name in (("Prod-2-Gate", "Gate"), ("Prod-2-Bake", "Bake")):
            pointer = store(action_input(pipeline_template, "Prod-2", name))
            boto3.client("ssm").delete_parameter(Name=pointer["config_parameter"])

            result = run(machine(pipeline_template, machine_name), {}, pointer=pointer)

            assert result["status"] == "SUCCEEDED", result
            assert json.loads(result["output"])["rollback"] is True

    def test_a_deleted_parameter_fails_any_other_execution(self, pipeline_template: dict[str, Any]) -> None:
        pointer = store(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"))
        boto3.client("ssm").delete_parameter(Name=pointer["config_parameter"])

        result = run(machine(pipeline_template, "Gate"), {}, pointer=pointer)

        assert result["status"] == "FAILED"
        assert "ParameterNotFound" in result["error"]


def test_each_synthesized_action_carries_the_digest_of_its_parameter(
    pipeline_template: dict[str, Any],
) -> None:
    [pipeline] = [
        r for r in pipeline_template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    values = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in pipeline_template["Resources"].values()
        if r["Type"] == "AWS::SSM::Parameter"
    }
    actions = [
        json.loads(a["Configuration"]["Input"])
        for stage in pipeline["Properties"]["Stages"]
        for a in stage["Actions"]
        if a["ActionTypeId"]["Provider"] == "StepFunctions"
    ]
    assert actions
    for action in actions:
        value = values[action["config_parameter"]]
        assert action["config_sha256"] == hashlib.sha256(value.encode()).hexdigest(), action


# ------------------------------------------------------------------------ transient errors


class LambdaFault(Exception):
    """Fails an invocation with ``error_type``, as Lambda or Step Functions names it."""

    def __init__(self, error_type: str) -> None:
        super().__init__(f"injected {error_type}")
        self.error_type = error_type


def fail_first(monkeypatch: pytest.MonkeyPatch, module_name: str, *errors: str) -> None:
    """The gate function ``module_name`` fails with each of ``errors`` in turn, then works."""
    module = importlib.import_module(f"hands_off_gates.{module_name}")
    real, left = module.handler, list(errors)

    def handler(event: Any, context: Any) -> Any:
        if left:
            raise LambdaFault(left.pop(0))
        return real(event, context)

    monkeypatch.setattr(module, "handler", handler)


class ThrottledCloudWatch:
    def describe_alarms(self, **_: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "DescribeAlarms")


@pytest.mark.usefixtures("local_aws")
class TestTransientErrors:
    def test_a_lambda_timeout_is_retried_and_the_gate_goes_on(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        create_alarms(gate_input["app_checks"])
        fail_first(monkeypatch, "time_window", "Sandbox.Timedout")

        result = run(machine(pipeline_template, "Gate"), gate_input)

        assert result["status"] == "SUCCEEDED", result

    def test_a_check_that_keeps_failing_blocks_rechecks_and_gives_up_naming_it(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        create_alarms(gate_input["app_checks"])
        fail_first(monkeypatch, "time_window", *["RuntimeError"] * 100)

        started = time.monotonic()
        result = run(machine(pipeline_template, "Gate"), gate_input)

        assert (result["status"], result["error"]) == ("FAILED", "DeploymentBlocked")
        assert "time-window check failed (RuntimeError) — blocking, will re-check" in result["cause"]
        assert "giving up" in result["cause"]
        assert time.monotonic() - started >= 1, "a failed check waits and re-checks like any blocker"

    def test_a_check_that_fails_once_only_delays_the_gate(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        gate_input = fast(action_input(pipeline_template, "Prod-2", "Prod-2-Gate"), window=ALWAYS_OPEN)
        create_alarms(gate_input["app_checks"])
        fail_first(monkeypatch, "override", "RuntimeError")

        result = run(machine(pipeline_template, "Gate"), gate_input)

        assert result["status"] == "SUCCEEDED", result

    def test_a_bake_poll_that_fails_once_does_not_fail_the_bake(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        create_alarms(bake_input["checks"])
        fail_first(monkeypatch, "bake", "RuntimeError")

        result = run(machine(pipeline_template, "Bake"), bake_input)

        assert result["status"] == "SUCCEEDED", result

    def test_bake_polls_that_keep_failing_spend_the_budget_then_fail_the_bake(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        create_alarms(bake_input["checks"])
        fail_first(monkeypatch, "bake", *["RuntimeError"] * 100)

        result = run(machine(pipeline_template, "Bake"), bake_input)

        assert (result["status"], result["error"]) == ("FAILED", "BakeFailed")
        assert result["cause"] == (
            "bake check could not run (RuntimeError): unreadable poll 5 in a row; the bake fails at 5"
        )

    def test_throttled_alarm_reads_keep_baking_then_fail_the_bake_naming_why(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        bake = importlib.import_module("hands_off_gates.bake")
        monkeypatch.setitem(bake.handler.clients, "cloudwatch", lambda region, role: ThrottledCloudWatch())

        result = run(machine(pipeline_template, "Bake"), bake_input)

        assert (result["status"], result["error"]) == ("FAILED", "BakeFailed")
        assert result["cause"].startswith(
            "bake failed: could not read what it watches for 5 polls in a row: "
        )
        assert "(Throttling)" in result["cause"]


def _shape_keys(shape: type) -> frozenset[str]:
    return shape.__required_keys__ | shape.__optional_keys__  # type: ignore[attr-defined, no-any-return]


def test_the_synthesized_inputs_have_the_contract_shapes(pipeline_template: dict[str, Any]) -> None:
    """What the library writes into each gate and bake parameter is what the runtime's contract says."""
    from hands_off_gates import contract

    gate = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
    bake = action_input(pipeline_template, "Prod-2", "Prod-2-Bake")

    assert contract.GateInput.__required_keys__ <= set(gate) <= _shape_keys(contract.GateInput)  # type: ignore[attr-defined]
    assert contract.BakeInput.__required_keys__ <= set(bake) <= _shape_keys(contract.BakeInput)  # type: ignore[attr-defined]
    for check in [*gate["app_checks"], *gate["org_checks"], *bake["checks"]]:
        assert contract.AlarmCheck.__required_keys__ <= set(check) <= _shape_keys(contract.AlarmCheck)
    # Each copy's own health alarm: by prefix before its deploy (gate), by name after it (bake).
    assert all(
        c["alarm_name_prefixes"][-1].endswith(contract.HEALTH_ALARM_SUFFIX) for c in gate["app_checks"]
    )
    assert all(c["alarm_names"][-1].endswith(contract.HEALTH_ALARM_SUFFIX) for c in bake["checks"])
    assert contract.WindowInput.__required_keys__ <= set(gate["window"]) <= _shape_keys(contract.WindowInput)
    for window in gate["window"]["windows"]:
        assert set(window) == _shape_keys(contract.WindowSpec)
    assert set(bake["traffic"]) == _shape_keys(contract.TrafficInput)
    assert bake["hotfix_groups"] == gate["hotfix_groups"]
    for group in gate["hotfix_groups"]:
        assert set(group) == _shape_keys(contract.HotfixGroup)
        # the group is named after the copy, in the account-region baseline's shared application
        assert group["application"] == "hands-off-lambda"
        assert group["deployment_group"].startswith("orders-")
        assert group["own_alarms"] == [group["deployment_group"] + contract.HEALTH_ALARM_SUFFIX]
        assert group["role_arn"].endswith(":role/hands-off-orders-gate-reader")
    assert (bake["override_parameter"], bake["override_max_hours"]) == (
        gate["override_parameter"],
        gate["override_max_hours"],
    )
    for target in bake["traffic"]["targets"]:
        assert contract.TrafficTargetInput.__required_keys__ <= set(target)
        assert set(target) <= _shape_keys(contract.TrafficTargetInput)


# ------------------------------------------------------------------------- hotfix (issue 8)


@pytest.mark.parametrize("service", ["orders", "catalog", "inventory"])
def test_the_gate_inputs_name_the_deployment_groups_the_copies_create(service: str, fleet: Any) -> None:
    """The groups a hotfix turns off are the ones the copies' stacks create (names, not references):
    Lambda copies' and server fleets' alike, each in its platform's shared application."""
    pipeline = fleet.pipeline(service)
    template = dict(Template.from_stack(pipeline).to_json())
    created = set()
    for stage in pipeline.rendered.stages:
        resources = Template.from_stack(stage.stack).to_json()["Resources"].values()
        [group] = [r for r in resources if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"]
        created.add(
            (
                stage.stack.deployment.target.region,
                group["Properties"]["ApplicationName"],
                group["Properties"]["DeploymentGroupName"],
            )
        )
    assert len(created) == len(pipeline.rendered.stages)
    for step in ("Prod-2-Gate", "Prod-2-Bake", "Gamma-Gate"):
        stage_name = step.rsplit("-", 1)[0]
        groups = action_input(template, stage_name, step)["hotfix_groups"]
        assert groups
        assert {(g["region"], g["application"], g["deployment_group"]) for g in groups} <= created


def test_every_codedeploy_group_in_the_fleet_watches_only_metric_alarms_with_rollback_on(fleet: Any) -> None:
    """CodeDeploy documents metric alarms; whether it evaluates a composite is not documented. No
    group watches a composite; a hotfix turns alarm rollback off at runtime, never in a template."""
    seen = 0
    for pipeline in fleet.pipelines:
        for stage in pipeline.rendered.stages:
            resources = Template.from_stack(stage.stack).to_json()["Resources"]
            for group in (r for r in resources.values() if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"):
                config = group["Properties"]["AlarmConfiguration"]
                assert config["Enabled"] is True
                for alarm in config["Alarms"]:
                    name = alarm["Name"]
                    if isinstance(name, dict):  # a reference to an alarm of this stack
                        assert resources[name["Ref"]]["Type"] == "AWS::CloudWatch::Alarm", name
                    else:  # a literal name: never the health composite
                        assert not name.endswith(("-health", "-deployment-rollback")), name
                    seen += 1
    assert seen


@pytest.mark.usefixtures("local_aws")
class TestHotfix:
    """A fix ships through the copy's own firing alarm, end to end: the gate lifts it and turns the
    copies' CodeDeploy alarm rollback off (UpdateDeploymentGroup), the bake does not fail on it, and
    the bake's end turns alarm rollback back on."""

    def test_a_hotfix_gate_turns_alarm_rollback_off_then_the_bake_ignores_the_alarm_and_restores_it(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        # GIVEN Prod-2's own alarm fires and a hotfix override bound to this execution
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        groups = gate_input["hotfix_groups"]
        create_alarms(gate_input["app_checks"], state="ALARM")
        create_groups(groups)
        write_override(gate_input, scope=["hotfix"], execution_id="test-execution")

        # WHEN the gate runs
        gate = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))

        # THEN it proceeds and every copy's group has alarm rollback off, through the account's
        # hotfix role (not the gate-reader role the checks use)
        assert gate["status"] == "SUCCEEDED", gate
        assert json.loads(gate["output"])["hotfix"] is True
        assert groups_enabled(groups) == [False] * len(groups)
        writer = {g["role_arn"].replace("-gate-reader", "-hotfix-writer") for g in groups}
        assert sorted((r, role) for r, role, _ in CODEDEPLOY.updates()) == sorted(
            (g["region"], g["role_arn"].replace("-gate-reader", "-hotfix-writer")) for g in groups
        )
        assert all(w.endswith(":role/hands-off-orders-hotfix-writer") for w in writer)

        # WHEN the bake of that stage runs while the copy's own alarm still fires
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        # The copies' own alarms fire (the bake also watches the org-wide ones: they stay quiet).
        own = [
            {
                **c,
                "alarm_name_prefixes": [],
                "alarm_names": [n for n in c["alarm_names"] if n.endswith("-health")],
            }
            for c in bake_input["checks"]
        ]
        create_alarms(own, state="ALARM")
        bake = run(machine(pipeline_template, "Bake"), bake_input)

        # THEN it completes, and turns alarm rollback back on
        assert bake["status"] == "SUCCEEDED", bake
        assert "hotfix ignores" in json.loads(bake["output"])["reason"]
        assert groups_enabled(groups) == [True] * len(groups)

    def test_a_gate_without_a_hotfix_turns_a_leftover_disabled_group_back_on(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"])
        create_groups(gate_input["hotfix_groups"], enabled=False)  # left over

        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))

        assert result["status"] == "SUCCEEDED", result
        assert json.loads(result["output"])["hotfix"] is False
        assert groups_enabled(gate_input["hotfix_groups"]) == [True] * len(gate_input["hotfix_groups"])

    def test_a_gate_passes_before_the_first_deployment_created_the_group(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        gate_input = action_input(pipeline_template, "Prod-1", "Prod-1-Gate")

        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))

        assert result["status"] == "SUCCEEDED", result
        assert CODEDEPLOY.updates() == []

    @pytest.mark.parametrize(
        ("binding", "reason"),
        [
            ({"execution_id": "another-execution"}, "bound to pipeline execution another-execution"),
            ({}, "'hotfix' needs an execution_id"),
        ],
    )
    def test_a_hotfix_for_another_execution_or_none_is_ignored_and_changes_nothing(
        self, pipeline_template: dict[str, Any], binding: dict[str, str], reason: str
    ) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"], state="ALARM")
        create_groups(gate_input["hotfix_groups"])
        write_override(gate_input, scope=["hotfix"], **binding)

        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))

        assert (result["status"], result["error"]) == ("FAILED", "DeploymentBlocked")
        assert reason in result["cause"]
        assert CODEDEPLOY.updates() == []
        assert groups_enabled(gate_input["hotfix_groups"]) == [True] * len(gate_input["hotfix_groups"])

    def test_a_hotfix_whose_group_is_missing_fails_closed(self, pipeline_template: dict[str, Any]) -> None:
        # GIVEN a hotfix, and copies whose deployment groups do not exist
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"], state="ALARM")
        write_override(gate_input, scope=["hotfix"], execution_id="test-execution")

        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))

        assert (result["status"], result["error"]) == ("FAILED", "HotfixAlarmsUnset")
        assert "could not be turned off (DeploymentGroupDoesNotExistException)" in result["cause"]

    def test_a_bake_without_a_hotfix_for_its_execution_fails_on_the_alarm_and_turns_rollback_on(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        # GIVEN groups left disabled, and a hotfix override for another execution
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        create_alarms(bake_input["checks"], state="ALARM")
        create_groups(bake_input["hotfix_groups"], enabled=False)
        write_override(bake_input, scope=["hotfix"], execution_id="another-execution")

        result = run(machine(pipeline_template, "Bake"), bake_input)

        # THEN the copy's alarm fails the bake, and alarm rollback is on again
        assert (result["status"], result["error"]) == ("FAILED", "BakeFailed")
        assert groups_enabled(bake_input["hotfix_groups"]) == [True] * len(bake_input["hotfix_groups"])

    def test_a_bake_that_cannot_turn_rollback_back_on_fails_closed(
        self, pipeline_template: dict[str, Any]
    ) -> None:
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        create_alarms(bake_input["checks"])
        create_groups(bake_input["hotfix_groups"], enabled=False)
        CODEDEPLOY.fail[(bake_input["hotfix_groups"][0]["region"], "UpdateDeploymentGroup")] = (
            "AccessDeniedException"
        )

        result = run(machine(pipeline_template, "Bake"), bake_input)

        assert (result["status"], result["error"]) == ("FAILED", "HotfixNotRestored")
        assert "could not be turned on (AccessDeniedException)" in result["cause"]


@pytest.mark.usefixtures("local_aws")
class TestHotfixLambdaFailures:
    def test_a_gate_whose_hotfix_function_crashes_fails_closed_with_the_error(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        gate_input = action_input(pipeline_template, "Prod-2", "Prod-2-Gate")
        create_alarms(gate_input["app_checks"])
        fail_first(monkeypatch, "hotfix", "RuntimeError")

        result = run(machine(pipeline_template, "Gate"), fast(gate_input, window=ALWAYS_OPEN))

        assert (result["status"], result["error"]) == ("FAILED", "HotfixAlarmsUnset")
        assert (
            result["cause"]
            == "CodeDeploy alarm rollback could not be set (RuntimeError) — failing closed, not deploying"
        )

    def test_a_bake_whose_restore_crashes_fails_with_both_reasons(
        self, pipeline_template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bake_input = {
            **action_input(pipeline_template, "Prod-2", "Prod-2-Bake"),
            "bake_seconds": 1,
            "poll_seconds": 1,
        }
        create_alarms(bake_input["checks"])
        fail_first(monkeypatch, "hotfix", "RuntimeError")

        result = run(machine(pipeline_template, "Bake"), bake_input)

        assert (result["status"], result["error"]) == ("FAILED", "HotfixNotRestored")
        assert result["cause"].startswith("bake complete: ")
        assert result["cause"].endswith(
            " — and CodeDeploy alarm rollback was not turned back on: CodeDeploy alarm rollback could "
            "not be turned back on (RuntimeError) — failing closed"
        )
