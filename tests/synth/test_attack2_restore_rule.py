"""Attack review of 16724c9 (one ``Gates/RestoreStageEnded`` rule per pipeline, the stage's pointer
picked in ``Restore``'s definition). Each test asserts the SAFE behaviour and fails on 34efc5c.

A1 (low): the one rule lists every gated stage in its event pattern. EventBridge limits an event
pattern to 2,048 characters by default (a quota; 4,096 at most). A configuration hands-off accepts
(an ECS service, one wave per region, 34 regions, wave names of 60 of the 80 characters a name may
have) makes a 2,338-character pattern: CloudFormation cannot create the rule, the pipeline stack
fails to deploy (a self-mutation fails at UpdatePipeline and rolls back: nothing ships until the
configuration changes). The per-stage rules of the parent were ~300 characters each, whatever the
number of stages.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from aws_cdk import App
from aws_cdk.assertions import Template

from hands_off.example.shipping import ShippingPipeline
from hands_off.model import Wave, example_environments
from hands_off.model.regions import KNOWN_REGIONS
from hands_off.model.target import Target
from hands_off.testing import app_context

EVENT_PATTERN_QUOTA = 2048  # EventBridge's default "event pattern size" quota (characters)
REPO = Path(__file__).resolve().parents[2]


def _many_waves(name_length: int) -> Any:
    """The example environments with one production wave per known region (the most waves a
    region-per-wave fleet can have), each named with ``name_length`` characters."""
    base = example_environments()
    prod = base.waves[0].targets[0].account
    waves = tuple(
        Wave(
            name=(f"Prod-{i + 1}-" + "w" * name_length)[:name_length],
            targets=(Target(account=prod, region=region),),
            # the first two waves start with a one-box step (P9)
            policy=base.waves[0].policy if i < 2 else base.waves[-1].policy,
        )
        for i, region in enumerate(sorted(KNOWN_REGIONS))
    )
    return replace(base, waves=waves)


def test_the_stage_ended_rule_fits_the_eventbridge_event_pattern_quota(tmp_path: Path) -> None:
    """A1: every rule of a pipeline hands-off accepts and synthesizes can be created."""
    app = App(context=app_context(REPO / "cdk.json"), outdir=str(tmp_path))
    pipeline = ShippingPipeline(app, environments=_many_waves(60))
    resources = Template.from_stack(pipeline).to_json()["Resources"]
    [stages] = [
        r["Properties"]["Stages"] for r in resources.values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    assert len(stages) <= 50  # CodePipeline's stage limit: a valid pipeline
    sizes = {
        k: len(json.dumps(r["Properties"]["EventPattern"], separators=(",", ":")))
        for k, r in resources.items()
        if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
    }
    # ... and the rules, together, still match every gated stage's ending, each stage once
    listed = [
        stage
        for r in resources.values()
        if r["Type"] == "AWS::Events::Rule"
        and r["Properties"].get("EventPattern", {}).get("source") == ["aws.codepipeline"]
        for stage in r["Properties"]["EventPattern"]["detail"]["stage"]
    ]
    gated = [s["Name"] for s in stages if s["Name"] == "Gamma" or s["Name"].startswith("Prod-")]
    assert len(gated) > 30
    assert sorted(listed) == sorted(gated)
    too_big = {k: n for k, n in sizes.items() if n > EVENT_PATTERN_QUOTA}
    assert too_big == {}, (
        f"event patterns over EventBridge's {EVENT_PATTERN_QUOTA}-character quota: {too_big}"
    )
