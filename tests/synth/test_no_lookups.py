"""`make synth` needs no AWS credentials: the example fleet's assembly asks the CDK CLI for no
context lookups (a server fleet's VPC checks its zones against the stack's, which CDK would look
up in the account; the copy's stage answers from hands-off's zone table instead)."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import App

from hands_off.constructs.ec2_fleet import availability_zones_context_key, known_availability_zones
from hands_off.deployment import Deployment
from hands_off.example import InventoryPipeline
from hands_off.stacks.application_stack import ApplicationStage


def test_no_assembly_of_the_fleet_has_missing_context(fleet: Any) -> None:
    manifests = sorted(fleet.outdir.rglob("manifest.json"))
    assert len(manifests) > 10  # the app's and each stage's nested assembly
    missing = {
        str(path.relative_to(fleet.outdir)): [
            m["key"] for m in json.loads(path.read_text()).get("missing", [])
        ]
        for path in manifests
    }
    assert {k: v for k, v in missing.items() if v} == {}


def _first_copy() -> Deployment:
    app = App()
    return InventoryPipeline(app).deployments[0]


def test_a_copy_stage_answers_the_zone_lookup_from_the_zone_table() -> None:
    deployment = _first_copy()
    target = deployment.target
    stage = ApplicationStage(App(), "Copy", deployment=deployment, build=lambda scope, d: _NoCopy())
    key = availability_zones_context_key(target.account.account_id, target.region)
    assert stage.node.try_get_context(key) == known_availability_zones(target.region)


def test_the_apps_own_zone_context_wins() -> None:
    deployment = _first_copy()
    target = deployment.target
    key = availability_zones_context_key(target.account.account_id, target.region)
    real = [f"{target.region}x", f"{target.region}y", f"{target.region}z"]
    stage = ApplicationStage(
        App(context={key: real}), "Copy", deployment=deployment, build=lambda s, d: _NoCopy()
    )
    assert stage.node.try_get_context(key) == real


class _NoCopy:
    """A copy factory's result that builds nothing (only the stage's context is under test)."""

    endpoint_output: Any = None
    alarms: Any = None
