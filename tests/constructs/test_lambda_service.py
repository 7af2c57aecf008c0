"""LambdaService alone: function, ``live`` alias, alarms, canary rule and CodeDeploy group."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Environment, Stack
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Capture, Match, Template
from constructs import Construct

from hands_off.assembly import TrafficShift
from hands_off.constructs.code_signing import enforced_code_signing_config
from hands_off.constructs.copies import codedeploy_application_of
from hands_off.constructs.lambda_service import (
    CODEDEPLOY_ALIAS_ACTIONS,
    LambdaService,
    _canary_input,
    deployment_config_for,
)
from hands_off.deployment import Deployment
from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    Account,
    AlarmPolicy,
    ConfigError,
    DeploymentPolicy,
    Target,
    TrafficShape,
)
from hands_off.naming import (
    FAST_LAMBDA_CONFIG_NAME,
    LAMBDA_APPLICATION_NAME,
    ServiceNaming,
    lambda_deployment_config_name,
)
from tests.constructs.conftest import ENV

ACCOUNT, REGION = "123456789012", "eu-west-1"  # the bare stack's env (conftest)
FUNCTION = "orders-test"
CODE = "def handler(event, context):\n    return event\n"
PAYLOAD = {"items": [{"sku": "CANARY-1", "quantity": 1}]}
INVOKER = "arn:aws:iam::111111111111:role/hands-off-orders-integ-tests"
ROLLBACK_EVENTS = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]


def service(stack: Stack, **overrides: Any) -> LambdaService:
    props: dict[str, Any] = {
        "function_name": FUNCTION,
        "code": lambda_.Code.from_inline(CODE),
        "handler": "index.handler",
        "policy": ONE_BOX_POLICY,
    }
    return LambdaService(stack, "Service", **{**props, **overrides})


def alarm_names(template: Template) -> set[str]:
    return {r["Properties"]["AlarmName"] for r in template.find_resources("AWS::CloudWatch::Alarm").values()}


def logical_id(stack: Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


def group_alarm_ids(template: Template) -> list[str]:
    alarms = Capture()
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"AlarmConfiguration": {"Alarms": alarms, "Enabled": True}}
    )
    return [a["Name"]["Ref"] for a in alarms.as_array()]


@pytest.fixture(scope="module")
def quiet(bare_stack: Callable[..., Stack]) -> tuple[Stack, LambdaService, Template]:
    """No canary payload: no rule, no traffic-anomaly alarm; with an invoker role."""
    stack = bare_stack()
    svc = service(stack, invoker_role_arns=[INVOKER])
    return stack, svc, Template.from_stack(stack)


@pytest.fixture(scope="module")
def canary(bare_stack: Callable[..., Stack]) -> tuple[Stack, LambdaService, Template]:
    """A canary payload: a rule every minute and the traffic-anomaly alarm."""
    stack = bare_stack()
    svc = service(stack, canary_payload=PAYLOAD)
    return stack, svc, Template.from_stack(stack)


# ------------------------------------------------------------------- function and alias


def test_function_runs_python_314_with_its_own_log_group(
    quiet: tuple[Stack, LambdaService, Template],
) -> None:
    stack, svc, t = quiet
    t.resource_count_is("AWS::Lambda::Function", 1)
    t.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": FUNCTION,
            "Runtime": "python3.14",
            "Handler": "index.handler",
            "MemorySize": 256,
            "Timeout": 10,
            "LoggingConfig": {"LogGroup": {"Ref": logical_id(stack, svc.node.find_child("Logs"))}},
            "CodeSigningConfigArn": Match.absent(),
        },
    )
    t.has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": f"/aws/lambda/{FUNCTION}", "RetentionInDays": 90}
    )


def test_own_execution_role_writes_only_its_log_group(quiet: tuple[Stack, LambdaService, Template]) -> None:
    stack, svc, t = quiet
    log_group = logical_id(stack, svc.node.find_child("Logs"))
    t.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
                    }
                ]
            },
            "Roles": [{"Ref": logical_id(stack, svc.node.find_child("Role"))}],
        },
    )


def test_alias_is_named_live_on_the_current_version(quiet: tuple[Stack, LambdaService, Template]) -> None:
    stack, svc, t = quiet
    t.resource_count_is("AWS::Lambda::Alias", 1)
    t.has_resource_properties(
        "AWS::Lambda::Alias",
        {
            "Name": "live",
            "FunctionName": {"Ref": logical_id(stack, svc.function)},
            "FunctionVersion": {"Fn::GetAtt": [Match.string_like_regexp("CurrentVersion"), "Version"]},
        },
    )


def test_invoker_roles_may_invoke_the_alias(quiet: tuple[Stack, LambdaService, Template]) -> None:
    stack, svc, t = quiet
    t.resource_count_is("AWS::Lambda::Permission", 1)
    t.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": INVOKER,
            "FunctionName": {"Ref": logical_id(stack, svc.alias)},
        },
    )


def test_outputs_are_the_alias_and_the_health_alarm(quiet: tuple[Stack, LambdaService, Template]) -> None:
    stack, svc, t = quiet
    t.has_output(
        "*", {"Value": {"Ref": logical_id(stack, svc.alias)}, "Description": "ARN of the live alias"}
    )
    t.has_output("*", {"Value": {"Ref": logical_id(stack, svc.alarms.health)}})


# ----------------------------------------------------------------- canary and traffic alarm


def test_without_canary_payload_there_is_no_schedule_and_no_traffic_alarm(
    quiet: tuple[Stack, LambdaService, Template],
) -> None:
    _, svc, t = quiet
    t.resource_count_is("AWS::Scheduler::Schedule", 0)
    t.resource_count_is("AWS::Events::Rule", 0)
    t.resource_count_is("AWS::CloudWatch::Alarm", 2)
    assert alarm_names(t) == {f"{FUNCTION}-fault-rate", f"{FUNCTION}-latency-p99"}
    assert svc.canary_schedule is None
    assert svc.alarms.traffic_anomaly is None


def test_canary_payload_invokes_the_alias_every_minute(canary: tuple[Stack, LambdaService, Template]) -> None:
    stack, svc, t = canary
    t.resource_count_is("AWS::Scheduler::Schedule", 1)
    role = Capture()
    t.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": {"Ref": logical_id(stack, svc.alias)},
                "RoleArn": role,
                "Input": json.dumps(PAYLOAD, separators=(",", ":")),
                "RetryPolicy": {"MaximumRetryAttempts": 0},
            },
        },
    )
    # Without a role of the account's, its own: only the Scheduler, acting for this account, may
    # assume it, and it may invoke this alias only. No resource policy lets EventBridge invoke it.
    [role_id] = role.as_object()["Fn::GetAtt"][:1]
    roles = t.find_resources("AWS::IAM::Role")
    assert roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ENV.account}},
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
        }
    ]
    policies = t.find_resources("AWS::IAM::Policy")
    [canary_policy] = [p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    [(policy_id, _)] = [(k, p) for k, p in policies.items() if p["Properties"]["Roles"] == [{"Ref": role_id}]]
    [schedule] = t.find_resources("AWS::Scheduler::Schedule").values()
    assert policy_id in schedule["DependsOn"]  # its first runs find the role's policy in place
    assert canary_policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": {"Ref": logical_id(stack, svc.alias)},
        }
    ]
    assert not [
        p
        for p in t.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]


def test_the_canary_input_is_the_payload_as_compact_json(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    assert _canary_input(stack, PAYLOAD) == json.dumps(PAYLOAD, separators=(",", ":"))
    assert json.loads(_canary_input(stack, {"nested": {"list": [1, "two", None]}})) == {
        "nested": {"list": [1, "two", None]}
    }


def test_canary_payload_turns_on_the_traffic_anomaly_alarm(
    canary: tuple[Stack, LambdaService, Template],
) -> None:
    _, _, t = canary
    t.resource_count_is("AWS::CloudWatch::Alarm", 3)
    assert f"{FUNCTION}-traffic-anomaly" in alarm_names(t)


@pytest.mark.parametrize(
    ("canary_payload", "watch_traffic", "alarms"),
    [
        pytest.param(None, True, 3, id="no-canary-but-watched"),
        pytest.param(PAYLOAD, False, 2, id="canary-but-not-watched"),
    ],
)
def test_watch_traffic_overrides_the_canary_default(
    bare_stack: Callable[..., Stack], canary_payload: Any, watch_traffic: bool, alarms: int
) -> None:
    stack = bare_stack()
    svc = service(stack, canary_payload=canary_payload, watch_traffic=watch_traffic)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::CloudWatch::Alarm", alarms)
    t.resource_count_is("AWS::Scheduler::Schedule", 0 if canary_payload is None else 1)
    assert len(group_alarm_ids(t)) == len(svc.alarms.rollback) == alarms


# --------------------------------------------------------------------------------- CodeDeploy


@pytest.mark.parametrize("fixture", ["quiet", "canary"])
def test_deployment_group_rolls_back_on_failure_stop_and_exactly_the_rollback_alarms(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    stack, svc, t = request.getfixturevalue(fixture)
    t.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 1)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"AutoRollbackConfiguration": {"Enabled": True, "Events": ROLLBACK_EVENTS}},
    )
    assert group_alarm_ids(t) == [logical_id(stack, a) for a in svc.alarms.rollback]
    # the health composite is for gates and stage conditions, not for CodeDeploy
    assert logical_id(stack, svc.alarms.health) not in group_alarm_ids(t)
    # the alias is shifted by this group
    t.has_resource(
        "AWS::Lambda::Alias",
        {
            "UpdatePolicy": {
                "CodeDeployLambdaAliasUpdate": Match.object_like(
                    {"DeploymentGroupName": {"Ref": logical_id(stack, svc.deployment_group)}}
                )
            }
        },
    )


@pytest.mark.parametrize("fixture", ["quiet", "canary"])
def test_every_deployment_group_watches_only_metric_alarms_with_alarm_rollback_on(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    """Issue 8, hotfix: CodeDeploy watches the metric rollback alarms (documented behaviour), never
    a composite; a hotfix turns the group's alarm configuration off at runtime, not here."""
    _, svc, t = request.getfixturevalue(fixture)
    metric = set(t.find_resources("AWS::CloudWatch::Alarm"))
    composite = set(t.find_resources("AWS::CloudWatch::CompositeAlarm"))
    groups = t.find_resources("AWS::CodeDeploy::DeploymentGroup")
    assert groups
    for group in groups.values():
        config = group["Properties"]["AlarmConfiguration"]
        assert config["Enabled"] is True
        ids = [a["Name"]["Ref"] for a in config["Alarms"]]
        assert ids
        assert set(ids) <= metric
        assert not set(ids) & composite
    assert svc.alarms.deployment_rollback == svc.alarms.rollback  # kept for earlier callers


def test_the_group_is_named_after_the_function_in_the_shared_application(
    canary: tuple[Stack, LambdaService, Template],
) -> None:
    """The gates' hotfix step and the gate-reader role's codedeploy permissions find the group by
    name, in the account-region baseline's application: the copy creates no application."""
    _, svc, t = canary
    t.resource_count_is("AWS::CodeDeploy::Application", 0)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentGroupName": FUNCTION, "ApplicationName": LAMBDA_APPLICATION_NAME},
    )
    assert LAMBDA_APPLICATION_NAME == "hands-off-lambda"
    # CloudFormation shifts the alias through the same application
    t.has_resource(
        "AWS::Lambda::Alias",
        {
            "UpdatePolicy": {
                "CodeDeployLambdaAliasUpdate": {
                    "ApplicationName": LAMBDA_APPLICATION_NAME,
                    "DeploymentGroupName": Match.any_value(),
                }
            }
        },
    )
    assert (
        codedeploy_application_of(svc) == codedeploy_application_of(LambdaService) == LAMBDA_APPLICATION_NAME
    )
    # a new logical id (not the per-copy application's group's "DeploymentGroup"): CloudFormation
    # creates the group in the shared application and deletes the old one, instead of refusing to
    # replace a named group whose ApplicationName changed (README, Upgrading)
    assert svc.deployment_group.node.id != "DeploymentGroup"
    assert svc.node.try_find_child("DeploymentGroup") is None


def test_two_copies_with_one_group_name_in_one_account_region_fail_the_synth(
    bare_stack: Callable[..., Stack],
) -> None:
    """The shared application holds every service's groups there: a second copy named the same
    fails at synth (one line naming both copies), not in CloudFormation."""
    stack = bare_stack()
    service(stack)
    other = Stack(stack.node.scope, "Other", env=ENV)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as caught:
        service(other)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        f"deployment_group_name: {FUNCTION!r} in CodeDeploy application 'hands-off-lambda'"
    )
    assert "Test/Service" in message
    assert "Other/Service" in message
    # another region (or account) of the same app is another namespace
    elsewhere = Environment(account=ENV.account, region="us-west-2")
    service(Stack(stack.node.scope, "Elsewhere", env=elsewhere))  # type: ignore[arg-type]


def test_no_hotfix_alarm_or_deployment_rollback_composite_is_made(
    canary: tuple[Stack, LambdaService, Template],
) -> None:
    _, _, t = canary
    assert not {f"{FUNCTION}-hotfix", f"{FUNCTION}-deployment-rollback"} & alarm_names(t)
    composites = t.find_resources("AWS::CloudWatch::CompositeAlarm")
    assert [c["Properties"]["AlarmName"] for c in composites.values()] == [f"{FUNCTION}-health"]


def test_own_deploy_role_is_scoped_to_the_alias_and_the_rollback_alarms(
    canary: tuple[Stack, LambdaService, Template],
) -> None:
    stack, svc, t = canary
    deploy_role = logical_id(stack, svc.node.find_child("DeployRole"))
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"ServiceRoleArn": {"Fn::GetAtt": [deploy_role, "Arn"]}}
    )
    # no AWS managed policy: the inline one has its actions, scoped
    t.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "codedeploy.amazonaws.com"}})]}
            ),
            "ManagedPolicyArns": Match.absent(),
        },
    )
    t.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": deploy_role}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": sorted(CODEDEPLOY_ALIAS_ACTIONS),
                        "Effect": "Allow",
                        "Resource": {"Ref": logical_id(stack, svc.alias)},
                    },
                    {
                        "Action": "cloudwatch:DescribeAlarms",
                        "Effect": "Allow",
                        "Resource": [
                            {"Fn::GetAtt": [logical_id(stack, a), "Arn"]} for a in svc.alarms.rollback
                        ],
                    },
                ],
                "Version": "2012-10-17",
            },
        },
    )


# ------------------------------------------------------------------------ deployment configs


@pytest.mark.parametrize(
    ("policy", "routing"),
    [
        pytest.param(
            DeploymentPolicy(shape=TrafficShape.LINEAR, step_percent=20, interval_minutes=10),
            {"Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearInterval": 10, "LinearPercentage": 20}},
            id="custom-linear",
        ),
        pytest.param(
            DeploymentPolicy(shape=ONE_BOX_POLICY.shape, step_percent=5, interval_minutes=15),
            {"Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryInterval": 15, "CanaryPercentage": 5}},
            id="custom-canary",
        ),
        pytest.param(
            DeploymentPolicy(shape=ONE_BOX_POLICY.shape, step_percent=10, interval_minutes=20),
            {"Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryInterval": 20, "CanaryPercentage": 10}},
            id="10-percent-canary-of-no-predefined-length",
        ),
    ],
)
def test_deployment_config_for_shifting_policies(
    bare_stack: Callable[..., Stack], policy: DeploymentPolicy, routing: dict[str, Any]
) -> None:
    stack = bare_stack()
    deployment_config_for(stack, "Config", policy)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 1)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentConfig", {"ComputePlatform": "Lambda", "TrafficRoutingConfig": routing}
    )


@pytest.mark.parametrize(
    ("shape", "percent", "minutes", "name"),
    [
        (TrafficShape.CANARY, 10, 5, "LambdaCanary10Percent5Minutes"),
        (TrafficShape.CANARY, 10, 10, "LambdaCanary10Percent10Minutes"),
        (TrafficShape.CANARY, 10, 15, "LambdaCanary10Percent15Minutes"),
        (TrafficShape.CANARY, 10, 30, "LambdaCanary10Percent30Minutes"),
        (TrafficShape.LINEAR, 10, 1, "LambdaLinear10PercentEvery1Minute"),
        (TrafficShape.LINEAR, 10, 2, "LambdaLinear10PercentEvery2Minutes"),
        (TrafficShape.LINEAR, 10, 3, "LambdaLinear10PercentEvery3Minutes"),
        (TrafficShape.LINEAR, 10, 10, "LambdaLinear10PercentEvery10Minutes"),
    ],
)
def test_a_policy_equal_to_a_predefined_config_uses_it(
    bare_stack: Callable[..., Stack], shape: TrafficShape, percent: int, minutes: int, name: str
) -> None:
    # Issue 9: every copy made its own AWS::CodeDeploy::DeploymentConfig, even for CodeDeploy's own.
    stack = bare_stack()
    policy = DeploymentPolicy(shape=shape, step_percent=percent, interval_minutes=minutes)
    config = deployment_config_for(stack, "Config", policy)
    assert stack.resolve(config.deployment_config_name) == f"CodeDeployDefault.{name}"
    assert stack.node.try_find_child("Config") is None  # no custom config in the stack
    # ... and the checks read the same traffic shift from the predefined name as from a custom config
    shift = TrafficShift.predefined(f"CodeDeployDefault.{name}")
    assert shift == TrafficShift(shape=shape.name.lower(), percent=percent, interval_minutes=minutes)


def test_the_fast_policy_names_the_baselines_config(bare_stack: Callable[..., Stack]) -> None:
    # Issue 9: every Lambda copy of a fast wave made its own AWS::CodeDeploy::DeploymentConfig.
    stack = bare_stack()
    first = deployment_config_for(stack, "Config", FAST_POLICY)
    assert stack.resolve(first.deployment_config_name) == FAST_LAMBDA_CONFIG_NAME
    assert stack.node.try_find_child("Config") is None  # imported once per stack, not as "Config"
    assert deployment_config_for(stack, "Other", FAST_POLICY) is first
    assert not [c for c in stack.node.find_all() if isinstance(c, codedeploy.CfnDeploymentConfig)]
    # ... under any scope in the stack
    scope = Construct(stack, "Copy")
    config = deployment_config_for(scope, "Config", FAST_POLICY)
    assert stack.resolve(config.deployment_config_name) == FAST_LAMBDA_CONFIG_NAME
    # ... and the checks read its traffic shift from the name
    shift = TrafficShift.predefined(FAST_LAMBDA_CONFIG_NAME)
    assert shift == TrafficShift(shape="linear", percent=25, interval_minutes=5)


@pytest.mark.parametrize(
    ("shape", "percent", "minutes", "name"),
    [
        (TrafficShape.LINEAR, 25, 5, "hands-off-lambda-linear-25-percent-every-5-minutes"),
        (TrafficShape.LINEAR, 20, 1, "hands-off-lambda-linear-20-percent-every-1-minute"),
        (TrafficShape.CANARY, 5, 15, "hands-off-lambda-canary-5-percent-15-minutes"),
    ],
)
def test_the_checks_read_the_traffic_shift_from_a_baseline_config_name(
    shape: TrafficShape, percent: int, minutes: int, name: str
) -> None:
    # naming builds the names, the (model-free) assembly reader parses them: they must agree
    assert lambda_deployment_config_name(shape, percent, minutes) == name
    assert len(name) <= 100  # CodeDeploy's limit on a config name
    shift = TrafficShift.predefined(name)
    assert shift == TrafficShift(shape=shape.value, percent=percent, interval_minutes=minutes)


def test_deployment_config_for_all_at_once_is_the_predefined_config(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    config = deployment_config_for(stack, "Config", PREPROD_POLICY)
    predefined = codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE
    assert stack.resolve(config.deployment_config_name) == stack.resolve(predefined.deployment_config_name)
    assert stack.resolve(config.deployment_config_name) == "CodeDeployDefault.LambdaAllAtOnce"
    assert stack.node.try_find_child("Config") is None  # nothing is added to the stack


def test_service_uses_its_policys_deployment_config(
    quiet: tuple[Stack, LambdaService, Template], bare_stack: Callable[..., Stack]
) -> None:
    # GIVEN the one-box policy (10% for 10 minutes) THEN the group uses CodeDeploy's own canary
    _, _, t = quiet
    t.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 0)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent10Minutes"},
    )
    # GIVEN the fast policy (no predefined config) THEN the group names the baseline's shared one
    stack = bare_stack()
    service(stack, policy=FAST_POLICY)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 0)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"DeploymentConfigName": FAST_LAMBDA_CONFIG_NAME}
    )
    # GIVEN a policy neither CodeDeploy nor the baseline has THEN the group points at its own config
    stack = bare_stack()
    service(stack, policy=DeploymentPolicy(shape=TrafficShape.LINEAR, step_percent=20, interval_minutes=10))
    t = Template.from_stack(stack)
    [config_id] = t.find_resources("AWS::CodeDeploy::DeploymentConfig")
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"DeploymentConfigName": {"Ref": config_id}}
    )
    # GIVEN the pre-production policy THEN the group uses CodeDeploy's predefined all-at-once config
    stack = bare_stack()
    service(stack, policy=PREPROD_POLICY)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::CodeDeploy::DeploymentConfig", 0)
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup", {"DeploymentConfigName": "CodeDeployDefault.LambdaAllAtOnce"}
    )


# ------------------------------------------------------------------------------ code signing


def test_code_signing_config_is_wired_to_the_function(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    naming = ServiceNaming(service="orders", tooling_account="111111111111", tooling_region="us-east-1")
    service(stack, code_signing_config=enforced_code_signing_config(stack, naming))
    t = Template.from_stack(stack)
    [config_id] = t.find_resources("AWS::Lambda::CodeSigningConfig")
    t.has_resource_properties(
        "AWS::Lambda::Function", {"CodeSigningConfigArn": {"Fn::GetAtt": [config_id, "CodeSigningConfigArn"]}}
    )


# --------------------------------------------------------------------------- for_deployment

NAMING = ServiceNaming(service="orders", tooling_account="111111111111", tooling_region="us-east-1")
TARGET = Target(account=Account(name="preprod", account_id=ACCOUNT), region=REGION)


def deployment(*, stage: str = "Gamma", production: bool = False) -> Deployment:
    return Deployment(
        service_name="orders",
        stage_name=stage,
        target=TARGET,
        policy=ONE_BOX_POLICY,
        alarm_policy=AlarmPolicy(p99_latency_ms=900),
        production=production,
    )


@pytest.fixture(scope="module")
def code_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("orders-code")
    (folder / "app.py").write_text(CODE)
    return folder


@pytest.fixture(scope="module")
def gamma(bare_stack: Callable[..., Stack], code_directory: Path) -> tuple[LambdaService, Template]:
    """Gamma with a canary: the shape a hands-off pipeline deploys before production."""
    stack = bare_stack()
    svc = LambdaService.for_deployment(
        stack,
        deployment(),
        naming=NAMING,
        code_directory=str(code_directory),
        handler="app.handler",
        canary_payload=PAYLOAD,
    )
    return svc, Template.from_stack(stack)


def test_for_deployment_imports_the_accounts_roles_by_name(gamma: tuple[LambdaService, Template]) -> None:
    _, t = gamma
    t.resource_count_is("AWS::IAM::Role", 0)
    t.resource_count_is("AWS::IAM::Policy", 0)
    t.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "orders-gamma",
            "Handler": "app.handler",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/hands-off-orders-runtime",
        },
    )
    t.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {"ServiceRoleArn": f"arn:aws:iam::{ACCOUNT}:role/hands-off-orders-codedeploy"},
    )
    t.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"Target": Match.object_like({"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/hands-off-orders-canary"})},
    )


def test_for_deployment_has_no_resource_policy(gamma: tuple[LambdaService, Template]) -> None:
    # The canary and the integration tests invoke the alias as the account's canary role
    # (ServiceAccessStack): no Lambda permission per copy, nobody else may invoke it.
    _, t = gamma
    t.resource_count_is("AWS::Lambda::Permission", 0)


def test_for_deployment_enforces_signed_code_and_reads_the_code_folder(
    gamma: tuple[LambdaService, Template],
) -> None:
    _, t = gamma
    t.has_resource_properties(
        "AWS::Lambda::CodeSigningConfig",
        {
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
            "AllowedPublishers": {
                "SigningProfileVersionArns": [
                    "arn:aws:signer:us-east-1:111111111111:/signing-profiles/HandsOffOrders/local-synth-unsigned"
                ]
            },
        },
    )
    t.has_resource_properties(
        "AWS::Lambda::Function",
        {"Code": {"S3Bucket": Match.any_value(), "S3Key": Match.string_like_regexp(r"^[0-9a-f]{64}\.zip$")}},
    )


def test_for_deployment_uses_the_deployments_alarm_policy_and_watches_the_canary(
    gamma: tuple[LambdaService, Template],
) -> None:
    svc, t = gamma
    t.resource_count_is("AWS::Scheduler::Schedule", 1)
    assert alarm_names(t) == {
        "orders-gamma-fault-rate",
        "orders-gamma-latency-p99",
        "orders-gamma-traffic-anomaly",
    }
    t.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "orders-gamma-latency-p99", "Threshold": 900}
    )
    assert len(svc.alarms.rollback) == 3


@pytest.mark.parametrize(
    ("stage", "production", "payload", "alarms", "rules"),
    [
        pytest.param("Prod-1", True, None, 3, 0, id="production-watches-customer-traffic"),
        pytest.param("Beta", False, None, 2, 0, id="preproduction-without-canary-does-not-watch"),
    ],
)
def test_for_deployment_watches_traffic_only_where_it_is_continuous(
    bare_stack: Callable[..., Stack],
    code_directory: Path,
    stage: str,
    production: bool,
    payload: Any,
    alarms: int,
    rules: int,
) -> None:
    stack = bare_stack()
    d = deployment(stage=stage, production=production)
    LambdaService.for_deployment(
        stack,
        d,
        naming=NAMING,
        code_directory=str(code_directory),
        handler="app.handler",
        canary_payload=payload,
    )
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::CloudWatch::Alarm", alarms)
    t.resource_count_is("AWS::Scheduler::Schedule", rules)
    t.has_resource_properties("AWS::Lambda::Function", {"FunctionName": d.function_name})
    t.has_resource_properties("AWS::CloudWatch::CompositeAlarm", {"AlarmName": d.health_alarm_name})
