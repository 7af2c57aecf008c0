"""Hand-written minimal cloud assemblies: one pipeline template plus application stacks, as JSON,
for rule cases the synthesized fixtures do not cover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROD = "333333333333"


def deploy(stack: str, region: str, run_order: int = 2) -> dict[str, Any]:
    """A CDK Pipelines-style change set preparation of ``stack`` in ``region``."""
    return {
        "Name": f"{stack}.Prepare",
        "ActionTypeId": {"Category": "Deploy", "Owner": "AWS", "Provider": "CloudFormation", "Version": "1"},
        "Configuration": {"StackName": stack, "TemplatePath": f"Synth_Output::{stack}.template.json"},
        "Region": region,
        "RoleArn": f"arn:aws:iam::{PROD}:role/deploy",
        "RunOrder": run_order,
    }


def action(name: str, category: str, provider: str, run_order: int, **configuration: Any) -> dict[str, Any]:
    """Any other action."""
    return {
        "Name": name,
        "ActionTypeId": {"Category": category, "Owner": "AWS", "Provider": provider, "Version": "1"},
        "Configuration": configuration,
        "RunOrder": run_order,
    }


def stage(name: str, *actions: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A stage (``extra``: ``OnFailure``, ``BeforeEntry``)."""
    return {"Name": name, "Actions": list(actions), **extra}


def lambda_stack() -> dict[str, Any]:
    """A copy: one function, nothing else."""
    return {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}


def write(
    directory: Path,
    stages: list[dict[str, Any]],
    stacks: dict[str, tuple[str, dict[str, Any]]],
    **pipeline: Any,
) -> Path:
    """Write a cloud assembly: pipeline ``mini`` with ``stages``, and ``stacks`` (artifact id →
    (region, template)), each stack's name its artifact id."""
    directory.mkdir(parents=True, exist_ok=True)
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::CodePipeline::Pipeline",
                "Properties": {"Name": "mini", "PipelineType": "V2", "Stages": stages, **pipeline},
            }
        }
    }
    artifacts: dict[str, Any] = {
        "Tooling": {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111111111111/us-east-1",
            "properties": {"templateFile": "Tooling.template.json"},
        }
    }
    (directory / "Tooling.template.json").write_text(json.dumps(template), encoding="utf-8")
    for artifact_id, (region, body) in stacks.items():
        (directory / f"{artifact_id}.template.json").write_text(json.dumps(body), encoding="utf-8")
        artifacts[artifact_id] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{PROD}/{region}",
            "properties": {"templateFile": f"{artifact_id}.template.json"},
        }
    (directory / "manifest.json").write_text(json.dumps({"artifacts": artifacts}), encoding="utf-8")
    return directory
