"""A plain CDK Pipelines app that hands-off did not write: the calibration fixture of ``check``.

What a team might write today: Beta (one region, with an integration test), then one ``Prod``
stage deploying three production regions at once. Each copy is a Lambda function with a ``live``
alias, no alarms, no CodeDeploy, no code signing; no gate, no bake, no stage conditions; the
source triggers on every branch push (``main`` for the source action, but a ``*`` trigger).
Nothing here imports ``hands_off``'s constructs.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import App, CfnOutput, CfnResource, Environment, Stack, Stage, pipelines
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

TOOLING, PREPROD, PROD = "111111111111", "222222222222", "333333333333"
PROD_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
PIPELINE_NAME = "plain-orders"


class _ServiceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        function = lambda_.Function(
            self,
            "Handler",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        )
        alias = lambda_.Alias(self, "Live", alias_name="live", version=function.current_version)
        self.endpoint = CfnOutput(self, "Endpoint", value=alias.function_arn)


class _ServiceStage(Stage):
    def __init__(self, scope: Construct, construct_id: str, *, env: Environment) -> None:
        super().__init__(scope, construct_id, env=env)
        self.app = _ServiceStack(self, "App")


class _PlainPipelineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id, env=Environment(account=TOOLING, region="us-east-1"))
        source = pipelines.CodePipelineSource.connection(
            "example-org/plain-orders",
            "main",
            connection_arn=f"arn:aws:codeconnections:us-east-1:{TOOLING}:connection/plain",
        )
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=PIPELINE_NAME,
            pipeline_type=codepipeline.PipelineType.V2,
            cross_account_keys=True,
            synth=pipelines.ShellStep("Synth", input=source, commands=["npx cdk synth"]),
        )
        beta = _ServiceStage(self, "Beta", env=Environment(account=PREPROD, region="us-west-2"))
        pipeline.add_stage(
            beta,
            post=[
                pipelines.ShellStep(
                    "IntegrationTest",
                    commands=["python integ_test.py"],
                    env_from_cfn_outputs={"ENDPOINT": beta.app.endpoint},
                )
            ],
        )
        prod = pipeline.add_wave("Prod")
        for region in PROD_REGIONS:
            prod.add_stage(
                _ServiceStage(self, f"Prod-{region}", env=Environment(account=PROD, region=region))
            )
        pipeline.build_pipeline()
        # Run on a push to any branch (a V2 trigger), though the source action names `main`.
        cfn = pipeline.pipeline.node.default_child
        assert isinstance(cfn, codepipeline.CfnPipeline)
        cfn.add_property_override(
            "Triggers",
            [
                {
                    "ProviderType": "CodeStarSourceConnection",
                    "GitConfiguration": {
                        "SourceActionName": "example-org_plain-orders",
                        "Push": [{"Branches": {"Includes": ["*"]}}],
                    },
                }
            ],
        )


def plain_app(outdir: Path) -> App:
    """The plain app, not synthesized yet (it will write its cloud assembly into ``outdir``)."""
    app = App(outdir=str(outdir))
    _PlainPipelineStack(app, "PlainPipeline")
    return app


def synth_plain_pipeline(outdir: Path) -> Path:
    """Synthesize the plain app into ``outdir`` (a cloud assembly) and return ``outdir``."""
    plain_app(outdir).synth()
    return outdir


def plain_assembly_dir(base: Path) -> Path:
    """The plain app's cloud assembly under ``base`` (a session's temporary folder), synthesized
    the first time only, so test modules that share ``base`` share one synth (~5 s)."""
    outdir = base / "plain-cdk.out"
    if not (outdir / "manifest.json").is_file():
        synth_plain_pipeline(outdir)
    return outdir


def one_wave_pipeline(scope: Construct, *, name: str | None = None) -> CfnResource:
    """A hand-written pipeline ``Pipeline`` under ``scope`` that deploys production in one wave
    (every region of :data:`PROD_REGIONS` at once), named ``name`` if given."""
    deploys = [
        {
            "Name": f"Deploy-{region}",
            "Region": region,
            "ActionTypeId": {
                "Category": "Deploy",
                "Owner": "AWS",
                "Provider": "CloudFormation",
                "Version": "1",
            },
            "Configuration": {"StackName": f"orders-prod-{region}", "ActionMode": "CHANGE_SET_REPLACE"},
        }
        for region in PROD_REGIONS
    ]
    stages = [{"Name": "Source", "Actions": []}, {"Name": "Prod", "Actions": deploys}]
    properties: dict[str, object] = {"Stages": stages} if name is None else {"Name": name, "Stages": stages}
    return CfnResource(scope, "Pipeline", type="AWS::CodePipeline::Pipeline", properties=properties)
