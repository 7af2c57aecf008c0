"""An EC2 fleet behind an Application Load Balancer, deployed one Availability Zone at a time by
CodeDeploy and rolled back on its alarms (P6, P8-P13 for servers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal, get_args

from aws_cdk import Acknowledgment, CfnOutput, Duration, RemovalPolicy, Validations
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from hands_off.constructs.alarm_factory import AlarmFactory, ServiceAlarms
from hands_off.constructs.alb_metrics import AlbTargetMetrics
from hands_off.constructs.copies import ServerDeployment, claim_deployment_group
from hands_off.constructs.roles import inline_default_policy
from hands_off.constructs.zones import (
    availability_zones,
    availability_zones_context_key,
    known_availability_zones,
)
from hands_off.deployment import Deployment
from hands_off.model import AlarmPolicy, ConfigError, DeploymentPolicy, TrafficShape
from hands_off.naming import SERVER_APPLICATION_NAME, RolePurpose, ServiceNaming

__all__ = [
    "DEFAULT_NETWORK",
    "HOST_CPU_ALARM_SUFFIX",
    "MIN_ZONES",
    "ZONE_MONITOR_MINUTES",
    "Ec2Fleet",
    "FleetNetwork",
    "availability_zones",
    "availability_zones_context_key",
    "known_availability_zones",
    "server_deployment_config_for",
]

MIN_ZONES = 3
"""A fleet spans at least three Availability Zones: one zone at a time is then at most a third."""

ZONE_MONITOR_MINUTES = 5
"""Default watch after each later zone of a canary (one-box) deployment; the first zone is watched
for the policy's ``interval_minutes`` (the one-box bake)."""

FleetNetwork = Literal["public", "private-with-nat"]
"""Where a fleet's hosts run.

``"public"``: in the public subnets, each host with a public IPv4 address, and no NAT gateway.
The hosts' security group admits the load balancer only, on the app's port; nothing else can
connect in. Cost: the public addresses (about $3.65 a month per host). Risk: the security group
is then all that stands between a host and the internet, so a rule added by mistake exposes it.

``"private-with-nat"``: in private subnets, with no public address, reaching AWS APIs and package
repositories through one NAT gateway per zone (so one zone's outage stays in that zone). For teams
whose rules forbid public addresses on hosts. Cost: about $33 a month per zone and copy (about
$100 a month for a three-zone copy), plus the gateways' addresses and $0.045 per GB processed.
"""

DEFAULT_NETWORK: FleetNetwork = "public"
"""The hosts' network unless a copy asks otherwise (see :data:`FleetNetwork`)."""

HOST_CPU_ALARM_SUFFIX = "host-cpu"
"""Name suffix of the host CPU alarm (``<copy>-host-cpu``): a local name, as
:class:`~hands_off.naming.AlarmKind` has no host kind yet."""

_MAX_ROLE_NAME = 64

_CODEDEPLOY_SERVER_ACTIONS = (
    "autoscaling:*",
    "ec2:Describe*",
    "ec2:RunInstances",
    "ec2:CreateTags",
    "ec2:TerminateInstances",
    "elasticloadbalancing:Describe*",
    "elasticloadbalancing:RegisterTargets",
    "elasticloadbalancing:DeregisterTargets",
    "cloudwatch:DescribeAlarms",
    "sns:Publish",
    "tag:GetResources",
)
"""AWSCodeDeployRole's actions for an in-place deployment to an Auto Scaling group behind an ALB."""


def _acknowledge(scope: Construct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag finding on ``scope`` and below, with its reason (cdk-nag v3 runs as a
    validation plugin and reads acknowledgements). ARNs in finding ids are acknowledged in both
    spellings, ``arn:<AWS::Partition>:`` and ``arn:aws:`` (when context pins the partition)."""
    for rule_id in sorted({rule, rule.replace("arn:<AWS::Partition>:", "arn:aws:")}):
        Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _role_name(prefix: str | None, purpose: str) -> str | None:
    """``<prefix>-<purpose>`` (the bootstrap's CloudFormation policy creates only roles under the
    organization's prefix), or ``None`` without a prefix (a generated name)."""
    if prefix is None:
        return None
    name = f"{prefix}-{purpose}"
    if len(name) > _MAX_ROLE_NAME:
        raise ConfigError(
            "Ec2Fleet.role_name_prefix",
            f"role name {name!r} has {len(name)} characters, over IAM's {_MAX_ROLE_NAME}; "
            "use a shorter service name",
        )
    return name


def server_deployment_config_for(
    scope: Construct,
    construct_id: str,
    policy: DeploymentPolicy,
    *,
    hosts_per_zone: int,
    zones: int,
    zone_monitor: Duration | None = None,
) -> codedeploy.IServerDeploymentConfig:
    """The CodeDeploy server config that realises ``policy`` on a fleet of ``hosts_per_zone`` hosts
    in each of ``zones`` zones.

    ``ALL_AT_ONCE`` (Alpha, Beta) is CodeDeploy's ``AllAtOnce``. Otherwise the fleet deploys one
    Availability Zone at a time (``ZonalConfig``, P8) and one host at a time: the overall minimum
    of healthy hosts is every host but one, and the per-zone minimum every host of the zone but
    one, so the first batch is a single host (the one-box, P6/P9) and no zone ever loses more than
    one. (The API reference says the per-zone minimum "works in conjunction with" the overall one;
    we read that as: a host goes offline only while both still hold. Not yet verified on AWS.)
    ``CANARY``: the first zone is watched ``interval_minutes`` (the one-box bake), each
    later zone ``zone_monitor``. ``LINEAR``: each zone is a step, watched ``interval_minutes``.
    ``step_percent`` does not apply to hosts: the batch is always one host.

    Args:
        zone_monitor: the watch after each later zone of a canary. Default:
            :data:`ZONE_MONITOR_MINUTES` minutes, at most ``interval_minutes``.
    """
    if policy.shape is TrafficShape.ALL_AT_ONCE:
        return codedeploy.ServerDeploymentConfig.ALL_AT_ONCE
    interval = Duration.minutes(policy.interval_minutes)
    if policy.shape is TrafficShape.CANARY:
        later = zone_monitor or Duration.minutes(min(ZONE_MONITOR_MINUTES, policy.interval_minutes))
    else:
        later = interval
    return codedeploy.ServerDeploymentConfig(
        scope,
        construct_id,
        minimum_healthy_hosts=codedeploy.MinimumHealthyHosts.count(hosts_per_zone * zones - 1),
        zonal_config=codedeploy.ZonalConfig(
            first_zone_monitor_duration=interval,
            monitor_duration=later,
            minimum_healthy_hosts_per_zone=codedeploy.MinimumHealthyHostsPerZone.count(hosts_per_zone - 1),
        ),
    )


def _user_data(port: int, canary_url: str | None) -> ec2.UserData:
    """Install the CodeDeploy agent from the region's own bucket (the SSM agent ships with
    Amazon Linux 2023); the application itself only ever arrives as a CodeDeploy revision. With
    ``canary_url``, every host requests it through the load balancer once a minute (P18)."""
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(
        "set -eu",
        "dnf install -y ruby aws-cfn-bootstrap",
        "IMDS=http://169.254.169.254/latest",
        'TOKEN=$(curl -sX PUT $IMDS/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
        'REGION=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" $IMDS/meta-data/placement/region)',
        "curl -fsSL -o /tmp/codedeploy-install "
        '"https://aws-codedeploy-$REGION.s3.$REGION.amazonaws.com/latest/install"',
        "chmod +x /tmp/codedeploy-install && /tmp/codedeploy-install auto",
        f"echo 'hands-off: the application (port {port}) arrives with the first CodeDeploy revision'",
    )
    if canary_url is not None:
        user_data.add_commands(
            "cat > /etc/systemd/system/hands-off-canary.service <<'EOF'",
            "[Unit]",
            "Description=hands-off canary request through the load balancer (P18)",
            "[Service]",
            "Type=oneshot",
            f"ExecStart=/usr/bin/curl -s -o /dev/null --max-time 10 {canary_url}",
            "EOF",
            "cat > /etc/systemd/system/hands-off-canary.timer <<'EOF'",
            "[Timer]",
            "OnBootSec=60",
            "OnUnitActiveSec=60",
            "[Install]",
            "WantedBy=timers.target",
            "EOF",
            "systemctl daemon-reload && systemctl enable --now hands-off-canary.timer",
        )
    return user_data


class Ec2Fleet(Construct):
    """One copy of a server fleet in one account and region: an Auto Scaling group across at least
    three Availability Zones behind an internet-facing Application Load Balancer, the service's
    alarms, and a CodeDeploy ``ServerDeploymentGroup`` that deploys the revision one zone and one
    host at a time and rolls back on failure and on any rollback alarm (P6, P8-P13).

    Hosts run Amazon Linux 2023 with IMDSv2 required, encrypted EBS, no SSH key (operators use
    SSM Session Manager). By default they run in public subnets with public IPv4 addresses and
    no NAT gateway; their security group admits only the load balancer's, on the app's port, and
    lets them out on HTTPS (443: CodeDeploy, S3, SSM, CloudWatch, CloudFormation, package
    repositories) and, with a canary, on HTTP 80 to the load balancer's public address.
    ``network="private-with-nat"`` puts them in private subnets behind one NAT gateway per zone
    instead (see :data:`FleetNetwork` for the cost). VPC flow logs and load-balancer access logs
    are on. The fleet has a fixed size (``hosts_per_zone`` in each zone): one host at a time is
    then the one-box.

    Example::

        Ec2Fleet(stack, "Service", name="inventory-prod", policy=ONE_BOX_POLICY,
                 availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"])
        # hosts without public addresses (one NAT gateway per zone: about $100 a month more)
        Ec2Fleet(stack, "Private", name="inventory-private", policy=ONE_BOX_POLICY,
                 availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"],
                 network="private-with-nat")

    Args:
        name: names the alarms (prefix, as every copy's) and the CodeDeploy deployment group (in
            the account-region's shared application ``hands-off-server``); unique per account
            and region (checked at synth).
        policy: the stage's or wave's deployment policy (see :func:`server_deployment_config_for`).
        availability_zones: at least :data:`MIN_ZONES` zone names of the stack's region.
        hosts_per_zone: Default: 2.
        alarm_policy: thresholds. Default: ``AlarmPolicy()``.
        watch_traffic: add the request-anomaly alarm (continuous traffic only). Default: True.
        canary_path: when given, each host requests this path through the load balancer every
            minute, so alarms and bakes have signal at any traffic level (P18). Default: none.
        cpu_threshold_percent: average host CPU that fires the host alarm (P11). Default: 80.
        port: the port the application listens on. Default: 8080.
        health_check_path: the target group's health check. Default: ``/health``.
        network: ``"public"`` or ``"private-with-nat"`` (see :data:`FleetNetwork`). Default:
            :data:`DEFAULT_NETWORK` (``"public"``: no NAT gateway).
        instance_type: Default: ``t3.micro``.
        instance_role: the hosts' role. Default: a new role with Session Manager's managed policy.
        deploy_role: CodeDeploy's role. Default: a new role with AWSCodeDeployRole's actions for
            EC2/Auto Scaling, inline.
        role_name_prefix: when given, the copy's own roles are named ``<prefix>-flow-logs`` and
            ``<prefix>-deploy`` (at most 64 characters). Default: generated names.
    """

    endpoint_known_at_synth = False
    """The load balancer's DNS name is only known once deployed: Zeta reads it from the stack."""

    codedeploy_application: ClassVar[str] = SERVER_APPLICATION_NAME
    """The shared application its deployment group is in (created by ``AccountBaseline``, see
    :data:`~hands_off.naming.SERVER_APPLICATION_NAME`)."""

    @classmethod
    def for_deployment(
        cls,
        scope: Construct,
        deployment: Deployment,
        *,
        naming: ServiceNaming,
        hosts_per_zone: int | None = None,
        port: int = 8080,
        canary_path: str | None = None,
        network: FleetNetwork = DEFAULT_NETWORK,
    ) -> Ec2Fleet:
        """The copy a hands-off pipeline deploys for ``deployment``: named like every copy
        (``<service>-<stage or prod>``, so the gates find ``<name>-health``), in the target's
        ``az_count`` zones, the hosts running as the account's shared instance role (see
        ``ServiceAccessStack``), watching traffic wherever it is continuous (production, or a
        canary).

        Args:
            hosts_per_zone: Default: 2 where the policy is not all-at-once (Gamma, production),
                else 1.
            port: the application's port. Default: 8080.
            canary_path: see :class:`Ec2Fleet`. Default: none.
            network: see :data:`FleetNetwork`. Default: :data:`DEFAULT_NETWORK` (``"public"``).
        """
        target = deployment.target
        production_like = deployment.production or deployment.policy.shape is not TrafficShape.ALL_AT_ONCE
        return cls(
            scope,
            "Service",
            name=deployment.function_name,
            policy=deployment.policy,
            alarm_policy=deployment.alarm_policy,
            availability_zones=availability_zones(target.region, max(target.az_count, MIN_ZONES)),
            hosts_per_zone=hosts_per_zone or (2 if production_like else 1),
            watch_traffic=deployment.production or canary_path is not None,
            canary_path=canary_path,
            port=port,
            network=network,
            # The copy's own roles (flow logs, CodeDeploy) are per copy and region, named under
            # the organization's role prefix so the bootstrap's CloudFormation policy may create them.
            role_name_prefix=f"{naming.prefix}-{deployment.function_name}-{target.region}",
            instance_role=iam.Role.from_role_arn(
                scope,
                "InstanceRole",
                naming.role_arn(target.account.account_id, RolePurpose.INSTANCE),
                mutable=False,
            ),
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        policy: DeploymentPolicy,
        availability_zones: Sequence[str],
        hosts_per_zone: int = 2,
        alarm_policy: AlarmPolicy | None = None,
        watch_traffic: bool = True,
        canary_path: str | None = None,
        cpu_threshold_percent: float = 80.0,
        port: int = 8080,
        health_check_path: str = "/health",
        network: FleetNetwork = DEFAULT_NETWORK,
        instance_type: ec2.InstanceType | None = None,
        instance_role: iam.IRole | None = None,
        deploy_role: iam.IRole | None = None,
        role_name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        zones = list(availability_zones)
        if len(set(zones)) < MIN_ZONES:
            raise ConfigError(
                f"Ec2Fleet {name}.availability_zones",
                f"{zones} has {len(set(zones))} zones; a fleet spans at least {MIN_ZONES} (P8: one "
                "zone at a time must be a small part of the region)",
            )
        if hosts_per_zone < 1:
            raise ConfigError(f"Ec2Fleet {name}.hosts_per_zone", f"got {hosts_per_zone}; use 1 or more")
        if network not in get_args(FleetNetwork):
            raise ConfigError(
                f"Ec2Fleet {name}.network",
                f"got {network!r}; use 'public' (hosts with public addresses, no NAT gateway) or "
                "'private-with-nat' (private hosts, one NAT gateway per zone)",
            )
        self.network: FleetNetwork = network
        private = network == "private-with-nat"
        hosts = hosts_per_zone * len(zones)
        subnets = [
            # Only the hosts of a public fleet get a public address (the launch template asks for
            # one); the load balancer and NAT gateways never need the subnet to hand one out.
            ec2.SubnetConfiguration(
                name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
            ),
        ]
        if private:
            subnets.append(
                ec2.SubnetConfiguration(
                    name="Hosts", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                )
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=zones,
            # Private hosts: one NAT gateway per zone, so a zone's outage stays in that zone.
            # Public hosts reach AWS through the internet gateway and need none.
            nat_gateways=len(zones) if private else 0,
            subnet_configuration=subnets,
            # Nothing uses the default security group (the balancer and hosts have their own);
            # restricting it takes a CDK custom-resource Lambda per copy, unsigned (HO-W12).
            restrict_default_security_group=False,
        )
        flow_log_role = iam.Role(
            self,
            "FlowLogRole",
            role_name=_role_name(role_name_prefix, "flow-logs"),
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description=f"VPC flow logs of {name} write their log group",
        )
        ec2.FlowLog(
            self,
            "FlowLogs",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(iam_role=flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        # The flow log's grant (write its log group) as the role's own inline policy: one
        # CloudFormation resource, not two (hands_off.constructs.roles).
        inline_default_policy(flow_log_role)
        host_subnet_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if private else ec2.SubnetType.PUBLIC
        self.access_logs = s3.Bucket(
            self,
            "LoadBalancerLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # ALB access logs support SSE-S3 only
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        _acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This bucket holds the load balancer's access logs; logging the log "
            "bucket's own access would need yet another bucket (use CloudTrail data events).",
        )
        balancer_sg = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=self.vpc, description=f"{name}: public HTTP"
        )
        balancer_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "Customers (HTTP)")
        _acknowledge(
            balancer_sg,
            "AwsSolutions-EC23",
            "The service's public endpoint: customers and the pipeline's integration "
            "tests call it from the internet. Hosts accept traffic from the load balancer only.",
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            security_group=balancer_sg,
            drop_invalid_header_fields=True,
        )
        self.load_balancer.log_access_logs(self.access_logs, prefix=name)

        host_sg = ec2.SecurityGroup(
            self,
            "HostSecurityGroup",
            vpc=self.vpc,
            description=f"{name}: hosts (from the load balancer only)",
            allow_all_outbound=False,
        )
        host_sg.add_ingress_rule(balancer_sg, ec2.Port.tcp(port), "The load balancer")
        # AWS endpoints and the Amazon Linux repositories are all HTTPS. (DNS, NTP and instance
        # metadata use link-local or VPC resolver addresses that security groups do not filter.)
        host_sg.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "HTTPS: CodeDeploy, S3, SSM, CloudWatch, CloudFormation, package repositories",
        )
        if canary_path is not None:
            # The canary goes through the load balancer's public address, not inside the VPC.
            host_sg.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "The canary request to the load balancer (P18)"
            )
        self.host_security_group = host_sg
        """The hosts' group: in from the load balancer only; out on 443 (and 80 with a canary).
        An application that calls anything else adds its own egress rule here."""
        role = instance_role
        if role is None:
            own = iam.Role(
                self,
                "InstanceRole",
                assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
                description=f"Hosts of {name}: Session Manager (no SSH)",
                managed_policies=[
                    iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
                ],
            )
            _acknowledge(
                own,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
                "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for the SSM "
                "agent (Session Manager instead of SSH); AWS updates it with the agent.",
            )
            role = own.without_policy_updates()
        canary_url = (
            None
            if canary_path is None
            else f"http://{self.load_balancer.load_balancer_dns_name}/{canary_path.lstrip('/')}"
        )
        user_data = _user_data(port, canary_url)
        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            instance_type=instance_type or ec2.InstanceType("t3.micro"),
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            role=role,
            security_group=host_sg,
            # Public hosts need an address to reach AWS without a NAT gateway. None = the
            # subnet's setting (off), so private hosts get no address.
            associate_public_ip_address=None if private else True,
            user_data=user_data,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        8, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
                    ),
                )
            ],
        )
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "Hosts",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=host_subnet_type),
            launch_template=self.launch_template,
            min_capacity=hosts,
            max_capacity=hosts,
            # EC2 health: before the first revision the hosts have no application yet.
            health_checks=autoscaling.HealthChecks.ec2(grace_period=Duration.minutes(5)),
            # The stack (and so the pipeline's CodeDeploy action after it) waits until every host
            # has its CodeDeploy agent: a failed user data fails the stack instead.
            signals=autoscaling.Signals.wait_for_all(timeout=Duration.minutes(15)),
        )
        user_data.add_signal_on_exit_command(self.auto_scaling_group)
        # Hosts install the agent and signal over the internet: launch them once the subnets'
        # default routes (internet gateway, or NAT gateway) exist, not before.
        self.auto_scaling_group.node.add_dependency(
            self.vpc.select_subnets(subnet_type=host_subnet_type).internet_connectivity_established
        )
        _acknowledge(
            self.auto_scaling_group,
            "AwsSolutions-AS3",
            "Launch and termination events are not paged: the fleet's alarms and "
            "CodeDeploy's rollbacks page, and a fixed-size group replaces hosts by itself.",
        )
        listener = self.load_balancer.add_listener("Http", port=80, open=False)
        self.target_group = listener.add_targets(
            "Fleet",
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.auto_scaling_group],
            health_check=elbv2.HealthCheck(path=health_check_path, healthy_threshold_count=2),
            deregistration_delay=Duration.seconds(30),
        )

        factory = AlarmFactory(self, "Alarms", name_prefix=name, policy=alarm_policy)
        self.alarms: ServiceAlarms = factory.service_alarms(
            AlbTargetMetrics(self.target_group), watch_traffic=watch_traffic
        )
        period = Duration.minutes(factory.policy.period_minutes)
        self.cpu_alarm = cloudwatch.Alarm(
            self,
            "HostCpu",
            alarm_name=f"{name}-{HOST_CPU_ALARM_SUFFIX}",
            alarm_description=f"Average host CPU above {cpu_threshold_percent}% (P11)",
            metric=cloudwatch.Metric(
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions_map={"AutoScalingGroupName": self.auto_scaling_group.auto_scaling_group_name},
                statistic="Average",
                period=period,
            ),
            threshold=cpu_threshold_percent,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            evaluation_periods=factory.policy.evaluation_periods,
            datapoints_to_alarm=factory.policy.datapoints_to_alarm,
        )
        action = cw_actions.SnsAction(self.alarms.paging_topic)
        self.cpu_alarm.add_alarm_action(action)
        self.cpu_alarm.add_ok_action(action)
        self.rollback_alarms: tuple[cloudwatch.IAlarm, ...] = (*self.alarms.rollback, self.cpu_alarm)
        """What CodeDeploy stops and rolls back on: the service's rollback alarms plus host CPU."""

        # The account-region baseline's shared server application, imported by name (no resource).
        claim_deployment_group(self, self.codedeploy_application, name)
        self.application = codedeploy.ServerApplication.from_server_application_name(
            self, "Application", self.codedeploy_application
        )
        if deploy_role is None:
            own_deploy = iam.Role(
                self,
                "DeployRole",
                role_name=_role_name(role_name_prefix, "deploy"),
                assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
                description=f"CodeDeploy deploys {name} revisions to its Auto Scaling group",
            )
            # What AWSCodeDeployRole grants for in-place EC2/Auto Scaling deployments behind an
            # ALB, inline (the bootstrap's CloudFormation policy attaches no managed policy).
            own_deploy.add_to_policy(
                iam.PolicyStatement(actions=list(_CODEDEPLOY_SERVER_ACTIONS), resources=["*"])
            )
            # A group whose Auto Scaling group uses a launch template also launches and tags
            # instances and passes the hosts' role (CodeDeploy's guide).
            own_deploy.add_to_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]))
            _acknowledge(
                own_deploy,
                "AwsSolutions-IAM5[Resource::*]",
                "The actions of AWSCodeDeployRole for EC2/Auto Scaling deployments (lifecycle "
                "hooks, instance launch and tags, target registration, alarm reads): the instance, "
                "volume, hook and target ids are only known at deployment time, and CodeDeploy "
                "calls several of these actions without resource-level support.",
            )
            for wildcard in ("autoscaling:*", "elasticloadbalancing:Describe*", "ec2:Describe*"):
                _acknowledge(
                    own_deploy,
                    f"AwsSolutions-IAM5[Action::{wildcard}]",
                    "Read-only describe calls and Auto Scaling lifecycle management CodeDeploy "
                    "makes on the copy's own group (AWSCodeDeployRole's set, inline).",
                )
            inline_default_policy(own_deploy)  # its statements as its own inline policy
            deploy_role = own_deploy.without_policy_updates()
        self.deployment_group = codedeploy.ServerDeploymentGroup(
            self,
            # Not "DeploymentGroup", the id of the group of the per-copy application it replaces:
            # a new logical id makes CloudFormation create this group beside the old one and
            # delete the old one, where a changed ApplicationName under the same id would be a
            # replacement CloudFormation refuses for a named group (README, Upgrading).
            "Group",
            application=self.application,
            deployment_group_name=name,
            deployment_config=server_deployment_config_for(
                self, "DeploymentConfig", policy, hosts_per_zone=hosts_per_zone, zones=len(zones)
            ),
            auto_scaling_groups=[self.auto_scaling_group],
            install_agent=False,  # the launch template installs it (Amazon Linux 2023, IMDSv2)
            load_balancers=[codedeploy.LoadBalancer.application(self.target_group)],
            alarms=list(self.rollback_alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            role=deploy_role,
        )
        self.server_deployment = ServerDeployment.in_shared_application(name)
        """The pipeline deploys the Build's revision to this group after the stack (see
        :class:`~hands_off.constructs.copies.ServerDeployment`)."""
        self.endpoint_output = CfnOutput(
            self,
            "Endpoint",
            value=f"http://{self.load_balancer.load_balancer_dns_name}/",
            description="URL of the fleet's load balancer",
        )
        self.health_alarm_output = CfnOutput(
            self, "HealthAlarm", value=self.alarms.health.alarm_name, description="Composite alarm"
        )
