"""Issue 9 (performance): acknowledging cdk-nag findings costs a bounded number of jsii round trips
per pipeline, not one walk of the construct tree and two calls per rule and construct.

Counted on the example fleet (synthesized once, see conftest) without touching it: the
acknowledgements are gathered, and attached through a recorder instead of ``Validations``.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_codebuild as codebuild

from hands_off import nag
from tests.round_trips import round_trips


class _Recorder:
    """Stands in for ``aws_cdk.Validations``: records each ``of(scope).acknowledge(...)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def of(self, scope: Any) -> Any:
        calls = self.calls

        class _Scope:
            def acknowledge(self, *rules: Any) -> None:
                calls.append((scope.node.path, [r.id for r in rules]))

        return _Scope()


def _shape(pipeline: Any) -> tuple[int, int]:
    """CodeBuild projects (one integration test per copy) and replication regions of a pipeline."""
    projects = [n for n in pipeline.pipeline.node.find_all() if isinstance(n, codebuild.Project)]
    return len(projects), len(pipeline.pipeline.pipeline.cross_region_support)


def test_gathering_a_pipelines_acknowledgements_costs_a_fixed_number_of_round_trips(fleet: Any) -> None:
    # Fixed: the few paths in ACKNOWLEDGEMENTS are held constructs or walked once; logical ids and
    # bucket names come from one resolve. Per CodeBuild project: its role and name (2); per
    # replication region: the support struct (2) and the bucket's name (1). Before: ~750 for the
    # orders pipeline, most of it path walks and two calls per acknowledged rule and scope.
    for pipeline in fleet.pipelines:
        projects, regions = _shape(pipeline)
        with round_trips() as count:
            nag.acknowledge_pipeline(pipeline, nag._Acknowledgements())  # gathered, not attached
        assert count[0] <= 30 + 2 * projects + 3 * regions, (pipeline.service_name, count[0])


def test_acknowledgements_are_attached_with_one_call_per_scope(
    fleet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(nag, "Validations", recorder)
    acks = nag._Acknowledgements()
    for pipeline in fleet.pipelines:
        nag.acknowledge_pipeline(pipeline, acks)
    acks.attach()

    scopes = [path for path, _ in recorder.calls]
    assert len(scopes) == len(set(scopes)), "a scope was acknowledged in more than one call"
    # The pipelines' own roles, access-stack roles and resources, plus the cross-region
    # replication buckets their support stacks share: a handful per pipeline, not one per rule.
    pipelines = len(fleet.pipelines)
    shared = [p for p in scopes if p.startswith("cross-region-stack-")]
    assert len(shared) <= max(_shape(p)[1] for p in fleet.pipelines)
    assert len(scopes) - len(shared) <= 15 * pipelines
    rules = [rule for _, ids in recorder.calls for rule in ids]
    # (about 10 per call: fewer since the gates' checks share one function and the integration
    # tests one project, whose per-function and per-project acknowledgements went with them)
    assert len(rules) > 8 * len(scopes), "expected many rules per call"
    # Attaching again attaches nothing: what was gathered is attached once.
    acks.attach()
    assert len(recorder.calls) == len(scopes)


def _walk(root: Any, path: str) -> list[Any]:
    """The constructs at ``path`` below ``root``, walked segment by segment (no shortcuts)."""
    current = [root]
    for segment in path.split("/"):
        current = [c for node in current if (c := node.node.try_find_child(segment)) is not None]
    return current


@pytest.mark.parametrize("path", sorted(nag._HELD))
def test_held_constructs_are_the_constructs_at_their_paths(fleet: Any, path: str) -> None:
    # The acknowledgement targets hands-off reads from what it holds instead of walking paths
    # must be what the paths in ACKNOWLEDGEMENTS name.
    for pipeline in fleet.pipelines:
        held = nag._HELD[path](pipeline)
        walked = _walk(pipeline, path)
        assert [c.node.path for c in walked] == ([held.node.path] if held is not None else []), path


def test_every_acknowledged_path_exists_in_some_pipeline(fleet: Any) -> None:
    # A path that names nothing costs lookups and acknowledges nothing (DockerRole: ECS only).
    for ack in nag.ACKNOWLEDGEMENTS:
        for path in ack.paths:
            assert any(_walk(p, path) for p in fleet.pipelines), (ack.rule, path)
