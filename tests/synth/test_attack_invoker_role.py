"""Attack review of fb12be2: every role a Lambda copy's test action tells its build to assume
must exist in the tested account and trust the integ-tests role."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from constructs import Construct

from hands_off.constructs.lambda_service import LambdaService
from hands_off.deployment import Deployment
from hands_off.example import OrdersPipeline


class _LambdaCopy:
    """A copy through the documented ServiceCopy protocol (endpoint_output, alarms): a Lambda
    alias whose endpoint the planner predicts (endpoint_known_at_synth defaults to True), but
    not a LambdaService instance (composition, not inheritance)."""

    def __init__(self, inner: LambdaService) -> None:
        self.endpoint_output = inner.endpoint_output
        self.alarms = inner.alarms


class ComposedOrders(OrdersPipeline):
    def application(self, scope: Construct, deployment: Deployment) -> Any:
        return _LambdaCopy(
            LambdaService.for_deployment(
                scope,
                deployment,
                naming=self.naming,
                code_directory=self.code_directory,
                handler=self.handler,
                canary_payload=None,
            )
        )


def _roles_named(stack: Stack) -> set[str]:
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    return {r["Properties"].get("RoleName") for r in roles.values()}


def test_every_invoker_role_a_test_action_names_exists(repo_root: Path) -> None:
    pipeline = ComposedOrders(App())
    actions = [
        a
        for s in Template.from_stack(pipeline).to_json()["Resources"]["Pipeline9850B417"]["Properties"][
            "Stages"
        ]
        for a in s["Actions"]
        if "IntegrationTest" in a["Name"]
    ]
    named = set()
    for action in actions:
        env = {e["name"]: e["value"] for e in json.loads(action["Configuration"]["EnvironmentVariables"])}
        if "HANDS_OFF_INVOKER_ROLE" in env:
            named.add(env["HANDS_OFF_INVOKER_ROLE"])
    assert named, "the Lambda copies' test actions name an invoker role"
    created = {
        f"arn:aws:iam::{s.account}:role/{name}"
        for s in pipeline.rendered.access_stacks
        for name in _roles_named(s)
    }
    # Fails at fb12be2: the access stacks make the canary role only for LambdaService instances
    # (AccessNeeds.lambda_copies), the test actions name it for every copy whose endpoint is known at
    # synth: the tests' AssumeRole fails in Alpha (before fb12be2 the copy's Lambda permission let
    # the integ-tests role invoke it).
    assert named <= created, sorted(named - created)


def _two_account_environments() -> Any:
    import dataclasses

    from hands_off.model import Account, Target, example_environments

    envs = example_environments()
    prod2 = Account(name="prod2", account_id="044444444444")  # leading 0: a valid id
    preprod = envs.alpha.targets[0].account
    waves = list(envs.waves)
    last = waves[-1]
    # the last wave: its first region in a second production account, its second in the
    # pre-production account (a mixed account), the rest unchanged
    targets = (
        Target(account=prod2, region=last.targets[0].region),
        Target(account=preprod, region=last.targets[1].region),
        *last.targets[2:],
    )
    waves[-1] = dataclasses.replace(last, targets=targets)
    return dataclasses.replace(envs, waves=tuple(waves))


class TwoAccountOrders(OrdersPipeline):
    def environments(self) -> Any:
        return _two_account_environments()


def test_each_zeta_action_tests_its_accounts_copies_as_its_accounts_role(repo_root: Path) -> None:
    import os
    import subprocess

    pipeline = TwoAccountOrders(App())
    resources = Template.from_stack(pipeline).to_json()["Resources"]
    [project] = [
        r for r in resources.values() if r["Type"] == "AWS::CodeBuild::Project" and "Integration" in str(r)
    ]
    project_env = {
        v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]
    }
    commands = json.loads(project["Properties"]["Source"]["BuildSpec"])["phases"]["build"]["commands"]
    stages = resources["Pipeline9850B417"]["Properties"]["Stages"]
    [zeta] = [s for s in stages if s["Name"] == "Zeta"]
    tests = [a for a in zeta["Actions"] if "IntegrationTest" in a["Name"]]
    production = {d.alias_arn for s in pipeline.plan.production for d in s.deployments}
    canary_policies = {}
    for stack in pipeline.rendered.access_stacks:
        for r in Template.from_stack(stack).find_resources("AWS::IAM::Role").values():
            if r["Properties"].get("RoleName") == "hands-off-orders-canary":
                [statement] = r["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                canary_policies[f"arn:aws:iam::{stack.account}:role/hands-off-orders-canary"] = (
                    {statement["Resource"]}
                    if isinstance(statement["Resource"], str)
                    else set(statement["Resource"])
                )
    tested: set[str] = set()
    assert len(tests) == 3  # 333333333333, 044444444444, 222222222222 (mixed)
    for action in tests:
        env = {e["name"]: e["value"] for e in json.loads(action["Configuration"]["EnvironmentVariables"])}
        script = "".join(f"{c}\nrc=$?; [ $rc -eq 0 ] || exit $rc\n" for c in commands[:-1])
        out = subprocess.run(
            ["sh", "-c", f"cd /tmp; {script}" + 'echo "$ENDPOINTS"; cat "$AWS_CONFIG_FILE"'],
            env={"PATH": os.environ["PATH"], **project_env, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        endpoints = out[0].split(",")
        role = env["HANDS_OFF_INVOKER_ROLE"]
        assert f"role_arn = {role}" in out
        assert {e.split(":")[4] for e in endpoints} == {role.split(":")[4]}
        assert set(endpoints) <= canary_policies[role]
        tested |= set(endpoints)
    assert tested == production
