"""A user's own pipeline class with a mistake: one line naming the field and the fix, before any
jsii call can turn it into a trace (issue: a library teams adopt)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk import aws_sns_subscriptions as subscriptions

from hands_off.example import OrdersPipeline
from hands_off.model import ConfigError


def _one_line(error: ConfigError) -> str:
    text = str(error)
    assert "\n" not in text
    return text


@pytest.mark.usefixtures("repo_root")
@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            {"service_name": "a" * 48},
            r"^PaymentsPipeline\.service_name: .*'hands-off-a{48}-gate-checker'.*64",
        ),
        ({"connection_arn": ""}, r"^PaymentsPipeline\.connection_arn: "),
        ({"repository": ""}, r"^PaymentsPipeline\.repository: .*owner/name"),
        ({"service_name": "Payments"}, r"^PaymentsPipeline\.service_name: 'Payments'"),
    ],
)
def test_bad_class_attributes_fail_at_construction(attributes: dict[str, str], expected: str) -> None:
    payments = type("PaymentsPipeline", (OrdersPipeline,), {"service_name": "payments", **attributes})
    with pytest.raises(ConfigError) as caught:
        payments(App())
    assert re.search(expected, _one_line(caught.value)), str(caught.value)


def test_an_overridden_source_needs_no_repository(repo_root: Path) -> None:
    from aws_cdk import pipelines

    class Elsewhere(OrdersPipeline):
        service_name = "elsewhere"
        repository = ""
        connection_arn = ""

        def source(self) -> pipelines.CodePipelineSource:
            return pipelines.CodePipelineSource.connection(
                "acme/elsewhere",
                "main",
                connection_arn="arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
            )

    assert Elsewhere(App()).pipeline_name == "elsewhere-application"


def test_two_pipelines_of_one_service_are_refused(repo_root: Path) -> None:
    app = App()
    OrdersPipeline(app)

    class OrdersAgain(OrdersPipeline):
        pass

    with pytest.raises(ConfigError) as caught:
        OrdersAgain(app, "OrdersAgain")
    assert re.match(
        r"^OrdersAgain\.service_name: 'orders' \(stack OrdersAgain\) is also the service of "
        r"OrdersPipeline \(stack OrdersPipeline\)",
        _one_line(caught.value),
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ('{"sku": "A-1"}', r"got str .*; return the dict itself, not its JSON text"),
        ({"when": __import__("datetime").date(2026, 1, 1)}, r"dict of JSON values .*date"),
        ({"ratio": float("nan")}, r"dict of JSON values"),
    ],
)
def test_a_bad_canary_payload_is_one_line(repo_root: Path, payload: object, expected: str) -> None:
    class BadCanary(OrdersPipeline):
        service_name = "badcanary"

        def canary_payload(self) -> Any:
            return payload

    with pytest.raises(ConfigError) as caught:
        BadCanary(App())
    assert re.match(rf"^BadCanary\.canary_payload\(\): .*{expected}", _one_line(caught.value)), str(
        caught.value
    )


def test_a_fleet_pipeline_that_does_not_say_its_copy_class_is_refused(repo_root: Path) -> None:
    """Issue 9: the gates' hotfix and the gate-reader role name the shared CodeDeploy application
    before any copy is built. An ``application()`` hook annotated with no copy class plans the
    Lambda application; copies built into the server one fail the synth, saying what to set."""
    from hands_off.example import InventoryPipeline

    class Vague(InventoryPipeline):
        def application(self, scope: Any, deployment: Any) -> Any:
            return super().application(scope, deployment)

    with pytest.raises(ConfigError) as caught:
        Vague(App())
    assert re.match(
        r"^Vague\.codedeploy_application: the copies' deployment groups are in CodeDeploy "
        r"application 'hands-off-server', but .* 'hands-off-lambda'; set codedeploy_application = "
        r"'hands-off-server'",
        _one_line(caught.value),
    ), str(caught.value)
    # said explicitly, it is planned right: the gates' hotfix names the groups the copies make
    explicit = type("Explicit", (Vague,), {"codedeploy_application": "hands-off-server"})(App())
    groups = {g["application"] for s in explicit.plan.step_inputs for g in s.value["hotfix_groups"]}
    assert groups == {"hands-off-server"}


@pytest.mark.usefixtures("repo_root")
@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        (
            lambda: subscriptions.EmailSubscription("team@example.com"),
            r"returned EmailSubscription .*for the pipeline",
        ),
        (lambda: ["team@example.com"], r"returned str 'team@example.com' for the pipeline; return a list"),
    ],
)
def test_a_paging_hook_returning_no_list_of_subscriptions_is_one_line(returned: Any, expected: str) -> None:
    # Found by a new-user trial: a single subscription was "'EmailSubscription' object is not
    # iterable", a list of addresses 40 lines of jsii SerializationError.
    class Paging(OrdersPipeline):
        service_name = "paging"

        def paging_subscriptions(self, deployment: Any) -> Any:
            return returned()

    with pytest.raises(ConfigError) as caught:
        Paging(App())
    assert re.search(r"^ServicePipeline\.paging_subscriptions\(\): " + expected, _one_line(caught.value))
