"""The pipeline follows one branch (P2)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from hands_off.assembly import Assembly, Pipeline
from hands_off.check.rule import CheckRule, Finding, Level, Location

__all__ = ["ONE_BRANCH", "one_branch"]

ONE_BRANCH = CheckRule(
    id="HO-W11",
    practice="P2",
    level=Level.ERROR,
    info="The pipeline releases one branch: its source names one branch and no trigger follows others.",
    fix="Name one branch (e.g. main) in the source action, and limit V2 triggers to that branch "
    "(no wildcards, no pull-request triggers).",
)

_GIT_PROVIDERS = {"CodeStarSourceConnection", "CodeCommit", "GitHub"}
_GLOB = re.compile(r"[*?\[{]")


def _branches(filters: Any) -> list[str]:
    includes: list[str] = []
    for entry in filters if isinstance(filters, list) else []:
        branches = entry.get("Branches") if isinstance(entry, Mapping) else None
        found = branches.get("Includes") if isinstance(branches, Mapping) else None
        includes += [str(b) for b in found] if isinstance(found, list) else []
    return includes


def one_branch(assembly: Assembly, pipeline: Pipeline) -> Iterator[Finding]:
    """Flag Git source actions with no literal branch, and triggers on several branches, branch
    patterns or pull requests."""
    del assembly  # the pipeline resource says it all
    for stage in pipeline.stages:
        for action in stage.actions:
            if action.category != "Source" or action.provider not in _GIT_PROVIDERS:
                continue
            branch = action.configuration.get("BranchName", action.configuration.get("Branch"))
            if not isinstance(branch, str) or not branch or _GLOB.search(branch):
                yield ONE_BRANCH.finding(
                    Location(pipeline=pipeline.name, stage=stage.name),
                    f"source {action.name!r} names no single branch ({branch!r})",
                )
    for trigger in pipeline.triggers:
        git = trigger.get("GitConfiguration")
        if not isinstance(git, Mapping):
            continue
        source = str(git.get("SourceActionName", "?"))
        branches = _branches(git.get("Push"))
        if len(set(branches)) > 1 or any(_GLOB.search(b) for b in branches):
            yield ONE_BRANCH.finding(
                Location(pipeline=pipeline.name),
                f"the trigger of {source!r} runs on pushes to {', '.join(branches)}",
            )
        if git.get("PullRequest"):
            yield ONE_BRANCH.finding(
                Location(pipeline=pipeline.name),
                f"the trigger of {source!r} runs on pull requests: unmerged branches would deploy",
            )
