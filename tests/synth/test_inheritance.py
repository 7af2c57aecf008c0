"""P17: a service subclass that overrides one hook changes only what that hook renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from hands_off.example import OrdersPipeline
from hands_off.model import ConfigError
from hands_off.stacks.service_pipeline import ServicePipeline
from hands_off.testing import app_context, template_snapshot


class OrdersWithExtraLint(OrdersPipeline):
    """Same service, one more build command."""

    def build_commands(self) -> list[str]:
        return ["echo extra-lint", *super().build_commands()]


def synth(cls: type[ServicePipeline], repo_root: Path) -> dict[str, Any]:
    return template_snapshot(cls(App(context=app_context(repo_root / "cdk.json"))))


def changed_resources(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    keys = set(a["Resources"]) | set(b["Resources"])
    return {k for k in keys if a["Resources"].get(k) != b["Resources"].get(k)}


def test_overriding_build_commands_changes_only_the_build_project(repo_root: Path) -> None:
    base = synth(OrdersPipeline, repo_root)
    derived = synth(OrdersWithExtraLint, repo_root)
    changed = changed_resources(base, derived)
    assert len(changed) == 1
    [project] = changed
    assert derived["Resources"][project]["Type"] == "AWS::CodeBuild::Project"
    spec = json.dumps(derived["Resources"][project]["Properties"]["Source"]["BuildSpec"])
    assert "echo extra-lint" in spec
    assert "echo extra-lint" not in json.dumps(base)


def test_missing_service_name_is_a_clear_error(repo_root: Path) -> None:
    class Nameless(ServicePipeline):
        code_directory = "lambda/services/orders"

    with pytest.raises(ConfigError, match=r"Nameless.service_name: .*lower-case name"):
        Nameless(App())


def test_missing_environments_names_the_hook(repo_root: Path) -> None:
    class NoEnvs(ServicePipeline):
        service_name = "noenvs"
        code_directory = "lambda/services/orders"
        repository = "example-org/noenvs"
        connection_arn = "arn:aws:codeconnections:us-east-1:111111111111:connection/abc"

    with pytest.raises(ConfigError, match=r"NoEnvs.environments: .*override environments\(\)"):
        NoEnvs(App())


def test_code_directory_must_exist(repo_root: Path) -> None:
    class Typo(OrdersPipeline):
        code_directory = "lambda/services/ordrs"

    with pytest.raises(ConfigError, match=r"Typo.code_directory: 'lambda/services/ordrs' does not exist"):
        Typo(App())


def test_soft_environment_problems_become_cdk_warnings(repo_root: Path) -> None:
    from dataclasses import replace

    from aws_cdk.assertions import Annotations, Match

    from hands_off.model import Environments, Stage, example_environments

    class SharedAccounts(OrdersPipeline):
        def environments(self) -> Environments:
            envs = example_environments()
            prod = envs.waves[0].targets[0].account
            gamma = Stage(
                name="Gamma",
                targets=tuple(replace(t, account=prod) for t in envs.gamma.targets),
                policy=envs.gamma.policy,
            )
            return replace(envs, gamma=gamma)

    stack = SharedAccounts(App(context=app_context(repo_root / "cdk.json")))
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp("separate accounts"))
