"""Production is reached in waves (P8): at least two, the first in one region, never shrinking."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

from hands_off.assembly import Assembly, Pipeline
from hands_off.check.rule import CheckRule, Finding, Level, Location

__all__ = [
    "FIRST_WAVE_ONE_REGION",
    "TWO_WAVES",
    "WAVES_NEVER_SHRINK",
    "first_wave",
    "two_waves",
    "waves_grow",
]

TWO_WAVES = CheckRule(
    id="HO-W1",
    practice="P8",
    level=Level.ERROR,
    info="Production is reached in at least two waves (stages deployed one after the other).",
    fix="Split production into stages: one small region first, then growing waves (hands-off: plan_waves).",
)
FIRST_WAVE_ONE_REGION = CheckRule(
    id="HO-W2",
    practice="P8",
    level=Level.ERROR,
    info="The first production wave deploys to one region.",
    fix="Move all but one (low-traffic) region of the first production stage to later waves.",
)
WAVES_NEVER_SHRINK = CheckRule(
    id="HO-W3",
    practice="P8",
    level=Level.ERROR,
    info="Production waves never shrink: each deploys to at least as many regions as the one before.",
    fix="Move regions to a later wave, or reorder the waves so their sizes never decrease.",
)


def _regions(count: int) -> str:
    return f"{count} region" if count == 1 else f"{count} regions"


def two_waves(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag a deploying pipeline with fewer than two production waves."""
    if not any(stage.deploy_run_orders for stage in pipeline.stages):
        return
    waves = assembly.production_stages(pipeline)
    if len(waves) >= 2:
        return
    where = Location(pipeline=pipeline.name, stage=waves[0].name if waves else "")
    what = (
        f"production is one stage ({waves[0].name!r}, {_regions(len(waves[0].deploy_regions))} at once)"
        if waves
        else "no production stage found (none named Prod*/Production or deploying a stack named *prod*)"
    )
    yield TWO_WAVES.finding(where, what)


def first_wave(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag a first production wave that deploys to more than one region."""
    waves = assembly.production_stages(pipeline)
    if waves and len(regions := waves[0].deploy_regions) > 1:
        yield FIRST_WAVE_ONE_REGION.finding(
            Location(pipeline=pipeline.name, stage=waves[0].name),
            f"the first production wave deploys to {_regions(len(regions))} ({', '.join(regions)})",
        )


def waves_grow(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag every production wave with fewer regions than the wave before it."""
    for before, wave in pairwise(assembly.production_stages(pipeline)):
        if len(wave.deploy_regions) < len(before.deploy_regions):
            yield WAVES_NEVER_SHRINK.finding(
                Location(pipeline=pipeline.name, stage=wave.name),
                f"{wave.name!r} deploys to {_regions(len(wave.deploy_regions))}, fewer than the "
                f"{len(before.deploy_regions)} of {before.name!r}",
            )
