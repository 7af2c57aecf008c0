"""Production stages are blocked before, baked after and rolled back on failure (P14-P16, X4);
pre-production runs integration tests after deploying (P4)."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Real

from hands_off.assembly import ActionRole, Assembly, Pipeline
from hands_off.check.rule import CheckRule, Finding, Level, Location
from hands_off.check.rules._view import pre_production_stages

__all__ = [
    "BAKE",
    "BLOCKER",
    "INTEGRATION_TESTS",
    "ROLLBACK_ON_FAILURE",
    "bake",
    "blocker",
    "integration_tests",
    "rollback_on_failure",
]

BAKE = CheckRule(
    id="HO-W7",
    practice="P16",
    level=Level.ERROR,
    info="Each production wave bakes (watches its alarms for a while) after deploying, before the next.",
    fix="Add a bake action after the deployments of each production stage "
    "(hands-off: the <stage>-Bake Step Functions action; or a wait that fails on alarms).",
)
BLOCKER = CheckRule(
    id="HO-W8",
    practice="P14",
    level=Level.ERROR,
    info="Each production wave has a blocker before it deploys: a gate action or a BeforeEntry condition.",
    fix="Add a BeforeEntry CloudWatchAlarm condition, or a gate action (time window, alarms) "
    "before the deployments of each production stage.",
)
INTEGRATION_TESTS = CheckRule(
    id="HO-W9",
    practice="P4",
    level=Level.ERROR,
    info="A pre-production stage runs integration tests against what it just deployed.",
    fix="Add a test step after a pre-production stage's deployment (CDK Pipelines: post=[ShellStep(...)]).",
)
ROLLBACK_ON_FAILURE = CheckRule(
    id="HO-W10",
    practice="X4",
    level=Level.ERROR,
    info="Production stages roll back by themselves when they fail (OnFailure: ROLLBACK).",
    fix="Set the stage's OnFailure result to ROLLBACK (a V2 pipeline; CDK: CfnPipeline property override).",
)


def bake(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag production waves with no bake after their deployments, or one that bakes 0 minutes."""
    for stage in assembly.production_stages(pipeline):
        bakes = stage.actions_of(ActionRole.BAKE)
        where = Location(pipeline=pipeline.name, stage=stage.name)
        if not bakes:
            yield BAKE.finding(where, f"{stage.name!r} has no bake after its deployments")
            continue
        for action in bakes:
            seconds = (assembly.action_parameter(action) or {}).get("bake_seconds")
            if isinstance(seconds, Real) and not isinstance(seconds, bool) and seconds <= 0:
                yield BAKE.finding(where, f"{stage.name!r} bakes 0 minutes ({action.name})")


def blocker(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag production waves with neither a gate action before their deployments nor a
    ``BeforeEntry`` condition."""
    for stage in assembly.production_stages(pipeline):
        if not stage.actions_of(ActionRole.GATE) and not stage.before_entry_rules:
            yield BLOCKER.finding(
                Location(pipeline=pipeline.name, stage=stage.name),
                f"nothing can stop {stage.name!r} from deploying: no gate action, no BeforeEntry condition",
            )


def integration_tests(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag a deploying pipeline whose pre-production stages run no tests after deploying."""
    if not assembly.production_stages(pipeline):
        return
    stages = pre_production_stages(assembly, pipeline)
    if any(stage.actions_of(ActionRole.TEST) for stage in stages):
        return
    what = (
        f"no pre-production stage ({', '.join(s.name for s in stages)}) tests after deploying"
        if stages
        else "nothing is deployed before production: no pre-production stage to test"
    )
    yield INTEGRATION_TESTS.finding(Location(pipeline=pipeline.name), what)


def rollback_on_failure(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag production stages whose ``OnFailure`` result is not ``ROLLBACK``."""
    for stage in assembly.production_stages(pipeline):
        if stage.on_failure_result != "ROLLBACK":
            got = stage.on_failure_result or "not set"
            yield ROLLBACK_ON_FAILURE.finding(
                Location(pipeline=pipeline.name, stage=stage.name),
                f"{stage.name!r} does not roll back on failure (OnFailure: {got})",
            )
