"""The pipeline's one integration-test project: every test action runs it, after its copy's
deploy, with the copy's endpoint output; Zeta's commands run only in Zeta's action."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from aws_cdk.assertions import Template

from hands_off.render.integration_tests import ZETA_VARIABLE, build_commands

SERVICES = ("orders", "catalog")


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
            if stage["Name"] == "Zeta":
                assert env == {ZETA_VARIABLE: "1", "SKIP_NOT_DEPLOYED": "1"}
                continue
            # ENDPOINTS is the copy's endpoint (a Lambda copy's is known at synth: its alias ARN),
            # tested after the copy's deploy action.
            endpoint = env.pop("ENDPOINTS")
            assert env == {}
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
