"""The plain-Python ASL builder (``hands_off.constructs._asl``) renders a definition exactly as
CDK's ``DefinitionBody.from_chainable`` does: same states, same order, same keys, same quoting.
``DeploymentGates`` relies on it for byte-identical templates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.assertions import Template

from hands_off.constructs import _asl as asl

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:check"
ODD_TEMPLATE = "it's {} — a \\ b \\{ c \\}, end \\"  # a quote, backslashes (one escaping a brace)


def _cdk_definition(stack: Stack) -> sfn.IChainable:
    """A graph with every transition kind: retries, catches, a loop, defaults, a parallel."""
    function = lambda_.Function.from_function_arn(stack, "Function", FUNCTION_ARN)

    def invoke(state_id: str, **kwargs: Any) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            stack,
            state_id,
            lambda_function=function,
            payload=sfn.TaskInput.from_object({"x": sfn.JsonPath.string_at("$.x"), "label": state_id}),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(Duration.seconds(90)),
            **kwargs,
        )
        task.add_retry(
            errors=["Lambda.Unknown"],
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
            max_delay=Duration.seconds(30),
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    start = sfn.Pass(
        stack, "Start", parameters={"input": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.raw"))}
    )
    parallel = sfn.Parallel(stack, "Both", result_path="$.results")
    for name in ("Left", "Right"):
        fallback = sfn.Pass(
            stack,
            f"{name}Failed",
            parameters={
                "reasons": sfn.JsonPath.array(
                    sfn.JsonPath.format(ODD_TEMPLATE, sfn.JsonPath.string_at("$.error.Error"))
                )
            },
        )
        branch = invoke(name)
        branch.add_catch(fallback, errors=["States.ALL"], result_path="$.error")
        parallel.branch(sfn.Chain.start(branch))
    decide = invoke("Decide", result_path="$.decision")
    wait = sfn.Wait(stack, "Wait", time=sfn.WaitTime.seconds_path("$.seconds"))
    wait.next(parallel)
    failed = sfn.Fail(
        stack,
        "Failed",
        error="Failed",
        cause_path=sfn.JsonPath.format(
            "{} and {}", sfn.JsonPath.string_at("$.a"), sfn.JsonPath.string_at("$.b")
        ),
    )
    handler = sfn.Pass(stack, "Handler", result_path="$.handled", parameters={"ok": False})
    handler.next(failed)
    decide.add_catch(handler, errors=["States.ALL"], result_path="$.error")
    start.next(parallel).next(decide).next(
        sfn.Choice(stack, "Done?")
        .when(
            sfn.Condition.and_(
                sfn.Condition.boolean_equals("$.decision.ok", True),
                sfn.Condition.not_(sfn.Condition.is_present("$.decision.skip")),
            ),
            sfn.Succeed(stack, "Done", output_path="$.decision"),
        )
        .when(sfn.Condition.string_equals_json_path("$.a", "$.b"), failed)
        .when(sfn.Condition.number_greater_than_equals("$.n", 5), failed)
        .when(sfn.Condition.string_equals("$.s", "x"), handler)
        .when(sfn.Condition.is_string("$.s"), failed)
        .otherwise(wait)
    )
    return start


def _asl_definition() -> asl.State:
    """The same graph as :func:`_cdk_definition`, with the same transitions in the same order."""

    def invoke(state_id: str, *, result_path: str | None = None) -> asl.Task:
        task = asl.Task(
            state_id,
            resource=FUNCTION_ARN,
            parameters={"x.$": "$.x", "label": state_id},
            timeout_seconds=90,
            result_path=result_path,
        )
        task.add_retry(
            errors=["Lambda.Unknown"],
            interval_seconds=2,
            max_attempts=6,
            backoff_rate=2,
            max_delay_seconds=30,
            jitter_strategy="FULL",
        )
        return task

    start = asl.Pass("Start", parameters={"input.$": asl.string_to_json("$.raw")})
    parallel = asl.Parallel("Both", result_path="$.results")
    for name in ("Left", "Right"):
        fallback = asl.Pass(
            f"{name}Failed",
            parameters={"reasons.$": asl.array(asl.format_(ODD_TEMPLATE, "$.error.Error"))},
        )
        branch = invoke(name)
        branch.add_catch(fallback, errors=["States.ALL"], result_path="$.error")
        parallel.branch(branch)
    decide = invoke("Decide", result_path="$.decision")
    wait = asl.Wait("Wait", seconds_path="$.seconds")
    wait.next(parallel)
    failed = asl.Fail("Failed", error="Failed", cause_path=asl.format_("{} and {}", "$.a", "$.b"))
    handler = asl.Pass("Handler", result_path="$.handled", parameters={"ok": False})
    handler.next(failed)
    decide.add_catch(handler, errors=["States.ALL"], result_path="$.error")
    start.next(parallel).next(decide).next(
        asl.Choice("Done?")
        .when(
            asl.and_(asl.boolean_equals("$.decision.ok", True), asl.not_(asl.is_present("$.decision.skip"))),
            asl.Succeed("Done", output_path="$.decision"),
        )
        .when(asl.string_equals_path("$.a", "$.b"), failed)
        .when(asl.number_greater_than_equals("$.n", 5), failed)
        .when(asl.string_equals("$.s", "x"), handler)
        .when(asl.is_string("$.s"), failed)
        .otherwise(wait)
    )
    return start


def test_render_is_what_cdk_renders_from_the_same_states(bare_stack: Callable[..., Stack]) -> None:
    stack = bare_stack()
    cdk = sfn.StateMachine(
        stack, "Cdk", definition_body=sfn.DefinitionBody.from_chainable(_cdk_definition(stack))
    )
    ours = sfn.StateMachine(
        stack,
        "Ours",
        definition_body=sfn.DefinitionBody.from_string(stack.to_json_string(asl.render(_asl_definition()))),
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    rendered = [
        resources[stack.get_logical_id(m.node.default_child)]["Properties"]["DefinitionString"]  # type: ignore[arg-type]
        for m in (cdk, ours)
    ]
    assert isinstance(rendered[0], str)  # no token: the exact string, key order included
    assert rendered[1] == rendered[0]
    states = list(json.loads(rendered[0])["States"])
    assert states[:3] == ["Start", "Both", "Wait"]  # a state's incoming transitions come first


def test_render_adds_the_timeout_and_refuses_two_states_of_one_name() -> None:
    start = asl.Pass("Start", parameters={})
    start.next(asl.Succeed("Done", output_path="$"))
    assert asl.render(start, timeout_seconds=60) == {
        "StartAt": "Start",
        "States": {
            "Start": {"Type": "Pass", "Parameters": {}, "Next": "Done"},
            "Done": {"Type": "Succeed", "OutputPath": "$"},
        },
        "TimeoutSeconds": 60,
    }
    twice = asl.Pass("Twice", parameters={})
    twice.next(asl.Pass("Twice", parameters={}))
    with pytest.raises(ValueError, match="two states are named 'Twice'"):
        asl.render(twice)
    parallel = asl.Parallel("Twice", result_path="$.r").branch(asl.Pass("Twice", parameters={}))
    with pytest.raises(ValueError, match="two states are named 'Twice'"):
        asl.render(parallel)


def test_a_state_has_one_next_and_a_choice_one_default() -> None:
    state = asl.Pass("A", parameters={})
    state.next(asl.Pass("B", parameters={}))
    with pytest.raises(ValueError, match="already has a next state"):
        state.next(asl.Pass("C", parameters={}))
    choice = asl.Choice("C?").otherwise(state)
    with pytest.raises(ValueError, match="already has a default"):
        choice.otherwise(state)
