"""The pipeline's one integration-test project: every test action runs it, after its copy's
deploy, with the copy's endpoint output; Zeta's commands run only in Zeta's action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from aws_cdk.assertions import Template

from hands_off.render.integration_tests import (
    INVOKER_ROLE_VARIABLE,
    ZETA_VARIABLE,
    build_commands,
    invoker_profile_command,
)

SERVICES = ("orders", "catalog")
PROD = "333333333333"  # the example fleet's production account


def _template(fleet: Any, service: str) -> dict[str, Any]:
    return Template.from_stack(fleet.pipeline(service)).to_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("service", SERVICES)
def test_every_test_action_runs_one_project_after_its_copys_deploy(fleet: Any, service: str) -> None:
    resources = _template(fleet, service)["Resources"]
    (pipeline,) = [r for r in resources.values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    copies = {
        s.stack.deployment.alias_arn: s.stack.stack_name for s in fleet.pipeline(service).rendered.stages
    }
    projects: set[str] = set()
    tested = 0
    for stage in pipeline["Properties"]["Stages"]:
        actions = stage["Actions"]
        deploys = {a["Name"]: a for a in actions if a["Name"].endswith(".Deploy")}
        for action in (a for a in actions if a["Name"].endswith("IntegrationTest")):
            projects.add(action["Configuration"]["ProjectName"]["Ref"])
            env = {e["name"]: e["value"] for e in json.loads(action["Configuration"]["EnvironmentVariables"])}
            # The tests invoke as the canary role of the account they test (no Lambda permission
            # per copy): the action names it, the buildspec makes it the default profile.
            invoker = env.pop(INVOKER_ROLE_VARIABLE)
            if stage["Name"] == "Zeta":
                # one action per production account (the example's are all in one)
                assert env == {ZETA_VARIABLE: PROD, "SKIP_NOT_DEPLOYED": "1"}
                assert invoker == f"arn:aws:iam::{PROD}:role/hands-off-{service}-canary"
                continue
            # ENDPOINTS is the copy's endpoint (a Lambda copy's is known at synth: its alias ARN),
            # tested after the copy's deploy action.
            endpoint = env.pop("ENDPOINTS")
            assert env == {}
            assert invoker == f"arn:aws:iam::{endpoint.split(':')[4]}:role/hands-off-{service}-canary"
            [deploy] = [a for name, a in deploys.items() if name.endswith(f"{copies[endpoint]}.Deploy")]
            assert deploy["RunOrder"] < action["RunOrder"]
            assert endpoint.endswith(":live")
            tested += 1
    assert tested >= 4  # Alpha, Beta, Gamma in two regions
    (project_id,) = projects
    assert resources[project_id]["Properties"]["EncryptionKey"]  # the artifact bucket's key (nag CB4)


def test_identical_commands_are_not_selected() -> None:
    assert build_commands(["a", "b"], ["a", "b"]) == ["a", "b"]


def test_only_the_differing_leading_commands_are_selected() -> None:
    commands = build_commands(["test"], ["export ENDPOINTS=x", "test"])
    assert commands[-1] == "test"
    assert commands[:-1] == [f'if [ -n "${{{ZETA_VARIABLE}:-}}" ]; then\nexport ENDPOINTS=x\nfi']


@pytest.mark.parametrize("zeta", ["", "1"])
def test_selected_commands_run_in_one_shell_and_fail_the_build(zeta: str) -> None:
    # CodeBuild runs a phase's commands in one shell and stops at the first failing one.
    commands = build_commands(["echo pre > out", "false"], ["X=zeta && export X", "echo $X > out", "false"])
    script = "".join(f"{c}\nrc=$?; [ $rc -eq 0 ] || exit $rc\n" for c in commands)
    for shell in ("sh", "bash"):
        result = subprocess.run(
            [shell, "-c", f"cd $(mktemp -d) && (\n{script}\n); echo $? $(cat out)"],
            env={"PATH": "/usr/bin:/bin", ZETA_VARIABLE: zeta},
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.split() == ["1", "zeta" if zeta else "pre"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_test_role_may_only_assume_the_tested_accounts_canary_roles(fleet: Any, service: str) -> None:
    resources = _template(fleet, service)["Resources"]
    [role_id] = [
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::IAM::Role"
        and r["Properties"].get("RoleName") == f"hands-off-{service}-integ-tests"
    ]
    statements = [
        s
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    accounts = {s.stack.deployment.target.account.account_id for s in fleet.pipeline(service).rendered.stages}
    assert len(accounts) > 1
    invokers = [f"arn:aws:iam::{a}:role/hands-off-{service}-canary" for a in sorted(accounts)]
    assert {"Action": "sts:AssumeRole", "Effect": "Allow", "Resource": invokers} in statements
    assert not [s for s in statements if "lambda:InvokeFunction" in str(s["Action"])]


def test_the_invoker_role_is_the_default_profile_of_every_test_command(tmp_path: Any) -> None:
    # What CodeBuild runs before the tests: with the action's role named, botocore (and every
    # SDK reading the shared config) assumes it from the build's container credentials.
    script = f"cd {tmp_path}\n{invoker_profile_command()}\n" + 'python -c "$PROBE"'
    probe = (
        "import botocore.session, json; c = botocore.session.Session().get_scoped_config(); "
        "print(json.dumps([c.get('role_arn'), c.get('credential_source')]))"
    )
    role = "arn:aws:iam::222222222222:role/hands-off-orders-canary"
    env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "PROBE": probe, "HOME": str(tmp_path)}
    named = subprocess.run(
        ["sh", "-c", script],
        env={**env, INVOKER_ROLE_VARIABLE: role},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(named.stdout) == [role, "EcsContainer"]
    # An action naming none (the stack-endpoint tests) keeps the build's own credentials.
    unnamed = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(unnamed.stdout) == [None, None]


@pytest.mark.parametrize("account", ["222222222222", "333333333333"])
def test_zeta_tests_the_endpoints_of_its_actions_account(fleet: Any, account: str) -> None:
    resources = _template(fleet, "orders")["Resources"]
    [project] = [
        r for r in resources.values() if r["Type"] == "AWS::CodeBuild::Project" and "Integration" in str(r)
    ]
    spec = json.loads(project["Properties"]["Source"]["BuildSpec"])
    script = "".join(
        f"{c}\nrc=$?; [ $rc -eq 0 ] || exit $rc\n" for c in spec["phases"]["build"]["commands"][:2]
    )
    env = {
        "PATH": "/usr/bin:/bin",
        ZETA_VARIABLE: account,
        "ZETA_ENDPOINTS_222222222222": "arn:a,arn:b",
        "ZETA_ENDPOINTS_333333333333": "arn:c",
    }
    result = subprocess.run(
        ["sh", "-c", f"{script}echo $ENDPOINTS"], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [env[f"ZETA_ENDPOINTS_{account}"]]
