"""An ECS (Fargate) service behind an Application Load Balancer, shifted by ECS itself.

Each copy is one Fargate service with its own load balancer, cluster and VPC. A new revision is
rolled out by ECS's native deployment strategies (no CodeDeploy): a **canary** slice of the
traffic for the one-box step (P9), **linear** steps for later waves (P10), **blue/green** where the
policy shifts everything at once. During the shift and for the policy's bake time after it, ECS
watches the copy's alarms (``ROLLBACK_ON_ALARM``) and the deployment circuit breaker, and returns
all traffic to the previous revision on either (P11-P13).

Why ECS-native rather than CodeDeploy's ECS blue/green: the deployment is part of the
CloudFormation update of the copy's stack (``AWS::ECS::Service`` carries the strategy), so it fits
CDK Pipelines' deploy actions unchanged, and other changes may ride in the same stack update
(CodeDeploy's CloudFormation hook for ECS refuses a stack update that changes anything else).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aws_cdk import Acknowledgment, CfnOutput, Duration, Fn, RemovalPolicy, Tags, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from hands_off.constructs.alarm_factory import AlarmFactory, ServiceAlarms
from hands_off.constructs.roles import inline_default_policy
from hands_off.deployment import Deployment
from hands_off.model import AlarmPolicy, ConfigError, DeploymentPolicy, TrafficShape
from hands_off.naming import ServiceNaming

__all__ = [
    "CONTAINER_NAME",
    "EcsDeployment",
    "EcsRolePurpose",
    "EcsService",
    "HostAlarmKind",
    "LoadBalancerMetrics",
    "ecs_deployment_for",
    "host_alarm_name",
]

CONTAINER_NAME = "app"
"""Name of the service's container in its task definition."""

# ECS's limits (aws-cdk-lib validates the same at synth, with an error naming no policy).
_MIN_LINEAR_STEP_PERCENT = 3
_MAX_ECS_MINUTES = 1440


class HostAlarmKind(enum.StrEnum):
    """The task-level alarms of an ECS copy, named ``<copy>-<kind>`` like the factory's alarms.

    Local until :class:`~hands_off.naming.AlarmKind` has members for them.
    """

    CPU = "cpu-utilization"
    MEMORY = "memory-utilization"


class EcsRolePurpose(enum.StrEnum):
    """The roles of one ECS copy (``<role_name_prefix>-<purpose>`` when named)."""

    TASK = "task"
    TASK_EXECUTION = "task-exec"
    LOAD_BALANCER = "ecs-lb"
    FLOW_LOGS = "flow-logs"


_MAX_ROLE_NAME = 64


def host_alarm_name(copy: str, kind: HostAlarmKind) -> str:
    """``<copy>-cpu-utilization`` / ``<copy>-memory-utilization``."""
    return f"{copy}-{kind}"


@dataclass(frozen=True)
class EcsDeployment:
    """How ECS rolls out one revision: the ``AWS::ECS::Service`` deployment configuration.

    Attributes:
        strategy: ``CANARY``, ``LINEAR`` or ``BLUE_GREEN``.
        canary: canary share and its bake (``CANARY`` only).
        linear: step size and the wait between steps (``LINEAR`` only).
        bake_time: how long ECS keeps the previous revision, watching the alarms, after all
            traffic shifted (a rollback in that window is immediate).
    """

    strategy: ecs.DeploymentStrategy
    canary: ecs.TrafficShiftConfig | None
    linear: ecs.TrafficShiftConfig | None
    bake_time: Duration


def ecs_deployment_for(policy: DeploymentPolicy, *, field: str = "DeploymentPolicy") -> EcsDeployment:
    """The ECS deployment that realises ``policy``: canary (P9 one-box) or linear (P10) shifts
    with the policy's interval as the step bake, blue/green for all-at-once; the policy's bake as
    ECS's bake time.

    Raises:
        ConfigError: the policy is outside what ECS accepts (a linear step under 3%, an interval
            or bake over 1,440 minutes).
    """
    if policy.shape is not TrafficShape.ALL_AT_ONCE and policy.interval_minutes > _MAX_ECS_MINUTES:
        raise ConfigError(
            f"{field}.interval_minutes",
            f"{policy.interval_minutes} min is over ECS's limit of {_MAX_ECS_MINUTES} for the wait "
            "between traffic shifts; lower it",
        )
    if policy.bake_minutes > _MAX_ECS_MINUTES:  # pragma: no cover - DeploymentPolicy caps it too
        raise ConfigError(f"{field}.bake_minutes", f"ECS bakes at most {_MAX_ECS_MINUTES} min")
    bake = Duration.minutes(policy.bake_minutes)
    step = ecs.TrafficShiftConfig(
        step_percent=policy.step_percent, step_bake_time=Duration.minutes(policy.interval_minutes)
    )
    if policy.shape is TrafficShape.CANARY:
        return EcsDeployment(ecs.DeploymentStrategy.CANARY, canary=step, linear=None, bake_time=bake)
    if policy.shape is TrafficShape.LINEAR:
        if policy.step_percent < _MIN_LINEAR_STEP_PERCENT:
            raise ConfigError(
                f"{field}.step_percent",
                f"ECS shifts linear steps of {_MIN_LINEAR_STEP_PERCENT}% to 100%, not "
                f"{policy.step_percent}%; use a larger step (or a CANARY policy for a small slice)",
            )
        return EcsDeployment(ecs.DeploymentStrategy.LINEAR, canary=None, linear=step, bake_time=bake)
    return EcsDeployment(ecs.DeploymentStrategy.BLUE_GREEN, canary=None, linear=None, bake_time=bake)


@dataclass(frozen=True)
class LoadBalancerMetrics:
    """The metrics of a load balancer that serves one copy only: requests, 5xx rate, p99 latency.

    Not the target group's (:class:`~hands_off.constructs.alb_metrics.AlbTargetMetrics`): an ECS
    blue/green, canary or linear deployment moves the traffic between *two* target groups and
    swaps their roles at every deployment, so one target group's requests drop to zero after
    every other deployment (a false traffic-anomaly alarm) and a canary's faults land in the
    other one. The load balancer's metrics span both.

    Args:
        load_balancer: the copy's own load balancer.
    """

    load_balancer: elbv2.IApplicationLoadBalancer

    def requests(self, period: Duration) -> cloudwatch.IMetric:
        """Requests the load balancer received (a sum per ``period``)."""
        return self.load_balancer.metrics.request_count(period=period, statistic="Sum")

    def fault_rate(self, period: Duration) -> cloudwatch.IMetric:
        """``100 * (target 5xx + load balancer 5xx) / requests`` (0 without requests).

        The load balancer is this copy's alone, so its own 502/503/504 (a task that resets the
        connection, times out or is missing) are this copy's faults as customers see them.
        """
        metrics = self.load_balancer.metrics
        return cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * (FILL(target, 0) + FILL(elb, 0)) / requests, 0)",
            using_metrics={
                "requests": self.requests(period),
                "target": metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period, statistic="Sum"
                ),
                "elb": metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period, statistic="Sum"),
            },
            label="Fault rate (%)",
            period=period,
        )

    def latency_p99(self, period: Duration) -> cloudwatch.IMetric:
        """p99 of ``TargetResponseTime`` (CloudWatch reports seconds) in milliseconds."""
        return cloudwatch.MathExpression(
            expression="1000 * latency",
            using_metrics={
                "latency": self.load_balancer.metrics.target_response_time(period=period, statistic="p99")
            },
            label="p99 response time (ms)",
            period=period,
        )


class EcsService(Construct):
    """One copy of a containerised service on Fargate, behind its own Application Load Balancer.

    Creates a VPC (public subnets in two Availability Zones, flow logs, no NAT gateway), an ALB
    (access logs, invalid headers dropped) whose production listener rule ECS shifts between a
    blue and a green target group, a cluster with Container Insights, the Fargate service
    (``desired_count`` tasks with public IPs but a security group that admits only the load
    balancer), the service's alarms from :class:`AlarmFactory` plus CPU and memory alarms, and an
    ECS deployment (:func:`ecs_deployment_for`) that rolls back on any of them and on the circuit
    breaker (P9-P13).

    Example::

        EcsService(stack, "Service", service_name="shipping-prod",
                   image=ecs.ContainerImage.from_asset("containers/shipping"),
                   policy=ONE_BOX_POLICY, canary_path="/health")

    Args:
        service_name: physical name of the service and cluster, and prefix of every alarm name
            (the gates find ``<service_name>-health``); unique per account and region.
        image: the container image (e.g. the service's Dockerfile as an asset).
        policy: traffic shift and bake of this stage or wave.
        alarm_policy: thresholds. Default: ``AlarmPolicy()``.
        container_port: the port the container listens on. Default: 8080.
        health_check_path: what the load balancer polls. Default: ``/health``.
        desired_count: tasks. Default: 2 (one per Availability Zone).
        cpu: task CPU units. Default: 256.
        memory_limit_mib: task memory. Default: 512.
        cpu_alarm_percent: average CPU utilization that fires the CPU alarm. Default: 80.
        memory_alarm_percent: average memory utilization that fires the memory alarm. Default: 80.
        canary_path: when given, Route 53 health checkers request
            ``http://<load balancer><canary_path>`` every 30 seconds from several regions, so
            alarms (and bakes) have signal even at low traffic (P18). Default: none.
        watch_traffic: create the traffic-anomaly alarm and roll back on it. Default: only when
            ``canary_path`` is given (without continuous traffic, "no data" is normal).
        role_name_prefix: when given, the copy's roles are named ``<prefix>-<purpose>`` (IAM
            roles are global to an account, so the prefix must be unique per copy and region;
            whole names are at most 64 characters). Default: names CloudFormation generates.
    """

    @classmethod
    def for_deployment(
        cls,
        scope: Construct,
        deployment: Deployment,
        *,
        naming: ServiceNaming,
        code_directory: str,
        canary_path: str | None,
        container_port: int = 8080,
        health_check_path: str = "/health",
    ) -> EcsService:
        """The copy a hands-off pipeline deploys for ``deployment``: the image built from the
        Dockerfile in ``code_directory`` (a CDK asset: ``cdk synth`` only stages the folder; the
        pipeline's asset stage builds and pushes it), named like a Lambda copy
        (``deployment.function_name``), so the gates and bakes find its ``…-health`` alarm
        unchanged; watching traffic wherever it is continuous (production, or a canary)."""
        # The copy's roles are its own (IAM is global: one set per copy and region), named under
        # the organization's role prefix so the bootstrap's CloudFormation policy may create them.
        prefix = f"{naming.prefix}-{deployment.function_name}-{deployment.target.region}"
        return cls(
            scope,
            "Service",
            service_name=deployment.function_name,
            image=ecs.ContainerImage.from_asset(code_directory, platform=ecr_assets.Platform.LINUX_AMD64),
            policy=deployment.policy,
            alarm_policy=deployment.alarm_policy,
            container_port=container_port,
            health_check_path=health_check_path,
            canary_path=canary_path,
            # Customers (production) or the canary (Gamma) give continuous traffic to watch.
            watch_traffic=deployment.production or canary_path is not None,
            role_name_prefix=prefix,
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        image: ecs.ContainerImage,
        policy: DeploymentPolicy,
        alarm_policy: AlarmPolicy | None = None,
        container_port: int = 8080,
        health_check_path: str = "/health",
        desired_count: int = 2,
        cpu: int = 256,
        memory_limit_mib: int = 512,
        cpu_alarm_percent: float = 80,
        memory_alarm_percent: float = 80,
        canary_path: str | None = None,
        watch_traffic: bool | None = None,
        role_name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._role_name_prefix = role_name_prefix
        self._own_roles: list[iam.Role] = []
        for purpose in EcsRolePurpose:
            self._role_name(purpose)  # fail early, naming the longest role name
        alarm_policy = alarm_policy or AlarmPolicy()
        rollout = ecs_deployment_for(policy)
        if canary_path is not None and not canary_path.startswith("/"):
            raise ConfigError("EcsService.canary_path", f"{canary_path!r} must start with '/'")

        self._internet: list[IConstruct] = []  # routes the load balancer and tasks need first
        self.vpc = self._vpc()
        self.load_balancer, self.listener = self._load_balancer(service_name)
        self.endpoint = f"http://{self.load_balancer.load_balancer_dns_name}"

        blue, green = (
            elbv2.ApplicationTargetGroup(
                self,
                f"{color}TargetGroup",
                vpc=self.vpc,
                port=container_port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                target_type=elbv2.TargetType.IP,
                deregistration_delay=Duration.seconds(30),
                health_check=elbv2.HealthCheck(
                    path=health_check_path,
                    interval=Duration.seconds(15),
                    healthy_threshold_count=2,
                    unhealthy_threshold_count=2,
                ),
            )
            for color in ("Blue", "Green")
        )
        self.target_groups = (blue, green)
        # Only forward actions on this listener: ECS shifts weights on a forwarding rule, and
        # refuses listeners that mix forward and fixed-response/redirect actions.
        self.listener.add_target_groups("Default", target_groups=[blue])
        self.production_rule = elbv2.ApplicationListenerRule(
            self,
            "ProductionRule",
            listener=self.listener,
            priority=1,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
            # ECS rewrites these weights during each deployment; the template's are the first.
            action=elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=blue, weight=100),
                    elbv2.WeightedTargetGroup(target_group=green, weight=0),
                ]
            ),
        )

        factory = AlarmFactory(self, "Alarms", name_prefix=service_name, policy=alarm_policy)
        watch = canary_path is not None if watch_traffic is None else watch_traffic
        self.alarms: ServiceAlarms = factory.service_alarms(
            LoadBalancerMetrics(self.load_balancer), watch_traffic=watch
        )
        self.host_alarms = self._host_alarms(
            factory,
            cluster_name=service_name,
            service_name=service_name,
            policy=alarm_policy,
            thresholds={HostAlarmKind.CPU: cpu_alarm_percent, HostAlarmKind.MEMORY: memory_alarm_percent},
        )

        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            cluster_name=service_name,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        task = ecs.FargateTaskDefinition(
            self,
            "Task",
            task_role=self._role(
                "TaskRole",
                "ecs-tasks.amazonaws.com",
                EcsRolePurpose.TASK,
                "What the app may call: nothing yet",
            ),
            execution_role=self._role(
                "TaskExecutionRole",
                "ecs-tasks.amazonaws.com",
                EcsRolePurpose.TASK_EXECUTION,
                "ECS pulls the image and writes the container's log group",
            ),
            cpu=cpu,
            memory_limit_mib=memory_limit_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/hands-off/ecs/{service_name}",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        task.add_container(
            "App",
            container_name=CONTAINER_NAME,
            image=image,
            port_mappings=[ecs.PortMapping(container_port=container_port)],
            logging=ecs.LogDrivers.aws_logs(stream_prefix=service_name, log_group=log_group),
            readonly_root_filesystem=True,
        )
        self.task_definition = task

        security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=self.vpc,
            description=f"{service_name} tasks: only the load balancer may connect",
            allow_all_outbound=True,  # ECR, CloudWatch Logs (no NAT gateway, no endpoints)
        )
        security_group.add_ingress_rule(
            self.load_balancer.connections.security_groups[0],
            ec2.Port.tcp(container_port),
            "From the service's load balancer only",
        )
        infrastructure_role = self._infrastructure_role(blue, green)
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=service_name,
            cluster=self.cluster,
            task_definition=task,
            desired_count=desired_count,
            min_healthy_percent=100,
            max_healthy_percent=200,
            # Public subnets and public IPs, so tasks pull their image without a NAT gateway
            # or VPC endpoints; the security group admits the load balancer only.
            assign_public_ip=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            deployment_strategy=rollout.strategy,
            canary_configuration=rollout.canary,
            linear_configuration=rollout.linear,
            bake_time=rollout.bake_time,
            deployment_alarms=ecs.DeploymentAlarmConfig(
                alarm_names=self.rollback_alarm_names,
                behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
            ),
        )
        self.service.load_balancer_target(
            container_name=CONTAINER_NAME,
            container_port=container_port,
            alternate_target=ecs.AlternateTarget(
                "Green",
                alternate_target_group=green,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                    self.production_rule
                ),
                role=infrastructure_role,
            ),
        ).attach_to_application_target_group(blue)
        # Tasks pull their image over the internet routes; the alarms must exist before ECS
        # watches them (they are named, not referenced). The rule is referenced already.
        self.service.node.add_dependency(*self._internet)
        for alarm in self.rollback_alarms:
            self.service.node.add_dependency(alarm)

        self.canary: route53.HealthCheck | None = None
        if canary_path is not None:
            self.canary = self._canary(service_name, canary_path)

        self._acknowledge_findings(task)
        # Each role's statements (ours and CDK's grants) as its own inline policy: one
        # CloudFormation resource per role, not two (hands_off.constructs.roles).
        for role in self._own_roles:
            inline_default_policy(role)
        self.endpoint_known_at_synth = False
        """The load balancer's DNS name is only known once deployed (see ``copies.py``)."""
        self.endpoint_output = CfnOutput(
            self, "Endpoint", value=self.endpoint, description="URL of the service's load balancer"
        )
        self.health_alarm_output = CfnOutput(
            self, "HealthAlarm", value=self.alarms.health.alarm_name, description="Composite alarm"
        )

    # ------------------------------------------------------------------------------- roles

    def _role_name(self, purpose: EcsRolePurpose) -> str | None:
        if self._role_name_prefix is None:
            return None
        name = f"{self._role_name_prefix}-{purpose}"
        if len(name) > _MAX_ROLE_NAME:
            raise ConfigError(
                "EcsService.role_name_prefix",
                f"role name {name!r} has {len(name)} characters, over IAM's {_MAX_ROLE_NAME}; "
                "use a shorter service name or role prefix",
            )
        return name

    def _role(self, construct_id: str, service: str, purpose: EcsRolePurpose, description: str) -> iam.Role:
        role = iam.Role(
            self,
            construct_id,
            role_name=self._role_name(purpose),
            assumed_by=iam.ServicePrincipal(service),
            description=description,
        )
        self._own_roles.append(role)
        return role

    # ------------------------------------------------------------------------------ alarms

    @property
    def rollback_alarms(self) -> tuple[cloudwatch.IAlarm, ...]:
        """What rolls an ECS deployment back: the factory's rollback alarms, CPU and memory."""
        return (*self.alarms.rollback, *self.host_alarms)

    @property
    def rollback_alarm_names(self) -> list[str]:
        """Physical names of :attr:`rollback_alarms` (literal strings: a reference to the alarms
        would make the service depend on alarms that read its own metrics)."""
        names = []
        for alarm in self.rollback_alarms:
            cfn = alarm.node.default_child
            name = (
                cfn.alarm_name
                if isinstance(cfn, (cloudwatch.CfnAlarm, cloudwatch.CfnCompositeAlarm))
                else None
            )
            names.append(name or alarm.alarm_name)
        return names

    def _host_alarms(
        self,
        factory: AlarmFactory,
        *,
        cluster_name: str,
        service_name: str,
        policy: AlarmPolicy,
        thresholds: dict[HostAlarmKind, float],
    ) -> tuple[cloudwatch.Alarm, ...]:
        """CPU and memory utilization of the service's tasks (P11 host health), paging like the
        factory's alarms. Metrics built from names, not from the service (see above)."""
        action = cw_actions.SnsAction(factory.paging_topic)
        metric_names = {HostAlarmKind.CPU: "CPUUtilization", HostAlarmKind.MEMORY: "MemoryUtilization"}
        alarms = []
        for kind, threshold in thresholds.items():
            alarm = cloudwatch.Alarm(
                self,
                f"{metric_names[kind]}Alarm",
                alarm_name=host_alarm_name(service_name, kind),
                alarm_description=f"Average {kind} of the service's tasks above {threshold:g}% (P11)",
                metric=cloudwatch.Metric(
                    namespace="AWS/ECS",
                    metric_name=metric_names[kind],
                    dimensions_map={"ClusterName": cluster_name, "ServiceName": service_name},
                    statistic="Average",
                    period=Duration.minutes(policy.period_minutes),
                ),
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                evaluation_periods=policy.evaluation_periods,
                datapoints_to_alarm=policy.datapoints_to_alarm,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            alarms.append(alarm)
        return tuple(alarms)

    # ----------------------------------------------------------------------------- network

    def _vpc(self) -> ec2.IVpc:
        """Two public subnets (``10.0.0.0/24``), an internet gateway, no NAT gateway; flow logs of
        rejected traffic to CloudWatch Logs.

        Built from CloudFormation resources because ``ec2.Vpc`` in a stack with an explicit
        environment looks its Availability Zones up in the account (a context lookup that needs
        credentials at ``cdk synth``); here they are ``Fn::GetAZs`` picks, resolved at deploy.
        """
        vpc = ec2.CfnVPC(
            self, "Vpc", cidr_block="10.0.0.0/24", enable_dns_hostnames=True, enable_dns_support=True
        )
        gateway = ec2.CfnInternetGateway(self, "InternetGateway")
        attachment = ec2.CfnVPCGatewayAttachment(
            self, "GatewayAttachment", vpc_id=vpc.ref, internet_gateway_id=gateway.ref
        )
        zones = [Fn.select(index, Fn.get_azs()) for index in range(2)]
        subnets, tables = [], []
        for index, zone in enumerate(zones):
            subnet = ec2.CfnSubnet(
                self,
                f"PublicSubnet{index + 1}",
                vpc_id=vpc.ref,
                availability_zone=zone,
                cidr_block=f"10.0.0.{index * 64}/26",
                map_public_ip_on_launch=False,  # only the tasks get one (assign_public_ip)
            )
            table = ec2.CfnRouteTable(self, f"PublicRoutes{index + 1}", vpc_id=vpc.ref)
            route = ec2.CfnRoute(
                self,
                f"DefaultRoute{index + 1}",
                route_table_id=table.ref,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=gateway.ref,
            )
            route.node.add_dependency(attachment)
            ec2.CfnSubnetRouteTableAssociation(
                self, f"PublicRoutes{index + 1}Association", subnet_id=subnet.ref, route_table_id=table.ref
            )
            subnets.append(subnet)
            tables.append(table)
            self._internet.append(route)
        imported = ec2.Vpc.from_vpc_attributes(
            self,
            "Network",
            vpc_id=vpc.ref,
            vpc_cidr_block=vpc.attr_cidr_block,
            availability_zones=zones,
            public_subnet_ids=[s.ref for s in subnets],
            public_subnet_route_table_ids=[t.ref for t in tables],
        )
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(imported),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                flow_logs,
                self._role(
                    "FlowLogRole",
                    "vpc-flow-logs.amazonaws.com",
                    EcsRolePurpose.FLOW_LOGS,
                    "VPC flow logs write the copy's flow log group",
                ),
            ),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        return imported

    def _load_balancer(
        self, service_name: str
    ) -> tuple[elbv2.ApplicationLoadBalancer, elbv2.ApplicationListener]:
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # ALB log delivery supports SSE-S3 only
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            "AwsSolutions-S1",
            "This bucket holds the load balancer's access logs; logging access to a log bucket "
            "would need another bucket per copy. Reads of it are audited by CloudTrail S3 data "
            "events where the organization enables them.",
            access_logs,
        )
        load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            drop_invalid_header_fields=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        )
        for route in self._internet:  # an internet-facing load balancer needs the gateway attached
            load_balancer.node.add_dependency(route)
        load_balancer.log_access_logs(access_logs, prefix=service_name)
        listener = load_balancer.add_listener("Http", port=80, open=True)
        acknowledge(
            "AwsSolutions-EC23",
            "The load balancer is the service's public endpoint: its listener port admits any "
            "address. The tasks' security group admits this load balancer only.",
            load_balancer,
        )
        return load_balancer, listener

    def _infrastructure_role(
        self, blue: elbv2.ApplicationTargetGroup, green: elbv2.ApplicationTargetGroup
    ) -> iam.Role:
        """The role ECS uses to shift traffic: the actions of the AWS managed
        ``AmazonECSInfrastructureRolePolicyForLoadBalancers``, scoped to this copy's listener,
        rule and target groups."""
        role = self._role(
            "InfrastructureRole",
            "ecs.amazonaws.com",
            EcsRolePurpose.LOAD_BALANCER,
            "ECS shifts traffic between this service's blue and green target groups",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeRules",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                ],
                resources=["*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                resources=[blue.target_group_arn, green.target_group_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["elasticloadbalancing:ModifyListener"], resources=[self.listener.listener_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["elasticloadbalancing:ModifyRule"],
                resources=[self.production_rule.listener_rule_arn],
            )
        )
        acknowledge(
            "AwsSolutions-IAM5[Resource::*]",
            "elasticloadbalancing:Describe* actions support no resource-level permissions; the "
            "write actions are scoped to this copy's listener, rule and target groups.",
            role,
        )
        return role

    # ------------------------------------------------------------------------------ canary

    def _canary(self, service_name: str, path: str) -> route53.HealthCheck:
        """Route 53 health checkers request ``path`` through the load balancer every 30 seconds
        from several regions (P18): continuous real requests for the alarms and bakes, with no
        function to sign or patch (about $0.50 a month per copy)."""
        check = route53.HealthCheck(
            self,
            "Canary",
            type=route53.HealthCheckType.HTTP,
            fqdn=self.load_balancer.load_balancer_dns_name,
            port=80,
            resource_path=path,
            request_interval=Duration.seconds(30),
            failure_threshold=3,
        )
        Tags.of(check).add("Name", f"{service_name} canary (hands-off P18)")
        return check

    def _acknowledge_findings(self, task: ecs.FargateTaskDefinition) -> None:
        """Findings on what CDK generates for the task definition, each with its reason."""
        execution_role = task.execution_role
        if execution_role is not None:
            acknowledge(
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken has no resource-level permission; the image pull "
                "actions CDK grants are scoped to the asset repository.",
                execution_role,
            )


def acknowledge(rule: str, reason: str, *scopes: IConstruct) -> None:
    """Acknowledge a cdk-nag finding on ``scopes`` with its reason (as ``hands_off.nag`` does;
    constructs may not import it). Both ARN partition spellings are acknowledged."""
    for scope in scopes:
        for rule_id in sorted({rule, rule.replace("arn:<AWS::Partition>:", "arn:aws:")}):
            Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
