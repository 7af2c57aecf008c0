"""The rules judged resource by resource (what the cdk-nag pack asks) are the rules of ``hands-off
check``: every finding lands on exactly one judged resource, and nothing else is judged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hands_off.assembly import Assembly
from hands_off.check import run
from hands_off.check.resource_judge import PIPELINE_TYPE, ResourceJudge
from tests.check import mini_assembly as mini
from tests.conftest import Fleet


def _judged(assembly: Assembly) -> dict[tuple[str, str], dict[str, tuple[Any, ...]]]:
    """Every judged resource (stack artifact id, logical id) with its verdicts."""
    judge = ResourceJudge(assembly)
    found = {}
    for stack in assembly.stacks:
        for logical_id in stack.resources:
            verdict = judge.judge(stack.artifact_id, logical_id)
            if verdict is not None:
                found[(stack.artifact_id, logical_id)] = dict(verdict)
    return found


def _all_findings(judged: dict[tuple[str, str], dict[str, tuple[Any, ...]]]) -> Counter[str]:
    return Counter(str(f) for verdict in judged.values() for findings in verdict.values() for f in findings)


def _kinds(assembly: Assembly, judged: dict[tuple[str, str], Any]) -> Counter[str]:
    """How many resources of each type were judged."""
    return Counter(str(stack.resources[lid]["Type"]) for stack, lid in _stacks(assembly, judged))


def _stacks(assembly: Assembly, judged: dict[tuple[str, str], Any]) -> list[tuple[Any, str]]:
    return [(assembly.stack(stack), lid) for stack, lid in judged]


def test_plain_pipeline_findings_land_on_resources(plain_out: Path) -> None:
    assembly = Assembly.read(plain_out)

    judged = _judged(assembly)

    assert _all_findings(judged) == Counter(str(f) for f in run(assembly).findings)
    # the pipeline, and each production copy's function; not Beta's (pre-production)
    assert _kinds(assembly, judged) == {PIPELINE_TYPE: 1, "AWS::Lambda::Function": 3}


def test_example_fleet_is_judged_and_compliant(fleet: Fleet) -> None:
    assembly = Assembly.read(fleet.outdir)

    judged = _judged(assembly)

    kinds = _kinds(assembly, judged)
    assert kinds[PIPELINE_TYPE] == 4
    assert kinds["AWS::Lambda::Function"] > 0
    assert kinds["AWS::CodeDeploy::DeploymentGroup"] > 0
    assert kinds["AWS::ECS::Service"] > 0  # the shipping copies
    assert kinds["AWS::AutoScaling::AutoScalingGroup"] > 0  # the inventory copies
    assert _all_findings(judged) == Counter()


def _canary_copy(tmp_path: Path, config: str) -> Assembly:
    """Beta, then one production stage deploying a function behind a CodeDeploy group with
    ``config`` and no alarms."""
    prod = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "Group": {
                "Type": "AWS::CodeDeploy::DeploymentGroup",
                "Properties": {"DeploymentConfigName": config},
            },
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        }
    }
    stages = [
        mini.stage("Beta", mini.deploy("beta", "us-west-2", 1), mini.action("Test", "Build", "CodeBuild", 2)),
        mini.stage("Prod-1", mini.deploy("prod", "us-east-1")),
    ]
    stacks = {"beta": ("us-west-2", mini.lambda_stack()), "prod": ("us-east-1", prod)}
    return Assembly.read(mini.write(tmp_path / "cdk.out", stages, stacks))


def test_copy_rules_land_on_the_deployment_group_or_the_function(tmp_path: Path) -> None:
    judge = ResourceJudge(_canary_copy(tmp_path, "CodeDeployDefault.LambdaCanary25Percent5Minutes"))

    group = judge.judge("prod", "Group")
    function = judge.judge("prod", "Fn")

    assert group is not None
    assert function is not None
    assert {rule for rule, findings in group.items() if findings} == {"HO-W4", "HO-W6"}
    assert {rule for rule, findings in function.items() if findings} == {"HO-W5", "HO-W12"}
    assert [f.message for f in group["HO-W6"]] == ["prod (us-east-1) shifts 25% first (canary 25% for 5m)"]


@pytest.mark.parametrize(
    ("stack", "logical_id"),
    [
        ("prod", "Role"),  # a resource no rule is about
        ("beta", "Fn"),  # a function, but pre-production
        ("Tooling", "Missing"),  # not in the template
        ("elsewhere", "Fn"),  # a stack no pipeline deploys
    ],
)
def test_resources_no_rule_judges(tmp_path: Path, stack: str, logical_id: str) -> None:
    judge = ResourceJudge(_canary_copy(tmp_path, "CodeDeployDefault.LambdaAllAtOnce"))

    assert judge.judge(stack, logical_id) is None


def test_pipeline_resource_gets_only_pipeline_rules(tmp_path: Path) -> None:
    judge = ResourceJudge(_canary_copy(tmp_path, "CodeDeployDefault.LambdaAllAtOnce"))

    verdict = judge.judge("Tooling", "Pipeline")

    assert verdict is not None
    assert list(verdict) == ["HO-W1", "HO-W2", "HO-W3", "HO-W7", "HO-W8", "HO-W9", "HO-W10", "HO-W11"]
    assert [f.message for f in verdict["HO-W1"]] == ["production is one stage ('Prod-1', 1 region at once)"]
