"""The metrics of a copy behind an Application Load Balancer (ECS services, EC2 fleets).

:class:`AlbTargetMetrics` is the :class:`~hands_off.constructs.alarm_factory.ServiceMetrics` of a
target group: requests it received, the share of them its targets answered with a 5xx (the load
balancer's own 5xx are not the service's faults, but a target that cannot be reached shows as a
drop in requests and in healthy hosts), and the p99 of the targets' response time in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from hands_off.constructs.alarm_factory import _once_per_period

__all__ = ["AlbTargetMetrics"]


@dataclass(frozen=True)
class AlbTargetMetrics:
    """The metrics of one ALB target group: request count, target 5xx rate, p99 response time.

    Args:
        target_group: the copy's target group (its load balancer must be attached: the metrics
            carry both the ``TargetGroup`` and ``LoadBalancer`` dimensions).
    """

    target_group: elbv2.IApplicationTargetGroup

    def requests(self, period: Duration) -> cloudwatch.IMetric:
        """Requests the load balancer routed to the target group (a sum per ``period``)."""
        return _once_per_period(
            self, period, lambda: self.target_group.metrics.request_count(period=period, statistic="Sum")
        )

    def fault_rate(self, period: Duration) -> cloudwatch.IMetric:
        """``100 * target 5xx / requests`` (0 without requests)."""
        return cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * faults / requests, 0)",
            using_metrics={
                "requests": self.requests(period),
                "faults": self.target_group.metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum"
                ),
            },
            label="Fault rate (%)",
            period=period,
        )

    def latency_p99(self, period: Duration) -> cloudwatch.IMetric:
        """p99 of ``TargetResponseTime`` (CloudWatch reports seconds) in milliseconds."""
        return cloudwatch.MathExpression(
            expression="1000 * latency",
            using_metrics={
                "latency": self.target_group.metrics.target_response_time(period=period, statistic="p99")
            },
            label="p99 response time (ms)",
            period=period,
        )
