"""Alarm thresholds and traffic-shifting policies, with the defaults the rest of hands-off uses."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from hands_off.model._checks import check_float, check_int
from hands_off.model.errors import ConfigError

__all__ = [
    "DEFAULT_ALARM_POLICY",
    "FAST_POLICY",
    "ONE_BOX_POLICY",
    "PREPROD_POLICY",
    "AlarmPolicy",
    "DeploymentPolicy",
    "TrafficShape",
]

# CloudWatch evaluates at most one day of data per alarm (period x evaluation periods).
_MAX_EVALUATION_MINUTES = 24 * 60
# CodeDeploy's limit on a canary/linear interval.
_MAX_INTERVAL_MINUTES = 2880
_MAX_BAKE_MINUTES = 24 * 60


@dataclass(frozen=True, kw_only=True)
class AlarmPolicy:
    """Thresholds of the rollback alarms every deployment watches (P11, P12).

    Example::

        AlarmPolicy(fault_rate_percent=0.5, p99_latency_ms=800)

    Attributes:
        period_minutes: CloudWatch period of every alarm, in minutes. Default: ``1``.
        evaluation_periods: periods evaluated per alarm. Default: ``3``.
        datapoints_to_alarm: breaching periods (of ``evaluation_periods``) that fire the
            alarm. Default: ``3``.
        fault_rate_percent: Lambda ``Errors / Invocations`` percentage that fires the fault
            alarm, in ``(0, 100]``. Default: ``1.0``.
        p99_latency_ms: p99 duration that fires the latency alarm, in milliseconds.
            Default: ``2000``.
        anomaly_band_width: width of the ``ANOMALY_DETECTION_BAND``, in standard deviations,
            in ``(0, 10]``. Default: ``2.0``.
    """

    period_minutes: int = 1
    evaluation_periods: int = 3
    datapoints_to_alarm: int = 3
    fault_rate_percent: float = 1.0
    p99_latency_ms: int = 2000
    anomaly_band_width: float = 2.0

    def __post_init__(self) -> None:
        """Validate every threshold and the one-day CloudWatch evaluation limit."""
        check_int(self.period_minutes, field="AlarmPolicy.period_minutes", low=1, high=1440)
        check_int(self.evaluation_periods, field="AlarmPolicy.evaluation_periods", low=1, high=1440)
        if self.evaluation_window_minutes > _MAX_EVALUATION_MINUTES:
            raise ConfigError(
                "AlarmPolicy.evaluation_periods",
                f"period_minutes x evaluation_periods is {self.evaluation_window_minutes} min, "
                f"over CloudWatch's limit of {_MAX_EVALUATION_MINUTES}; lower either value",
            )
        check_int(
            self.datapoints_to_alarm,
            field="AlarmPolicy.datapoints_to_alarm",
            low=1,
            high=self.evaluation_periods,
            fix="it cannot exceed evaluation_periods",
        )
        check_float(
            self.fault_rate_percent,
            field="AlarmPolicy.fault_rate_percent",
            low=0.0,
            high=100.0,
            low_inclusive=False,
        )
        check_int(self.p99_latency_ms, field="AlarmPolicy.p99_latency_ms", low=1, high=900_000)
        check_float(
            self.anomaly_band_width,
            field="AlarmPolicy.anomaly_band_width",
            low=0.0,
            high=10.0,
            low_inclusive=False,
        )

    @property
    def evaluation_window_minutes(self) -> int:
        """Minutes an alarm needs to fire: ``period_minutes * evaluation_periods``."""
        return self.period_minutes * self.evaluation_periods


DEFAULT_ALARM_POLICY = AlarmPolicy()
"""The default alarm thresholds: 1-minute periods, 3 of 3 breaching, 1% faults, p99 2 s."""


class TrafficShape(enum.Enum):
    """How a deployment moves traffic to the new version."""

    CANARY = "canary"
    """One small slice (the one-box) first, then everything after a watch period."""
    LINEAR = "linear"
    """Equal steps at a fixed interval."""
    ALL_AT_ONCE = "all_at_once"
    """Everything at once (pre-production only)."""


@dataclass(frozen=True, kw_only=True)
class DeploymentPolicy:
    """How one wave/stage shifts traffic to a new version, then bakes (P6, P9, P10, P16).

    Example::

        DeploymentPolicy(shape=TrafficShape.LINEAR, step_percent=20, interval_minutes=5)

    Attributes:
        shape: the traffic shape. Default: ``TrafficShape.CANARY``.
        step_percent: for ``CANARY`` the one-box share (1 to 50); for ``LINEAR`` the percent
            moved per step (1 to 99); ignored for ``ALL_AT_ONCE`` (any 1 to 100).
            Default: ``10``.
        interval_minutes: canary watch period / linear step interval, 1 to 2880 (the
            CodeDeploy limit); ignored for ``ALL_AT_ONCE``. Default: ``10``.
        bake_minutes: time to watch alarms after the traffic shift, 0 to 1440.
            Default: ``60``.
    """

    shape: TrafficShape = TrafficShape.CANARY
    step_percent: int = 10
    interval_minutes: int = 10
    bake_minutes: int = 60

    def __post_init__(self) -> None:
        """Validate the shape and the limits that depend on it."""
        if not isinstance(self.shape, TrafficShape):
            choices = ", ".join(repr(s.value) for s in TrafficShape)
            raise ConfigError(
                "DeploymentPolicy.shape",
                f"{self.shape!r} is not a TrafficShape; use one of {choices}",
            )
        step_limits = {
            TrafficShape.CANARY: (50, "a canary (one-box) slice is at most 50% of traffic"),
            TrafficShape.LINEAR: (99, "a linear step of 100% is ALL_AT_ONCE; use that shape"),
            TrafficShape.ALL_AT_ONCE: (100, "the value is ignored for ALL_AT_ONCE"),
        }
        high, fix = step_limits[self.shape]
        check_int(self.step_percent, field="DeploymentPolicy.step_percent", low=1, high=high, fix=fix)
        check_int(
            self.interval_minutes,
            field="DeploymentPolicy.interval_minutes",
            low=1,
            high=_MAX_INTERVAL_MINUTES,
        )
        check_int(self.bake_minutes, field="DeploymentPolicy.bake_minutes", low=0, high=_MAX_BAKE_MINUTES)

    @property
    def deploy_minutes(self) -> int:
        """Estimated minutes to shift all traffic.

        Canary: one interval. Linear: ``interval * (ceil(100 / step) - 1)``. All at once: 0.
        """
        if self.shape is TrafficShape.CANARY:
            return self.interval_minutes
        if self.shape is TrafficShape.LINEAR:
            steps = -(-100 // self.step_percent)
            return self.interval_minutes * (steps - 1)
        return 0

    @property
    def lead_time_minutes(self) -> int:
        """``deploy_minutes + bake_minutes``."""
        return self.deploy_minutes + self.bake_minutes

    @property
    def summary(self) -> str:
        """A short human description, e.g. ``"canary 10% for 10m"`` or ``"linear 25%/5m"``."""
        if self.shape is TrafficShape.CANARY:
            return f"canary {self.step_percent}% for {self.interval_minutes}m"
        if self.shape is TrafficShape.LINEAR:
            return f"linear {self.step_percent}%/{self.interval_minutes}m"
        return "all at once"

    def with_(self, **changes: Any) -> DeploymentPolicy:
        """Return a copy with ``changes`` applied (validated again), like ``dataclasses.replace``."""
        return dataclasses.replace(self, **changes)


ONE_BOX_POLICY = DeploymentPolicy(
    shape=TrafficShape.CANARY, step_percent=10, interval_minutes=10, bake_minutes=60
)
"""One-box first (10% of traffic for 10 minutes), then the rest, then a one-hour bake.

Used by Gamma, Prod-1 and Prod-2."""

FAST_POLICY = DeploymentPolicy(
    shape=TrafficShape.LINEAR, step_percent=25, interval_minutes=5, bake_minutes=30
)
"""25% every 5 minutes, then a 30-minute bake. Used by the later (larger) production waves."""

PREPROD_POLICY = DeploymentPolicy(
    shape=TrafficShape.ALL_AT_ONCE, step_percent=100, interval_minutes=1, bake_minutes=0
)
"""Everything at once, no bake. Used by Alpha and Beta."""
