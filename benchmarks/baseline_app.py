"""Baseline for `make bench`: the topology of one hands-off service, hand-written with plain
``aws_cdk.pipelines`` the way a team would write it today (no hands-off import).

Same stages, accounts and regions as the example ``orders`` service (Alpha, Beta, Gamma in two
regions, Zeta, Prod-1..Prod-4 over nine regions), and in every stage the same Lambda + ``live``
alias + CodeDeploy deployment group with the same three alarms. What it lacks is what hands-off
adds: signing, gates, bakes, stage conditions, canaries, least-privilege roles, cdk-nag.

N services are N such pipelines, one per service, each with its own stages (as N hands-off
services are). The environment is the fleet app's (``benchmarks/fleet_app.py``):
- ``HANDS_OFF_BENCH_SERVICES``: N (default 1): ``orders``, then ``svc002``... with orders' code;
- ``HANDS_OFF_BENCH_FLEET=example``: two services, ``orders`` and ``catalog``, each with its code;
- ``CDK_OUTDIR``: where the cloud assembly goes; ``CDK_CONTEXT_JSON``: the CDK settings.

Run: ``python benchmarks/baseline_app.py``.
"""

from __future__ import annotations

import os

from aws_cdk import App, CfnOutput, Duration, Environment, Stack, Stage, pipelines
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

TOOLING, PREPROD, PROD = "111111111111", "222222222222", "333333333333"
PRE = [("Alpha", ["us-west-2"]), ("Beta", ["us-west-2"]), ("Gamma", ["us-west-2", "eu-west-1"])]
WAVES = [
    ("Prod-1", ["ca-central-1"]),
    ("Prod-2", ["us-east-1"]),
    ("Prod-3", ["ap-south-1", "sa-east-1"]),
    ("Prod-4", ["ap-southeast-2", "ap-northeast-1", "eu-central-1", "eu-west-1", "us-west-2"]),
]


class ServiceStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, code: str, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        fn = lambda_.Function(
            self,
            "Fn",
            function_name=name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="app.handler",
            code=lambda_.Code.from_asset(code),
            timeout=Duration.seconds(10),
        )
        alias = lambda_.Alias(self, "Live", alias_name="live", version=fn.current_version)
        errors = cloudwatch.Alarm(
            self, "Errors", metric=alias.metric_errors(), threshold=1, evaluation_periods=3
        )
        latency = cloudwatch.Alarm(
            self,
            "Latency",
            metric=alias.metric_duration(statistic="p99"),
            threshold=2000,
            evaluation_periods=3,
        )
        traffic = cloudwatch.AnomalyDetectionAlarm(
            self,
            "Traffic",
            metric=alias.metric_invocations(),
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
        )
        codedeploy.LambdaDeploymentGroup(
            self,
            "Deploy",
            alias=alias,
            deployment_config=codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
            alarms=[errors, latency, traffic],
        )
        self.endpoint = CfnOutput(self, "Endpoint", value=alias.function_arn)


class ServiceStage(Stage):
    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, code: str, env: Environment
    ) -> None:
        super().__init__(scope, construct_id, env=env)
        self.stack = ServiceStack(self, "App", name=name, code=code)


class BaselinePipeline(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, service: str, code: str) -> None:
        super().__init__(scope, construct_id, env=Environment(account=TOOLING, region="us-east-1"))
        source = pipelines.CodePipelineSource.connection(
            f"example-org/{service}",
            "main",
            connection_arn=f"arn:aws:codeconnections:us-east-1:{TOOLING}:connection/x",
        )
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            cross_account_keys=True,
            synth=pipelines.ShellStep("Synth", input=source, commands=["make synth"]),
        )
        for wave_name, regions in PRE:
            wave = pipeline.add_wave(wave_name)
            for region in regions:
                stage = ServiceStage(
                    self,
                    f"{wave_name}-{region}",
                    name=f"{service}-{wave_name.lower()}",
                    code=code,
                    env=Environment(account=PREPROD, region=region),
                )
                test = pipelines.ShellStep(
                    f"{wave_name}-{region}-Test",
                    commands=["python integ_test.py"],
                    env_from_cfn_outputs={"ENDPOINTS": stage.stack.endpoint},
                )
                wave.add_stage(stage, post=[test])
        pipeline.add_wave("Zeta", post=[pipelines.ShellStep("Zeta-Test", commands=["python integ_test.py"])])
        for wave_name, regions in WAVES:
            wave = pipeline.add_wave(wave_name)
            for region in regions:
                wave.add_stage(
                    ServiceStage(
                        self,
                        f"{wave_name}-{region}",
                        name=f"{service}-prod",
                        code=code,
                        env=Environment(account=PROD, region=region),
                    )
                )


def services() -> list[tuple[str, str]]:
    """(name, code folder) of each service this run builds, from the environment."""
    if os.environ.get("HANDS_OFF_BENCH_FLEET") == "example":
        return [("orders", "lambda/services/orders"), ("catalog", "lambda/services/catalog")]
    count = int(os.environ.get("HANDS_OFF_BENCH_SERVICES", "1"))
    names = ["orders", *(f"svc{index:03d}" for index in range(2, count + 1))]
    return [(name, "lambda/services/orders") for name in names]


def main() -> None:
    app = App()
    for name, code in services():
        BaselinePipeline(app, f"Baseline{name.capitalize()}Pipeline", service=name, code=code)
    app.synth()


if __name__ == "__main__":
    main()
