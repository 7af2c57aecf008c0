"""Attack review of 16724c9, A2 (low): ``DeploymentGates.restore_when_stage_ends`` given one
CodePipeline stage twice (two gated actions in one stage, each with its own gate input and groups)
accepts it silently: the rule lists the stage twice, ``RestoreGatedStage?`` has two identical
branches and only the first is ever taken, so the second gate input's groups are never restored when
that stage ends. The parent's per-stage rules refused it at synth (two ``RestoreStageEnded<stage>``
constructs). The safe behaviour: refuse it (or restore every gate input of the stage)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

from tests.constructs.test_deployment_gates import new_gates


def test_a_stage_named_twice_is_refused_or_each_of_its_gate_inputs_restored(
    bare_stack: Callable[..., Stack], flat: Callable[[Any], Any]
) -> None:
    stack = bare_stack()
    gates = new_gates(stack)
    inputs = [
        ("Prod-1", "/hands-off/p/gates/Prod-1-A", "a" * 64),
        ("Prod-1", "/hands-off/p/gates/Prod-1-B", "b" * 64),
    ]
    try:
        gates.restore_when_stage_ends(inputs)
    except (ValueError, RuntimeError):  # refused at synth (the parent: a construct id clash)
        return
    resources = Template.from_stack(stack).to_json()["Resources"]
    definition = resources[stack.get_logical_id(gates.restore.node.default_child)]["Properties"]
    states = json.loads(flat(definition["DefinitionString"]))["States"]
    # the first branch whose condition holds is taken: which gate inputs can a Prod-1 ending reach?
    reached = []
    for choice in states["RestoreGatedStage?"]["Choices"]:
        if choice["StringEquals"] == "Prod-1":
            reached.append(states[choice["Next"]]["Parameters"]["pointer"]["config_parameter"])
            break
    assert sorted(reached) == sorted(p for _, p, _ in inputs), (
        f"Prod-1's ending restores only {reached}: the other gate input's groups stay off"
    )
