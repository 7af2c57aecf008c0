"""Issue 8, item 4 (a pinned supply chain), on the synthesized templates of the example fleet.

Before the fix, self-mutation ran ``npm install -g aws-cdk@2``, asset publishing
``npm install -g cdk-assets@latest``, every project ran the floating ``aws/codebuild/standard:7.0``,
the assets ``FileRole`` could start any CodeBuild project and the pipeline role could use any KMS
key (``*``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from hands_off.constructs.roles import INLINE_POLICY_NAME
from hands_off.nag import ACKNOWLEDGEMENTS
from hands_off.render.codepipeline import BUILD_IMAGE, CDK_ASSETS_VERSION, CDK_CLI_VERSION
from tests.iam_permissions import identity_statements

SERVICES = ("orders", "catalog")
ROOT = Path(__file__).resolve().parents[2]


def resources(fleet: Any, service: str, kind: str) -> dict[str, dict[str, Any]]:
    return dict(Template.from_stack(fleet.pipeline(service)).find_resources(kind))  # type: ignore[arg-type]


def install_commands(project: dict[str, Any]) -> list[str]:
    spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
    return list(spec["phases"].get("install", {}).get("commands", []))


def statements(fleet: Any, service: str) -> list[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement of the pipeline stack, with its policy's logical id."""
    return identity_statements(Template.from_stack(fleet.pipeline(service)).to_json())


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------------------- versions


def test_the_pinned_cli_is_the_one_this_repository_and_the_scaffold_install() -> None:
    ours = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    scaffold = json.loads((ROOT / "hands_off/scaffold/templates/package.json.tmpl").read_text())
    assert CDK_CLI_VERSION == ours == scaffold["devDependencies"]["aws-cdk"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", CDK_CLI_VERSION)
    assert re.fullmatch(r"\d+\.\d+\.\d+", CDK_ASSETS_VERSION)


@pytest.mark.parametrize("service", SERVICES)
def test_self_mutation_installs_the_pinned_cdk_cli(fleet: Any, service: str) -> None:
    [project] = [
        p for k, p in resources(fleet, service, "AWS::CodeBuild::Project").items() if "SelfMutation" in k
    ]
    assert install_commands(project) == [f"npm install -g aws-cdk@{CDK_CLI_VERSION}"]


@pytest.mark.parametrize("service", SERVICES)
def test_asset_publishing_installs_the_pinned_cdk_assets(fleet: Any, service: str) -> None:
    assets = [p for k, p in resources(fleet, service, "AWS::CodeBuild::Project").items() if "Assets" in k]
    assert assets
    for project in assets:
        assert install_commands(project) == [f"npm install -g cdk-assets@{CDK_ASSETS_VERSION}"]


@pytest.mark.parametrize("service", SERVICES)
def test_no_install_takes_a_floating_version(fleet: Any, service: str) -> None:
    for project in resources(fleet, service, "AWS::CodeBuild::Project").values():
        for command in install_commands(project):
            assert "@latest" not in command
            assert not re.search(r"@\d+(\s|$)", command), command  # a major version only


@pytest.mark.parametrize("service", SERVICES)
def test_every_pip_install_of_the_pipeline_checks_hashes(fleet: Any, service: str) -> None:
    # The Build installs through `make setup` (requirements.lock, --require-hashes: tests/test_lockfile.py);
    # the integration-test steps install boto3 outside the virtualenv: by hash too.
    pip_installs = [
        command
        for project in resources(fleet, service, "AWS::CodeBuild::Project").values()
        for command in install_commands(project)
        if "pip install" in command
    ]
    assert len(pip_installs) == 1  # the one integration-test project every test action runs
    assert all("--require-hashes -r " in command for command in pip_installs), pip_installs


@pytest.mark.parametrize("service", SERVICES)
def test_every_codebuild_project_runs_the_pinned_image(fleet: Any, service: str) -> None:
    # A dated version of the curated image (aws/codebuild/standard:7.0-YY.MM.DD), not the
    # floating aws/codebuild/standard:7.0 that CodeBuild updates in place.
    assert re.fullmatch(r"aws/codebuild/standard:\d+\.\d+-\d{2}\.\d{2}\.\d{2}", BUILD_IMAGE)
    projects = resources(fleet, service, "AWS::CodeBuild::Project")
    assert len(projects) >= 4  # synth, self-mutation, asset publishing, integration tests
    assert {p["Properties"]["Environment"]["Image"] for p in projects.values()} == {BUILD_IMAGE}


# ------------------------------------------------------------------------------ wildcards


@pytest.mark.parametrize("service", SERVICES)
def test_no_role_may_start_any_codebuild_project(fleet: Any, service: str) -> None:
    for logical_id, statement in statements(fleet, service):
        if any(a.startswith("codebuild:") and "Build" in a for a in listed(statement["Action"])):
            assert "*" not in listed(statement["Resource"]), logical_id


@pytest.mark.parametrize("service", SERVICES)
def test_the_asset_role_starts_only_its_own_asset_projects(fleet: Any, service: str) -> None:
    projects = resources(fleet, service, "AWS::CodeBuild::Project")
    [role_id] = [
        k for k in resources(fleet, service, "AWS::IAM::Role") if k.startswith("PipelineAssetsFileRole")
    ]
    assets = sorted(
        k for k, p in projects.items() if p["Properties"]["ServiceRole"]["Fn::GetAtt"][0] == role_id
    )
    assert assets
    [policy] = [
        p
        for p in resources(fleet, service, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    [start] = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "codebuild:StartBuild" in s["Action"]
    ]
    assert sorted(r["Fn::GetAtt"][0] for r in listed(start["Resource"])) == assets
    # ... never the synth project, which signs
    assert not any("Synth" in r["Fn::GetAtt"][0] for r in listed(start["Resource"]))


@pytest.mark.parametrize("service", SERVICES)
def test_no_kms_action_on_every_key(fleet: Any, service: str) -> None:
    for logical_id, statement in statements(fleet, service):
        if any(a.startswith("kms:") for a in listed(statement["Action"])):
            assert "*" not in listed(statement["Resource"]), logical_id


@pytest.mark.parametrize("service", SERVICES)
def test_the_pipeline_role_uses_only_its_replication_keys_by_alias(fleet: Any, service: str) -> None:
    pipeline = fleet.pipeline(service)
    tooling = pipeline.envs.toolchain
    regions = {t.region for s in pipeline.envs.stages_in_order() for t in s.targets} - {tooling.region}
    [scoped] = [
        s
        for holder, s in statements(fleet, service)
        if holder.startswith("PipelineRole")
        and "Condition" in s
        and any(a.startswith("kms:") for a in listed(s["Action"]))
    ]
    assert sorted(scoped["Resource"]) == sorted(
        f"arn:aws:kms:{r}:{tooling.account.account_id}:key/*" for r in regions
    )
    aliases = scoped["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
    # exactly the aliases of the replication keys the pipeline's artifact stores name
    [cfn] = resources(fleet, service, "AWS::CodePipeline::Pipeline").values()
    stores = {
        s["Region"]: s["ArtifactStore"]["EncryptionKey"]["Id"] for s in cfn["Properties"]["ArtifactStores"]
    }
    assert sorted(aliases) == sorted("alias/" + stores[r].split(":alias/")[1] for r in regions)


def test_no_acknowledgement_excuses_a_wildcard_that_is_gone() -> None:
    # The pipeline role's and the asset role's "Resource::*" findings were acknowledged with a
    # reason the template contradicted; the grants are narrowed now, so no such excuse is left.
    for ack in ACKNOWLEDGEMENTS:
        if ack.rule == "AwsSolutions-IAM5[Resource::*]":
            assert not {"PipelineRole", "Pipeline/Pipeline/Role", "Pipeline/Assets/FileRole"} & set(ack.paths)


@pytest.mark.parametrize("service", SERVICES)
def test_the_pipeline_role_holds_its_grants_inline_with_no_separate_policy(fleet: Any, service: str) -> None:
    # CDK's grants to the pipeline role, narrowed, are the role's own inline policy (one
    # resource, not two); the pipeline references the role, so it still waits for them.
    [(role_id, role)] = [
        (k, r) for k, r in resources(fleet, service, "AWS::IAM::Role").items() if k.startswith("PipelineRole")
    ]
    assert [p["PolicyName"] for p in role["Properties"]["Policies"]] == [INLINE_POLICY_NAME]
    policies = resources(fleet, service, "AWS::IAM::Policy").values()
    assert not [p for p in policies if {"Ref": role_id} in p["Properties"]["Roles"]]
    [pipeline] = resources(fleet, service, "AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
