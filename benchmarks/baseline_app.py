"""Baseline for `make bench`: the topology of one hands-off service, hand-written with plain
``aws_cdk.pipelines`` the way a team would write it today (no hands-off import).

Same stages, accounts and regions as the example ``orders`` service (Alpha, Beta, Gamma in two
regions, Zeta, Prod-1..Prod-4 over nine regions), and in every stage the same Lambda + ``live``
alias + CodeDeploy deployment group with the same three alarms. What it lacks is what hands-off
adds: signing, gates, bakes, stage conditions, canaries, least-privilege roles, cdk-nag.

Run: ``python benchmarks/baseline_app.py`` (writes to ``$CDK_OUTDIR``).
"""

from __future__ import annotations

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
    def __init__(self, scope: Construct, construct_id: str, *, name: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        fn = lambda_.Function(
            self,
            "Fn",
            function_name=name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="app.handler",
            code=lambda_.Code.from_asset("lambda/services/orders"),
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
    def __init__(self, scope: Construct, construct_id: str, *, name: str, env: Environment) -> None:
        super().__init__(scope, construct_id, env=env)
        self.stack = ServiceStack(self, "App", name=name)


class BaselinePipeline(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, service: str) -> None:
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
                        env=Environment(account=PROD, region=region),
                    )
                )


def main() -> None:
    app = App()
    BaselinePipeline(app, "BaselineOrdersPipeline", service="orders")
    app.synth()


if __name__ == "__main__":
    main()
