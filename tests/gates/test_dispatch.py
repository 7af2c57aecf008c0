"""The checks function's handler: runs the gate module its event names, fails closed otherwise."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from hands_off_gates import dispatch, time_window
from hands_off_gates.contract import CHECK_FUNCTION_KEY, CHECK_MODULES

NOW = "2026-11-27T10:00:00Z"


def test_it_serves_every_check_module_but_hotfix() -> None:
    assert set(CHECK_MODULES) == {"alarms", "time_window", "override", "decide", "bake", "execution"}
    assert "hotfix" not in CHECK_MODULES  # the one that changes deployment groups: its own function


def test_the_event_goes_to_the_named_module_without_the_dispatch_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[dict[str, Any], object]] = []

    def fake(event: dict[str, Any], context: object) -> dict[str, Any]:
        seen.append((event, context))
        return {"allowed": True, "reason": "fake"}

    # the module as the dispatcher finds it (other tests re-import the gate modules)
    monkeypatch.setattr(importlib.import_module("hands_off_gates.time_window"), "handler", fake)
    context = object()
    result = dispatch.handler({CHECK_FUNCTION_KEY: "time_window", "windows": [], "now": NOW}, context)
    assert result == {"allowed": True, "reason": "fake"}
    assert seen == [({"windows": [], "now": NOW}, context)]


def test_a_real_module_runs_and_fails_closed_on_its_own_bad_input() -> None:
    # the time-window gate, given no windows config, blocks and says why (its own fail-closed result)
    result = dispatch.handler({CHECK_FUNCTION_KEY: "time_window", "now": NOW}, None)
    direct = time_window.handler({"now": NOW}, None)
    assert result == direct
    assert result["open"] is False
    assert "window" in result["reason"]


@pytest.mark.parametrize(
    "event",
    [
        {},
        {CHECK_FUNCTION_KEY: "hotfix"},
        {CHECK_FUNCTION_KEY: "handler"},
        {CHECK_FUNCTION_KEY: "gate_common"},
        {CHECK_FUNCTION_KEY: "../alarms"},
        {CHECK_FUNCTION_KEY: None},
        {CHECK_FUNCTION_KEY: ["alarms"]},
        ["alarms"],
        "alarms",
        None,
    ],
)
def test_an_event_naming_no_served_module_raises(event: Any) -> None:
    with pytest.raises(dispatch.UnknownGateFunction, match="failing closed"):
        dispatch.handler(event, None)


def test_the_event_is_not_changed_for_the_caller() -> None:
    event = {CHECK_FUNCTION_KEY: "time_window", "now": NOW}
    dispatch.handler(event, None)
    assert event == {CHECK_FUNCTION_KEY: "time_window", "now": NOW}


# ------------------------------------------------------------- shared checker role: own pipeline only


def test_a_shared_role_checks_function_refuses_another_pipelines_override(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-gates")
    event = {
        CHECK_FUNCTION_KEY: "override",
        "parameter_name": "/hands-off/catalog-application/override",
        "pipeline": "orders-application",
        "stage": "Prod-2",
        "execution_id": "e",
    }
    with pytest.raises(dispatch.ForeignGateEvent, match="catalog-application/override"):
        dispatch.handler(event, None)


@pytest.mark.parametrize(
    ("function_name", "event", "foreign"),
    [
        ("hands-off-orders-gates", {"pipeline": "orders-application"}, []),
        ("hands-off-orders-gates", {"parameter_name": "/hands-off/orders-application/override"}, []),
        ("hands-off-orders-gates", {"pipeline": "catalog-application"}, ["pipeline 'catalog-application'"]),
        (
            "hands-off-orders-gates",
            {"pipeline": "big-orders-application"},
            ["pipeline 'big-orders-application'"],
        ),
        ("hands-off-big-orders-gates", {"pipeline": "orders-application"}, ["pipeline 'orders-application'"]),
        # not named as the shared roles name it (its own role is the boundary), or not in Lambda
        ("OrdersPipeline-GatesChecksFunction0A896B31-abc", {"pipeline": "catalog-application"}, []),
        (None, {"pipeline": "catalog-application"}, []),
    ],
)
def test_foreign_fields(function_name: str | None, event: dict[str, Any], foreign: list[str]) -> None:
    assert dispatch.foreign_fields(event, function_name) == foreign
