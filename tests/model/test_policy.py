"""AlarmPolicy and DeploymentPolicy."""

from __future__ import annotations

import dataclasses

import pytest

from hands_off.model import (
    DEFAULT_ALARM_POLICY,
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    AlarmPolicy,
    ConfigError,
    DeploymentPolicy,
    TrafficShape,
)


def test_alarm_policy_defaults() -> None:
    policy = AlarmPolicy()

    assert policy == DEFAULT_ALARM_POLICY
    assert policy.evaluation_window_minutes == 3
    assert (policy.fault_rate_percent, policy.p99_latency_ms, policy.anomaly_band_width) == (1.0, 2000, 2.0)


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"period_minutes": 0}, "AlarmPolicy.period_minutes", "from 1 to 1440"),
        ({"evaluation_periods": 0}, "AlarmPolicy.evaluation_periods", "from 1 to 1440"),
        (
            {"period_minutes": 60, "evaluation_periods": 25},
            "AlarmPolicy.evaluation_periods",
            "lower either value",
        ),
        ({"datapoints_to_alarm": 4}, "AlarmPolicy.datapoints_to_alarm", "cannot exceed evaluation_periods"),
        ({"fault_rate_percent": 0}, "AlarmPolicy.fault_rate_percent", "(0.0, 100.0]"),
        ({"fault_rate_percent": float("nan")}, "AlarmPolicy.fault_rate_percent", "(0.0, 100.0]"),
        ({"p99_latency_ms": 0}, "AlarmPolicy.p99_latency_ms", "from 1 to 900000"),
        ({"anomaly_band_width": -1.0}, "AlarmPolicy.anomaly_band_width", "(0.0, 10.0]"),
    ],
)
def test_alarm_policy_validation(changes: dict[str, object], field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AlarmPolicy(**changes)  # type: ignore[arg-type]

    assert caught.value.field == field
    assert fix in str(caught.value)


def test_default_policies() -> None:
    assert DeploymentPolicy() == ONE_BOX_POLICY
    assert (ONE_BOX_POLICY.deploy_minutes, ONE_BOX_POLICY.lead_time_minutes) == (10, 70)
    assert (FAST_POLICY.shape, FAST_POLICY.deploy_minutes, FAST_POLICY.lead_time_minutes) == (
        TrafficShape.LINEAR,
        15,
        45,
    )
    assert (PREPROD_POLICY.deploy_minutes, PREPROD_POLICY.lead_time_minutes) == (0, 0)


@pytest.mark.parametrize(
    ("step", "interval", "minutes"),
    [(25, 5, 15), (30, 10, 30), (10, 1, 9), (99, 7, 7), (50, 4, 4), (33, 3, 9), (1, 1, 99)],
)
def test_linear_deploy_minutes(step: int, interval: int, minutes: int) -> None:
    policy = DeploymentPolicy(shape=TrafficShape.LINEAR, step_percent=step, interval_minutes=interval)

    assert policy.deploy_minutes == minutes


def test_summary() -> None:
    assert ONE_BOX_POLICY.summary == "canary 10% for 10m"
    assert FAST_POLICY.summary == "linear 25%/5m"
    assert PREPROD_POLICY.summary == "all at once"


def test_with_replaces_and_revalidates() -> None:
    assert ONE_BOX_POLICY.with_(bake_minutes=30).bake_minutes == 30
    with pytest.raises(ConfigError, match=r"DeploymentPolicy\.bake_minutes"):
        ONE_BOX_POLICY.with_(bake_minutes=-1)


def test_policies_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ONE_BOX_POLICY.bake_minutes = 1  # type: ignore[misc]


def test_all_at_once_ignores_step_up_to_100() -> None:
    assert DeploymentPolicy(shape=TrafficShape.ALL_AT_ONCE, step_percent=100).deploy_minutes == 0


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"shape": "canary"}, "DeploymentPolicy.shape", "'all_at_once'"),
        ({"step_percent": 51}, "DeploymentPolicy.step_percent", "at most 50% of traffic"),
        ({"step_percent": 0}, "DeploymentPolicy.step_percent", "from 1 to 50"),
        (
            {"shape": TrafficShape.LINEAR, "step_percent": 100},
            "DeploymentPolicy.step_percent",
            "use that shape",
        ),
        ({"interval_minutes": 2881}, "DeploymentPolicy.interval_minutes", "from 1 to 2880"),
        ({"bake_minutes": 1441}, "DeploymentPolicy.bake_minutes", "from 0 to 1440"),
        ({"bake_minutes": 1.5}, "DeploymentPolicy.bake_minutes", "whole number"),
    ],
)
def test_deployment_policy_validation(changes: dict[str, object], field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        DeploymentPolicy(**changes)  # type: ignore[arg-type]

    assert caught.value.field == field
    assert fix in str(caught.value)
